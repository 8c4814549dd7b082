"""Concurrent requests on real PostgreSQL transactions (threads, committed data).

- 20 POSTs with one Idempotency-Key create exactly one case;
- two updates from the same ETag: one wins, the other gets 412;
- concurrent events on one case: no lost or duplicate event, the case's fields are the fold
  of its events (cases/state.py), and the losers get a 4xx, never a 500.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import apis, services
from cases.etags import case_etag
from cases.models import Case, CaseEvent, CaseStatus
from cases.state import CaseState, apply_event
from idempotency.models import IdempotencyRecord

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
KEY = "0b3f6d0e-concurrent"


def concurrently(count: int, request: Callable[[int, APIClient], Any], user) -> list[Any]:
    """Run ``request(i, client)`` in ``count`` threads released together; their results."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        client = APIClient()
        client.force_authenticate(user)
        client.raise_request_exception = False  # a 500 is a result to assert on
        try:
            start.wait()
            results[index] = request(index, client)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return results


def case_body(external_id: str = "RACE-1") -> dict[str, str]:
    opened = (timezone.now() - timedelta(hours=1)).isoformat()
    return {
        "external_id": external_id,
        "category": "billing",
        "channel": "chat",
        "opened_at": opened,
    }


def outcome(response) -> str:
    if response.get("Idempotent-Replayed") == "true":
        return f"{response.status_code} replayed"
    return str(response.status_code)


@pytest.mark.parametrize("slow", [False, True], ids=["as_fast_as_it_goes", "slow_create"])
def test_twenty_posts_with_one_key_create_one_case(org, monkeypatch, slow):
    if slow:
        # The create takes 0.5 s: the duplicates certainly arrive while it is in flight.
        create = services.case_create

        def slow_create(**kwargs):
            time.sleep(0.5)
            return create(**kwargs)

        monkeypatch.setattr(apis.services, "case_create", slow_create)
    body = case_body()
    responses = concurrently(
        THREADS,
        lambda i, client: client.post(
            "/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY
        ),
        org.manager_a.user,
    )
    counts = Counter(outcome(r) for r in responses)
    print(f"\n20 concurrent POSTs, one key ({'slow' if slow else 'fast'} create): {dict(counts)}")
    assert counts["201"] == 1
    assert set(counts) <= {"201", "201 replayed", "409"}
    assert sum(counts.values()) == THREADS
    if slow:
        assert counts["409"] >= 1
    first = next(r for r in responses if outcome(r) == "201")
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_flight"
            assert response["Retry-After"] == "1"
        else:
            assert response.json() == first.json()
    case = Case.objects.get()
    assert case.external_id == "RACE-1"
    assert CaseEvent.objects.filter(case=case).count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.status_code, json.loads(record.body)["id"]) == (
        "done",
        201,
        case.pk,
    )
    # The losers' retry: the first answer, replayed.
    (retry,) = concurrently(
        1,
        lambda i, client: client.post(
            "/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY
        ),
        org.manager_a.user,
    )
    assert (outcome(retry), retry.json()) == ("201 replayed", first.json())


def test_twenty_posts_with_one_key_and_different_bodies_run_one(org):
    responses = concurrently(
        THREADS,
        lambda i, client: client.post(
            "/api/v1/cases/", case_body(f"RACE-{i}"), format="json", HTTP_IDEMPOTENCY_KEY=KEY
        ),
        org.manager_a.user,
    )
    counts = Counter(r.status_code for r in responses)
    assert counts[201] == 1
    assert set(counts) <= {201, 409, 422}
    assert Case.objects.count() == 1
    winner = next(r for r in responses if r.status_code == 201).json()["external_id"]
    assert Case.objects.get().external_id == winner


def test_two_updates_from_one_etag_one_wins(org):
    case, _ = services.case_create(
        external_id="ETAG-RACE",
        category=org.category,
        channel="email",
        opened_at=timezone.now() - timedelta(hours=2),
        assignee=org.rep_a1,
    )
    etag = case_etag(Case.objects.get(pk=case.pk))
    writers = 5
    responses = concurrently(
        writers,
        lambda i, client: client.patch(
            f"/api/v1/cases/{case.pk}/",
            {"subject": f"writer {i}"},
            format="json",
            HTTP_IF_MATCH=etag,
        ),
        org.rep_a1.user,
    )
    counts = Counter(r.status_code for r in responses)
    assert counts == Counter({200: 1, 412: writers - 1})
    winner = next(r for r in responses if r.status_code == 200)
    stored = Case.objects.get(pk=case.pk)
    assert stored.subject == winner.json()["subject"]
    assert winner["ETag"] == case_etag(stored)
    for response in responses:
        if response.status_code == 412:
            assert response.json()["extra"] == {"etag": case_etag(stored)}


