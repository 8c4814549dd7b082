"""Rollup-backed KPI answers against the case-table answers, on random data and random writes.

Each example stores random cases and resolve/reopen histories (bulk INSERTs; a case whose
history ends with a resolution is resolved, with a random agent response count), then runs
random writes through single and bulk statements: reassignment to another rep or team,
a new category, a moved opening time, new events, moved events, deleted events, deleted
cases, agent responses, and reopening or resolving a case. After that the rollups must
equal a rebuild, and every switched KPI must give the same answer with the rollups on and
off (rendered as the API renders it, byte for byte), for a random calendar zone, window,
``now`` and slice. The rollups must also have been used
exactly when the request is one they answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from cases.models import Case, CaseEvent
from metrics.apis.base import plain
from metrics.kpis import backlog, fcr, seasonality
from metrics.rollups import rollups_check
from metrics.types import KpiFilter
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # the data spans the US and EU spring DST changes
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
HALF_HOUR_ZONES = {"Asia/Kolkata"}
MINUTES = 45 * 24 * 60

histories = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MINUTES),  # opened, minutes after BASE
        st.integers(min_value=0, max_value=3),  # assignee: rep_a1, rep_a2, rep_b1, none
        st.integers(min_value=0, max_value=2),  # team: A, B, none
        st.integers(min_value=0, max_value=2),  # category: billing, its child, shipping
        st.lists(  # gaps (minutes) between alternating resolve / reopen, and the actor
            st.tuples(
                st.integers(min_value=1, max_value=5 * 24 * 60),
                st.integers(min_value=0, max_value=3),
            ),
            max_size=4,
        ),
    ),
    min_size=1,
    max_size=20,
)
writes = st.lists(
    st.one_of(
        st.tuples(st.just("reassign"), st.integers(0, 19), st.integers(0, 3), st.integers(0, 2)),
        st.tuples(st.just("bulk_reassign"), st.integers(0, 2), st.integers(0, 3)),
        st.tuples(st.just("recategorize"), st.integers(0, 19), st.integers(0, 2)),
        st.tuples(st.just("move"), st.integers(0, 19), st.integers(-3000, 3000)),
        st.tuples(st.just("add_event"), st.integers(0, 19), st.integers(1, 20000)),
        st.tuples(st.just("move_events"), st.integers(0, 19), st.integers(-600, 600)),
        st.tuples(st.just("delete_event"), st.integers(0, 19)),
        st.tuples(st.just("delete_case"), st.integers(0, 19)),
        st.tuples(st.just("respond"), st.integers(0, 19), st.integers(0, 3)),
        st.tuples(st.just("reopen_case"), st.integers(0, 19)),
        st.tuples(st.just("resolve_case"), st.integers(0, 19), st.integers(0, 20000)),
    ),
    max_size=8,
)
slices = st.sampled_from(["all", "team", "category", "team_category", "rep"])


def _store(org, categories, cases_spec) -> list[int]:
    reps = [org.rep_a1, org.rep_a2, org.rep_b1, None]
    teams = [org.team_a, org.team_b, None]

    def folded(opened: int, gaps: list[tuple[int, int]]) -> dict[str, object]:
        """The case's folded state: resolved at its last event if that is a resolution
        (by its actor), its reopen count, and 0–2 agent responses (from the opening
        minute, to vary them)."""
        opened_at = BASE + timedelta(minutes=opened)
        responses = opened % 3
        state: dict[str, object] = {
            "agent_response_count": responses,
            "first_response_at": opened_at if responses else None,
            "reopened_count": len(gaps) // 2,
        }
        if len(gaps) % 2:
            state.update(
                status="resolved",
                resolved_at=opened_at + timedelta(minutes=sum(g for g, _ in gaps)),
                resolved_by=reps[gaps[-1][1]],
            )
        return state

    stored = Case.objects.bulk_create(
        Case(
            external_id=f"p{i}",
            category=categories[category],
            channel="email",
            opened_at=BASE + timedelta(minutes=opened),
            assignee=reps[rep],
            team=teams[team],
            **folded(opened, gaps),
        )
        for i, (opened, rep, team, category, gaps) in enumerate(cases_spec)
    )
    events = []
    for case, (opened, _, _, _, gaps) in zip(stored, cases_spec, strict=True):
        moment = BASE + timedelta(minutes=opened)
        for step, (gap, actor) in enumerate(gaps):
            moment += timedelta(minutes=gap)
            kind = CaseEvent.Type.RESOLVED if step % 2 == 0 else CaseEvent.Type.REOPENED
            events.append(
                CaseEvent(case=case, event_type=kind, occurred_at=moment, actor=reps[actor])
            )
    CaseEvent.objects.bulk_create(events)
    return [c.pk for c in stored]


def _write(org, categories, ids, write) -> None:
    reps = [org.rep_a1, org.rep_a2, org.rep_b1, None]
    teams = [org.team_a, org.team_b, None]
    kind, *args = write
    case_id = ids[args[0] % len(ids)]
    cases = Case.objects.filter(pk=case_id)
    if kind == "reassign":
        cases.update(assignee=reps[args[1]], team=teams[args[2]])
    elif kind == "bulk_reassign":
        Case.objects.filter(team=teams[args[0]]).update(assignee=reps[args[1]])
    elif kind == "recategorize":
        cases.update(category=categories[args[1]])
    elif kind == "move":
        case = cases.first()
        if case is not None:
            # Not past its first response or resolution (the case's check constraints).
            later = [m for m in (case.first_response_at, case.resolved_at) if m is not None]
            cases.update(opened_at=min([case.opened_at + timedelta(minutes=args[1]), *later]))
    elif kind == "add_event":
        case = cases.first()
        if case is not None:
            event_type = CaseEvent.Type.REOPENED if args[1] % 2 else CaseEvent.Type.RESOLVED
            at = case.opened_at + timedelta(minutes=args[1])
            if not CaseEvent.objects.filter(case=case, event_type=event_type, occurred_at=at):
                CaseEvent.objects.create(
                    case=case, event_type=event_type, occurred_at=at, actor=reps[args[1] % 4]
                )
    elif kind == "move_events":
        _shift_events(case_id, args[1])
    elif kind == "delete_event":
        first = CaseEvent.objects.filter(case_id=case_id).order_by("occurred_at").first()
        if first is not None:
            first.delete()
    elif kind == "delete_case":
        cases.delete()
    elif kind == "respond":
        case = cases.first()
        if case is not None:
            first = case.first_response_at or case.opened_at
            cases.update(agent_response_count=args[1], first_response_at=first if args[1] else None)
    elif kind == "reopen_case":
        case = cases.first()
        if case is not None and case.resolved_at is not None:
            cases.update(
                status="open",
                resolved_at=None,
                resolved_by=None,
                reopened_count=case.reopened_count + 1,
            )
    elif kind == "resolve_case":
        case = cases.first()
        if case is not None and case.resolved_at is None:
            cases.update(
                status="resolved",
                resolved_at=case.opened_at + timedelta(minutes=args[1]),
                resolved_by=reps[args[1] % 4],
            )


def _shift_events(case_id: int, minutes: int) -> None:
    """One UPDATE of every event of the case, all moved alike (so no duplicate keys)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_caseevent SET occurred_at = occurred_at + %s WHERE case_id = %s",
            [timedelta(minutes=minutes), case_id],
        )


