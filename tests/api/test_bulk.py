"""Bulk upsert of case snapshots: idempotent, per-item errors, all-or-nothing limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.models import Case, CaseEvent
from tests.conftest import NOW
from tests.factories import T0, AccountFactory, CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

URL = "/api/v1/cases/bulk/"
H = timedelta(hours=1)


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def batch():
    return [
        {
            "source": "zendesk",
            "external_id": "Z-1",
            "category": "billing",
            "channel": "email",
            "status": "new",
            "opened_at": iso(T0),
        },
        {
            "source": "zendesk",
            "external_id": "Z-2",
            "account": "ACC-1",
            "requester_email": "pat@example.org",
            "requester_name": "Pat",
            "category": "billing",
            "channel": "chat",
            "priority": "high",
            "status": "pending",
            "subject": "Refund",
            "assignee": "rep_a1",
            "opened_at": iso(T0),
            "assigned_at": iso(T0 + H),
            "first_response_at": iso(T0 + 2 * H),
            "agent_response_count": 3,
        },
        {
            "source": "zendesk",
            "external_id": "Z-3",
            "category": "billing",
            "channel": "phone",
            "status": "closed",
            "assignee": "rep_b1",
            "resolved_by": "rep_b2",
            "opened_at": iso(T0),
            "first_response_at": iso(T0 + H),
            "agent_response_count": 1,
            "resolved_at": iso(T0 + 3 * H),
            "closed_at": iso(T0 + 4 * H),
            "reopened_count": 1,
        },
    ]


@pytest.fixture
def integration(org, client_for):
    from tests.factories import RepresentativeFactory

    AccountFactory(external_id="ACC-1")
    RepresentativeFactory(team=org.team_b, user__username="rep_b2")
    return client_for(org.integration)


def snapshot():
    return {c.external_id: (c.pk, c.updated_at) for c in Case.objects.order_by("external_id")}


def test_a_batch_creates_cases_with_a_synthetic_history(org, integration):
    response = integration.post(URL, batch(), format="json")
    assert response.status_code == 200, response.content
    ids = {c.external_id: c.pk for c in Case.objects.all()}
    assert response.json() == {
        "results": [
            {"index": 0, "id": ids["Z-1"], "result": "created"},
            {"index": 1, "id": ids["Z-2"], "result": "created"},
            {"index": 2, "id": ids["Z-3"], "result": "created"},
        ]
    }
    closed = Case.objects.get(external_id="Z-3")
    assert (
        closed.status,
        closed.team_id,
        closed.assigned_at,
        closed.resolved_by.user.username,
        closed.first_resolved_at,
        closed.closed_at,
        closed.reopened_count,
    ) == ("closed", org.team_b.pk, T0, "rep_b2", T0 + 3 * H, T0 + 4 * H, 1)
    assert list(
        closed.events.order_by("occurred_at", "id").values_list(
            "event_type", "occurred_at", "synthetic"
        )
    ) == [
        ("created", T0, True),
        ("assigned", T0, True),
        ("agent_response", T0 + H, True),
        ("resolved", T0 + 3 * H, True),
        ("closed", T0 + 4 * H, True),
    ]
    pending = Case.objects.get(external_id="Z-2")
    assert (pending.account.external_id, pending.requester_name, pending.assigned_at) == (
        "ACC-1",
        "Pat",
        T0 + H,
    )
    assert list(pending.events.values_list("event_type", flat=True).order_by("occurred_at")) == [
        "created",
        "assigned",
        "agent_response",
    ]


def test_the_same_batch_twice_changes_nothing(org, integration, clock):
    integration.post(URL, batch(), format="json")
    before_cases, before_events = snapshot(), list(CaseEvent.objects.values_list("pk", flat=True))
    clock.shift(timedelta(minutes=5))  # any write now would move updated_at
    response = integration.post(URL, batch(), format="json")
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"index": i, "id": before_cases[f"Z-{i + 1}"][0], "result": "unchanged"}
            for i in range(3)
        ]
    }
    assert snapshot() == before_cases
    assert list(CaseEvent.objects.values_list("pk", flat=True)) == before_events


def test_a_changed_item_reports_updated_and_only_it_is_written(org, integration, clock):
    integration.post(URL, batch(), format="json")
    before = snapshot()
    clock.shift(timedelta(minutes=5))
    changed = batch()
    changed[1].update(status="resolved", resolved_at=iso(T0 + 5 * H))
    response = integration.post(URL, changed, format="json")
    assert [r["result"] for r in response.json()["results"]] == [
        "unchanged",
        "updated",
        "unchanged",
    ]
    after = snapshot()
    assert after["Z-1"] == before["Z-1"]
    assert after["Z-3"] == before["Z-3"]
    assert after["Z-2"][1] == before["Z-2"][1] + timedelta(minutes=5)
    case = Case.objects.get(external_id="Z-2")
    assert (case.status, case.resolved_at, case.first_resolved_at, case.resolved_by_id) == (
        "resolved",
        T0 + 5 * H,
        T0 + 5 * H,
        org.rep_a1.pk,  # no resolved_by sent: the assignee
    )
    assert list(case.events.order_by("occurred_at").values_list("event_type", flat=True)) == [
        "created",
        "assigned",
        "agent_response",
        "resolved",
    ]


def test_an_update_keeps_reported_events_and_first_resolved_at(org, integration, client_for):
    integration.post(URL, batch()[:1], format="json")
    case = Case.objects.get(external_id="Z-1")
    client_for(org.admin).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "customer_response", "occurred_at": iso(T0 + H)},
        format="json",
    )
    resolved = {**batch()[0], "status": "resolved", "resolved_at": iso(T0 + 2 * H)}
    integration.post(URL, [resolved], format="json")
    reported = case.events.get(synthetic=False)
    assert list(case.events.order_by("occurred_at").values_list("event_type", "synthetic")) == [
        ("created", True),
        ("customer_response", False),
        ("resolved", True),
    ]
    reopened = {**batch()[0], "status": "open", "reopened_count": 1}
    integration.post(URL, [reopened], format="json")
    case.refresh_from_db()
    assert (case.status, case.resolved_at, case.first_resolved_at, case.reopened_count) == (
        "open",
        None,
        T0 + 2 * H,
        1,
    )
    # The reported event survives every re-synthesis untouched; what the history says
    # about the earlier resolution is test_a_reopened_snapshot_keeps_... below.
    assert case.events.get(synthetic=False, event_type="customer_response") == reported
    assert case.events.filter(event_type="created", occurred_at=T0, synthetic=True).count() == 1


def test_one_bad_item_is_named_by_index_and_field_and_the_others_are_stored(org, integration):
    items = batch()
    items[1]["channel"] = "fax"
    items[2]["closed_at"] = None
    response = integration.post(URL, items, format="json")
    assert response.status_code == 200
    first_id = Case.objects.get(external_id="Z-1").pk
    assert response.json() == {
        "results": [
            {"index": 0, "id": first_id, "result": "created"},
            {"index": 1, "errors": {"channel": ['"fax" is not a valid choice.']}},
            {"index": 2, "errors": {"closed_at": ["A closed case needs closed_at."]}},
        ]
    }
    assert list(Case.objects.values_list("external_id", flat=True)) == ["Z-1"]
    assert CaseEvent.objects.filter(case__external_id__in=["Z-2", "Z-3"]).count() == 0


def test_an_item_breaking_several_rules_reports_all_of_them(org, integration):
    item = {
        **batch()[0],
        "status": "open",
        "resolved_at": iso(T0 - H),
        "agent_response_count": 2,
    }
    response = integration.post(URL, [item], format="json")
    assert response.json() == {
        "results": [
            {
                "index": 0,
                "errors": {
                    "resolved_at": [
                        "resolved_at is before opened_at.",
                        "A open case has no resolved_at; send status resolved or closed.",
                    ],
                    "first_response_at": ["agent_response_count > 0 needs first_response_at."],
                },
            }
        ]
    }
    assert Case.objects.count() == 0


def test_more_than_100_items_is_refused_whole(org, integration):
    items = [{**batch()[0], "external_id": f"Z-{i}"} for i in range(101)]
    response = integration.post(URL, items, format="json")
    reason = "At most 100 cases per request; got 101."
    assert response.status_code == 400
    assert response.json() == {
        "message": reason,
        "code": "validation_error",
        "extra": {"fields": {"non_field_errors": [reason]}},
    }
    assert Case.objects.count() == 0
    assert integration.post(URL, items[:100], format="json").status_code == 200
    assert Case.objects.count() == 100


@pytest.mark.parametrize("body", [{"external_id": "Z-1"}, "Z-1", 7, None])
def test_a_body_that_is_not_a_list_is_refused(org, integration, body):
    response = integration.post(URL, body, format="json")
    reason = "Send a JSON array of cases."
    assert response.status_code == 400
    assert response.json() == {
        "message": reason,
        "code": "validation_error",
        "extra": {"fields": {"non_field_errors": [reason]}},
    }
    assert Case.objects.count() == 0


def test_an_item_that_is_not_an_object_is_named(org, integration):
    response = integration.post(URL, ["Z-1", batch()[0]], format="json")
    assert response.json()["results"][0] == {
        "index": 0,
        "errors": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
    }
    assert response.json()["results"][1]["result"] == "created"


def test_an_empty_batch_is_fine(org, integration):
    response = integration.post(URL, [], format="json")
    assert (response.status_code, response.json()) == (200, {"results": []})


def test_bulk_updates_a_case_created_through_the_api(org, integration, client_for):
    existing = CaseFactory(source="zendesk", external_id="Z-1", category=org.category)
    response = integration.post(URL, batch()[:1], format="json")
    assert response.json() == {"results": [{"index": 0, "id": existing.pk, "result": "updated"}]}
    assert Case.objects.count() == 1


def test_a_snapshot_without_an_assignee_keeps_the_cases_team(org, integration, client_for):
    manager = client_for(org.manager_a)
    created = manager.post(URL.replace("bulk/", ""), {**batch()[0], "opened_at": iso(T0)})
    assert created.status_code == 201
    assert created.json()["team"] == org.team_a.pk
    response = integration.post(URL, [{**batch()[0], "subject": "synced"}], format="json")
    assert response.json()["results"][0]["result"] == "updated"
    case = Case.objects.get(external_id="Z-1")
    assert case.team_id == org.team_a.pk
    assert [r["external_id"] for r in manager.get("/api/v1/cases/").json()["results"]] == ["Z-1"]


def test_a_reopened_snapshot_keeps_the_earlier_resolution_in_the_history(org, integration):
    integration.post(
        URL, [{**batch()[0], "status": "resolved", "resolved_at": iso(T0 + 2 * H)}], format="json"
    )
    integration.post(URL, [{**batch()[0], "status": "open", "reopened_count": 1}], format="json")
    case = Case.objects.get(external_id="Z-1")
    assert case.first_resolved_at == T0 + 2 * H
    assert case.events.filter(event_type="resolved", occurred_at=T0 + 2 * H).exists()


def test_a_reopen_seen_in_a_snapshot_is_recorded_once_at_sync_time(org, integration, clock):
    resolved = {**batch()[0], "status": "resolved", "resolved_at": iso(T0 + 2 * H)}
    integration.post(URL, [resolved], format="json")
    clock.shift(H)
    reopened = {**batch()[0], "status": "open", "reopened_count": 1}
    first = integration.post(URL, [reopened], format="json")
    again = integration.post(URL, [reopened], format="json")
    assert [r["result"] for r in first.json()["results"] + again.json()["results"]] == [
        "updated",
        "unchanged",
    ]
    case = Case.objects.get(external_id="Z-1")
    history = case.events.order_by("occurred_at", "id").values_list(
        "event_type", "occurred_at", "from_status", "to_status", "synthetic"
    )
    assert list(history) == [
        ("created", T0, "", "new", True),
        ("resolved", T0 + 2 * H, "", "resolved", False),
        ("reopened", NOW + H, "resolved", "open", False),
    ]
