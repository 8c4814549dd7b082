"""PostgreSQL restarted under load: clean 503s during the outage, success right after, and
no half-written case.

A throwaway PostgreSQL (tests/integration/servers.py; never the machine's) gets a copy of
the migrated test schema; gunicorn (2 workers, production settings, DEBUG off) serves it.
Four client threads mix writes (case creates with unique external ids, events, 10-case
bulk batches) and reads (case list, a case, a KPI) while the test stops PostgreSQL
(``pg_ctl stop -m fast``, then ``-m immediate``: a crash and WAL recovery) and starts it
again. Then:

- every answer during the outage is a success or a 503 ``database_unavailable`` in the
  error shape with ``Retry-After``: never a 500, never HTML, never a dropped connection or
  a request beyond the client's 15 s timeout;
- the API answers again within a few seconds of the server accepting connections, and
  every request sent after that succeeds;
- every case in the database has its ``created`` event and fields equal to the fold of its
  events (cases/state.py); a write that got a 503 is all there or not there at all (a
  bulk batch: all 10 cases or none); retried (creates, events and bulk are idempotent) it
  succeeds, and every write that got a 2xx is in the database.

Figures (requests, 503s, recovery) are printed; ``pytest -s`` shows them.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection

from cases.state import CaseState, apply_event
from tests.integration.servers import (
    REPO,
    Answer,
    ThrowawayPostgres,
    WebServer,
    call,
    copy_database,
    wait_until,
)

# The test database is only the source of the schema copied into the throwaway server;
# the mark makes pytest-django create it.
pytestmark = pytest.mark.django_db

DATABASE = "supportmetrics"
THREADS = 4
UNAVAILABLE = {
    "message": "The database is unavailable. Try again in a few seconds.",
    "code": "database_unavailable",
    "extra": {"retry_after": 5},
}
RECOVERY_LIMIT_SECONDS = 5.0
WARM_SUCCESSES = 12
EVENT_STEPS = (
    ("assigned", {"assignee": "fault-rep"}),
    ("agent_response", {}),
    ("resolved", {}),
)

SEED = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from cases.models import Category, Representative, Team
User = get_user_model()
admin = User.objects.create_superuser("fault-admin", "admin@example.org", None)
team = Team.objects.create(name="Alpha", timezone="Europe/Berlin")
Representative.objects.create(
    user=User.objects.create_user("fault-rep"), team=team, display_name="Fault Rep"
)
Category.objects.create(slug="billing", name="Billing", target_resolution_hours=24)
print("TOKEN", Token.objects.create(user=admin).key)
"""


def figure(line: str) -> None:
    print(f"\nFIGURE {line}", flush=True)


@dataclass
class Stack:
    pg: ThrowawayPostgres
    server: WebServer
    token: str


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker) -> Any:
    """Throwaway PostgreSQL with the test schema, seeded, and gunicorn in front of it."""
    pg = ThrowawayPostgres()
    server = None
    try:
        pg.start()
        copy_database(source=connection.settings_dict, target=pg, name=DATABASE)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "supportmetrics.settings.base",
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": pg.url(DATABASE),
        }
        seeded = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SEED],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        token = seeded.stdout.split("TOKEN ")[1].strip()
        # Rate limits off: four clients write far above one user's limit on purpose.
        server = WebServer(database_url=pg.url(DATABASE), extra_env={"RATE_LIMIT_ENABLED": "0"})
        server.wait_ready()
        yield Stack(pg=pg, server=server, token=token)
    finally:
        if server is not None:
            server.stop()
        pg.close()


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Write:
    kind: str  # create | event | bulk
    path: str
    payload: Any
    answer: Answer
    external_ids: tuple[str, ...] = ()
    case_id: int | None = None
    event: tuple[str, datetime] | None = None


@dataclass
class Tracked:
    case_id: int
    opened_at: datetime
    step: int = 0
    parked: bool = False  # an event of it got a 503: no further events until retried


