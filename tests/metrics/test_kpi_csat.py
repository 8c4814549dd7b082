"""CSAT, response rate, NPS and effort against hand-computed survey sets."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent, CaseStatus, SurveyResponse
from metrics.kpis.csat import kpi_csat_by_representative, window_months
from metrics.stats import Z95, wilson_interval
from metrics.types import KpiFilter
from tests.factories import CategoryFactory
from tests.metrics.builders import BERLIN, NOW, csat_surveys, make_case_in

pytestmark = pytest.mark.django_db

RESOLVED, REOPENED = CaseEvent.Type.RESOLVED, CaseEvent.Type.REOPENED
# March 2026 in Berlin: CET until 29 March, CEST after, so it ends at 22:00 UTC.
MARCH_START = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
MARCH_END = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=60)


def march(org, **overrides):
    values = dict(start=MARCH_START, end=MARCH_END, tz=BERLIN, team_ids=(org.team_a.pk,))
    values.update(overrides)
    return KpiFilter(**values)


@pytest.fixture
def surveys(org):
    return csat_surveys(org)


def mean_interval(values, low=1.0, high=5.0):
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return mean, max(low, mean - half), min(high, mean + half)


def as_tuple(p):
    return (p.n, p.count, p.value, p.low, p.high, p.insufficient_data)


def wilson(successes, n):
    w = wilson_interval(successes, n)
    return (n, successes, w.value, w.low, w.high, False)


def test_per_rep_figures(surveys, django_assert_num_queries):
    org = surveys
    with django_assert_num_queries(1):  # rows, overall and trend: one statement
        result = kpi_csat_by_representative(f=march(org), now=NOW, min_n=1)
    assert [(r.key, r.label) for r in result.rows] == [
        (org.rep_a1.pk, "Rep_A1"),
        (org.rep_a2.pk, "Rep_A2"),
    ]
    a1, a2 = (r.figures for r in result.rows)

    # rep_a1: c1 5, c2 4, c3 2, c4 5 and c6 3 (answered at the window's first instant).
    assert a1.responses == 5
    assert as_tuple(a1.satisfied) == wilson(3, 5)
    mean, low, high = mean_interval([5, 4, 2, 5, 3])
    assert mean == pytest.approx(3.8)  # sd = sqrt(6.8 / 4)
    assert (a1.csat_mean.n, a1.csat_mean.value) == (5, pytest.approx(3.8))
    assert (a1.csat_mean.low, a1.csat_mean.high) == (pytest.approx(low), pytest.approx(high))
    # Resolutions c1 (at the first instant), c2, c3, c4, c5, c7; not c8 (at the end instant),
    # not c6 (February). Answered: all but c5 — c7's answer came after the window.
    assert as_tuple(a1.response_rate) == wilson(5, 6)
    # NPS 10, 7, 3: (1 − 1) / 3 = 0; scores +1, 0, −1 have sd 1 → ±113 points, clipped.
    nps = a1.nps
    assert (nps.n, nps.promoters, nps.passives, nps.detractors) == (3, 1, 1, 1)
    assert (nps.value, nps.low, nps.high) == (0.0, -100.0, 100.0)
    mean, low, high = mean_interval([2, 6, 1], 1.0, 7.0)
    assert (a1.effort.n, a1.effort.value) == (3, pytest.approx(3.0))
    assert (a1.effort.low, a1.effort.high) == (pytest.approx(low), pytest.approx(high))

    # rep_a2: c9 answered 1 then (second resolution) 4, and c10 answered 5.
    assert a2.responses == 3
    assert as_tuple(a2.satisfied) == wilson(2, 3)
    assert a2.csat_mean.value == pytest.approx(10 / 3)
    assert as_tuple(a2.response_rate) == wilson(3, 3)
    assert a2.nps.insufficient_data and a2.nps.n == 0 and a2.nps.value is None
    assert a2.effort.insufficient_data and a2.effort.n == 0

    # Team A: 8 responses (5 satisfied), 9 resolutions (8 answered); rep_b1 is team B.
    overall = result.overall
    assert overall.responses == 8
    assert as_tuple(overall.satisfied) == wilson(5, 8)
    assert overall.csat_mean.value == pytest.approx(29 / 8)
    assert as_tuple(overall.response_rate) == wilson(8, 9)


def test_below_the_minimum_sample_is_insufficient_data_not_a_number(surveys, settings):
    org = surveys
    settings.SUPPORTMETRICS_MIN_SAMPLE = 10
    result = kpi_csat_by_representative(f=march(org), now=NOW)
    assert result.min_n == 10
    a1 = result.rows[0].figures
    # n and the counts stay visible (as in the other per-rep KPIs); the share does not.
    assert as_tuple(a1.satisfied) == (5, 3, None, None, None, True)
    assert (a1.csat_mean.n, a1.csat_mean.value, a1.csat_mean.insufficient_data) == (5, None, True)
    assert a1.response_rate.n == 6 and a1.response_rate.value is None
    assert (a1.nps.promoters, a1.nps.value, a1.nps.insufficient_data) == (1, None, True)
    # The team's overall figure is a group's, not a rep's: always shown.
    assert as_tuple(result.overall.satisfied) == wilson(5, 8)
    # ... unless the view is one rep's (their own, or ?rep=).
    one_rep = kpi_csat_by_representative(f=march(org, rep_ids=(org.rep_a1.pk,)), now=NOW)
    assert one_rep.overall.satisfied.insufficient_data and one_rep.overall.satisfied.n == 5
    by_category = kpi_csat_by_representative(f=march(org), now=NOW, group_by="category")
    assert by_category.rows[1].figures.satisfied.value == 1.0  # Shipping: one answer, a 5

    # min_n = 4: rep_a1's five responses are enough, rep_a2's three and the NPS's three not.
    result = kpi_csat_by_representative(f=march(org), now=NOW, min_n=4)
    a1, a2 = (r.figures for r in result.rows)
    assert a1.satisfied.value == pytest.approx(0.6) and not a1.satisfied.insufficient_data
    assert a1.nps.insufficient_data and a1.nps.n == 3
    assert a2.satisfied.insufficient_data and a2.satisfied.n == 3
    assert a2.csat_mean.value is None
    assert [m.satisfied.insufficient_data for t in result.trend for m in t.months] == [
        False,
        True,
    ]


def test_reps_are_listed_alphabetically_never_by_score(surveys):
    org = surveys
    org.rep_a1.display_name = "Zoë"
    org.rep_a1.save()
    result = kpi_csat_by_representative(f=march(org), now=NOW, min_n=1)
    assert [r.label for r in result.rows] == ["Rep_A2", "Zoë"]
    assert [t.label for t in result.trend] == ["Rep_A2", "Zoë"]


def test_group_by_category_channel_and_team(surveys):
    org = surveys
    by_category = kpi_csat_by_representative(f=march(org), now=NOW, group_by="category", min_n=1)
    # Billing: every team A response but c10's → 5, 4, 2, 5, 3, 1, 4; Shipping: c10's 5.
    assert [(r.key, r.label, r.figures.responses) for r in by_category.rows] == [
        (org.category.pk, "Billing", 7),
        (org.shipping.pk, "Shipping", 1),
    ]
    billing = by_category.rows[0].figures
    assert as_tuple(billing.satisfied) == wilson(4, 7)
    assert as_tuple(billing.response_rate) == wilson(7, 8)
    # The monthly trend stays per rep whatever the grouping.
    assert [t.rep for t in by_category.trend] == [org.rep_a1.pk, org.rep_a2.pk]

    by_channel = kpi_csat_by_representative(f=march(org), now=NOW, group_by="channel", min_n=1)
    assert [(r.key, r.figures.responses) for r in by_channel.rows] == [("chat", 1), ("email", 7)]

    everyone = march(org, team_ids=None)
    by_team = kpi_csat_by_representative(f=everyone, now=NOW, group_by="team", min_n=1)
    assert [(r.label, r.figures.responses) for r in by_team.rows] == [("Alpha", 8), ("Bravo", 1)]
    assert by_team.rows[1].figures.satisfied.value == 0.0
    assert by_team.overall.responses == 9


def test_months_follow_the_calendar_time_zone(surveys):
    org = surveys
    berlin = march(org, end=datetime(2026, 4, 30, 22, 0, tzinfo=UTC))
    result = kpi_csat_by_representative(f=berlin, now=LATER, min_n=1)
    (a1_trend, _) = result.trend
    # c6's answer (23:00 UTC on 28 February) is March in Berlin; c7's (22:00 UTC on
    # 31 March, after the change to summer time) is 1 April.
    assert [(m.month, m.responses) for m in a1_trend.months] == [("2026-03", 5), ("2026-04", 1)]
    assert a1_trend.months[0].csat_mean.value == pytest.approx(3.8)
    by_month = kpi_csat_by_representative(f=berlin, now=LATER, group_by="month", min_n=1)
    # c8, resolved at 22:00 UTC on 31 March, is an April resolution in Berlin.
    assert [(r.key, r.figures.responses, r.figures.response_rate.n) for r in by_month.rows] == [
        ("2026-03", 8, 9),
        ("2026-04", 1, 1),
    ]

    utc = march(
        org,
        tz=ZoneInfo("UTC"),
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 5, 1, tzinfo=UTC),
    )
    (a1_trend, _) = kpi_csat_by_representative(f=utc, now=LATER, min_n=1).trend
    # In UTC, c6's answer is February (outside) and c7's is March: 5, 4, 2, 5, 1.
    assert [(m.month, m.responses) for m in a1_trend.months] == [("2026-03", 5), ("2026-04", 0)]
    assert a1_trend.months[0].csat_mean.value == pytest.approx(3.4)
    assert a1_trend.months[1].csat_mean.insufficient_data


def test_window_edges_are_half_open(surveys):
    org = surveys
    later_start = march(org, start=MARCH_START + timedelta(microseconds=1))
    a1 = kpi_csat_by_representative(f=later_start, now=NOW, min_n=1).rows[0].figures
    # Loses c6's answer and c1's resolution (both at the first instant), not c1's answer.
    assert (a1.responses, a1.response_rate.n, a1.response_rate.count) == (4, 5, 4)
    later_end = march(org, end=MARCH_END + timedelta(microseconds=1))
    a1 = kpi_csat_by_representative(f=later_end, now=NOW, min_n=1).rows[0].figures
    # Gains c7's answer and c8's unanswered resolution (both at the end instant).
    assert (a1.responses, a1.response_rate.n, a1.response_rate.count) == (6, 7, 5)


def test_empty_window_and_zero_responses(surveys):
    org = surveys
    empty = march(org, start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 2, 1, tzinfo=UTC))
    result = kpi_csat_by_representative(f=empty, now=NOW, min_n=1)
    assert result.rows == [] and result.trend == []
    assert result.overall.responses == 0
    assert as_tuple(result.overall.satisfied) == (0, 0, None, None, None, False)
    assert result.overall.response_rate.n == 0 and result.overall.response_rate.value is None

    # Only c5's resolution (never answered): a response rate of 0, no CSAT.
    quiet = march(
        org, start=datetime(2026, 3, 23, tzinfo=UTC), end=datetime(2026, 3, 24, tzinfo=UTC)
    )
    (row,) = kpi_csat_by_representative(f=quiet, now=NOW, min_n=1).rows
    assert row.key == org.rep_a1.pk
    assert row.figures.responses == 0 and row.figures.csat_mean.insufficient_data
    assert as_tuple(row.figures.response_rate) == wilson(0, 1)


def test_other_teams_and_reps_are_excluded(surveys):
    org = surveys
    team_b = kpi_csat_by_representative(f=march(org, team_ids=(org.team_b.pk,)), now=NOW, min_n=1)
    assert [(r.key, r.figures.responses) for r in team_b.rows] == [(org.rep_b1.pk, 1)]
    only_a2 = kpi_csat_by_representative(f=march(org, rep_ids=(org.rep_a2.pk,)), now=NOW, min_n=1)
    assert [r.key for r in only_a2.rows] == [org.rep_a2.pk]
    assert only_a2.overall.responses == 3
    shipping = kpi_csat_by_representative(
        f=march(org, category_ids=(org.shipping.pk,), channels=("chat",)), now=NOW, min_n=1
    )
    assert [(r.key, r.figures.responses) for r in shipping.rows] == [(org.rep_a2.pk, 1)]


def test_answers_follow_the_resolver_not_the_current_assignee(surveys):
    org = surveys
    from cases import services

    c4 = Case.objects.get(external_id="c4")
    services.case_event_record(
        case=c4, event_type=REOPENED, occurred_at=datetime(2026, 3, 25, tzinfo=UTC)
    )
    services.case_event_record(
        case=c4,
        event_type=CaseEvent.Type.ASSIGNED,
        occurred_at=datetime(2026, 3, 25, 1, tzinfo=UTC),
        assignee=org.rep_a2,
    )
    rows = kpi_csat_by_representative(f=march(org), now=NOW, min_n=1).rows
    # c4's answer and its first resolution stay rep_a1's after reassignment to rep_a2.
    assert [(r.key, r.figures.responses, r.figures.response_rate.n) for r in rows] == [
        (org.rep_a1.pk, 5, 6),
        (org.rep_a2.pk, 3, 3),
    ]


def test_a_resolution_without_an_actor_belongs_to_the_assignee_of_that_moment(surveys):
    from cases import services

    org = surveys
    # An integration resolves (no actor) while A1 holds the case; after a reopen it is
    # reassigned to A2 and resolved again, still without an actor.
    case = make_case_in(
        org,
        "n1",
        "2026-03-24T09:00",
        org.rep_a1,
        [(RESOLVED, "2026-03-24T10:00", None), (REOPENED, "2026-03-25T09:00", None)],
    )
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.ASSIGNED,
        occurred_at=datetime(2026, 3, 25, 10, tzinfo=UTC),
        assignee=org.rep_a2,
    )
    services.case_event_record(
        case=case, event_type=RESOLVED, occurred_at=datetime(2026, 3, 26, 10, tzinfo=UTC)
    )
    case.refresh_from_db()
    assert case.resolved_by == org.rep_a2  # the fold: A2 was the assignee by then
    rows = kpi_csat_by_representative(f=march(org), now=NOW, min_n=1).rows
    # Without n1, A1 had 6 resolutions and A2 3: the first goes to A1, the second to A2.
    assert [(r.key, r.figures.response_rate.n) for r in rows] == [
        (org.rep_a1.pk, 7),
        (org.rep_a2.pk, 4),
    ]


def test_unattributed_answers_are_a_row_of_their_own_listed_last(surveys):
    org = surveys
    SurveyResponse.objects.filter(case__external_id="c10").update(representative=None)
    rows = kpi_csat_by_representative(f=march(org), now=NOW, min_n=1).rows
    assert [(r.key, r.label, r.figures.responses) for r in rows] == [
        (org.rep_a1.pk, "Rep_A1", 5),
        (org.rep_a2.pk, "Rep_A2", 2),
        (None, None, 1),
    ]


def test_window_months():
    f = KpiFilter(start=MARCH_START, end=MARCH_END, tz=BERLIN)
    assert [m.isoformat() for m in window_months(f)] == ["2026-03-01"]
    f = KpiFilter(start=MARCH_START, end=MARCH_END + timedelta(seconds=1), tz=BERLIN)
    assert [m.isoformat() for m in window_months(f)] == ["2026-03-01", "2026-04-01"]
    f = KpiFilter(start=MARCH_START, end=MARCH_END, tz=ZoneInfo("UTC"))
    assert [m.isoformat() for m in window_months(f)] == ["2026-02-01", "2026-03-01"]


# --- property: the SQL against a plain-Python reference ----------------------------------

# Four days from: a month's end (1 Mar), the US DST change (8 Mar), the EU one (29 Mar)
# with a month's end (1 Apr).
ANCHORS = [
    datetime(2026, 2, 27, tzinfo=UTC),
    datetime(2026, 3, 6, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
]
PROPERTY_NOW = datetime(2026, 5, 1, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]

# Instants: one of the four local days from the anchor, at a local time of day next to
# midnight (in the calendar's zone) or at noon — so answers and resolutions often sit
# exactly on the window's edges, and on month starts across DST changes.
TIMES_OF_DAY = [time(0, 0), time(0, 30), time(12, 0), time(23, 30)]
instants = st.tuples(st.integers(0, 3), st.sampled_from(TIMES_OF_DAY))
# An answer: CSAT, NPS or None, effort or None, and when (never before its resolution).
answers = st.none() | st.tuples(
    st.integers(1, 5), st.none() | st.integers(0, 10), st.none() | st.integers(1, 7), instants
)
# A case: assignee (index), category/channel choice, when it opens, and its resolutions:
# (when, who acts: 0 the assignee / 1 another rep / 2 nobody, an answer). A reopen a
# minute after each resolution separates it from the next.
case_sets = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.booleans(),
        instants,
        st.lists(st.tuples(instants, st.integers(0, 2), answers), min_size=1, max_size=3),
    ),
    min_size=3,
    max_size=14,
)


def store(org, histories, moment):
    """Bulk-store cases, events and answers; return plain records for the reference.

    ``moment`` turns a generated (day, local time) into an aware instant."""
    from cases.state import CaseState, apply_event

    reps = [org.rep_a1, org.rep_a2, org.rep_b1]
    cases, events, facts = [], [], []
    for index, (who, variant, opened_offset, steps) in enumerate(histories):
        assignee = reps[who]
        opened = moment(opened_offset)
        state = CaseState(
            status=CaseStatus.OPEN,
            opened_at=opened,
            assignee_id=assignee.pk,
            team_id=assignee.team_id,
            assigned_at=opened,
        )
        # Assigned when opened: an actor-less resolution falls back on that assignment.
        case_events, resolved, last = [(CaseEvent.Type.ASSIGNED, opened, None)], [], opened
        for offset, acting, answer in sorted(steps, key=lambda step: step[0]):
            when = moment(offset)
            if when <= last:
                continue
            if resolved:
                reopened = resolved[-1][1] + timedelta(minutes=1)
                state = apply_event(state, event_type=REOPENED, occurred_at=reopened)
                case_events.append((REOPENED, reopened, None))
            actor = [assignee, reps[(who + 1) % 2], None][acting]
            state = apply_event(
                state, event_type=RESOLVED, occurred_at=when, actor_id=actor.pk if actor else None
            )
            case_events.append((RESOLVED, when, actor))
            resolved.append((len(resolved) + 1, when, actor, answer))
            last = when
        cases.append(
            Case(
                external_id=f"p{index}",
                category=org.category if variant else org.shipping,
                channel="email" if variant else "chat",
                **state.as_fields(),
            )
        )
        events.append(case_events)
        facts.append((assignee, resolved))
    stored = Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case=case,
            event_type=kind,
            occurred_at=when,
            actor=actor,
            assignee_id=case.assignee_id if kind == CaseEvent.Type.ASSIGNED else None,
        )
        for case, case_events in zip(stored, events, strict=True)
        for kind, when, actor in case_events
    )
    survey_rows, records = [], []
    for case, (assignee, resolved) in zip(stored, facts, strict=True):
        for number, when, actor, answer in resolved:
            # Who the fold says resolved: the actor, else the assignee at the time.
            resolver = actor or assignee
            record = {
                "case": case,
                "team": assignee.team_id,
                "category": case.category_id,
                "rep": resolver.pk,
                "resolved_at": when,
                "answer": None,
            }
            if answer is not None:
                csat, nps, effort, offset = answer
                responded = max(when, moment(offset))
                record["answer"] = (csat, nps, effort, responded)
                survey_rows.append(
                    SurveyResponse(
                        case=case,
                        representative=resolver,
                        resolution_number=number,
                        csat=csat,
                        nps=nps,
                        effort=effort,
                        responded_at=responded,
                    )
                )
            records.append(record)
    SurveyResponse.objects.bulk_create(survey_rows)
    return records


def reference(records, f, key):
    """Plain Python: per group, the answers in the window and the window's resolutions."""
    groups = {}
    for r in records:
        if f.team_ids is not None and r["team"] not in f.team_ids:
            continue
        if r["answer"] is not None and f.start <= r["answer"][3] < f.end:
            groups.setdefault(key(r, r["answer"][3]), {"answers": [], "resolved": []})[
                "answers"
            ].append(r["answer"])
        if f.start <= r["resolved_at"] < f.end:
            groups.setdefault(key(r, r["resolved_at"]), {"answers": [], "resolved": []})[
                "resolved"
            ].append(r["answer"] is not None)
    return groups


