"""Bulk upserts applied as a batch: mixed outcomes in one request, the same case twice in one
batch, a database refusal of one item, and a case inserted by someone else meanwhile."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.models import Case, CaseEvent
from cases.services import snapshot_upserts
from tests.conftest import NOW
from tests.factories import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

URL = "/api/v1/cases/bulk/"
H = timedelta(hours=1)


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def item(external_id: str, **fields) -> dict:
    return {
        "source": "zendesk",
        "external_id": external_id,
        "category": "billing",
        "channel": "email",
        "opened_at": iso(T0),
        **fields,
    }


@pytest.fixture
def integration(org, client_for):
    return client_for(org.integration)


def stored() -> dict[str, tuple]:
    return {c.external_id: (c.pk, c.status, c.updated_at) for c in Case.objects.all()}


def history(external_id: str) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case__external_id=external_id)
        .order_by("occurred_at", "id")
        .values_list("event_type", "occurred_at", "from_status", "to_status", "synthetic")
    )


def test_one_request_with_a_bad_item_and_new_unchanged_and_updated_ones(org, integration, clock):
    integration.post(URL, [item("Z-1"), item("Z-2")], format="json")
    before = stored()
    clock.shift(timedelta(minutes=5))
    response = integration.post(
        URL,
        [
            item("Z-1"),  # unchanged
            item("Z-3", channel="fax"),  # refused by the serializer
            item("Z-2", status="resolved", resolved_at=iso(T0 + 2 * H)),  # updated
            item("Z-4", status="closed", resolved_at=iso(T0 + H)),  # refused by the rules
            item("Z-5", status="open", assignee="rep_b1"),  # new
        ],
        format="json",
    )
    assert response.status_code == 200
    after = stored()
    assert response.json() == {
        "results": [
            {"index": 0, "id": before["Z-1"][0], "result": "unchanged"},
            {"index": 1, "errors": {"channel": ['"fax" is not a valid choice.']}},
            {"index": 2, "id": before["Z-2"][0], "result": "updated"},
            {"index": 3, "errors": {"closed_at": ["A closed case needs closed_at."]}},
            {"index": 4, "id": after["Z-5"][0], "result": "created"},
        ]
    }
    assert sorted(after) == ["Z-1", "Z-2", "Z-5"]
    assert after["Z-1"] == before["Z-1"]  # not written: updated_at kept
    assert after["Z-2"] == (before["Z-2"][0], "resolved", NOW + timedelta(minutes=5))
    assert after["Z-5"][1:] == ("open", NOW + timedelta(minutes=5))
    assert Case.objects.get(external_id="Z-5").team_id == org.team_b.pk
    assert [e[0] for e in history("Z-5")] == ["created", "assigned"]


def test_the_same_case_twice_in_a_batch_is_applied_in_order(org, integration):
    response = integration.post(
        URL,
        [
            item("Z-1", assignee="rep_a1"),
            item("Z-2"),
            item("Z-1", assignee="rep_a1", status="resolved", resolved_at=iso(T0 + 3 * H)),
            item("Z-2"),
        ],
        format="json",
    )
    ids = {c.external_id: c.pk for c in Case.objects.all()}
    assert response.json() == {
        "results": [
            {"index": 0, "id": ids["Z-1"], "result": "created"},
            {"index": 1, "id": ids["Z-2"], "result": "created"},
            {"index": 2, "id": ids["Z-1"], "result": "updated"},
            {"index": 3, "id": ids["Z-2"], "result": "unchanged"},
        ]
    }
    case = Case.objects.get(external_id="Z-1")
    assert (case.status, case.resolved_at, case.first_resolved_at, case.resolved_by_id) == (
        "resolved",
        T0 + 3 * H,
        T0 + 3 * H,
        org.rep_a1.pk,
    )
    assert history("Z-1") == [
        ("created", T0, "", "new", True),
        ("assigned", T0, "", "", True),
        ("resolved", T0 + 3 * H, "", "resolved", True),
    ]


def test_a_later_duplicate_sees_what_the_earlier_one_did(org, integration):
    """A resolved case reopened by the next item of the same batch: the reopen rule applies
    to what the first item stored, exactly as if the items had come one per request."""
    response = integration.post(
        URL,
        [
            item("Z-1", status="resolved", resolved_at=iso(T0 + 2 * H)),
            item("Z-1", status="open", reopened_count=1),
            item("Z-1", status="open", reopened_count=1),
        ],
        format="json",
    )
    assert [r["result"] for r in response.json()["results"]] == [
        "created",
        "updated",
        "unchanged",
    ]
    case = Case.objects.get(external_id="Z-1")
    assert (case.status, case.resolved_at, case.first_resolved_at, case.reopened_count) == (
        "open",
        None,
        T0 + 2 * H,
        1,
    )
    assert history("Z-1") == [
        ("created", T0, "", "new", True),
        ("resolved", T0 + 2 * H, "", "resolved", False),
        ("reopened", NOW, "resolved", "open", False),
    ]


def test_a_database_refusal_names_its_item_and_the_others_are_stored(org, integration):
    """Reopened twice in one batch: both reopens would be recorded "now", and the second one
    is the same event as the first (case, type, time), which the database refuses. Only that
    item fails; the batch is redone item by item so every other item is still stored."""
    response = integration.post(
        URL,
        [
            item("Z-1", status="resolved", resolved_at=iso(T0 + 2 * H)),
            item("Z-2"),
            item("Z-1", status="open", reopened_count=1),
            item("Z-1", status="resolved", resolved_at=iso(T0 + 4 * H), reopened_count=1),
            item("Z-1", status="open", reopened_count=2),
            item("Z-3"),
        ],
        format="json",
    )
    ids = {c.external_id: c.pk for c in Case.objects.all()}
    reason = (
        "Rejected by a database constraint: duplicate key value violates unique constraint "
        '"case_event_unique_occurrence"\n'
        f"DETAIL:  Key (case_id, event_type, occurred_at)=({ids['Z-1']}, reopened, "
        "2026-04-01 09:00:00+00) already exists."
    )
    assert response.json() == {
        "results": [
            {"index": 0, "id": ids["Z-1"], "result": "created"},
            {"index": 1, "id": ids["Z-2"], "result": "created"},
            {"index": 2, "id": ids["Z-1"], "result": "updated"},
            {"index": 3, "id": ids["Z-1"], "result": "updated"},
            {"index": 4, "errors": {"non_field_errors": [reason]}},
            {"index": 5, "id": ids["Z-3"], "result": "created"},
        ]
    }
    case = Case.objects.get(external_id="Z-1")
    assert (case.status, case.resolved_at, case.reopened_count) == ("resolved", T0 + 4 * H, 1)


def test_a_case_inserted_meanwhile_is_read_again_and_updated(org, integration, monkeypatch):
    """Between reading the batch's cases and inserting the missing ones, another request
    inserted one of them: the batch is read again and that item becomes an update."""
    integration.post(URL, [item("Z-1")], format="json")
    real = snapshot_upserts._stored_for_update
    calls = []

    def first_read_misses_it(keys):
        calls.append(keys)
        return {} if len(calls) == 1 else real(keys)

    monkeypatch.setattr(snapshot_upserts, "_stored_for_update", first_read_misses_it)
    response = integration.post(URL, [item("Z-2"), item("Z-1", subject="synced")], format="json")
    ids = {c.external_id: c.pk for c in Case.objects.all()}
    assert response.json() == {
        "results": [
            {"index": 0, "id": ids["Z-2"], "result": "created"},
            {"index": 1, "id": ids["Z-1"], "result": "updated"},
        ]
    }
    assert len(calls) == 2
    assert Case.objects.get(external_id="Z-1").subject == "synced"
    assert len(history("Z-1")) == 1  # one created event, not a second history
    assert len(history("Z-2")) == 1


def test_an_address_too_long_for_the_column_is_that_items_error(org, integration):
    long_address = "a" * 240 + "@example.org"  # 252 + "ab" = 254 fits; one more does not
    response = integration.post(
        URL,
        [
            item("Z-1", requester_email="ab" + long_address),
            item("Z-2", requester_email="abc" + long_address),
        ],
        format="json",
    )
    assert response.json() == {
        "results": [
            {"index": 0, "id": Case.objects.get(external_id="Z-1").pk, "result": "created"},
            {
                "index": 1,
                "errors": {
                    "requester_email": ["Ensure this field has no more than 254 characters."]
                },
            },
        ]
    }
