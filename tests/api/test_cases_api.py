"""The case API: create, read, edit, events, filters and cursor pagination (exact JSON)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest

from cases.etags import case_etag
from cases.models import Case, CaseEvent, CaseStatus
from tests.factories import T0, AccountFactory, CaseFactory, CategoryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

H = timedelta(hours=1)
D = timedelta(days=1)
NOW_JSON = "2026-04-01T09:00:00Z"  # tests.conftest.NOW, as the API renders it


def etag(case: Case) -> str:
    """If-Match for an update: the case's version as stored."""
    return case_etag(Case.objects.get(pk=case.pk))


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# --- create --------------------------------------------------------------------------------


def test_create_answers_201_with_the_case(org, client_for):
    AccountFactory(external_id="ACC-1")
    response = client_for(org.manager_a).post(
        "/api/v1/cases/",
        {
            "source": "zendesk",
            "external_id": "ZD-100",
            "account": "ACC-1",
            "requester_email": "kim@example.org",
            "requester_name": "Kim",
            "category": "billing",
            "channel": "email",
            "priority": "high",
            "subject": "Invoice missing",
            "assignee": "rep_a1",
            "opened_at": "2026-03-02T10:00:00+01:00",  # stored and shown in UTC
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert response.json() == {
        "id": case.pk,
        "source": "zendesk",
        "external_id": "ZD-100",
        "account": "ACC-1",
        "category": "billing",
        "channel": "email",
        "priority": "high",
        "status": "open",
        "subject": "Invoice missing",
        "team": org.team_a.pk,
        "assignee": "rep_a1",
        "resolved_by": None,
        "first_responder": None,
        "opened_at": "2026-03-02T09:00:00Z",
        "assigned_at": "2026-03-02T09:00:00Z",
        "first_response_at": None,
        "first_resolved_at": None,
        "resolved_at": None,
        "closed_at": None,
        "last_customer_activity_at": None,
        "agent_response_count": 0,
        "reopened_count": 0,
        "first_response_seconds": None,
        "first_response_business_seconds": None,
        "resolution_seconds": None,
        "resolution_business_seconds": None,
        "updated_at": NOW_JSON,
        "requester_email": "kim@example.org",
        "requester_name": "Kim",
    }


def test_create_with_defaults(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/cases/",
        {"external_id": "1", "category": "billing", "channel": "chat", "opened_at": iso(T0)},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("source", "priority", "status", "subject", "team", "assignee")
    } == {
        "source": "api",
        "priority": "normal",
        "status": "new",
        "subject": "",
        "team": None,
        "assignee": None,
    }
    assert (body["requester_email"], body["requester_name"], body["account"]) == ("", "", None)


def test_create_again_with_the_same_external_id_answers_200_and_keeps_one_case(org, client_for):
    client = client_for(org.admin)
    payload = {
        "external_id": "ZD-1",
        "category": "billing",
        "channel": "email",
        "opened_at": iso(T0),
    }
    first = client.post("/api/v1/cases/", payload, format="json")
    second = client.post("/api/v1/cases/", {**payload, "subject": "retry"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1


# --- events --------------------------------------------------------------------------------


def test_events_drive_the_lifecycle_and_list_in_order(org, client_for):
    case = CaseFactory(external_id="L-1", category=org.category)
    admin, rep = client_for(org.admin), client_for(org.rep_a1)
    url = f"/api/v1/cases/{case.pk}/events/"

    def post(client, event_type, at, **extra):
        response = client.post(
            url, {"event_type": event_type, "occurred_at": iso(at), **extra}, format="json"
        )
        assert response.status_code == 201, response.content
        return response.json()

    assigned = post(admin, "assigned", T0 + H, assignee="rep_a1")
    assert assigned == {
        "id": assigned["id"],
        "event_type": "assigned",
        "occurred_at": "2026-03-02T10:00:00Z",
        "actor": None,
        "assignee": "rep_a1",
        "from_status": "new",
        "to_status": "open",
        "synthetic": False,
        "recorded_at": NOW_JSON,
    }
    post(rep, "agent_response", T0 + 2 * H)
    post(rep, "status_changed", T0 + 3 * H, to_status="pending")
    post(rep, "customer_response", T0 + 4 * H)
    post(rep, "resolved", T0 + 5 * H)
    post(admin, "reopened", T0 + 6 * H)
    post(rep, "agent_response", T0 + 7 * H)
    post(rep, "resolved", T0 + 8 * H)
    post(admin, "closed", T0 + 9 * H)

    listed = rep.get(url).json()
    assert [
        (e["event_type"], e["occurred_at"], e["actor"], e["from_status"], e["to_status"])
        for e in listed
    ] == [
        ("assigned", "2026-03-02T10:00:00Z", None, "new", "open"),
        ("agent_response", "2026-03-02T11:00:00Z", "rep_a1", "open", "open"),
        ("status_changed", "2026-03-02T12:00:00Z", "rep_a1", "open", "pending"),
        ("customer_response", "2026-03-02T13:00:00Z", "rep_a1", "pending", "open"),
        ("resolved", "2026-03-02T14:00:00Z", "rep_a1", "open", "resolved"),
        ("reopened", "2026-03-02T15:00:00Z", None, "resolved", "open"),
        ("agent_response", "2026-03-02T16:00:00Z", "rep_a1", "open", "open"),
        ("resolved", "2026-03-02T17:00:00Z", "rep_a1", "open", "resolved"),
        ("closed", "2026-03-02T18:00:00Z", None, "resolved", "closed"),
    ]
    detail = rep.get(f"/api/v1/cases/{case.pk}/").json()
    assert {
        k: detail[k]
        for k in (
            "status",
            "assignee",
            "resolved_by",
            "first_response_at",
            "first_resolved_at",
            "resolved_at",
            "closed_at",
            "last_customer_activity_at",
            "agent_response_count",
            "reopened_count",
        )
    } == {
        "status": "closed",
        "assignee": "rep_a1",
        "resolved_by": "rep_a1",
        "first_response_at": "2026-03-02T11:00:00Z",
        "first_resolved_at": "2026-03-02T14:00:00Z",
        "resolved_at": "2026-03-02T17:00:00Z",
        "closed_at": "2026-03-02T18:00:00Z",
        "last_customer_activity_at": "2026-03-02T13:00:00Z",
        "agent_response_count": 2,
        "reopened_count": 1,
    }

    # A closed case takes nothing more.
    response = rep.post(
        url, {"event_type": "customer_response", "occurred_at": iso(T0 + 10 * H)}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": "The case is closed; closed cases take no further events.",
        "code": "case_already_closed",
        "extra": {},
    }
    assert case.events.count() == 9


def test_posting_the_same_event_again_answers_200_with_the_first(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN, category=org.category)
    client = client_for(org.rep_a1)
    url = f"/api/v1/cases/{case.pk}/events/"
    payload = {"event_type": "agent_response", "occurred_at": iso(T0 + H)}
    first = client.post(url, payload, format="json")
    again = client.post(url, payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    case.refresh_from_db()
    assert case.agent_response_count == 1


@pytest.mark.parametrize(
    "event_type, status, code",
    [
        ("reopened", CaseStatus.OPEN, "case_not_resolved"),
        ("closed", CaseStatus.PENDING, "case_not_resolved"),
        ("agent_response", CaseStatus.RESOLVED, "case_not_open"),
        ("resolved", CaseStatus.RESOLVED, "case_not_open"),
    ],
)
def test_refused_transitions_answer_409_with_their_code(org, client_for, event_type, status, code):
    resolved = status == CaseStatus.RESOLVED
    case = CaseFactory(assignee=org.rep_a1, status=status, resolved=resolved)
    response = client_for(org.admin).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": event_type, "occurred_at": iso(T0 + 5 * H)},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert set(response.json()) == {"message", "code", "extra"}
    assert case.events.count() == 0


def test_an_out_of_order_event_answers_400(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN)
    client = client_for(org.rep_a1)
    url = f"/api/v1/cases/{case.pk}/events/"
    client.post(url, {"event_type": "customer_response", "occurred_at": iso(T0 + 2 * H)})
    response = client.post(url, {"event_type": "agent_response", "occurred_at": iso(T0 + H)})
    reason = (
        "Events must arrive in order; this case already has an event at 2026-03-02T11:00:00+00:00."
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": f"occurred_at: {reason}",
        "code": "event_out_of_order",
        "extra": {"fields": {"occurred_at": [reason]}},
    }
    assert case.events.count() == 1


def test_events_of_an_unknown_case_answer_404(org, client_for):
    response = client_for(org.admin).get("/api/v1/cases/999999/events/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "extra": {}}


# --- edit ----------------------------------------------------------------------------------


def test_patch_edits_the_editable_fields(org, client_for, clock):
    AccountFactory(external_id="ACC-2")
    CategoryFactory(slug="shipping")
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN, category=org.category)
    clock.shift(H)
    response = client_for(org.rep_a1).patch(
        f"/api/v1/cases/{case.pk}/",
        {
            "account": "ACC-2",
            "requester_email": "new@example.org",
            "requester_name": "New Name",
            "category": "shipping",
            "channel": "phone",
            "priority": "urgent",
            "subject": "Edited",
        },
        format="json",
        HTTP_IF_MATCH=etag(case),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {
        k: body[k]
        for k in (
            "account",
            "requester_email",
            "requester_name",
            "category",
            "channel",
            "priority",
            "subject",
            "status",
            "updated_at",
        )
    } == {
        "account": "ACC-2",
        "requester_email": "new@example.org",
        "requester_name": "New Name",
        "category": "shipping",
        "channel": "phone",
        "priority": "urgent",
        "subject": "Edited",
        "status": "open",
        "updated_at": "2026-04-01T10:00:00Z",
    }
    case.refresh_from_db()
    assert (case.subject, case.category.slug, case.account.external_id) == (
        "Edited",
        "shipping",
        "ACC-2",
    )


def test_patch_can_clear_the_account(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN)
    response = client_for(org.admin).patch(
        f"/api/v1/cases/{case.pk}/", {"account": None}, format="json", HTTP_IF_MATCH=etag(case)
    )
    assert response.status_code == 200
    assert response.json()["account"] is None
    case.refresh_from_db()
    assert case.account_id is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "resolved"),
        ("assignee", "rep_a2"),
        ("resolved_at", "2026-03-02T10:00:00Z"),
        ("opened_at", "2026-03-02T10:00:00Z"),
        ("external_id", "other"),
    ],
)
def test_patch_of_a_non_editable_field_answers_400_naming_it(org, client_for, field, value):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN)
    response = client_for(org.admin).patch(
        f"/api/v1/cases/{case.pk}/",
        {field: value, "subject": "x"},
        format="json",
        HTTP_IF_MATCH=etag(case),
    )
    reason = "Not an editable field; status and assignment change through events."
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {reason}",
        "code": "validation_error",
        "extra": {"fields": {field: [reason]}},
    }
    case.refresh_from_db()
    assert (case.status, case.subject, case.assignee_id) == ("open", "", org.rep_a1.pk)


def test_patch_into_an_inactive_category_answers_400(org, client_for):
    CategoryFactory(slug="legacy", active=False)
    case = CaseFactory(category=org.category)
    response = client_for(org.admin).patch(
        f"/api/v1/cases/{case.pk}/", {"category": "legacy"}, format="json", HTTP_IF_MATCH=etag(case)
    )
    reason = "Category 'legacy' is inactive and takes no new cases."
    assert response.status_code == 400
    assert response.json() == {
        "message": f"category: {reason}",
        "code": "validation_error",
        "extra": {"fields": {"category": [reason]}},
    }
    case.refresh_from_db()
    assert case.category_id == org.category.pk


def test_cases_cannot_be_deleted(org, client_for):
    case = CaseFactory()
    response = client_for(org.admin).delete(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 405
    assert response.json() == {
        "message": 'Method "DELETE" not allowed.',
        "code": "method_not_allowed",
        "extra": {},
    }
    assert Case.objects.filter(pk=case.pk).exists()


# --- filters -------------------------------------------------------------------------------


@pytest.fixture
def filter_cases(org):
    shipping = CategoryFactory(slug="shipping")
    acc1, acc2 = AccountFactory(external_id="ACC-1"), AccountFactory(external_id="ACC-2")
    return {
        "c1": CaseFactory(
            external_id="c1",
            status=CaseStatus.OPEN,
            channel="email",
            priority="high",
            category=org.category,
            assignee=org.rep_a1,
            account=acc1,
            opened_at=T0,
        ),
        "c2": CaseFactory(
            external_id="c2",
            source="zendesk",
            status=CaseStatus.PENDING,
            channel="chat",
            priority="low",
            category=shipping,
            assignee=org.rep_b1,
            account=acc2,
            opened_at=T0 + D,
        ),
        "c3": CaseFactory(
            external_id="c3",
            status=CaseStatus.RESOLVED,
            channel="phone",
            priority="normal",
            category=org.category,
            account=None,
            opened_at=T0 + 2 * D,
            resolved_at=T0 + 3 * D,
        ),
        "c4": CaseFactory(
            external_id="c4",
            status=CaseStatus.CLOSED,
            channel="email",
            priority="urgent",
            category=shipping,
            assignee=org.rep_a2,
            opened_at=T0 + 3 * D,
            resolved_at=T0 + 4 * D,
            closed_at=T0 + 5 * D,
        ),
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["c4", "c3", "c2", "c1"]),
        ({"status": "open"}, ["c1"]),
        ([("status", "open"), ("status", "pending")], ["c2", "c1"]),
        ({"channel": "email"}, ["c4", "c1"]),
        ([("channel", "chat"), ("channel", "phone")], ["c3", "c2"]),
        ({"priority": "urgent"}, ["c4"]),
        ({"category": "billing"}, ["c3", "c1"]),
        ({"assignee": "rep_a1"}, ["c1"]),
        ({"unassigned": "true"}, ["c3"]),
        ({"unassigned": "false"}, ["c4", "c2", "c1"]),
        ({"unassigned": "True"}, ["c3"]),  # what urlencode makes of a Python bool
        ({"unassigned": "0"}, ["c4", "c2", "c1"]),
        ({"team": "TEAM_A"}, ["c4", "c1"]),
        ({"team": "TEAM_B"}, ["c2"]),
        ({"account": "ACC-1"}, ["c1"]),
        ({"source": "zendesk"}, ["c2"]),
        ({"external_id": "c3"}, ["c3"]),
        ({"opened_after": iso(T0 + D)}, ["c4", "c3", "c2"]),  # inclusive
        ({"opened_before": iso(T0 + D)}, ["c1"]),  # exclusive
        ({"opened_after": iso(T0 + D), "opened_before": iso(T0 + 3 * D)}, ["c3", "c2"]),
        ({"resolved_after": iso(T0 + 4 * D)}, ["c4"]),
        ({"resolved_before": iso(T0 + 4 * D)}, ["c3"]),
        ({"resolved_after": iso(T0), "resolved_before": iso(T0 + 5 * D)}, ["c4", "c3"]),
        ({"opened_after": "2026-03-03T10:00:00+01:00"}, ["c4", "c3", "c2"]),  # offset honoured
        ({"opened_after": "2026-03-03T09:00:01"}, ["c4", "c3"]),  # no offset: UTC
        ({"status": "resolved", "category": "billing"}, ["c3"]),
        ({"status": "open", "category": "shipping"}, []),
    ],
)
def test_filters_narrow_the_case_list(org, client_for, filter_cases, query, expected):
    teams = {"TEAM_A": str(org.team_a.pk), "TEAM_B": str(org.team_b.pk)}
    pairs = query.items() if isinstance(query, dict) else query
    pairs = [(k, teams.get(v, v)) for k, v in pairs]
    response = client_for(org.admin).get(f"/api/v1/cases/?{urlencode(pairs)}")
    assert response.status_code == 200, response.content
    assert [row["external_id"] for row in response.json()["results"]] == expected


