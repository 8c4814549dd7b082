"""First response time and resolution time against hand-computed figures, and against a
plain-Python reference on random case sets (Europe/Berlin calendar unless said otherwise)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent, Category
from metrics.kpis.times import (
    HISTOGRAM_BUCKETS,
    kpi_duration,
    kpi_first_response_time,
    kpi_resolution_time,
    rollup_serves,
)
from metrics.rollups.durations import max_relative_error
from metrics.stats import Z95, wilson_interval
from tests.metrics.builders import (
    BERLIN,
    NOW,
    local_days,
    make_case_with,
    march_week,
    resolution_cases,
)

pytestmark = pytest.mark.django_db

EMPTY_HISTOGRAM = {name: 0 for name, _, _ in HISTOGRAM_BUCKETS}


@pytest.fixture
def cases(org):
    return resolution_cases(org)


def stats(figure):
    return (figure.stats.n, figure.stats.mean, figure.stats.median, figure.stats.p90)


# The default request (no group, calendar basis) reads the duration rollup, whose median and
# p90 are estimates within max_relative_error() of percentile_cont; the tests that check
# exact percentiles read the case tables (the definition), and ``rollup_agrees`` checks the
# rollup's answer to the same request: everything equal, percentiles within the bound.
def exact_percentiles(test=None):
    """The case tables only (a fresh override each use: one cannot be nested in itself)."""
    override = override_settings(SUPPORTMETRICS_ROLLUPS=False)
    return override(test) if test is not None else override


def rollup_agrees(f, measure):
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        assert rollup_serves(f)
        rolled = kpi_duration(f=f, now=NOW, measure=measure).overall
    with exact_percentiles():
        exact = kpi_duration(f=f, now=NOW, measure=measure).overall
    for got, want in (
        (rolled.stats.median, exact.stats.median),
        (rolled.stats.p90, exact.stats.p90),
    ):
        assert (got is None) == (want is None)
        if want is not None:
            assert abs(got - want) <= max_relative_error() * want + 1e-9
    assert rolled.stats.n == exact.stats.n and rolled.stats.mean == exact.stats.mean
    assert (rolled.cases, rolled.histogram, rolled.sla) == (exact.cases, exact.histogram, exact.sla)
    for got, want in ((rolled.mean_low, exact.mean_low), (rolled.mean_high, exact.mean_high)):
        # The same exact sums; only the square root's last rounding may differ.
        assert got == pytest.approx(want, rel=1e-12) if want is not None else got is None


# --- resolution time -----------------------------------------------------------------------


@exact_percentiles
def test_resolution_time_overall(cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = kpi_resolution_time(f=march_week(cases), now=NOW)
    overall = result.overall
    # Resolved in the window (latest resolution), team A: r1 2 h, r2 30 h, r3 0.5 h, r4 8 h,
    # r5 13 h (resolved at the window's first instant), r7 96 h (to its second resolution).
    # Not r6 (resolved at the window's end), r8 (reopened, open), r9 (team B), r10 (open).
    # Sorted: 1800, 7200, 28800, 46800, 108000, 345600 → mean 538200 / 6 = 89700,
    # median (28800 + 46800) / 2 = 37800, p90 at 0.9 × 5 = 4.5 → 108000 + .5 × 237600 = 226800.
    assert stats(overall) == (6, 89700, 37800, 226800)
    assert overall.cases == 6
    assert overall.histogram == {
        "lt_1h": 1,  # 1800
        "h1_4": 1,  # 7200
        "h4_8": 0,  # 8 h exactly is the next bucket's lower bound
        "h8_24": 2,  # 28800, 46800
        "d1_3": 1,  # 108000
        "d3_7": 1,  # 345600
        "gte_7d": 0,
    }
    # SLA (billing 24 h; r3's category has none): met r1, r4, r5; missed r2, r7 → 3 / 5.
    sla = overall.sla.attainment
    assert (sla.n, sla.count, sla.value) == (5, 3, 0.6)
    assert (sla.low, sla.high) == (wilson_interval(3, 5).low, wilson_interval(3, 5).high)
    assert overall.sla.no_target == 1
    # sd of the six ≈ 129 990; the interval's low end is floored at 0.
    sd = math.sqrt(sum((v - 89700) ** 2 for v in (1800, 7200, 28800, 46800, 108000, 345600)) / 5)
    assert overall.mean_low == 0.0
    assert overall.mean_high == pytest.approx(89700 + Z95 * sd / math.sqrt(6))
    assert result.rows == []


def test_resolution_time_overall_from_the_rollup(cases, django_assert_num_queries):
    f = march_week(cases)
    with django_assert_num_queries(1):
        overall = kpi_resolution_time(f=f, now=NOW).overall
    assert (overall.stats.n, overall.stats.mean, overall.cases) == (6, 89700, 6)
    assert overall.stats.median == pytest.approx(37800, rel=max_relative_error())
    assert overall.stats.p90 == pytest.approx(226800, rel=max_relative_error())
    assert (overall.sla.attainment.n, overall.sla.attainment.count) == (5, 3)
    assert overall.sla.no_target == 1
    rollup_agrees(f, "resolution")
    rollup_agrees(f, "first_response")


def test_resolution_time_in_business_hours(cases):
    result = kpi_resolution_time(
        f=march_week(cases, basis="business"), now=NOW, group_by="rep", min_n=1
    )
    # Team A is open Mon–Fri 09:00–17:00 Berlin. r1 2 h; r2 Mon 8 h + Tue 6 h = 14 h;
    # r3 0.5 h; r4 8 h; r5 Sun 11:00 → Mon 00:00 = 0; r7 Mon 6 h + 3 × 8 h + Fri 2 h = 32 h.
    # Sorted: 0, 1800, 7200, 28800, 50400, 115200 → mean 203400 / 6 = 33900, median 18000.
    assert stats(result.overall)[:3] == (6, 33900, 18000)
    assert result.overall.histogram["lt_1h"] == 2
    # In business time r2 (14 h) meets the 24 h target: 4 of 5.
    assert (result.overall.sla.attainment.count, result.overall.sla.attainment.n) == (4, 5)
    by_rep = {row.label: stats(row.figure)[:2] for row in result.rows}
    assert by_rep == {"Rep_A1": (4, (7200 + 50400 + 0 + 115200) / 4), "Rep_A2": (2, 15300)}


def test_resolution_time_per_rep_alphabetical_with_intervals(cases, django_assert_num_queries):
    org = cases
    org.rep_a1.display_name = "Zoe"
    org.rep_a1.save()
    with django_assert_num_queries(1):
        result = kpi_resolution_time(f=march_week(org), now=NOW, group_by="rep", min_n=2)
    # Alphabetical by display name, not by id or by figure.
    assert [(row.key, row.label) for row in result.rows] == [
        (org.rep_a2.pk, "Rep_A2"),
        (org.rep_a1.pk, "Zoe"),
    ]
    a2, a1 = (row.figure for row in result.rows)
    # A1 (resolved_by): r1, r2, r5, r7 → 7200, 46800, 108000, 345600: mean 126900,
    # median 77400. A2: r3, r4 → 1800, 28800: mean 15300, sd 27000 / √2.
    assert stats(a1)[:3] == (4, 126900, 77400)
    assert stats(a2)[:3] == (2, 15300, 15300)
    half = Z95 * (27000 / math.sqrt(2)) / math.sqrt(2)
    assert a2.mean_low == 0.0
    assert a2.mean_high == pytest.approx(15300 + half)
    # A1's SLA: r1, r5 met; r2, r7 missed. A2 has one case with a target: below min_n 2.
    assert (a1.sla.attainment.count, a1.sla.attainment.n, a1.sla.attainment.value) == (2, 4, 0.5)
    assert a2.sla.attainment.insufficient_data and a2.sla.attainment.value is None
    assert a2.sla.no_target == 1


def test_per_rep_figures_below_the_minimum_sample_are_withheld(cases):
    result = kpi_resolution_time(f=march_week(cases), now=NOW, group_by="rep")  # min_n 10
    for row in result.rows:
        assert row.figure.insufficient_data
        assert stats(row.figure)[1:] == (None, None, None)
        assert (row.figure.mean_low, row.figure.mean_high) == (None, None)
        assert row.figure.sla.attainment.insufficient_data
    assert [row.figure.stats.n for row in result.rows] == [4, 2]  # n is always reported
    # Groups other than reps report their figures whatever their size.
    by_category = kpi_resolution_time(f=march_week(cases), now=NOW, group_by="category")
    assert [(row.label, stats(row.figure)[:2]) for row in by_category.rows] == [
        ("Billing", (5, (7200 + 108000 + 28800 + 46800 + 345600) / 5)),
        ("Misc", (1, 1800)),
    ]
    assert not any(row.figure.insufficient_data for row in by_category.rows)


@exact_percentiles
def test_resolution_window_edges_are_half_open(cases):
    org = cases
    # The week before ends exactly when r5 is resolved: r5 is not in it.
    before = march_week(
        org,
        start=datetime(2026, 2, 23, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 2, tzinfo=BERLIN).astimezone(UTC),
    )
    assert kpi_resolution_time(f=before, now=NOW).overall.stats.n == 0
    # The week after starts exactly when r6 is resolved: r6 (13 h) is in it.
    after = march_week(
        org,
        start=datetime(2026, 3, 9, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 16, tzinfo=BERLIN).astimezone(UTC),
    )
    assert stats(kpi_resolution_time(f=after, now=NOW).overall) == (1, 46800, 46800, 46800)
    rollup_agrees(before, "resolution")
    rollup_agrees(after, "resolution")


@exact_percentiles
def test_empty_window_and_other_team(cases):
    org = cases
    empty = march_week(
        org,
        start=datetime(2025, 1, 6, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2025, 1, 9, tzinfo=BERLIN).astimezone(UTC),
    )
    result = kpi_resolution_time(f=empty, now=NOW, group_by="day")
    assert stats(result.overall) == (0, None, None, None)
    assert result.overall.histogram == EMPTY_HISTOGRAM
    assert result.overall.sla.attainment.value is None and result.overall.sla.attainment.n == 0
    # Every day of the window is reported, empty or not.
    assert [(row.key, row.figure.stats.n) for row in result.rows] == [
        (date(2025, 1, 6), 0),
        (date(2025, 1, 7), 0),
        (date(2025, 1, 8), 0),
    ]
    # Team B: only r9, resolved 20 minutes after it was opened.
    team_b = kpi_resolution_time(f=march_week(org, team_ids=(org.team_b.pk,)), now=NOW)
    assert stats(team_b.overall) == (1, 1200, 1200, 1200)
    rollup_agrees(empty, "resolution")
    rollup_agrees(march_week(org, team_ids=(org.team_b.pk,)), "resolution")


def test_bucket_edges_and_the_sla_target_are_inclusive(org):
    # Billing's target is 24 h. Resolved after exactly 1 h, exactly 24 h and 24 h + 1 s.
    for name, resolved in (
        ("e1", "2026-03-02T09:00"),
        ("e2", "2026-03-03T08:00"),
        ("e3", "2026-03-03T08:00:01"),
    ):
        make_case_with(
            org, name, "2026-03-02T08:00", org.rep_a1, [(CaseEvent.Type.RESOLVED, resolved)]
        )
    overall = kpi_resolution_time(f=march_week(org), now=NOW).overall
    # 1 h opens the 1–4 h bucket, 24 h the 1–3 d one; 24 h meets the target, 24 h 1 s misses.
    assert overall.histogram == {**EMPTY_HISTOGRAM, "h1_4": 1, "d1_3": 2}
    assert (overall.sla.attainment.count, overall.sla.attainment.n) == (2, 3)


# --- first response time -------------------------------------------------------------------


def test_first_response_time_overall_and_by_responder(cases, django_assert_num_queries):
    org = cases
    with django_assert_num_queries(1):
        result = kpi_first_response_time(f=march_week(org), now=NOW, group_by="rep", min_n=3)
    # First responded in the window, team A: r1 0.5 h, r2 4 h, r4 1 h, r6 12 h 59 min
    # (at 23:59 Berlin on the last day), r7 1 h, r8 1 h. Not r5 (responded the day before),
    # r3 and r10 (never answered), r9 (team B).
    # Sorted: 1800, 3600, 3600, 3600, 14400, 46740 → mean 73740 / 6 = 12290, median 3600,
    # p90 at 4.5 → 14400 + .5 × 32340 = 30570.
    assert stats(result.overall) == (6, 12290, 3600, 30570)
    assert result.overall.histogram == {
        **EMPTY_HISTOGRAM,
        "lt_1h": 1,
        "h1_4": 3,
        "h4_8": 1,  # 4 h exactly
        "h8_24": 1,
    }
    assert result.overall.sla is None
    # By first responder: r8 is assigned to A1 but A2 answered it first.
    # A1: r1, r2, r7 → 1800, 14400, 3600. A2: r4, r6, r8 → 3600, 46740, 3600.
    assert [(row.label, stats(row.figure)) for row in result.rows] == [
        ("Rep_A1", (3, 6600, 3600, 12240)),  # p90 at 1.8 → 3600 + .8 × 10800
        ("Rep_A2", (3, 17980, 3600, 38112)),  # p90 at 1.8 → 3600 + .8 × 43140
    ]


def test_first_response_time_by_day_in_the_team_calendar(cases):
    result = kpi_first_response_time(f=march_week(cases), now=NOW, group_by="day")
    # Berlin days: 2 Mar r1, r2, r7; 3 Mar r8; 5 Mar r4; 8 Mar r6 (22:59 UTC, 23:59 local).
    assert [(row.key.isoformat(), row.figure.stats.n) for row in result.rows] == [
        ("2026-03-02", 3),
        ("2026-03-03", 1),
        ("2026-03-04", 0),
        ("2026-03-05", 1),
        ("2026-03-06", 0),
        ("2026-03-07", 0),
        ("2026-03-08", 1),
    ]
    assert stats(result.rows[0].figure)[:2] == (3, (1800 + 14400 + 3600) / 3)
    weekly = kpi_first_response_time(f=march_week(cases), now=NOW, group_by="week")
    assert [(row.key, row.figure.stats.n) for row in weekly.rows] == [(date(2026, 3, 2), 6)]


def test_calendar_buckets_follow_dst(org):
    # Sunday 29 March 2026 has 23 hours in Berlin. A response at 22:30 UTC that day is on
    # Monday 30 March at 00:30 in Berlin, and still on the 29th in UTC.
    make_case_with(
        org,
        "dst",
        "2026-03-29T20:00",
        org.rep_a1,
        [(CaseEvent.Type.AGENT_RESPONSE, "2026-03-29T22:30")],
    )
    berlin = march_week(
        org,
        start=datetime(2026, 3, 29, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 31, tzinfo=BERLIN).astimezone(UTC),
    )
    rows = kpi_first_response_time(f=berlin, now=NOW, group_by="day").rows
    assert [(row.key.isoformat(), row.figure.stats.n) for row in rows] == [
        ("2026-03-29", 0),
        ("2026-03-30", 1),
    ]
    utc = march_week(
        org,
        start=datetime(2026, 3, 29, tzinfo=UTC),
        end=datetime(2026, 3, 31, tzinfo=UTC),
        tz=ZoneInfo("UTC"),
    )
    rows = kpi_first_response_time(f=utc, now=NOW, group_by="day").rows
    assert [(row.key.isoformat(), row.figure.stats.n) for row in rows] == [
        ("2026-03-29", 1),
        ("2026-03-30", 0),
    ]


# --- property: the SQL against a plain-Python reference ------------------------------------

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # the US DST change (8 Mar) falls in the first days
ZONES = ["Europe/Berlin", "America/New_York", "UTC"]
TARGETS = [24, None, 1]  # the categories' target hours


def minutes(most, *, none):
    """Durations in minutes, often exactly on a histogram edge or an SLA target; now and
    then None (the case has not got there)."""
    edges = sorted({low // 60 for _, low, _ in HISTOGRAM_BUCKETS} | {60, 24 * 60})
    weights = [(2, st.sampled_from(edges)), (3, st.integers(min_value=0, max_value=most))]
    if none:
        weights.append((1, st.none()))
    return st.sampled_from([s for w, s in weights for _ in range(w)]).flatmap(lambda s: s)


random_cases = st.lists(
    st.fixed_dictionaries(
        {
            "opened": st.integers(min_value=0, max_value=12 * 24 * 60),
            "response": minutes(4 * 24 * 60, none=True),
            "resolution": minutes(9 * 24 * 60, none=True),
            "business_share": st.none() | st.floats(min_value=0, max_value=1),
            "responder": st.sampled_from([0, 1, None]),
            "resolver": st.sampled_from([0, 1, None]),
            "category": st.sampled_from([0, 1, 2]),
            "channel": st.sampled_from(["email", "chat"]),
            "team": st.booleans(),
        }
    ),
    min_size=4,
    max_size=25,
)


def percentile(values, p):
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def reference(entries, *, group):
    """Figures of (key, seconds, target seconds) entries grouped by ``group(key)``."""
    groups = {}
    for key, seconds, target in entries:
        groups.setdefault(group(key), []).append((seconds, target))
    out = {}
    for key, items in groups.items():
        values = [s for s, _ in items if s is not None]
        n = len(values)
        histogram = {
            name: sum(1 for v in values if v >= low and (high is None or v < high))
            for name, low, high in HISTOGRAM_BUCKETS
        }
        with_target = [(s, t) for s, t in items if s is not None and t is not None]
        out[key] = (
            n,
            sum(values) / n if n else None,
            percentile(values, 0.5) if n else None,
            percentile(values, 0.9) if n else None,
            histogram,
            (len(with_target), sum(1 for s, t in with_target if s <= t)),
        )
    return out


def figures(figure):
    sla = figure.sla.attainment if figure.sla else None
    return (
        figure.stats.n,
        figure.stats.mean,
        figure.stats.median,
        figure.stats.p90,
        figure.histogram,
        (sla.n, sla.count) if sla else None,
    )


def approx(figure):
    n, mean, median, p90, histogram, sla = figure
    return (
        n,
        pytest.approx(mean) if mean is not None else None,
        pytest.approx(median) if median is not None else None,
        pytest.approx(p90) if p90 is not None else None,
        histogram,
        sla,
    )


def bucket_of(moment, tz, unit):
    local = moment.astimezone(tz).date()
    if unit == "day":
        return local
    if unit == "week":
        return local - timedelta(days=local.weekday())
    return local.replace(day=1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=random_cases,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=10),
    length=st.integers(min_value=1, max_value=16),
    measure=st.sampled_from(["first_response", "resolution"]),
    basis=st.sampled_from(["calendar", "business"]),
    group_by=st.sampled_from([None, "rep", "team", "category", "channel", "day", "week", "month"]),
)
def test_durations_match_a_python_reference(
    org, specs, zone, first_day, length, measure, basis, group_by
):
    Case.objects.all().delete()
    categories = [
        Category.objects.get_or_create(
            slug=f"t{i}", defaults={"name": f"T{i}", "target_resolution_hours": hours}
        )[0]
        for i, hours in enumerate(TARGETS)
    ]
    reps = [org.rep_a1, org.rep_a2]
    rows = []
    for index, spec in enumerate(specs):
        opened = BASE + timedelta(minutes=spec["opened"])
        fields = {"status": "open", "agent_response_count": 0}
        if spec["response"] is not None:
            seconds = spec["response"] * 60
            fields.update(
                first_response_at=opened + timedelta(seconds=seconds),
                first_response_seconds=seconds,
                first_response_business_seconds=(
                    round(seconds * spec["business_share"])
                    if spec["business_share"] is not None
                    else None
                ),
                first_responder=reps[spec["responder"]] if spec["responder"] is not None else None,
                agent_response_count=1,
            )
        if spec["resolution"] is not None:
            seconds = spec["resolution"] * 60
            fields.update(
                status="resolved",
                resolved_at=opened + timedelta(seconds=seconds),
                first_resolved_at=opened + timedelta(seconds=seconds),
                resolution_seconds=seconds,
                resolution_business_seconds=(
                    round(seconds * spec["business_share"])
                    if spec["business_share"] is not None
                    else None
                ),
                resolved_by=reps[spec["resolver"]] if spec["resolver"] is not None else None,
            )
        rows.append(
            Case(
                external_id=f"p{index}",
                opened_at=opened,
                category=categories[spec["category"]],
                channel=spec["channel"],
                team=org.team_a if spec["team"] else None,
                **fields,
            )
        )
    stored = Case.objects.bulk_create(rows)

    f = local_days(zone, BASE + timedelta(days=first_day), length, basis=basis)
    tz = f.tz
    stamp, rep_field, prefix = {
        "first_response": ("first_response_at", "first_responder_id", "first_response"),
        "resolution": ("resolved_at", "resolved_by_id", "resolution"),
    }[measure]
    seconds_field = f"{prefix}_seconds" if basis == "calendar" else f"{prefix}_business_seconds"
    entries = []
    for case in stored:
        moment = getattr(case, stamp)
        if moment is None or not f.start <= moment < f.end:
            continue
        hours = case.category.target_resolution_hours
        target = hours * 3600 if hours is not None and measure == "resolution" else None
        entries.append((case, getattr(case, seconds_field), target))

    key_of = {
        None: lambda c: None,
        "rep": lambda c: getattr(c, rep_field),
        "team": lambda c: c.team_id,
        "category": lambda c: c.category_id,
        "channel": lambda c: c.channel,
    }
    for unit in ("day", "week", "month"):
        key_of[unit] = lambda c, unit=unit: bucket_of(getattr(c, stamp), tz, unit)

    result = kpi_first_response_time if measure == "first_response" else kpi_resolution_time
    got = result(f=f, now=BASE, group_by=group_by, min_n=1)

    def expected_figures(group):
        found = reference(entries, group=group)
        return {key: approx(value) for key, value in found.items()}

    overall = expected_figures(lambda c: None).get(None)
    empty = (0, None, None, None, EMPTY_HISTOGRAM, (0, 0))
    if measure == "first_response":
        overall = overall or approx(empty)
        overall = (*overall[:5], None)
    if group_by is None and rollup_serves(f):
        # The rollup's percentiles are estimates (see rollup_agrees); the case tables' exact.
        rollup_agrees(f, measure)
        with exact_percentiles():
            got = result(f=f, now=BASE, group_by=group_by, min_n=1)
    assert figures(got.overall) == (overall or approx(empty))
    if group_by is None:
        assert got.rows == []
        return
    expected = expected_figures(key_of[group_by])
    if measure == "first_response":
        expected = {key: (*value[:5], None) for key, value in expected.items()}
    actual = {row.key: figures(row.figure) for row in got.rows if row.figure.cases}
    assert actual == expected
    if group_by in ("day", "week", "month"):
        # Every bucket between the window's first and last day appears, in order.
        keys = [row.key for row in got.rows]
        assert keys[0] == bucket_of(f.start, tz, group_by)
        assert keys[-1] == bucket_of(f.end - timedelta(seconds=1), tz, group_by)
        assert keys == sorted(set(keys))
