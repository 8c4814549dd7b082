"""Case load and its spread against a hand-computed history, and against a plain-Python
replay of random histories (Europe/Berlin calendar unless said otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent, CaseStatus
from cases.state import CaseState, TransitionError, apply_event
from metrics.kpis.load import kpi_case_load
from metrics.stats import wilson_interval
from tests.metrics.builders import BERLIN, NOW, load_history, local_days, make_case_with, march_week

pytestmark = pytest.mark.django_db

T = CaseEvent.Type


@pytest.fixture
def load_cases(org):
    return load_history(org)


def share(count):
    s = count.share
    return None if s is None else (s.count, s.n, s.value, s.insufficient_data)


def test_counts_shares_and_gini(load_cases, django_assert_num_queries):
    org = load_cases
    with django_assert_num_queries(1):
        result = kpi_case_load(f=march_week(org), now=NOW, min_n=5)
    # Taken on (distinct cases with an `assigned` event to the rep in the window):
    #   A1: L1, L2 (twice, counted once), L3 → 3; A2: L2, L3, L4, L6 → 4; A3: 0.
    #   (L5 was assigned before the window.)
    # Resolved (distinct cases with a resolution attributed to the rep in the window):
    #   A1: L1, L2 (no actor: the assignee), L3 (second resolution), L5 → 4;
    #   A2: L3 (first resolution, no actor: the assignee then) → 1; manager: L4 → 1.
    # Spread over A1, A2, A3 (active reps): equal share 1/3; team totals 7 and 5.
    assert [
        (r.name, r.in_spread, r.taken_on.n, r.resolved.n, share(r.taken_on), share(r.resolved))
        for r in result.reps
    ] == [
        ("Mgr_A", False, 0, 1, None, None),
        ("Rep_A1", True, 3, 4, (3, 7, 3 / 7, False), (4, 5, 0.8, False)),
        ("Rep_A2", True, 4, 1, (4, 7, 4 / 7, False), (1, 5, 0.2, False)),
        ("Rep_A3", True, 0, 0, (0, 7, 0.0, False), (0, 5, 0.0, False)),
    ]
    a1 = result.reps[1]
    assert a1.taken_on.equal_share == pytest.approx(1 / 3)
    assert a1.resolved.share.low == wilson_interval(4, 5).low
    assert a1.resolved.share.high == wilson_interval(4, 5).high
    assert result.reps[0].resolved.equal_share is None
    (team,) = result.teams
    # Gini of [0, 3, 4]: 2 × (1·0 + 2·3 + 3·4) / (3 × 7) − 4/3 = 8/21;
    # of [0, 1, 4]: 2 × (0 + 2 + 12) / (3 × 5) − 4/3 = 8/15.
    assert (team.name, team.reps, team.taken_on, team.resolved) == ("Alpha", 3, 7, 5)
    assert team.equal_share == pytest.approx(1 / 3)
    assert team.taken_on_gini == pytest.approx(8 / 21)
    assert team.resolved_gini == pytest.approx(8 / 15)
    assert all(r.series == [] for r in result.reps)


def test_shares_below_the_minimum_sample_are_withheld(load_cases):
    result = kpi_case_load(f=march_week(load_cases), now=NOW)  # min_n 10 > 7 and 5
    a2 = next(r for r in result.reps if r.name == "Rep_A2")
    assert share(a2.taken_on) == (4, 7, None, True)
    assert a2.taken_on.share.low is None
    assert a2.taken_on.n == 4  # the count itself is always reported


def test_daily_series(load_cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = kpi_case_load(f=march_week(load_cases), now=NOW, group_by="day")
    series = {
        r.name: [(p.period[5:], p.taken_on, p.resolved) for p in r.series] for r in result.reps
    }
    # A1 took L2 on twice (Mon and Wed): once each day, once in the week's total.
    # L5's resolution at 23:00 UTC on 1 March is on Monday 2 March in Berlin.
    assert series["Rep_A1"] == [
        ("03-02", 2, 2),  # taken L1, L2; resolved L1, L5
        ("03-03", 0, 0),
        ("03-04", 2, 1),  # taken L2, L3; resolved L2
        ("03-05", 0, 1),  # resolved L3
        ("03-06", 0, 0),
        ("03-07", 0, 0),
        ("03-08", 0, 0),
    ]
    assert series["Rep_A2"] == [
        ("03-02", 0, 0),
        ("03-03", 2, 1),  # taken L2, L3; resolved L3
        ("03-04", 0, 0),
        ("03-05", 1, 0),  # taken L4
        ("03-06", 0, 0),
        ("03-07", 0, 0),
        ("03-08", 1, 0),  # taken L6 at 23:00 Berlin; its resolution is at the window's end
    ]
    assert [r.taken_on.n for r in result.reps] == [0, 3, 4, 0]  # totals as without series
    weekly = kpi_case_load(f=march_week(load_cases), now=NOW, group_by="week")
    a1 = next(r for r in weekly.reps if r.name == "Rep_A1")
    assert [(p.period, p.taken_on, p.resolved) for p in a1.series] == [("2026-03-02", 3, 4)]


def test_rep_filter_keeps_the_team_as_the_reference(load_cases):
    org = load_cases
    result = kpi_case_load(f=march_week(org, team_ids=None, rep_ids=(org.rep_a2.pk,)), now=NOW)
    assert [(r.name, share(r.taken_on)[:2]) for r in result.reps] == [("Rep_A2", (4, 7))]
    assert [t.name for t in result.teams] == ["Alpha"]


def test_window_edges_empty_window_and_other_team(load_cases):
    org = load_cases
    next_week = kpi_case_load(
        f=march_week(
            org,
            start=datetime(2026, 3, 9, tzinfo=BERLIN).astimezone(UTC),
            end=datetime(2026, 3, 16, tzinfo=BERLIN).astimezone(UTC),
        ),
        now=NOW,
    )
    # L6's resolution at the window's end belongs to the next week; nothing else does.
    assert [(r.name, r.taken_on.n, r.resolved.n) for r in next_week.reps] == [
        ("Rep_A1", 0, 0),
        ("Rep_A2", 0, 1),
        ("Rep_A3", 0, 0),
    ]
    assert next_week.teams[0].taken_on_gini is None  # nothing taken on: no spread to measure
    assert next_week.teams[0].resolved_gini == pytest.approx(2 / 3)  # all on one of three
    team_b = kpi_case_load(f=march_week(org, team_ids=(org.team_b.pk,)), now=NOW)
    assert [(r.name, r.taken_on.n, r.resolved.n) for r in team_b.reps] == [("Rep_B1", 1, 1)]
    assert [(t.name, t.reps, t.resolved_gini) for t in team_b.teams] == [("Bravo", 1, 0.0)]


def test_case_slice_applies_to_the_cases(load_cases):
    org = load_cases
    chat_only = kpi_case_load(f=march_week(org, channels=("chat",)), now=NOW)
    assert {(r.name, r.taken_on.n, r.resolved.n) for r in chat_only.reps} == {
        ("Rep_A1", 0, 0),
        ("Rep_A2", 0, 0),
        ("Rep_A3", 0, 0),
    }


# --- property: the SQL against a replay of each history ------------------------------------

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # the US DST change (8 Mar) falls in the first days
ZONES = ["Europe/Berlin", "America/New_York", "UTC"]
WHO = [0, 1, 2, None]  # rep A1, rep A2, manager A, nobody

# Resolve / reopen cycles are frequent, so that a rep resolves the same case twice and
# resolutions without an actor are often not the case's latest.
steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=24 * 60),  # minutes after the previous event
        st.sampled_from(["assigned", "resolved", "reopened", "resolved", "reopened"]),
        st.sampled_from([*WHO, None]),  # actor
        st.sampled_from(WHO),  # the new assignee of an `assigned` event
    ),
    min_size=1,
    max_size=8,
)
histories = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10 * 24 * 60), st.sampled_from(WHO), steps),
    min_size=2,
    max_size=15,
)


def build(org, specs):
    """Fold each random history (skipping what the lifecycle refuses), store the cases and
    their events, and return every event as (case index, type, when, rep it counts for)."""
    people = [org.rep_a1, org.rep_a2, org.manager_a]
    cases, events, counted = [], [], []
    for index, (opened_minute, first, history) in enumerate(specs):
        opened = BASE + timedelta(minutes=opened_minute)
        state = CaseState(status=CaseStatus.NEW, opened_at=opened)
        at = opened
        plan = [(0, "assigned", None, first)] if first is not None else []
        for gap, kind, actor, assignee in plan + history:
            at = at + timedelta(minutes=gap)
            actor_id = people[actor].pk if actor is not None else None
            assignee_id = people[assignee].pk if assignee is not None else None
            before = state
            try:
                state = apply_event(
                    state,
                    event_type=kind,
                    occurred_at=at,
                    actor_id=actor_id,
                    assignee_id=assignee_id,
                    assignee_team_id=org.team_a.pk,
                )
            except TransitionError:
                continue
            rep = {"assigned": assignee_id, "resolved": actor_id or before.assignee_id}.get(kind)
            events.append(
                (
                    index,
                    CaseEvent(
                        event_type=kind,
                        occurred_at=at,
                        actor_id=actor_id,
                        assignee_id=assignee_id if kind == "assigned" else None,
                    ),
                )
            )
            counted.append((index, kind, at, rep))
        fields = state.as_fields()
        cases.append(
            Case(
                external_id=f"p{index}",
                category=org.category,
                channel="email",
                **{**fields, "team_id": fields["team_id"] or org.team_a.pk},
            )
        )
    stored = Case.objects.bulk_create(cases)
    for index, event in events:
        event.case = stored[index]
    CaseEvent.objects.bulk_create([event for _, event in events])
    return counted


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=histories,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=8),
    length=st.integers(min_value=2, max_value=10),
    group_by=st.sampled_from([None, "day", "week"]),
)
def test_load_matches_a_replay(org, specs, zone, first_day, length, group_by):
    Case.objects.all().delete()
    counted = build(org, specs)
    f = local_days(zone, BASE + timedelta(days=first_day), length, team_ids=(org.team_a.pk,))
    tz = f.tz
    result = kpi_case_load(f=f, now=BASE, group_by=group_by, min_n=1)

    def bucket(moment):
        local = moment.astimezone(tz).date()
        return local - timedelta(days=local.weekday()) if group_by == "week" else local

    in_window = [(i, kind, at, rep) for i, kind, at, rep in counted if f.start <= at < f.end]

    def distinct(rep, kind, period=None):
        return len(
            {
                i
                for i, k, at, r in in_window
                if r == rep and k == kind and (period is None or bucket(at) == period)
            }
        )

    reps = {org.rep_a1.pk: True, org.rep_a2.pk: True, org.manager_a.pk: False}
    expected = {
        rep: (in_spread, distinct(rep, "assigned"), distinct(rep, "resolved"))
        for rep, in_spread in reps.items()
        if in_spread or distinct(rep, "assigned") or distinct(rep, "resolved")
    }
    got = {r.rep: (r.in_spread, r.taken_on.n, r.resolved.n) for r in result.reps}
    assert got == expected

    team_taken = sum(v[1] for v in expected.values() if v[0])
    for r in result.reps:
        if r.in_spread:
            assert (r.taken_on.share.count, r.taken_on.share.n) == (r.taken_on.n, team_taken)
    if group_by is None:
        assert all(r.series == [] for r in result.reps)
        return
    periods = []
    period = bucket(f.start)
    while period <= bucket(f.end - timedelta(seconds=1)):
        periods.append(period)
        period += timedelta(days=7 if group_by == "week" else 1)
    for r in result.reps:
        assert [(p.period, p.taken_on, p.resolved) for p in r.series] == [
            (
                p.isoformat(),
                distinct(r.rep, "assigned", p),
                distinct(r.rep, "resolved", p),
            )
            for p in periods
        ]


def test_a_rep_assigned_and_resolving_at_the_same_instant(org):
    # Assigned at 10:00 and resolved at 10:00 by an integration: the assignment came first,
    # so the resolution is the new assignee's even at the same timestamp.
    make_case_with(
        org,
        "same-instant",
        "2026-03-03T08:00",
        org.rep_a1,
        [
            (T.RESOLVED, "2026-03-03T09:00", None),
            (T.REOPENED, "2026-03-03T09:30"),
            (T.ASSIGNED, "2026-03-03T10:00", org.manager_a, org.rep_a2),
            (T.RESOLVED, "2026-03-03T10:00", None),
            (T.REOPENED, "2026-03-03T11:00"),
        ],
    )
    result = kpi_case_load(f=march_week(org), now=NOW)
    assert {r.name: r.resolved.n for r in result.reps} == {"Rep_A1": 1, "Rep_A2": 1}
