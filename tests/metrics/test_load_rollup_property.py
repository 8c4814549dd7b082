"""Case load from the stored facts (metrics.rollups.load) against the raw case-table query,
on random event histories and random writes.

Each example stores cases with random histories of assignments (to reps, a manager, or
unassignment), resolutions (by a rep, a manager, or without an actor) and reopenings, a few
minutes to a few days apart (so the same rep is assigned a case twice inside and across a
window's edge, ping-pong reassignments, reopen + re-resolve by the same rep; gaps of 0 put
an assignment and a resolution at the same moment, ordered by arrival), and a random
``resolved_at``/``resolved_by`` on the case (what an actorless resolution's attribution
reads). Then random writes: backdated events, deleted and moved events, events retyped,
a bulk reassignment of events, deleted cases, a case resolved/reopened/re-attributed.
After that the facts and daily counts must equal a rebuild, and the default load request
must give exactly the same answer from the facts as from the case tables
(``SUPPORTMETRICS_ROLLUPS=False``), in random time zones (non-UTC, half-hour, DST) and
windows (local days, whole UTC hours, odd minutes, shorter than a day).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent
from metrics.kpis.load import kpi_case_load
from metrics.rollups.load import load_rollup_check
from metrics.types import KpiFilter

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 20, tzinfo=UTC)  # the EU spring DST change is on 29 March
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
MINUTES = 12 * 24 * 60
T = CaseEvent.Type

steps = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 30, 300, 1440, 2000, 4000]),  # gap in minutes
        st.sampled_from(["assign", "assign", "resolve", "reopen"]),
        st.integers(min_value=0, max_value=4),  # who: rep_a1, rep_a2, rep_b1, manager_a, none
    ),
    max_size=7,
)
histories = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MINUTES),  # opened, minutes after BASE
        steps,
        st.integers(min_value=0, max_value=5),  # case's resolved_by: who, or 5 = the last actor
    ),
    min_size=1,
    max_size=12,
)
writes = st.lists(
    st.one_of(
        st.tuples(
            st.just("add_event"),
            st.integers(0, 11),
            st.sampled_from(["assign", "resolve"]),
            st.integers(-600, 8000),  # minutes after opening (backdated or not)
            st.integers(0, 4),
        ),
        st.tuples(st.just("delete_event"), st.integers(0, 11), st.integers(0, 6)),
        st.tuples(st.just("move_events"), st.integers(0, 11), st.integers(-900, 900)),
        st.tuples(st.just("retype_event"), st.integers(0, 11), st.integers(0, 6)),
        st.tuples(st.just("bulk_reassign_events"), st.integers(0, 4), st.integers(0, 4)),
        st.tuples(st.just("delete_case"), st.integers(0, 11)),
        st.tuples(st.just("resolve_case"), st.integers(0, 11), st.integers(0, 4)),
        st.tuples(st.just("reopen_case"), st.integers(0, 11)),
    ),
    max_size=8,
)


def _reps(org):
    return [org.rep_a1, org.rep_a2, org.rep_b1, org.manager_a, None]


def _store(org, spec) -> list[int]:
    reps = _reps(org)
    cases, histories_ = [], []
    for i, (opened, history, resolver) in enumerate(spec):
        opened_at = BASE + timedelta(minutes=opened)
        moment, events, last, resolved_at, taken = opened_at, [], None, None, set()
        for gap, kind, who in history:
            moment += timedelta(minutes=gap)
            event_type = {"assign": T.ASSIGNED, "resolve": T.RESOLVED, "reopen": T.REOPENED}[kind]
            if (event_type, moment) in taken:
                continue
            taken.add((event_type, moment))
            if kind == "assign":
                events.append((event_type, moment, None, reps[who]))
            else:
                events.append((event_type, moment, reps[who], None))
                resolved_at = moment if kind == "resolve" else None
                last = reps[who]
        resolved_by = last if resolver == 5 else reps[resolver]
        cases.append(
            Case(
                external_id=f"l{i}",
                category=org.category,
                channel="email",
                opened_at=opened_at,
                assignee=reps[resolver % 5],
                team=org.team_a,
                status="resolved" if resolved_at else "open",
                resolved_at=resolved_at,
                resolved_by=resolved_by if resolved_at else None,
            )
        )
        histories_.append(events)
    stored = Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, event_type=t, occurred_at=at, actor=actor, assignee=assignee)
        for case, events in zip(stored, histories_, strict=True)
        for t, at, actor, assignee in events
    )
    return [c.pk for c in stored]


def _write(org, ids, write) -> None:
    reps = _reps(org)
    kind, *args = write
    case_id = ids[args[0] % len(ids)]
    cases = Case.objects.filter(pk=case_id)
    events = CaseEvent.objects.filter(case_id=case_id).order_by("occurred_at", "id")
    if kind == "add_event":
        case = cases.first()
        if case is None:
            return
        event_type = T.ASSIGNED if args[1] == "assign" else T.RESOLVED
        at = case.opened_at + timedelta(minutes=args[2])
        if not events.filter(event_type=event_type, occurred_at=at).exists():
            who = reps[args[3]]
            CaseEvent.objects.create(
                case=case,
                event_type=event_type,
                occurred_at=at,
                actor=None if event_type == T.ASSIGNED else who,
                assignee=who if event_type == T.ASSIGNED else None,
            )
    elif kind == "delete_event":
        chosen = list(events)
        if chosen:
            chosen[args[1] % len(chosen)].delete()
    elif kind == "move_events":
        with connection.cursor() as cursor:  # one UPDATE, all moved alike: no duplicate keys
            cursor.execute(
                "UPDATE cases_caseevent SET occurred_at = occurred_at + %s WHERE case_id = %s",
                [timedelta(minutes=args[1]), case_id],
            )
    elif kind == "retype_event":
        chosen = list(events)
        if chosen:
            event = chosen[args[1] % len(chosen)]
            new_type = T.REOPENED if event.event_type == T.RESOLVED else T.RESOLVED
            if not events.filter(event_type=new_type, occurred_at=event.occurred_at).exists():
                CaseEvent.objects.filter(pk=event.pk).update(event_type=new_type)
    elif kind == "bulk_reassign_events":
        CaseEvent.objects.filter(event_type=T.ASSIGNED, assignee=reps[args[0]]).update(
            assignee=reps[args[1]]
        )
    elif kind == "delete_case":
        cases.delete()
    elif kind == "resolve_case":
        case = cases.first()
        last = events.filter(event_type=T.RESOLVED).last()
        if case is not None and last is not None:
            cases.update(
                status="resolved",
                resolved_at=max(last.occurred_at, case.opened_at),
                resolved_by=reps[args[1]],
            )
    elif kind == "reopen_case":
        cases.update(status="open", resolved_at=None, resolved_by=None)


def _filter(org, zone, first_day, length, shape, slice_name) -> KpiFilter:
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first_day)).astimezone(tz).date()
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    if shape == "hours":
        start, end = start + timedelta(hours=5), end - timedelta(hours=2)
    elif shape == "minutes":
        start, end = start + timedelta(minutes=20), end + timedelta(minutes=7)
    elif shape == "short":  # inside one UTC day or across one midnight
        end = start + timedelta(hours=7, minutes=13)
    slice_ = {
        "all": {},
        "team": {"team_ids": (org.team_a.pk,)},
        "team_b": {"team_ids": (org.team_b.pk,)},
        "rep": {"rep_ids": (org.rep_a1.pk,)},
    }[slice_name]
    return KpiFilter(start=start, end=end, tz=tz, **slice_)


def _answer(f: KpiFilter) -> tuple[dict[str, object], bool]:
    with CaptureQueriesContext(connection) as queries:
        answer = asdict(kpi_case_load(f=f, now=f.end, min_n=2))
    return answer, any("metrics_load_" in q["sql"] for q in queries.captured_queries)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=histories,
    writes_spec=writes,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=14),
    length=st.integers(min_value=1, max_value=8),
    shape=st.sampled_from(["days", "days", "hours", "minutes", "short"]),
    slice_name=st.sampled_from(["all", "team", "team", "team_b", "rep"]),
)
# Two assignments of one case to one rep across the window's start (one before, one in),
# then a third inside: the repeat inside counts once, the one across does not cancel it.
@example(
    spec=[(0, [(0, "assign", 0), (2000, "assign", 1), (1440, "assign", 0), (300, "assign", 0)], 0)],
    writes_spec=[],
    zone="Europe/Berlin",
    first_day=1,
    length=3,
    shape="days",
    slice_name="team",
)
# An actorless resolution whose attribution moves when an assignment is backdated before
# it, and when the case's resolved_at is moved off it.
@example(
    spec=[(60, [(0, "assign", 0), (30, "resolve", 4), (30, "reopen", 0), (30, "resolve", 1)], 2)],
    writes_spec=[("add_event", 0, "assign", 45, 1), ("reopen_case", 0)],
    zone="UTC",
    first_day=0,
    length=2,
    shape="days",
    slice_name="all",
)
def test_load_from_facts_equals_the_case_tables(
    org, spec, writes_spec, zone, first_day, length, shape, slice_name
):
    Case.objects.all().delete()
    ids = _store(org, spec)
    for write in writes_spec:
        _write(org, ids, write)
    assert load_rollup_check() is None

    f = _filter(org, zone, first_day, length, shape, slice_name)
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        fast, used = _answer(f)
    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
        raw, raw_used = _answer(f)
    assert fast == raw
    assert used and not raw_used