def test_filters_apply_within_scope(org, client_for, filter_cases):
    response = client_for(org.manager_a).get("/api/v1/cases/?channel=email")
    assert [row["external_id"] for row in response.json()["results"]] == ["c4", "c1"]
    response = client_for(org.manager_a).get("/api/v1/cases/?assignee=rep_b1")
    assert response.json()["results"] == []


# --- cursor pagination ---------------------------------------------------------------------


def make_cases(org, openings):
    return [
        CaseFactory(external_id=f"p{i}", opened_at=at, category=org.category, account=None)
        for i, at in enumerate(openings)
    ]


def walk(client, url):
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        pages.append([row["id"] for row in body["results"]])
        url = body["next"]
    return pages


def test_cursor_pages_follow_opened_at_then_id_descending(org, client_for):
    # Ties on opened_at are broken by id, so nothing is skipped or repeated.
    cases = make_cases(org, [T0, T0 + H, T0 + H, T0 + H, T0 + 2 * H, T0, T0 + 3 * H])
    expected = [c.pk for c in sorted(cases, key=lambda c: (c.opened_at, c.pk), reverse=True)]
    pages = walk(client_for(org.admin), "/api/v1/cases/?page_size=2")
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [pk for page in pages for pk in page] == expected


def test_ascending_ordering(org, client_for):
    cases = make_cases(org, [T0 + H, T0, T0 + 2 * H, T0])
    expected = [c.pk for c in sorted(cases, key=lambda c: (c.opened_at, c.pk))]
    pages = walk(client_for(org.admin), "/api/v1/cases/?ordering=opened_at&page_size=3")
    assert [pk for page in pages for pk in page] == expected