@dataclass
class Load:
    stack: Stack
    run: str
    base: datetime
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def request(self, op: str, method: str, path: str, payload: Any = None) -> Answer:
        answer = call(self.stack.server.port, method, path, token=self.stack.token, payload=payload)
        self.answers.append((op, answer))
        return answer

    def successes(self) -> int:
        return sum(answer.status in (200, 201) for _, answer in list(self.answers))

    def write(self, write: Write) -> Write:
        self.writes.append(write)
        return write

    def client(self, number: int) -> None:
        rng = random.Random(f"{self.run}-{number}")
        cases: list[Tracked] = []
        counter = itertools.count()
        ops = itertools.cycle(
            ["create", "list", "event", "bulk", "event", "case", "kpi", "create", "event"]
        )
        while not self.stop.is_set():
            op = next(ops)
            n = next(counter)
            if op == "create":
                external_id = f"{self.run}-{number}-{n}"
                opened_at = self.base + timedelta(seconds=rng.randrange(3600))
                payload = {
                    "external_id": external_id,
                    "category": "billing",
                    "channel": "email",
                    "opened_at": opened_at.isoformat(),
                }
                answer = self.request(op, "POST", "/api/v1/cases/", payload)
                self.write(Write(op, "/api/v1/cases/", payload, answer, (external_id,)))
                if answer.status == 201:
                    cases.append(Tracked(answer.json()["id"], opened_at))
            elif op == "event":
                ready = [c for c in cases if c.step < len(EVENT_STEPS) and not c.parked]
                if not ready:
                    continue
                case = rng.choice(ready)
                event_type, extra = EVENT_STEPS[case.step]
                occurred_at = case.opened_at + timedelta(minutes=case.step + 1)
                path = f"/api/v1/cases/{case.case_id}/events/"
                payload = {"event_type": event_type, "occurred_at": occurred_at.isoformat()}
                answer = self.request(op, "POST", path, {**payload, **extra})
                self.write(
                    Write(
                        op,
                        path,
                        {**payload, **extra},
                        answer,
                        case_id=case.case_id,
                        event=(event_type, occurred_at),
                    )
                )
                if answer.status in (200, 201):
                    case.step += 1
                else:
                    case.parked = True
            elif op == "bulk":
                items = [self.snapshot(f"{self.run}-{number}-b{n}-{i}", rng) for i in range(10)]
                answer = self.request(op, "POST", "/api/v1/cases/bulk/", items)
                self.write(
                    Write(
                        op,
                        "/api/v1/cases/bulk/",
                        items,
                        answer,
                        tuple(i["external_id"] for i in items),
                    )
                )
            elif op == "list":
                self.request(op, "GET", "/api/v1/cases/?page_size=5")
            elif op == "case" and cases:
                self.request(op, "GET", f"/api/v1/cases/{rng.choice(cases).case_id}/")
            elif op == "kpi":
                today = datetime.now(UTC).date()
                self.request(
                    op, "GET", f"/api/v1/metrics/fcr/?from={today - timedelta(days=7)}&to={today}"
                )

    def snapshot(self, external_id: str, rng: random.Random) -> dict[str, Any]:
        opened_at = self.base + timedelta(seconds=rng.randrange(3600))
        item: dict[str, Any] = {
            "external_id": external_id,
            "category": "billing",
            "channel": "chat",
            "opened_at": opened_at.isoformat(),
            "status": "new",
        }
        if rng.random() < 0.5:
            item.update(
                status="resolved",
                assignee="fault-rep",
                assigned_at=(opened_at + timedelta(minutes=1)).isoformat(),
                resolved_at=(opened_at + timedelta(minutes=30)).isoformat(),
            )
        return item


# --- the database, read directly ------------------------------------------------------------

CASE_COLUMNS = ("id", "source", "external_id", *CaseState.FIELDS)


def database_rows(pg: ThrowawayPostgres) -> tuple[dict[Any, Any], dict[int, list[Any]]]:
    """({(source, external_id): case row}, {case id: [event rows in order]})."""
    with psycopg.connect(pg.url(DATABASE).replace("postgres://", "postgresql://")) as db:
        cases = {
            (row[1], row[2]): dict(zip(CASE_COLUMNS, row, strict=True))
            for row in db.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM cases_case")
        }
        events: dict[int, list[Any]] = {}
        for row in db.execute(
            "SELECT case_id, event_type, occurred_at, actor_id, assignee_id, to_status, id "
            "FROM cases_caseevent ORDER BY case_id, occurred_at, id"
        ):
            events.setdefault(row[0], []).append(row)
        teams = dict(db.execute("SELECT id, team_id FROM cases_representative").fetchall())
    for case in cases.values():
        case["teams"] = teams
    return cases, events


def assert_no_half_written_case(pg: ThrowawayPostgres) -> tuple[dict[Any, Any], dict[int, Any]]:
    """Every case starts with its `created` event and equals the fold of its events."""
    cases, events = database_rows(pg)
    for case in cases.values():
        history = events.get(case["id"], [])
        assert history, f"case {case['id']} has no events"
        first = history[0]
        assert (first[1], first[2]) == ("created", case["opened_at"]), (case, history)
        assert [e[1] for e in history].count("created") == 1, history
        # These cases are created without a team (no assignee at creation): None at first.
        state = CaseState(status="new", opened_at=case["opened_at"])
        for _, event_type, occurred_at, actor_id, assignee_id, to_status, _ in history[1:]:
            state = apply_event(
                state,
                event_type=event_type,
                occurred_at=occurred_at,
                actor_id=actor_id,
                assignee_id=assignee_id,
                assignee_team_id=case["teams"].get(assignee_id),
                to_status=to_status,
            )
        stored = CaseState(**{name: case[name] for name in CaseState.FIELDS})
        assert stored == state, (case["external_id"], history)
    return cases, events


# --- the test -------------------------------------------------------------------------------


