"""The audit trail: who changed categories, teams, reps and case assignments (docs/hardening.md).

Changes made through the API, the admin, the bulk upsert (raw SQL) and services under a
command or task label are recorded with their actor or label and the before/after values;
other case writes record nothing; only admins read the trail.
"""

from __future__ import annotations

from datetime import timedelta

import pghistory
import pytest
from django.core.management import call_command
from django.test import Client

from cases import services
from cases.models import (
    Case,
    CaseAssignmentAuditEvent,
    CaseEvent,
    Category,
    CategoryAuditEvent,
    RepresentativeAuditEvent,
    TeamAuditEvent,
)
from tests.conftest import NOW
from tests.factories import T0, CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

AUDIT = "/api/v1/audit/"


def audit(client, **params) -> list[dict]:
    response = client.get(AUDIT, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_category_change_through_the_api_is_recorded_with_actor_and_values(org, client_for):
    admin = client_for(org.admin)
    response = admin.patch(f"/api/v1/categories/{org.category.pk}/", {"name": "Invoices"})
    assert response.status_code == 200

    events = audit(admin, model="category", object_id=org.category.pk)
    assert [e["action"] for e in events] == ["update", "insert"]
    update = events[0]
    assert update["id"].startswith("cases.CategoryAuditEvent:")
    assert update["model"] == "category"
    assert update["object_id"] == org.category.pk
    assert update["actor"] == {"id": org.admin.pk, "username": "admin"}
    assert update["origin"] == {"url": f"/api/v1/categories/{org.category.pk}/"}
    assert update["changes"] == {"name": ["Billing", "Invoices"]}
    assert update["values"]["name"] == "Invoices"
    assert update["values"]["slug"] == "billing"
    # The insert (by the test's factory, no request) has no actor and every field from null.
    assert events[1]["actor"] is None
    assert events[1]["origin"] == {}
    assert events[1]["changes"]["name"] == [None, "Billing"]


def test_team_and_rep_changes_through_the_api(org, client_for):
    admin = client_for(org.admin)
    assert admin.patch(f"/api/v1/teams/{org.team_a.pk}/", {"timezone": "UTC"}).status_code == 200
    response = admin.patch(f"/api/v1/reps/{org.rep_a2.pk}/", {"display_name": "Renamed"})
    assert response.status_code == 200

    team = audit(admin, model="team", object_id=org.team_a.pk)[0]
    assert team["action"] == "update"
    assert team["changes"] == {"timezone": ["Europe/Berlin", "UTC"]}
    assert team["actor"] == {"id": org.admin.pk, "username": "admin"}
    rep = audit(admin, model="representative", object_id=org.rep_a2.pk)[0]
    assert rep["changes"] == {"display_name": [org.rep_a2.display_name, "Renamed"]}
    assert rep["actor"]["id"] == org.admin.pk
    # Filters: by actor (two changes by the admin), by model.
    assert {e["model"] for e in audit(admin, actor=org.admin.pk)} == {"team", "representative"}
    assert len(audit(admin, actor=org.admin.pk)) == 2
    assert audit(admin, actor=org.rep_a1.user.pk) == []


def test_a_delete_is_recorded_with_the_row_as_it_was(org, client_for):
    admin = client_for(org.admin)
    response = admin.post("/api/v1/categories/", {"slug": "spare", "name": "Spare"})
    assert response.status_code == 201
    category_id = response.json()["id"]
    assert admin.delete(f"/api/v1/categories/{category_id}/").status_code == 204

    events = audit(admin, model="category", object_id=category_id)
    assert [e["action"] for e in events] == ["delete", "insert"]
    assert events[0]["changes"]["slug"] == ["spare", None]
    assert events[0]["values"]["slug"] == "spare"
    assert all(e["actor"]["id"] == org.admin.pk for e in events)


def test_a_change_in_the_django_admin_is_recorded(org):
    browser = Client()
    browser.force_login(org.admin)
    url = f"/admin/cases/category/{org.category.pk}/change/"
    response = browser.post(
        url,
        {
            "name": "Billing and refunds",
            "slug": "billing",
            "description": "",
            "active": "on",
            "parent": "",
            "target_resolution_hours": "24",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    event = CategoryAuditEvent.objects.filter(pgh_label="update").get()
    assert event.name == "Billing and refunds"
    assert event.pgh_context.metadata == {"user": org.admin.pk, "url": url}
    # And the admin's Events page lists it.
    page = browser.get("/admin/pghistory/middlewareevents/")
    assert page.status_code == 200
    assert b"Billing and refunds" in page.content


def test_reassigning_a_case_records_before_and_after(org, client_for):
    case, _ = services.case_create(
        external_id="R-1", category=org.category, channel="email", opened_at=T0
    )
    assert not CaseAssignmentAuditEvent.objects.exists()  # an insert records nothing
    for hours, assignee in ((1, org.rep_a1), (2, org.rep_b1)):
        services.case_event_record(
            case=case,
            event_type=CaseEvent.Type.ASSIGNED,
            occurred_at=T0 + timedelta(hours=hours),
            assignee=assignee,
        )
    events = audit(client_for(org.admin), model="case", object_id=case.pk)
    assert [e["changes"] for e in events] == [
        {
            "assignee_id": [org.rep_a1.pk, org.rep_b1.pk],
            "team_id": [org.team_a.pk, org.team_b.pk],
        },
        {"assignee_id": [None, org.rep_a1.pk], "team_id": [None, org.team_a.pk]},
    ]
    assert events[0]["values"] == {"assignee_id": org.rep_b1.pk, "team_id": org.team_b.pk}
    assert {e["action"] for e in events} == {"reassign"}
    assert all(e["actor"] is None for e in events)  # a service call outside any request


def test_reassigning_through_the_case_events_api_records_the_user(org, client_for):
    case, _ = services.case_create(
        external_id="R-2", category=org.category, channel="email", opened_at=T0, team=org.team_a
    )
    response = client_for(org.manager_a).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "assigned", "occurred_at": T0.isoformat(), "assignee": "rep_a2"},
    )
    assert response.status_code == 201, response.content
    event = CaseAssignmentAuditEvent.objects.get(pgh_obj=case)
    assert (event.assignee_before_id, event.assignee_id) == (None, org.rep_a2.pk)
    assert (event.team_before_id, event.team_id) == (org.team_a.pk, org.team_a.pk)
    assert event.pgh_context.metadata == {
        "user": org.manager_a.user.pk,
        "url": f"/api/v1/cases/{case.pk}/events/",
    }


def test_a_status_change_or_an_edit_of_a_case_records_nothing(org):
    case = CaseFactory(assignee=org.rep_a1, category=org.category)
    services.case_event_record(
        case=case, event_type=CaseEvent.Type.AGENT_RESPONSE, occurred_at=T0 + timedelta(hours=1)
    )
    services.case_event_record(
        case=case, event_type=CaseEvent.Type.RESOLVED, occurred_at=T0 + timedelta(hours=2)
    )
    services.case_update(case=case, data={"subject": "Other", "priority": "high"})
    assert Case.objects.get(pk=case.pk).status == "resolved"
    assert CaseAssignmentAuditEvent.objects.count() == 0


def test_a_reassignment_through_the_bulk_api_carries_the_token_user(org, token_client_for):
    integration = token_client_for(org.integration)
    item = {
        "source": "zendesk",
        "external_id": "Z-9",
        "category": "billing",
        "channel": "email",
        "status": "open",
        "assignee": "rep_a1",
        "requester_email": "pat@example.org",
        "opened_at": T0.isoformat(),
    }
    assert integration.post("/api/v1/cases/bulk/", [item], format="json").status_code == 200
    assert CaseAssignmentAuditEvent.objects.count() == 0  # inserted: nothing to record
    response = integration.post(
        "/api/v1/cases/bulk/", [{**item, "assignee": "rep_b1"}], format="json"
    )
    assert response.status_code == 200, response.content
    event = CaseAssignmentAuditEvent.objects.get()
    assert (event.assignee_before_id, event.assignee_id) == (org.rep_a1.pk, org.rep_b1.pk)
    assert (event.team_before_id, event.team_id) == (org.team_a.pk, org.team_b.pk)
    assert event.pgh_context.metadata == {"user": org.integration.pk, "url": "/api/v1/cases/bulk/"}
    # A snapshot that changes only the status records nothing more.
    response = integration.post(
        "/api/v1/cases/bulk/",
        [{**item, "assignee": "rep_b1", "status": "pending"}],
        format="json",
    )
    assert response.status_code == 200
    assert CaseAssignmentAuditEvent.objects.count() == 1


def test_audit_tables_hold_no_requester_data(org):
    case = CaseFactory(requester_email="secret@example.org", requester_name="Secret Person")
    services.case_event_record(
        case=case, event_type=CaseEvent.Type.ASSIGNED, occurred_at=T0, assignee=org.rep_a1
    )
    columns = {f.column for f in CaseAssignmentAuditEvent._meta.concrete_fields}
    assert columns == {
        "pgh_id",
        "pgh_created_at",
        "pgh_label",
        "pgh_obj_id",
        "pgh_context_id",
        "assignee_id",
        "team_id",
        "assignee_before_id",
        "team_before_id",
    }
    assert CaseAssignmentAuditEvent.objects.filter(pgh_obj=case).count() == 1


def test_commands_and_tasks_label_their_writes(org):
    with pghistory.context(command="purge_personal_data"):
        Category.objects.filter(pk=org.category.pk).update(name="Renamed")
    event = CategoryAuditEvent.objects.get(pgh_label="update")
    assert event.pgh_context.metadata == {"command": "purge_personal_data"}


def test_seed_demo_labels_its_writes(db):
    call_command("seed_demo", cases=0, seed=1, now=NOW)
    contexts = {e.pgh_context.metadata["command"] for e in TeamAuditEvent.objects.all()}
    assert contexts == {"seed_demo"}
    assert RepresentativeAuditEvent.objects.filter(pgh_label="insert").exists()


@pytest.mark.parametrize("role", ["rep", "manager", "integration", "no_role"])
def test_only_admins_read_the_trail(role, role_client):
    response = role_client(role).get(AUDIT)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_anonymous_gets_401(role_client):
    assert role_client("anonymous").get(AUDIT).status_code == 401


def test_bad_filters_are_validation_errors(org, client_for):
    admin = client_for(org.admin)
    response = admin.get(AUDIT, {"object_id": 3})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert admin.get(AUDIT, {"model": "account"}).status_code == 400
    assert admin.get(AUDIT, {"actor": 2**63}).status_code == 400


def test_cursor_pagination_and_date_window(org, client_for):
    admin = client_for(org.admin)
    for n in range(3):
        assert admin.patch(f"/api/v1/teams/{org.team_b.pk}/", {"name": f"B{n}"}).status_code == 200
    page = admin.get(AUDIT, {"model": "team", "page_size": 2}).json()
    pages = [page]
    while page["next"]:
        page = admin.get(page["next"]).json()
        pages.append(page)
    actions = [e["action"] for p in pages for e in p["results"]]
    ids = [e["id"] for p in pages for e in p["results"]]
    # Two inserts (the org fixture) and three updates, each once, newest first.
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    assert actions == ["update", "update", "update", "insert", "insert"]
    assert len(set(ids)) == 5
    # The events carry the database's clock (clock_timestamp()), not the test's pinned one.
    assert audit(admin, model="team", since="2100-01-01T00:00:00Z") == []
    assert audit(admin, model="team", until="2000-01-01T00:00:00Z") == []
    assert len(audit(admin, model="team", since="2000-01-01T00:00:00Z")) == 5