def test_next_link_keeps_filters_and_new_cases_do_not_shift_the_page(org, client_for):
    make_cases(org, [T0 + i * H for i in range(5)])
    CaseFactory(external_id="other", channel="chat", opened_at=T0 + 10 * H)
    client = client_for(org.admin)
    first = client.get("/api/v1/cases/?page_size=2&channel=email").json()
    assert [r["external_id"] for r in first["results"]] == ["p4", "p3"]
    assert "channel=email" in first["next"]
    CaseFactory(external_id="newer", opened_at=T0 + 20 * H)  # arrives while the client pages
    second = client.get(first["next"]).json()
    assert [r["external_id"] for r in second["results"]] == ["p2", "p1"]
    third = client.get(second["next"]).json()
    assert [r["external_id"] for r in third["results"]] == ["p0"]
    assert third["next"] is None
    back = client.get(second["previous"]).json()
    assert [r["external_id"] for r in back["results"]] == ["p4", "p3"]


def test_page_size_defaults_to_50_and_is_capped_at_500(org, client_for):
    Case.objects.bulk_create(
        Case(external_id=f"bulk-{i}", category=org.category, channel="email", opened_at=T0)
        for i in range(501)
    )
    client = client_for(org.admin)
    assert len(client.get("/api/v1/cases/").json()["results"]) == 50
    capped = client.get("/api/v1/cases/?page_size=10000").json()
    assert len(capped["results"]) == 500
    assert capped["next"] is not None
    assert len(client.get(capped["next"]).json()["results"]) == 1


def test_unknown_ordering_answers_400(org, client_for):
    response = client_for(org.admin).get("/api/v1/cases/?ordering=subject")
    reason = "Unknown ordering 'subject'; use one of -opened_at, opened_at."
    assert response.status_code == 400
    assert response.json() == {
        "message": f"ordering: {reason}",
        "code": "validation_error",
        "extra": {"fields": {"ordering": [reason]}},
    }


def test_a_tampered_cursor_answers_404(org, client_for):
    response = client_for(org.admin).get("/api/v1/cases/?cursor=not-a-cursor")
    assert response.status_code == 404
    assert response.json() == {"message": "Invalid cursor", "code": "not_found", "extra": {}}
