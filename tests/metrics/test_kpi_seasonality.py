"""Seasonality against hand-computed case sets (Europe/Berlin), and a plain-Python reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, Category
from metrics.kpis.seasonality import (
    BACKTEST_WEEKS,
    SEASON_WEEKS,
    forecast_errors,
    kpi_seasonal_index,
    kpi_submission_forecast,
    kpi_submission_patterns,
    kpi_submission_seasonality,
    seasonal_naive_forecast,
)
from metrics.types import KpiFilter
from tests.factories import CategoryFactory
from tests.metrics.builders import BERLIN, NOW, at, bulk_cases, seasonal_cases

pytestmark = pytest.mark.django_db


def berlin_days(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, day after last 00:00) in Berlin, as UTC."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=BERLIN)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=BERLIN)
    return start.astimezone(UTC), end.astimezone(UTC)


def team_a(org, first=date(2026, 3, 1), last=date(2026, 3, 10), **overrides) -> KpiFilter:
    start, end = berlin_days(first, last)
    values = dict(start=start, end=end, tz=BERLIN, team_ids=(org.team_a.pk,))
    values.update(overrides)
    return KpiFilter(**values)


def case(org, opened, category=None, rep=None):
    rep = rep or org.rep_a1
    return {
        "opened_at": at(opened),
        "category": category or org.category,
        "assignee": rep,
        "team_id": rep.team_id,
    }


# --- heatmap ---------------------------------------------------------------------------

# The window 23 March – 5 April 2026 in Berlin spans the spring-forward night (29 March,
# 02:00 → 03:00): before it Berlin is UTC+1, after it UTC+2.


@pytest.fixture
def heat_cases(org):
    shipping = CategoryFactory(slug="shipping", name="Shipping")
    bulk_cases(
        [
            case(org, "2026-03-23T08:30"),  # Mon 09:30 CET
            case(org, "2026-03-29T00:30"),  # Sun 01:30 CET
            case(org, "2026-03-29T01:30"),  # Sun 03:30 CEST: 02:xx does not exist that night
            case(org, "2026-03-30T07:00"),  # Mon 09:00 CEST (07:00 UTC: DST-correct bucket)
            case(org, "2026-03-22T22:59"),  # Sun 22 March 23:59: before the window
            case(org, "2026-03-22T23:00"),  # Mon 00:00: the window's first instant
            case(org, "2026-04-05T22:00"),  # Mon 6 April 00:00 CEST: the window's end
            case(org, "2026-04-05T21:59"),  # Sun 23:59 CEST
            case(org, "2026-03-23T08:30", rep=org.rep_b1),  # team B
            case(org, "2026-03-24T13:15", category=shipping),  # Tue 14:15 CET
        ]
    )
    return org


def heat_window(org, **overrides):
    return team_a(org, first=date(2026, 3, 23), last=date(2026, 4, 5), **overrides)


def nonzero(cells):
    return {(day, hour): n for day, hours in enumerate(cells) for hour, n in enumerate(hours) if n}


MON, TUE, SUN = 0, 1, 6


def test_heatmap_in_local_time_across_dst(heat_cases, django_assert_num_queries):
    org = heat_cases
    with django_assert_num_queries(1):
        (overall,) = kpi_submission_patterns(f=heat_window(org), now=NOW)
    assert overall.group.category_id is None
    assert overall.n == 7
    assert len(overall.cells) == 7 and {len(h) for h in overall.cells} == {24}
    assert nonzero(overall.cells) == {
        (MON, 9): 2,
        (SUN, 1): 1,
        (SUN, 3): 1,
        (MON, 0): 1,
        (SUN, 23): 1,
        (TUE, 14): 1,
    }
    assert [(m.label, m.n, m.partial) for m in overall.months] == [
        ("2026-03", 6, True),
        ("2026-04", 1, True),
    ]
    march = overall.months[0]
    assert (march.start, march.end) == (heat_window(org).start, at("2026-03-31T22:00"))


def test_heatmap_per_category_and_in_utc(heat_cases):
    org = heat_cases
    overall, billing, shipping = kpi_submission_patterns(
        f=heat_window(org), now=NOW, by_category=True
    )
    assert (billing.group.slug, billing.n) == ("billing", 6)
    assert (shipping.group.slug, shipping.n) == ("shipping", 1)
    assert nonzero(shipping.cells) == {(TUE, 14): 1}
    assert [m.n for m in billing.months] == [5, 1]
    assert overall.n == billing.n + shipping.n

    utc = ZoneInfo("UTC")
    (plain,) = kpi_submission_patterns(
        f=heat_window(org, tz=utc, start=at("2026-03-23T00:00"), end=at("2026-04-06T00:00")),
        now=NOW,
    )
    # In UTC the Monday cases are at 08 and 07, the Monday-midnight one is a Sunday 23:00.
    assert nonzero(plain.cells) == {
        (MON, 8): 1,
        (MON, 7): 1,
        (SUN, 0): 1,
        (SUN, 1): 1,
        (SUN, 22): 1,
        (SUN, 21): 1,
        (TUE, 13): 1,
    }


def test_empty_window_has_168_zero_cells(heat_cases):
    org = heat_cases
    (overall,) = kpi_submission_patterns(
        f=heat_window(org, category_ids=(999_999,)), now=NOW, by_category=True
    )
    assert overall.n == 0 and nonzero(overall.cells) == {}
    assert [(m.label, m.n) for m in overall.months] == [("2026-03", 0), ("2026-04", 0)]


# --- seasonal index --------------------------------------------------------------------


@pytest.fixture
def seasonal(org):
    return seasonal_cases(org)


def indexes(year):
    return [m.index for m in year.months]


def test_seasonal_index_and_recurring_peaks(seasonal, django_assert_num_queries):
    org = seasonal
    # NOW is 10 March 2026: the history is the 24 complete months 2024-03 .. 2026-02.
    with django_assert_num_queries(1):
        result = kpi_seasonal_index(f=team_a(org), now=NOW, years=2)
    assert (result.start, result.end) == berlin_days(date(2024, 3, 1), date(2026, 2, 28))
    assert result.data_start == at("2024-02-29T22:59")
    overall, billing, shipping = result.groups
    assert (billing.group.slug, shipping.group.slug, overall.group.slug) == (
        "billing",
        "shipping",
        None,
    )

    older, recent = billing.years
    assert (older.label, older.n, older.monthly_mean, older.partial) == (
        "2024-03..2025-02",
        12,
        1.0,
        False,
    )
    # 3 / 1 in March, 0 in August and December, 1 elsewhere.
    assert indexes(older) == [3.0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1]
    # 24 cases, mean 2: March 5 (one of them at 00:30 on 1 March in Berlin) → 2.5.
    assert (recent.label, recent.n, recent.monthly_mean) == ("2025-03..2026-02", 24, 2.0)
    assert indexes(recent) == [2.5, 1, 1, 1, 1, 0.5, 1, 1, 1, 0.5, 1.5, 0]
    assert [m.label for m in recent.months][:2] == ["2025-03", "2025-04"]
    # March peaks in both years; January (1.5) only in one: not recurring.
    assert [(p.month_of_year, p.years, p.indexes) for p in billing.recurring_peaks] == [
        (3, ["2024-03..2025-02", "2025-03..2026-02"], [3.0, 2.5])
    ]
    assert billing.n == 36

    # Shipping: no case in the older year (mean 0: no index), 2 in November 2025.
    assert indexes(shipping.years[0]) == [None] * 12
    assert shipping.years[1].months[8].index == pytest.approx(12.0)
    assert shipping.recurring_peaks == []

    # Everything: the older year is billing's, the recent one has 26 cases (mean 26 / 12).
    assert overall.n == 38
    assert overall.years[1].months[0].index == pytest.approx(5 / (26 / 12))
    assert [(p.month_of_year, p.indexes) for p in overall.recurring_peaks] == [
        (3, [3.0, pytest.approx(60 / 26)])
    ]


def test_a_year_before_the_first_case_is_partial(seasonal):
    result = kpi_seasonal_index(f=team_a(seasonal), now=NOW, years=3)
    oldest = result.groups[1].years[0]
    # 2023-03 .. 2024-02 starts before the first case (29 Feb 2024): no indexes.
    assert (oldest.label, oldest.n, oldest.partial) == ("2023-03..2024-02", 1, True)
    assert indexes(oldest) == [None] * 12
    assert [p.month_of_year for p in result.groups[1].recurring_peaks] == [3]


def test_history_follows_the_window_end_and_excludes_other_teams(seasonal):
    org = seasonal
    # A window ending with March 2025 (at 1 April 00:00): the history is 2023-04 .. 2025-03;
    # its recent year holds 2024-04 .. 2025-02 of the older list (9) and March 2025 (5).
    f = team_a(org, first=date(2025, 3, 1), last=date(2025, 3, 31))
    recent = kpi_seasonal_index(f=f, now=NOW, years=2).groups[0].years[1]
    assert (recent.label, recent.n) == ("2024-04..2025-03", 14)

    team_b = kpi_seasonal_index(f=team_a(org, team_ids=(org.team_b.pk,)), now=NOW)
    assert [g.group.slug for g in team_b.groups] == [None, "billing"]
    assert team_b.groups[0].n == 1

    empty = kpi_seasonal_index(f=team_a(org, category_ids=(999_999,)), now=NOW)
    (nothing,) = empty.groups
    assert nothing.n == 0 and empty.data_start is None
    assert all(y.partial and indexes(y) == [None] * 12 for y in nothing.years)


# --- forecast --------------------------------------------------------------------------

# NOW is Tuesday 10 March 2026: the forecast starts on Monday 9 March (the current week);
# with years=1 the history is the 60 weeks before it, from Monday 13 January 2025.
FIRST_WEEK = date(2025, 1, 13)


def wednesday(index: int) -> str:
    return f"{FIRST_WEEK + timedelta(weeks=index, days=2)}T10:00"


@pytest.fixture
def weekly(org):
    rows = [case(org, wednesday(0))]  # week 0: 1 case
    rows += [case(org, wednesday(i)) for i in range(8, 16) for _ in range(4)]  # weeks 8–15: 4
    rows += [case(org, wednesday(i)) for i in range(53, 60) for _ in range(2)]  # 53–59: 2
    rows += [
        case(org, "2026-01-11T23:30"),  # Monday 12 January 00:30 in Berlin: week 52
        case(org, wednesday(52)),
        case(org, "2026-03-09T08:00"),  # the current, partial week: not history
        case(org, "2026-01-14T10:00", rep=org.rep_b1),  # team B
    ]
    bulk_cases(rows)
    return org


def test_forecast_and_backtest_hand_computed(weekly, django_assert_num_queries):
    org = weekly
    with django_assert_num_queries(1):
        result = kpi_submission_forecast(f=team_a(org), now=NOW, years=1)
    assert (result.origin, result.history_weeks) == ("2026-03-09", 60)
    assert result.history_start == at("2025-01-12T23:00")
    overall, billing = result.groups
    assert overall.group.category_id is None and billing.group.slug == "billing"
    assert billing.n == overall.n == 1 + 32 + 16
    # level = mean of weeks 52–59 = 2; forecast = ½ × (weeks 8–15: 4) + ½ × 2 = 3.
    assert billing.level == 2.0
    assert [(w.week, w.expected) for w in billing.forecast] == [
        (str(date(2026, 3, 9) + timedelta(weeks=h)), 3.0) for h in range(8)
    ]
    # Backtest: from weeks 0–51 (level of 44–51 = 0), week h is ½ × week h: 0.5, then 0s;
    # actual 2 each → MAE (1.5 + 7 × 2) / 8, MAPE (0.75 + 7 × 1) / 8.
    assert [(w.week, w.expected, w.actual) for w in billing.backtest] == [
        (str(date(2026, 1, 12) + timedelta(weeks=i)), 0.5 if i == 0 else 0.0, 2) for i in range(8)
    ]
    assert billing.mae == pytest.approx(15.5 / 8, abs=0.005)
    assert billing.mape == pytest.approx(7.75 / 8, abs=0.0001)
    assert billing.mape_n == 8


def test_forecast_uses_the_level_alone_without_a_year_of_data(weekly):
    org = weekly
    bulk_cases([case(org, wednesday(i), rep=org.rep_a2) for i in (57, 58, 59)])
    f = team_a(org, team_ids=None, rep_ids=(org.rep_a2.pk,))
    (_overall, billing) = kpi_submission_forecast(f=f, now=NOW, years=1).groups
    assert billing.level == 1.0
    assert {w.expected for w in billing.forecast} == {1.0}
    assert (billing.backtest, billing.mae, billing.mape) == ([], None, None)


def test_forecast_of_an_empty_slice_is_zero(weekly):
    f = team_a(weekly, category_ids=(999_999,))
    (nothing,) = kpi_submission_forecast(f=f, now=NOW, years=1).groups
    assert (nothing.n, nothing.level, nothing.mae) == (0, 0.0, None)
    assert {w.expected for w in nothing.forecast} == {0.0}


def test_forecast_arithmetic():
    series = [0] * 52 + [10, 0, 0, 0, 0, 0, 0, 6]  # 60 weeks; the last 8 average 2
    series[8] = 6  # a year before the first forecast week
    level, ahead = seasonal_naive_forecast(series, horizon=3)
    assert (level, ahead) == (2.0, [4.0, 1.0, 1.0])
    # Weeks before known_from are not data: no seasonal term, the level of what is known.
    level, ahead = seasonal_naive_forecast(series, known_from=55, horizon=2)
    assert (level, ahead) == (6 / 5, [6 / 5, 6 / 5])
    assert forecast_errors([1.0, 3.0], [2, 0]) == (2.0, 0.5, 1)
    assert forecast_errors([], []) == (None, None, 0)
    assert forecast_errors([1.0], [0]) == (1.0, None, 0)


def test_whole_seasonality_is_three_statements(weekly, django_assert_num_queries):
    with django_assert_num_queries(3):
        result = kpi_submission_seasonality(f=team_a(weekly), now=NOW, by_category=True)
    assert [p.group.slug for p in result.patterns] == [None, "billing"]
    assert result.patterns[0].n == 3  # week 59's two (4 March) and 9 March 08:00 UTC
    assert result.seasonal.years == 2 and len(result.forecast.groups) == 2


# ---------------------------------------------------------------------------------------
# Property: SQL buckets against zoneinfo in Python, around DST changes and month ends.

HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
REF_NOW = datetime(2026, 4, 20, 12, tzinfo=UTC)
# Local days whose midnight is a bucket edge: DST changes (EU, US), Mondays, months' and
# years' first days. Cases land within minutes of that midnight *in the zone under test*.
EDGE_DAYS = [
    date(2025, 3, 30),  # EU spring forward (Sunday)
    date(2025, 3, 31),  # Monday after it
    date(2025, 10, 26),  # EU fall back
    date(2025, 11, 2),  # US fall back (Sunday)
    date(2025, 12, 1),  # Monday, first of a month
    date(2026, 1, 1),  # new year
    date(2026, 3, 2),  # Monday
    date(2026, 3, 29),  # EU spring forward
]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]

# (edge day index or None for "anywhere", minutes from that local midnight, billing?)
case_specs = st.tuples(
    st.one_of(st.none(), st.integers(min_value=0, max_value=len(EDGE_DAYS) - 1)),
    st.one_of(
        st.integers(min_value=-120, max_value=120),
        st.integers(min_value=-5 * 1440, max_value=5 * 1440),
    ),
    st.booleans(),
)


def instant(spec, tz: ZoneInfo) -> datetime:
    edge, minutes, _ = spec
    if edge is None:  # anywhere in the 28 months of history
        return HISTORY_START + timedelta(minutes=abs(minutes) * 120)
    midnight = datetime.combine(EDGE_DAYS[edge], datetime.min.time(), tz).astimezone(UTC)
    return midnight + timedelta(minutes=minutes)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def reference_forecast(local_dates, first_week, history_weeks, data_start_local):
    """Weekly counts by local date, then the same arithmetic as the KPI."""
    counts = [0] * history_weeks
    for d in local_dates:
        index = (monday(d) - first_week).days // 7
        if 0 <= index < history_weeks:
            counts[index] += 1
    if data_start_local is None:
        known_from = history_weeks
    else:
        known_from = min(max((monday(data_start_local) - first_week).days // 7, 0), history_weeks)
    level, ahead = seasonal_naive_forecast(counts, known_from=known_from)
    backtest = None
    if known_from < history_weeks - BACKTEST_WEEKS:
        _, predicted = seasonal_naive_forecast(counts[:-BACKTEST_WEEKS], known_from=known_from)
        backtest = forecast_errors(predicted, counts[-BACKTEST_WEEKS:])
    return sum(counts), round(level, 2), [round(v, 2) for v in ahead], backtest


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(case_specs, min_size=1, max_size=40),
    zone=st.sampled_from(ZONES),
    window_days=st.integers(min_value=1, max_value=60),
    end_edge=st.sampled_from(EDGE_DAYS),
    end_after=st.integers(min_value=-2, max_value=30),
    years=st.integers(min_value=1, max_value=2),
)
def test_matches_zoneinfo_reference(org, specs, zone, window_days, end_edge, end_after, years):
    Case.objects.all().delete()
    other = Category.objects.get_or_create(slug="other", defaults={"name": "Other"})[0]
    tz = ZoneInfo(zone)
    stored = bulk_cases(
        [
            {
                "opened_at": instant(spec, tz),
                "category": org.category if spec[2] else other,
                "assignee": org.rep_a1,
                "team_id": org.team_a.pk,
            }
            for spec in specs
        ]
    )
    last_day = end_edge + timedelta(days=end_after)
    start = datetime.combine(last_day - timedelta(days=window_days - 1), datetime.min.time(), tz)
    end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tz)
    f = KpiFilter(
        start=start.astimezone(UTC), end=end.astimezone(UTC), tz=tz, team_ids=(org.team_a.pk,)
    )
    result = kpi_submission_seasonality(f=f, now=REF_NOW, years=years, by_category=True)
    local = [(c.opened_at.astimezone(tz), c.category_id) for c in stored]

    # Heatmap and window months, overall and per category.
    for pattern in result.patterns:
        mine = [
            t
            for t, cat in local
            if f.start <= t < f.end and pattern.group.category_id in (None, cat)
        ]
        cells = [[0] * 24 for _ in range(7)]
        for t in mine:
            cells[t.weekday()][t.hour] += 1
        assert pattern.cells == cells
        by_month: dict[str, int] = {}
        for t in mine:
            by_month[f"{t:%Y-%m}"] = by_month.get(f"{t:%Y-%m}", 0) + 1
        assert {m.label: m.n for m in pattern.months if m.n} == by_month

    # Seasonal index: months of complete 12-month years before the anchor.
    anchor = min(f.end, REF_NOW).astimezone(tz).date().replace(day=1)
    for group in result.seasonal.groups:
        months = [m for y in group.years for m in y.months]
        assert len(months) == 12 * years
        assert months[-1].label == f"{anchor - timedelta(days=1):%Y-%m}"
        for m in months:
            assert m.n == sum(
                1
                for t, cat in local
                if f"{t:%Y-%m}" == m.label and group.group.category_id in (None, cat)
            )
        for year in group.years:
            mean = sum(m.n for m in year.months) / 12
            for m in year.months:
                if not year.partial and mean:
                    assert m.index == pytest.approx(m.n / mean)
                else:
                    assert m.index is None

    # Forecast: weekly series by local Monday, then the same arithmetic.
    data_start = min((t for t, _ in local), default=None)
    fc = result.forecast
    first_week = date.fromisoformat(fc.origin) - timedelta(weeks=fc.history_weeks)
    assert fc.history_weeks == SEASON_WEEKS * years + BACKTEST_WEEKS
    assert date.fromisoformat(fc.origin) == monday(min(f.end, REF_NOW).astimezone(tz).date())
    for group in fc.groups:
        dates = [t.date() for t, cat in local if group.group.category_id in (None, cat)]
        n, level, ahead, backtest = reference_forecast(
            dates, first_week, fc.history_weeks, data_start and data_start.date()
        )
        assert (group.n, group.level, [w.expected for w in group.forecast]) == (n, level, ahead)
        if backtest is None:
            assert group.mae is None
        else:
            assert group.mae == round(backtest[0], 2)
            assert group.mape_n == backtest[2]