def _filter(org, categories, zone, first_day, length, shape, slice_name) -> KpiFilter:
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first_day)).astimezone(tz).date()
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    if shape == "hours":  # whole UTC hours, not local midnights
        start, end = start + timedelta(hours=5), end - timedelta(hours=2)
    elif shape == "minutes":  # off the hour: the case tables answer
        start = start + timedelta(minutes=20)
    team = {"team_ids": (org.team_a.pk,)}
    category = {"category_ids": (categories[0].pk, categories[1].pk)}
    slice_ = {
        "all": {},
        "team": team,
        "category": category,
        "team_category": {**team, **category},
        "rep": {"rep_ids": (org.rep_a1.pk,)},
    }[slice_name]
    return KpiFilter(start=start, end=end, tz=tz, **slice_)


def _answers(f: KpiFilter, now: datetime, by_category: bool) -> dict[str, tuple[object, bool]]:
    """Each KPI's JSON-ready answer, and whether its query read a rollup table."""
    calls = {
        "trend": lambda: backlog.backlog_trend(f=f, now=now),
        "rep_history": lambda: backlog.kpi_backlog_by_rep_history(f=f, now=now, history_weeks=3),
        "patterns": lambda: seasonality.kpi_submission_patterns(
            f=f, now=now, by_category=by_category
        ),
        "seasonal_index": lambda: seasonality.kpi_seasonal_index(f=f, now=now, years=1),
        "forecast": lambda: seasonality.kpi_submission_forecast(f=f, now=now, years=1),
        "fcr": lambda: fcr.kpi_first_contact_resolution(f=f, now=now),
        "fcr_by_team": lambda: fcr.kpi_first_contact_resolution(f=f, now=now, group_by="team"),
    }
    answers = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as queries:
            # As the API renders it: a count that came back as a Decimal would read "1".
            answer = JSONRenderer().render(plain(call()))
        used = any("metrics_rollup_" in q["sql"] for q in queries.captured_queries)
        answers[name] = (answer, used)
    return answers