def assert_clean(op: str, answer: Answer) -> None:
    """A success, or a 503 in the error shape with Retry-After; nothing else."""
    assert answer.status is not None, f"{op}: no answer ({answer.error}, {answer.seconds:.1f} s)"
    if answer.status in (200, 201):
        assert answer.headers["content-type"] == "application/json", answer.headers
        return
    assert answer.status == 503, (op, answer.status, answer.body[:500])
    assert answer.headers["content-type"] == "application/json", answer.headers
    assert answer.headers["retry-after"] == "5", answer.headers
    assert answer.json() == UNAVAILABLE


def is_in_database(write: Write, cases: dict[Any, Any], events: dict[int, Any]) -> list[bool]:
    """Per write, whether each of its parts is stored (a bulk batch has ten)."""
    if write.kind == "event":
        assert write.event is not None and write.case_id is not None
        stored = {(e[1], e[2]) for e in events.get(write.case_id, [])}
        return [write.event in stored]
    return [("api", external_id) in cases for external_id in write.external_ids]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_under_load(stack: Stack, mode: str) -> None:
    load = Load(stack=stack, run=f"{mode}-{uuid.uuid4().hex[:6]}", base=datetime.now(UTC))
    load.base -= timedelta(hours=3)
    clients = [threading.Thread(target=load.client, args=(i,)) for i in range(THREADS)]
    for thread in clients:
        thread.start()
    try:
        # Both gunicorn workers warm and serving before the outage, however busy the machine.
        wait_until(lambda: load.successes() >= WARM_SUCCESSES, 60, "the load to get going")
        down = time.monotonic()
        stack.pg.stop(mode)
        health = call(stack.server.port, "GET", "/healthz")
        assert (health.status, health.headers.get("retry-after")) == (503, "5")
        assert health.json() == {"status": "unavailable", "database": "down"}
        time.sleep(2.0)
        stack.pg.start()
        up = time.monotonic()

        def answers_again() -> bool:
            probe = call(stack.server.port, "GET", "/api/v1/cases/?page_size=1", token=stack.token)
            return probe.status == 200

        wait_until(answers_again, 30, "the API to answer after the restart", interval=0.05)
        recovered = time.monotonic()
        wait_until(
            lambda: sum(a.started >= recovered for _, a in list(load.answers)) >= WARM_SUCCESSES,
            60,
            "requests after the recovery",
        )
    finally:
        load.stop.set()
        for thread in clients:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in clients)

    statuses = Counter(answer.status for _, answer in load.answers)
    for op, answer in load.answers:
        assert_clean(op, answer)
    unavailable = [a for _, a in load.answers if a.status == 503]
    assert unavailable, "the outage hit no request: the test proves nothing"
    assert any(a.status in (200, 201) and a.started < down for _, a in load.answers)
    after = [(op, a) for op, a in load.answers if a.started >= recovered]
    assert after and all(a.status in (200, 201) for _, a in after), Counter(
        (op, a.status) for op, a in after
    )
    recovery = recovered - up
    assert recovery < RECOVERY_LIMIT_SECONDS
    slowest = max(a.seconds for _, a in load.answers)

    # Before any retry: nothing half-written, and each 503'd write all there or not at all.
    cases, events = assert_no_half_written_case(stack.pg)
    failed = [w for w in load.writes if w.answer.status == 503]
    stored_before_retry = []
    for write in failed:
        parts = is_in_database(write, cases, events)
        assert all(parts) or not any(parts), (write.kind, write.external_ids, parts)
        stored_before_retry.append(all(parts))
    landed = sum(stored_before_retry)
    # Clients retry what got a 503; every write is idempotent: what had landed is found
    # (200, bulk "unchanged"), what had not is written now (201, bulk "created").
    for write, stored in zip(failed, stored_before_retry, strict=True):
        retried = call(
            stack.server.port, "POST", write.path, token=stack.token, payload=write.payload
        )
        if write.kind == "bulk":
            assert retried.status == 200, (retried.status, retried.body)
            results = retried.json()["results"]
            assert [r["index"] for r in results] == list(range(10))
            expected = "unchanged" if stored else "created"
            assert [r.get("result") for r in results] == [expected] * 10, results
        else:
            assert retried.status == (200 if stored else 201), (write.kind, retried.body)
        write.answer = retried
    cases, events = assert_no_half_written_case(stack.pg)
    for write in load.writes:
        assert write.answer.status in (200, 201)
        assert all(is_in_database(write, cases, events)), (write.kind, write.external_ids)

    figure(
        f"pg_ctl stop -m {mode}: {len(load.answers)} requests ({len(load.writes)} writes), "
        f"{statuses[503]} answered 503 ({len(failed)} writes: {landed} had landed, "
        f"{len(failed) - landed} had not), {statuses[200] + statuses[201]} succeeded, "
        f"0 other; slowest {slowest:.2f} s"
    )
    figure(
        f"pg_ctl stop -m {mode}: down {up - down:.2f} s; API answering "
        f"{recovery:.2f} s after PostgreSQL accepted connections; {len(cases)} cases checked"
    )
    print(json.dumps({"mode": mode, "statuses": {str(k): v for k, v in statuses.items()}}))
