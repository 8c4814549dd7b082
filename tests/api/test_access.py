"""Who may do what, on every endpoint, for every role, on lists and on details.

Roles (see tests/conftest.py ROLES): rep and manager are on team A; "other_team_*" on team B.
Out-of-scope objects answer 404 (they are filtered out), writes without the right answer 403.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from rest_framework.test import APIClient

from cases.etags import case_etag
from cases.models import Account, Case, CaseEvent, Category, Representative, Team
from tests.conftest import ROLES
from tests.factories import T0, AccountFactory, CaseFactory, CategoryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

UNAUTHENTICATED = {
    "message": "Authentication credentials were not provided.",
    "code": "not_authenticated",
    "extra": {},
}
FORBIDDEN = {
    "message": "You do not have permission to perform this action.",
    "code": "permission_denied",
    "extra": {},
}
NOT_FOUND = {"message": "Not found.", "code": "not_found", "extra": {}}
ERROR_BODIES = {401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND}


def check(response, expected_status: int) -> None:
    assert response.status_code == expected_status, response.content
    if expected_status in ERROR_BODIES:
        assert response.json() == ERROR_BODIES[expected_status]


@pytest.fixture
def cases(org):
    """Two team A cases (rep_a1's, rep_a2's), an unassigned team A case, a team B case."""
    return {
        "a1": CaseFactory(external_id="A1", assignee=org.rep_a1, category=org.category),
        "a2": CaseFactory(external_id="A2", assignee=org.rep_a2, category=org.category),
        "a_unassigned": CaseFactory(external_id="A-UN", team=org.team_a, category=org.category),
        "b1": CaseFactory(external_id="B1", assignee=org.rep_b1, category=org.category),
    }


def by_role(**overrides):
    """A {role: expected} table, defaulting to: anonymous 401, no_role 403."""
    table = {"anonymous": 401, "no_role": 403}
    table.update(overrides)
    assert set(table) == set(ROLES), set(ROLES) ^ set(table)
    return list(table.items())


# --- cases ---------------------------------------------------------------------------------

CASE_LIST_VISIBLE = {
    "rep": {"A1"},
    "other_team_rep": {"B1"},
    "manager": {"A1", "A2", "A-UN"},
    "other_team_manager": {"B1"},
    "admin": {"A1", "A2", "A-UN", "B1"},
    "integration": {"A1", "A2", "A-UN", "B1"},
}


@pytest.mark.parametrize("role", ROLES)
def test_case_list_is_narrowed_to_the_callers_scope(role, role_client, cases):
    response = role_client(role).get("/api/v1/cases/")
    if role == "anonymous":
        return check(response, 401)
    if role == "no_role":
        return check(response, 403)
    check(response, 200)
    rows = response.json()["results"]
    assert {row["external_id"] for row in rows} == CASE_LIST_VISIBLE[role]
    for row in rows:  # personal data never appears in a list
        assert "requester_email" not in row
        assert "requester_name" not in row


CASE_DETAIL = by_role(
    rep=200,
    other_team_rep=404,
    manager=200,
    other_team_manager=404,
    admin=200,
    integration=200,
)


@pytest.mark.parametrize("role, expected", CASE_DETAIL)
def test_case_detail(role, expected, role_client, cases):
    case = cases["a1"]
    response = role_client(role).get(f"/api/v1/cases/{case.pk}/")
    check(response, expected)
    if expected == 200:
        body = response.json()
        assert body["external_id"] == "A1"
        # In-scope roles see the requester on the detail.
        assert (body["requester_email"], body["requester_name"]) == (
            case.requester_email,
            case.requester_name,
        )


def test_a_rep_does_not_see_a_teammates_case(org, client_for, cases):
    client = client_for(org.rep_a1)
    check(client.get(f"/api/v1/cases/{cases['a2'].pk}/"), 404)
    check(client.get(f"/api/v1/cases/{cases['a_unassigned'].pk}/"), 404)
    check(client.get(f"/api/v1/cases/{cases['a2'].pk}/events/"), 404)


@pytest.mark.parametrize(
    "role, expected",
    by_role(
        rep=201,
        other_team_rep=201,
        manager=201,
        other_team_manager=201,
        admin=201,
        integration=201,
    ),
)
def test_case_create(role, expected, role_client, org):
    response = role_client(role).post(
        "/api/v1/cases/",
        {"external_id": f"NEW-{role}", "category": "billing", "channel": "chat", "opened_at": T0},
        format="json",
    )
    check(response, expected)
    if expected != 201:
        assert Case.objects.count() == 0
        return
    case = Case.objects.get(external_id=f"NEW-{role}")
    owner = {
        # A rep's new case is theirs; a manager's lands on their team; others stay unowned.
        "rep": (org.rep_a1.pk, org.team_a.pk),
        "other_team_rep": (org.rep_b1.pk, org.team_b.pk),
        "manager": (None, org.team_a.pk),
        "other_team_manager": (None, org.team_b.pk),
        "admin": (None, None),
        "integration": (None, None),
    }[role]
    assert (case.assignee_id, case.team_id) == owner
    assert response.json()["id"] == case.pk


@pytest.mark.parametrize(
    "who, assignee, expected",
    [
        ("rep_a1", "rep_a2", 403),
        ("rep_a1", "rep_a1", 201),
        ("manager_a", "rep_b1", 403),
        ("manager_a", "rep_a2", 201),
        ("admin", "rep_b1", 201),
        ("integration", "rep_b1", 201),
    ],
)
def test_who_may_assign_a_new_case_to_whom(who, assignee, expected, org, client_for):
    response = client_for(getattr(org, who)).post(
        "/api/v1/cases/",
        {
            "external_id": "ASSIGN-1",
            "category": "billing",
            "channel": "chat",
            "opened_at": T0,
            "assignee": assignee,
        },
        format="json",
    )
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json() == {
            "message": "You may not assign cases to this representative.",
            "code": "permission_denied",
            "extra": {},
        }
        assert Case.objects.count() == 0
    else:
        assert response.json()["assignee"] == assignee


def test_creating_an_existing_case_outside_ones_scope_is_a_conflict(org, client_for, cases):
    response = client_for(org.rep_a1).post(
        "/api/v1/cases/",
        {"external_id": "B1", "category": "billing", "channel": "chat", "opened_at": T0},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": "A case with this external id already exists.",
        "code": "case_exists",
        "extra": {},
    }
    cases["b1"].refresh_from_db()
    assert cases["b1"].assignee_id == org.rep_b1.pk


@pytest.mark.parametrize("role, expected", CASE_DETAIL)
def test_case_update(role, expected, role_client, cases):
    case = cases["a1"]
    response = role_client(role).patch(
        f"/api/v1/cases/{case.pk}/",
        {"subject": "edited"},
        format="json",
        HTTP_IF_MATCH=case_etag(Case.objects.get(pk=case.pk)),
    )
    check(response, expected)
    case.refresh_from_db()
    assert case.subject == ("edited" if expected == 200 else "")


@pytest.mark.parametrize("role, expected", CASE_DETAIL)
def test_case_events_get(role, expected, role_client, cases):
    case = cases["a1"]
    CaseEvent.objects.create(case=case, event_type="created", occurred_at=T0, to_status="new")
    response = role_client(role).get(f"/api/v1/cases/{case.pk}/events/")
    check(response, expected)
    if expected == 200:
        assert [e["event_type"] for e in response.json()] == ["created"]


@pytest.mark.parametrize("role, expected", [(r, 201 if e == 200 else e) for r, e in CASE_DETAIL])
def test_case_events_post(role, expected, role_client, cases):
    case = cases["a1"]
    response = role_client(role).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "customer_response", "occurred_at": T0 + timedelta(hours=1)},
        format="json",
    )
    check(response, expected)
    assert case.events.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    "who, assignee, expected",
    [
        ("rep_a1", "rep_a2", 403),
        ("rep_a1", "rep_a1", 201),
        ("manager_a", "rep_b1", 403),
        ("manager_a", "rep_a2", 201),
        ("admin", "rep_b1", 201),
    ],
)
def test_who_may_reassign_a_case_to_whom(who, assignee, expected, org, client_for, cases):
    case = cases["a1"]
    response = client_for(getattr(org, who)).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "assigned", "occurred_at": T0 + timedelta(hours=1), "assignee": assignee},
        format="json",
    )
    assert response.status_code == expected, response.content
    case.refresh_from_db()
    assert case.assignee.user.username == ("rep_a1" if expected == 403 else assignee)


@pytest.mark.parametrize(
    "role, expected",
    by_role(
        rep=403,
        other_team_rep=403,
        manager=403,
        other_team_manager=403,
        admin=200,
        integration=200,
    ),
)
def test_bulk_is_for_admins_and_integrations(role, expected, role_client, org):
    response = role_client(role).post(
        "/api/v1/cases/bulk/",
        [{"external_id": "BULK-1", "category": "billing", "channel": "email", "opened_at": T0}],
        format="json",
    )
    check(response, expected)
    assert Case.objects.filter(external_id="BULK-1").exists() == (expected == 200)


# --- teams, reps, accounts, categories -----------------------------------------------------

READ_ANY_ROLE = by_role(
    rep=200,
    other_team_rep=200,
    manager=200,
    other_team_manager=200,
    admin=200,
    integration=200,
)
WRITE_ADMIN_ONLY = by_role(
    rep=403,
    other_team_rep=403,
    manager=403,
    other_team_manager=403,
    admin=None,  # the success status, per method
    integration=403,
)


def resource_rows(org):
    account = AccountFactory(external_id="ACC-1")
    return {
        "teams": (org.team_a, {"name": "Zulu", "timezone": "UTC"}, Team),
        "accounts": (account, {"external_id": "ACC-2", "name": "Acme"}, Account),
        "categories": (org.category, {"name": "Shipping", "slug": "shipping"}, Category),
        "reps": (
            org.rep_a1,
            {"username": "new_rep", "display_name": "New", "team": org.team_a.pk},
            Representative,
        ),
    }


RESOURCES = ["teams", "accounts", "categories", "reps"]


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("role, expected", READ_ANY_ROLE)
def test_resource_list_and_detail_reads(resource, role, expected, role_client, org):
    row, _, _ = resource_rows(org)[resource]
    if resource == "reps" and role.startswith("other_team"):
        row = org.rep_b1  # reps are scoped like cases: a rep in the caller's scope
    client = role_client(role)
    check(client.get(f"/api/v1/{resource}/"), expected)
    check(client.get(f"/api/v1/{resource}/{row.pk}/"), expected)


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("role, expected", WRITE_ADMIN_ONLY)
def test_resource_writes_are_admin_only(resource, role, expected, role_client, org):
    row, payload, model = resource_rows(org)[resource]
    client = role_client(role)
    count = model.objects.count()

    check(client.post(f"/api/v1/{resource}/", payload, format="json"), expected or 201)
    assert model.objects.count() == count + (1 if expected is None else 0)

    patch = {"display_name": "Renamed"} if resource == "reps" else {"name": "Renamed"}
    check(client.patch(f"/api/v1/{resource}/{row.pk}/", patch, format="json"), expected or 200)
    row.refresh_from_db()
    renamed = row.display_name if resource == "reps" else row.name
    assert (renamed == "Renamed") == (expected is None)

    created = model.objects.order_by("-pk").first()
    check(client.delete(f"/api/v1/{resource}/{created.pk}/"), expected or 204)
    assert model.objects.filter(pk=created.pk).exists() == (expected is not None)


REPS_VISIBLE = {
    "rep": {"rep_a1"},
    "other_team_rep": {"rep_b1"},
    "manager": {"mgr_a", "rep_a1", "rep_a2"},
    "other_team_manager": {"mgr_b", "rep_b1"},
    "admin": {"mgr_a", "mgr_b", "rep_a1", "rep_a2", "rep_b1"},
    "integration": {"mgr_a", "mgr_b", "rep_a1", "rep_a2", "rep_b1"},
}


@pytest.mark.parametrize("role", sorted(REPS_VISIBLE))
def test_rep_list_is_narrowed_like_cases(role, role_client, org):
    response = role_client(role).get("/api/v1/reps/")
    check(response, 200)
    assert {r["username"] for r in response.json()["results"]} == REPS_VISIBLE[role]
    for rep in (org.rep_a1, org.rep_a2, org.rep_b1, org.manager_a, org.manager_b):
        detail = role_client(role).get(f"/api/v1/reps/{rep.pk}/")
        check(detail, 200 if rep.user.username in REPS_VISIBLE[role] else 404)


# --- authentication ------------------------------------------------------------------------


def test_token_authentication_and_scope(org, token_client_for, cases):
    client = token_client_for(org.rep_a1)
    check(client.get(f"/api/v1/cases/{cases['b1'].pk}/"), 404)
    check(client.get(f"/api/v1/cases/{cases['b1'].pk}/events/"), 404)
    mine = client.get(f"/api/v1/cases/{cases['a1'].pk}/")
    check(mine, 200)
    assert mine.json()["requester_email"] == cases["a1"].requester_email
    listed = client.get("/api/v1/cases/")
    assert [row["external_id"] for row in listed.json()["results"]] == ["A1"]


def test_an_unknown_token_is_refused(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response.json() == {
        "message": "Invalid token.",
        "code": "authentication_failed",
        "extra": {},
    }
    assert response["WWW-Authenticate"] == "Token"


def test_session_authentication_reads_and_needs_csrf_to_write(org, cases):
    org.manager_a.user.password = make_password("pw")
    org.manager_a.user.save()
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="mgr_a", password="pw")
    listed = client.get("/api/v1/cases/")
    check(listed, 200)
    assert {row["external_id"] for row in listed.json()["results"]} == {"A1", "A2", "A-UN"}
    response = client.patch(f"/api/v1/cases/{cases['a1'].pk}/", {"subject": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["message"]


def test_an_inactive_representative_has_no_role(org, client_for, cases):
    org.rep_a1.active = False
    org.rep_a1.save()
    client = client_for(org.rep_a1)
    check(client.get("/api/v1/cases/"), 403)
    check(client.get(f"/api/v1/cases/{cases['a1'].pk}/"), 403)
    check(client.get("/api/v1/teams/"), 403)


def test_a_staff_user_is_an_admin(org, client_for, cases):
    staff = UserFactory(username="staff", is_staff=True)
    response = client_for(staff).get("/api/v1/cases/")
    assert {row["external_id"] for row in response.json()["results"]} == {
        "A1",
        "A2",
        "A-UN",
        "B1",
    }
    check(client_for(staff).post("/api/v1/teams/", {"name": "Staffed"}, format="json"), 201)


def test_categories_created_by_admin_are_readable_by_reps(org, client_for):
    CategoryFactory(slug="returns", name="Returns")
    response = client_for(org.rep_b1).get("/api/v1/categories/?slug=returns")
    check(response, 200)
    assert [c["slug"] for c in response.json()["results"]] == ["returns"]