# Which slices each KPI answers from the rollups (the tables' dimensions).
ROLLUP_SLICES = {
    "trend": {"all", "team"},
    "rep_history": {"all", "team", "rep"},
    "patterns": {"all", "team", "category", "team_category"},
    "seasonal_index": {"all", "team", "category", "team_category"},
    "forecast": {"all", "team", "category", "team_category"},
    "fcr": {"all", "team"},
    "fcr_by_team": {"all", "team"},
}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases_spec=histories,
    writes_spec=writes,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=40),
    length=st.integers(min_value=1, max_value=20),
    shape=st.sampled_from(["days", "days", "hours", "minutes"]),
    slice_name=slices,
    now_minutes=st.integers(min_value=0, max_value=12 * 60),
    by_category=st.booleans(),
)
def test_rollup_answers_equal_the_case_tables(
    org,
    cases_spec,
    writes_spec,
    zone,
    first_day,
    length,
    shape,
    slice_name,
    now_minutes,
    by_category,
):
    Case.objects.all().delete()
    categories = _categories(org)
    ids = _store(org, categories, cases_spec)
    for write in writes_spec:
        _write(org, categories, ids, write)
    assert rollups_check() == []

    f = _filter(org, categories, zone, first_day, length, shape, slice_name)
    # Now: some minutes after the window's end (on the hour or not).
    now = f.end + timedelta(minutes=now_minutes)
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        from_rollups = _answers(f, now, by_category)
    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
        from_cases = _answers(f, now, by_category)

    for name, (answer, used) in from_rollups.items():
        assert answer == from_cases[name][0], name
        assert not from_cases[name][1]
        answerable = zone not in HALF_HOUR_ZONES and slice_name in ROLLUP_SLICES[name]
        if name in ("trend", "patterns", "fcr", "fcr_by_team"):
            answerable = answerable and shape != "minutes"
        assert used == answerable, name


def _categories(org):
    from cases.models import Category

    child = Category.objects.filter(slug="billing-child").first() or CategoryFactory(
        slug="billing-child", parent=org.category
    )
    shipping = Category.objects.filter(slug="shipping").first() or CategoryFactory(slug="shipping")
    return [org.category, child, shipping]


resolved_cases = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MINUTES),  # opened, minutes after BASE
        st.integers(min_value=0, max_value=2),  # team: A, B, none
        st.one_of(st.none(), st.integers(min_value=0, max_value=10 * 24 * 60)),  # resolved
        st.integers(min_value=0, max_value=3),  # agent responses
        st.integers(min_value=0, max_value=2),  # reopens
        st.integers(min_value=0, max_value=3),  # resolver: rep_a1, rep_a2, rep_b1, none
    ),
    min_size=5,
    max_size=30,
)
fcr_writes = st.lists(
    st.one_of(
        st.tuples(st.just("respond"), st.integers(0, 29), st.integers(0, 3)),
        st.tuples(st.just("reopen_case"), st.integers(0, 29)),
        st.tuples(st.just("resolve_case"), st.integers(0, 29), st.integers(0, 20000)),
        st.tuples(st.just("reassign"), st.integers(0, 29), st.integers(0, 3), st.integers(0, 2)),
        st.tuples(st.just("bulk_reassign"), st.integers(0, 2), st.integers(0, 3)),
        st.tuples(st.just("delete_case"), st.integers(0, 29)),
    ),
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases_spec=resolved_cases,
    writes_spec=fcr_writes,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=20),
    length=st.integers(min_value=10, max_value=40),
    shape=st.sampled_from(["days", "days", "hours", "minutes"]),
    slice_name=st.sampled_from(["all", "team", "category", "rep"]),
)
def test_fcr_from_the_rollup_equals_the_case_tables(
    org, cases_spec, writes_spec, zone, first_day, length, shape, slice_name
):
    """Denser than the test above for the resolution measures: most cases resolved, with
    random response and reopen counts, and windows that cover most of them."""
    Case.objects.all().delete()
    categories = _categories(org)
    reps = [org.rep_a1, org.rep_a2, org.rep_b1, None]
    teams = [org.team_a, org.team_b, None]
    stored = Case.objects.bulk_create(
        Case(
            external_id=f"r{i}",
            category=categories[i % 3],
            channel="email",
            opened_at=BASE + timedelta(minutes=opened),
            team=teams[team],
            assignee=reps[resolver],
            agent_response_count=responses,
            first_response_at=BASE + timedelta(minutes=opened) if responses else None,
            reopened_count=reopens,
            status="open" if resolved is None else "resolved",
            resolved_at=None if resolved is None else BASE + timedelta(minutes=opened + resolved),
            resolved_by=None if resolved is None else reps[resolver],
        )
        for i, (opened, team, resolved, responses, reopens, resolver) in enumerate(cases_spec)
    )
    ids = [c.pk for c in stored]
    for write in writes_spec:
        _write(org, categories, ids, write)
    assert rollups_check() == []

    f = _filter(org, categories, zone, first_day, length, shape, slice_name)
    now = f.end + timedelta(hours=1)
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        from_rollups = _answers(f, now, False)
    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
        from_cases = _answers(f, now, False)
    for name in ("fcr", "fcr_by_team"):
        answer, used = from_rollups[name]
        assert answer == from_cases[name][0], name
        answerable = zone not in HALF_HOUR_ZONES and slice_name in ROLLUP_SLICES[name]
        assert used == (answerable and shape != "minutes"), name
