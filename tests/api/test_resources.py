"""Admin CRUD for teams, reps, accounts and categories; the schema, the docs and unknown URLs."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from cases.models import Account, Category, Representative, Team
from tests.factories import T0, AccountFactory, CaseFactory, CategoryFactory, TeamFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

NOW_JSON = "2026-04-01T09:00:00Z"


@pytest.fixture
def admin(org, client_for):
    return client_for(org.admin)


def field_error(field, reason):
    return {
        "message": f"{field}: {reason}",
        "code": "validation_error",
        "extra": {"fields": {field: [reason]}},
    }


# --- teams ---------------------------------------------------------------------------------


def test_team_crud(admin):
    created = admin.post("/api/v1/teams/", {"name": "Charlie", "timezone": "Asia/Tokyo"})
    assert created.status_code == 201, created.content
    team = Team.objects.get(name="Charlie")
    body = created.json()
    assert {k: body[k] for k in ("id", "name", "timezone", "created_at")} == {
        "id": team.pk,
        "name": "Charlie",
        "timezone": "Asia/Tokyo",
        "created_at": NOW_JSON,
    }
    assert admin.get(f"/api/v1/teams/{team.pk}/").json() == body

    patched = admin.patch(f"/api/v1/teams/{team.pk}/", {"timezone": "Europe/Lisbon"})
    assert (patched.status_code, patched.json()["timezone"]) == (200, "Europe/Lisbon")
    team.refresh_from_db()
    assert team.timezone == "Europe/Lisbon"

    listed = admin.get("/api/v1/teams/").json()
    assert [t["name"] for t in listed["results"]] == ["Alpha", "Bravo", "Charlie"]
    assert (listed["count"], listed["next"], listed["previous"]) == (3, None, None)
    assert [t["name"] for t in admin.get("/api/v1/teams/?name=Bravo").json()["results"]] == [
        "Bravo"
    ]

    assert admin.delete(f"/api/v1/teams/{team.pk}/").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()


def test_resource_lists_are_paginated_by_page_number(admin):
    first = admin.get("/api/v1/teams/?page_size=1").json()
    assert (first["count"], [t["name"] for t in first["results"]]) == (2, ["Alpha"])
    assert first["previous"] is None
    second = admin.get(first["next"]).json()
    assert ([t["name"] for t in second["results"]], second["next"]) == (["Bravo"], None)
    missing = admin.get("/api/v1/teams/?page=9")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Invalid page.", "code": "not_found", "extra": {}}


def test_team_defaults_to_utc(admin):
    response = admin.post("/api/v1/teams/", {"name": "Delta"})
    assert (response.status_code, response.json()["timezone"]) == (201, "UTC")


@pytest.mark.parametrize("tz", ["Mars/Olympus", "CET+1", "europe/berlin"])
def test_team_with_an_invalid_timezone_is_refused(admin, tz):
    response = admin.post("/api/v1/teams/", {"name": "Echo", "timezone": tz})
    assert response.status_code == 400
    assert response.json() == field_error("timezone", f"{tz!r} is not an IANA time zone name.")
    assert not Team.objects.filter(name="Echo").exists()
    team = TeamFactory(name="Foxtrot", timezone="UTC")
    patched = admin.patch(f"/api/v1/teams/{team.pk}/", {"timezone": tz})
    assert patched.json()["extra"]["fields"] == {
        "timezone": [f"{tz!r} is not an IANA time zone name."]
    }
    team.refresh_from_db()
    assert team.timezone == "UTC"


def test_team_names_are_unique(admin):
    response = admin.post("/api/v1/teams/", {"name": "Alpha"})
    assert response.json() == field_error("name", "team with this name already exists.")
    assert Team.objects.filter(name="Alpha").count() == 1


def test_a_team_with_representatives_cannot_be_deleted(admin, org):
    response = admin.delete(f"/api/v1/teams/{org.team_a.pk}/")
    assert response.status_code == 409
    assert response.json() == {
        "message": "This object is still in use and cannot be deleted.",
        "code": "in_use",
        "extra": {"referenced_by": ["cases.Representative"]},
    }
    assert Team.objects.filter(pk=org.team_a.pk).exists()


# --- representatives -----------------------------------------------------------------------


def test_creating_a_rep_creates_the_user(admin, org):
    response = admin.post(
        "/api/v1/reps/",
        {
            "username": "sam",
            "email": "sam@example.com",
            "display_name": "Sam",
            "team": org.team_b.pk,
            "role": "manager",
        },
    )
    assert response.status_code == 201, response.content
    rep = Representative.objects.get(user__username="sam")
    assert response.json() == {
        "id": rep.pk,
        "username": "sam",
        "email": "sam@example.com",
        "display_name": "Sam",
        "team": org.team_b.pk,
        "role": "manager",
        "active": True,
        "created_at": NOW_JSON,
    }
    assert rep.user.email == "sam@example.com"
    assert not rep.user.has_usable_password()  # they get a token or a password from an admin
    assert not rep.user.is_staff


def test_rep_usernames_are_unique(admin, org):
    response = admin.post(
        "/api/v1/reps/", {"username": "rep_a1", "display_name": "Dup", "team": org.team_a.pk}
    )
    assert response.json() == field_error("username", "A user with this username already exists.")
    assert get_user_model().objects.filter(username="rep_a1").count() == 1


def test_rep_update_renames_the_user_and_can_deactivate(admin, org):
    rep = org.rep_a2
    response = admin.patch(
        f"/api/v1/reps/{rep.pk}/", {"username": "rep_a2_new", "active": False, "role": "manager"}
    )
    assert response.status_code == 200, response.content
    rep.refresh_from_db()
    rep.user.refresh_from_db()
    assert (rep.user.username, rep.active, rep.role) == ("rep_a2_new", False, "manager")
    # Keeping one's own username is not a clash.
    same = admin.patch(f"/api/v1/reps/{rep.pk}/", {"username": "rep_a2_new"})
    assert same.status_code == 200


def test_rep_filters(admin, org):
    response = admin.get(f"/api/v1/reps/?team={org.team_a.pk}&role=rep")
    assert [r["username"] for r in response.json()["results"]] == ["rep_a1", "rep_a2"]


def test_a_rep_with_cases_cannot_be_deleted(admin, org):
    CaseFactory(assignee=org.rep_a1)
    response = admin.delete(f"/api/v1/reps/{org.rep_a1.pk}/")
    assert response.status_code == 409
    assert response.json()["extra"] == {"referenced_by": ["cases.Case"]}
    assert Representative.objects.filter(pk=org.rep_a1.pk).exists()


# --- accounts ------------------------------------------------------------------------------


def test_account_crud(admin):
    created = admin.post(
        "/api/v1/accounts/",
        {
            "external_id": "ACC-9",
            "name": "Acme",
            "annual_value": "125000.50",
            "segment": "enterprise",
        },
    )
    assert created.status_code == 201, created.content
    account = Account.objects.get(external_id="ACC-9")
    assert created.json() == {
        "id": account.pk,
        "external_id": "ACC-9",
        "name": "Acme",
        "annual_value": "125000.50",
        "segment": "enterprise",
        "status": "active",
        "churned_at": None,
        "created_at": NOW_JSON,
    }
    churned = admin.patch(
        f"/api/v1/accounts/{account.pk}/",
        {"status": "churned", "churned_at": "2026-03-31T00:00:00+02:00"},
    )
    assert churned.status_code == 200, churned.content
    assert (churned.json()["status"], churned.json()["churned_at"]) == (
        "churned",
        "2026-03-30T22:00:00Z",
    )
    revived = admin.patch(
        f"/api/v1/accounts/{account.pk}/", {"status": "active", "churned_at": None}
    )
    assert (revived.json()["status"], revived.json()["churned_at"]) == ("active", None)
    assert admin.get("/api/v1/accounts/?segment=enterprise").json()["count"] == 1
    assert admin.delete(f"/api/v1/accounts/{account.pk}/").status_code == 204


def test_a_churned_account_needs_churned_at(admin):
    response = admin.post(
        "/api/v1/accounts/", {"external_id": "A", "name": "A", "status": "churned"}
    )
    assert response.json() == field_error("churned_at", "A churned account needs churned_at.")
    assert Account.objects.count() == 0


def test_an_active_account_has_no_churned_at(admin):
    response = admin.post(
        "/api/v1/accounts/",
        {"external_id": "A", "name": "A", "churned_at": "2026-03-02T00:00:00Z"},
    )
    assert response.json() == field_error("churned_at", "An active account has no churned_at.")
    assert Account.objects.count() == 0


def test_churning_an_account_by_patch_needs_the_date(admin):
    account = AccountFactory()
    response = admin.patch(f"/api/v1/accounts/{account.pk}/", {"status": "churned"})
    assert response.json() == field_error("churned_at", "A churned account needs churned_at.")
    account.refresh_from_db()
    assert account.status == "active"


def test_account_external_ids_are_unique(admin):
    AccountFactory(external_id="ACC-1")
    response = admin.post("/api/v1/accounts/", {"external_id": "ACC-1", "name": "Again"})
    assert response.json() == field_error(
        "external_id", "account with this external id already exists."
    )


def test_an_account_with_cases_cannot_be_deleted(admin):
    case = CaseFactory()
    response = admin.delete(f"/api/v1/accounts/{case.account_id}/")
    assert response.status_code == 409
    assert response.json()["code"] == "in_use"
    assert Account.objects.filter(pk=case.account_id).exists()


# --- categories ----------------------------------------------------------------------------


def test_category_crud_with_parent_by_slug(admin, org):
    created = admin.post(
        "/api/v1/categories/",
        {
            "name": "Refunds",
            "slug": "refunds",
            "description": "Money back",
            "parent": "billing",
            "target_resolution_hours": 48,
        },
    )
    assert created.status_code == 201, created.content
    refunds = Category.objects.get(slug="refunds")
    assert created.json() == {
        "id": refunds.pk,
        "name": "Refunds",
        "slug": "refunds",
        "description": "Money back",
        "active": True,
        "parent": "billing",
        "target_resolution_hours": 48,
    }
    assert refunds.parent_id == org.category.pk
    detached = admin.patch(f"/api/v1/categories/{refunds.pk}/", {"parent": None, "active": False})
    assert (detached.json()["parent"], detached.json()["active"]) == (None, False)
    assert [c["slug"] for c in admin.get("/api/v1/categories/?active=false").json()["results"]] == [
        "refunds"
    ]
    assert admin.delete(f"/api/v1/categories/{refunds.pk}/").status_code == 204


def test_a_category_cannot_be_its_own_ancestor(admin, org):
    child = CategoryFactory(slug="child", parent=org.category)
    grandchild = CategoryFactory(slug="grandchild", parent=child)
    reason = "A category cannot be its own ancestor."
    for parent in ("billing", "child", "grandchild"):
        response = admin.patch(f"/api/v1/categories/{org.category.pk}/", {"parent": parent})
        assert response.json() == field_error("parent", reason), parent
    org.category.refresh_from_db()
    assert org.category.parent_id is None
    # Moving a leaf under a sibling branch is fine.
    other = CategoryFactory(slug="other")
    moved = admin.patch(f"/api/v1/categories/{grandchild.pk}/", {"parent": "other"})
    assert moved.json()["parent"] == "other"
    assert Category.objects.get(pk=grandchild.pk).parent_id == other.pk


def test_category_slugs_are_unique(admin):
    response = admin.post("/api/v1/categories/", {"name": "Billing 2", "slug": "billing"})
    assert response.json() == field_error("slug", "category with this slug already exists.")
    assert Category.objects.filter(slug="billing").count() == 1


def test_a_category_with_cases_cannot_be_deleted(admin, org):
    CaseFactory(category=org.category)
    response = admin.delete(f"/api/v1/categories/{org.category.pk}/")
    assert response.status_code == 409
    assert response.json()["extra"] == {"referenced_by": ["cases.Case"]}


# --- schema, docs, unknown URLs ------------------------------------------------------------


def test_the_openapi_schema_is_served(admin):
    response = admin.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "supportmetrics API"
    for path in (
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/cases/{case_id}/events/",
        "/api/v1/cases/bulk/",
        "/api/v1/teams/",
        "/api/v1/reps/",
        "/api/v1/accounts/",
        "/api/v1/categories/",
    ):
        assert path in schema["paths"], path


def test_the_api_docs_are_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
    assert external == []
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("url", ["/api/v1/nothing-here/", "/api/nope/", "/api/v1/cases/1/x/"])
def test_unknown_api_urls_answer_404_in_the_error_shape(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not found.", "code": "not_found", "extra": {}}


@pytest.mark.parametrize("case_id", ["987654", "abc"])
def test_an_unknown_case_id_answers_404_in_the_error_shape(admin, case_id):
    CaseFactory(opened_at=T0)
    response = admin.get(f"/api/v1/cases/{case_id}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found", "extra": {}}