def folded(case: Case, team_id: int | None) -> CaseState:
    """The case's lifecycle fields rebuilt from its stored events alone."""
    events = case.events.select_related("assignee").order_by("occurred_at", "id")
    state = CaseState(status=CaseStatus.NEW, opened_at=case.opened_at, team_id=team_id)
    for event in events:
        if event.event_type == CaseEvent.Type.CREATED:
            continue
        state = apply_event(
            state,
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            actor_id=event.actor_id,
            assignee_id=event.assignee_id,
            assignee_team_id=event.assignee.team_id if event.assignee else None,
            to_status=event.to_status,
        )
    return state


def _open_case(org) -> Case:
    case, _ = services.case_create(
        external_id="EVENT-RACE",
        category=org.category,
        channel="email",
        opened_at=timezone.now() - timedelta(hours=3),
        assignee=org.rep_a1,
    )
    return case


def test_concurrent_resolutions_one_wins_the_other_gets_a_4xx(org):
    case = _open_case(org)
    base = timezone.now() - timedelta(hours=1)
    responses = concurrently(
        2,
        lambda i, client: client.post(
            f"/api/v1/cases/{case.pk}/events/",
            {"event_type": "resolved", "occurred_at": (base + timedelta(minutes=i)).isoformat()},
            format="json",
        ),
        org.rep_a1.user,
    )
    statuses = sorted(r.status_code for r in responses)
    loser = next(r for r in responses if r.status_code != 201)
    # Whichever commits first wins; the other is refused: resolving a resolved case (409),
    # or an event older than the case's latest (400 event_out_of_order).
    assert statuses in ([201, 409], [201, 400])
    assert loser.json()["code"] in ("case_not_open", "event_out_of_order")
    stored = Case.objects.get(pk=case.pk)
    assert stored.status == CaseStatus.RESOLVED
    # created and assigned share a timestamp: the id (insert order) breaks the tie.
    events = stored.events.order_by("occurred_at", "id").values_list("event_type", flat=True)
    assert list(events) == [
        "created",
        "assigned",
        "resolved",
    ]
    assert CaseState.of(stored) == folded(stored, team_id=org.team_a.pk)


def test_concurrent_events_are_all_stored_once_and_folded(org):
    case = _open_case(org)
    base = timezone.now() - timedelta(hours=2)
    writers = 12
    kinds = ["agent_response", "customer_response", "agent_response", "status_changed"]

    def post_event(i: int, client: APIClient):
        body: dict[str, Any] = {
            "event_type": kinds[i % len(kinds)],
            "occurred_at": (base + timedelta(minutes=i)).isoformat(),
        }
        if body["event_type"] == "status_changed":
            body["to_status"] = "pending"
        # Each event is sent twice (a client retry): it must be stored once.
        first = client.post(f"/api/v1/cases/{case.pk}/events/", body, format="json")
        again = client.post(f"/api/v1/cases/{case.pk}/events/", body, format="json")
        return body, first, again

    results = concurrently(writers, post_event, org.rep_a1.user)
    accepted = []
    for body, first, again in results:
        assert first.status_code in (201, 400, 409), first.content  # never a 500
        if first.status_code == 201:
            accepted.append(body)
            assert again.status_code == 200  # the same event, found
            assert again.json()["id"] == first.json()["id"]
        else:
            assert first.json()["code"] in ("event_out_of_order", "case_not_open")
    stored = Case.objects.get(pk=case.pk)
    events = list(stored.events.exclude(event_type__in=["created", "assigned"]))
    assert len(events) == len(accepted) >= 1
    assert sorted((e.event_type, e.occurred_at.isoformat()) for e in events) == sorted(
        (b["event_type"], b["occurred_at"]) for b in accepted
    )
    assert stored.agent_response_count == sum(
        1 for b in accepted if b["event_type"] == "agent_response"
    )
    assert CaseState.of(stored) == folded(stored, team_id=org.team_a.pk)