def check(figures, group):
    answers = group["answers"]
    csat = [a[0] for a in answers]
    assert figures.responses == len(csat)
    assert figures.satisfied.count == sum(c >= 4 for c in csat)
    if csat:
        assert figures.csat_mean.value == pytest.approx(sum(csat) / len(csat))
    nps = [a[1] for a in answers if a[1] is not None]
    promoters, detractors = sum(n >= 9 for n in nps), sum(n <= 6 for n in nps)
    assert figures.nps.n == len(nps)
    if nps:
        assert figures.nps.value == pytest.approx(100 * (promoters - detractors) / len(nps))
        assert figures.nps.detractors == detractors
    if len(nps) > 1:
        scores = [1 if n >= 9 else -1 if n <= 6 else 0 for n in nps]
        mean = sum(scores) / len(scores)
        sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
        half = Z95 * sd / math.sqrt(len(scores))
        assert figures.nps.low == pytest.approx(100 * max(-1, mean - half))
    effort = [a[2] for a in answers if a[2] is not None]
    assert figures.effort.n == len(effort)
    if effort:
        assert figures.effort.value == pytest.approx(sum(effort) / len(effort))
    resolved = group["resolved"]
    assert (figures.response_rate.n, figures.response_rate.count) == (len(resolved), sum(resolved))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    histories=case_sets,
    zone=st.sampled_from(ZONES),
    anchor=st.sampled_from(ANCHORS),
    first_day=st.integers(-1, 3),
    length=st.integers(1, 5),
    team_a_only=st.booleans(),
)
# Always tried: an answer at 00:00 on 1 April in Berlin (22:00 UTC on 31 March, just after
# the change to summer time) and a resolution at a Kolkata window's first instant (18:30 UTC).
@example(
    histories=[
        (0, True, (0, time(9)), [((1, time(12)), 0, (5, 9, 2, (3, time(0))))]),
        (1, False, (0, time(9)), [((2, time(23, 30)), 2, (2, 3, None, (2, time(23, 30))))]),
    ],
    zone="Europe/Berlin",
    anchor=ANCHORS[2],
    first_day=0,
    length=4,
    team_a_only=True,
)
@example(
    histories=[
        (0, True, (0, time(9)), [((1, time(0)), 1, (4, None, 7, (1, time(0))))]),
        (2, True, (0, time(0)), [((3, time(0)), 0, None), ((3, time(12)), 2, None)]),
    ],
    zone="Asia/Kolkata",
    anchor=ANCHORS[0],
    first_day=1,
    length=2,
    team_a_only=False,
)
def test_matches_a_plain_python_reference(
    org, histories, anchor, zone, first_day, length, team_a_only
):
    Case.objects.all().delete()
    if not hasattr(org, "shipping"):
        org.shipping = CategoryFactory(slug="shipping", name="Shipping")
    tz = ZoneInfo(zone)
    anchor_day = anchor.date()

    def moment(offset):
        day, time_of_day = offset
        local = datetime.combine(anchor_day + timedelta(days=day), time_of_day, tzinfo=tz)
        return local.astimezone(UTC)

    records = store(org, histories, moment)
    day0 = anchor_day + timedelta(days=first_day)
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    f = KpiFilter(start=start, end=end, tz=tz, team_ids=(org.team_a.pk,) if team_a_only else None)
    result = kpi_csat_by_representative(f=f, now=PROPERTY_NOW, min_n=1)

    by_rep = reference(records, f, lambda r, _: r["rep"])
    names = {org.rep_a1.pk: "Rep_A1", org.rep_a2.pk: "Rep_A2", org.rep_b1.pk: "Rep_B1"}
    assert [r.key for r in result.rows] == sorted(by_rep, key=names.get)
    for row in result.rows:
        check(row.figures, by_rep[row.key])
    everything = {"answers": [], "resolved": []}
    for group in by_rep.values():
        everything["answers"] += group["answers"]
        everything["resolved"] += group["resolved"]
    check(result.overall, everything)

    # Each rep's months, in the calendar's zone.
    def month_of(moment):
        local = moment.astimezone(tz)
        return f"{local.year:04d}-{local.month:02d}"

    by_month = reference(records, f, lambda r, moment: (r["rep"], month_of(moment)))
    for trend in result.trend:
        for month in trend.months:
            answers = by_month.get((trend.rep, month.month), {"answers": []})["answers"]
            assert month.responses == len(answers)
            assert month.satisfied.count == sum(a[0] >= 4 for a in answers)

    by_category = reference(records, f, lambda r, _: r["category"])
    grouped = kpi_csat_by_representative(f=f, now=PROPERTY_NOW, group_by="category", min_n=1)
    assert {r.key for r in grouped.rows} == set(by_category)
    for row in grouped.rows:
        check(row.figures, by_category[row.key])

    by_month_only = reference(records, f, lambda r, moment: month_of(moment))
    grouped = kpi_csat_by_representative(f=f, now=PROPERTY_NOW, group_by="month", min_n=1)
    assert [r.key for r in grouped.rows] == sorted(by_month_only)
    for row in grouped.rows:
        check(row.figures, by_month_only[row.key])
