"""Seasonal submission patterns: when cases arrive, which months peak, what comes next.

Definitions (docs/metrics.md#submission-seasonality):
- *Heatmap*: cases opened in the window by local weekday (Mon–Sun) × local hour (0–23)
  in ``f.tz``, all 168 cells reported, zeros included. Local time comes from
  ``AT TIME ZONE``: on a spring-forward day the skipped hour stays empty, on a fall-back
  day both passes through the repeated hour count in that hour.
- *Months*: cases opened in the window per calendar month (local), zeros included; a
  month the window covers only in part is marked ``partial``.
- *Seasonal index* (classical ratio-to-average): over ``years`` × 12 complete calendar
  months ending with the last complete month before the window's end (or ``now``, if
  earlier), each month's count divided by the mean monthly count of its 12-month year.
  Years are 12-month blocks counted back from that month, so every year holds each month
  of the year exactly once. A year that starts before the slice's first case ever is
  ``partial``: its indexes are withheld (months with no data would depress its mean).
- *Recurring peak*: a month of the year whose index is ≥ ``PEAK_INDEX`` in more than one
  (complete) year — "the same problem every March".
- *Forecast*: the next ``FORECAST_WEEKS`` weeks (Monday-based, local; the first is the
  current, partial week) per category: ½ × the same week a year (52 weeks) earlier + ½ ×
  the mean of the last ``LEVEL_WEEKS`` complete weeks; the level alone when the week a
  year earlier predates the slice's first case. *Backtest*: the same method forecasts the
  last ``BACKTEST_WEEKS`` complete weeks from the weeks before them; MAE and MAPE compare
  it with what happened.
Counts come from SQL (generate_series makes empty buckets zeros); the forecast arithmetic
runs in Python over at most 52 × 3 + 8 weekly numbers per category. The counts are read
from the rollup tables (metrics.rollups) when those answer the request exactly, from the
case table otherwise; the answers are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from metrics.rollups.read import first_serving, rollup_slice_sql, segments_cte, span
from metrics.rollups.spec import BACKLOG_DAY, CATEGORY_DAY, OPENED_DAY, SLOTS, RollupTable
from metrics.sql import fetch_dicts, slice_sql
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_YEARS = 2
MAX_YEARS = 3
PEAK_INDEX = 1.25
FORECAST_WEEKS = 8
BACKTEST_WEEKS = 8
LEVEL_WEEKS = 8
SEASON_WEEKS = 52
SEASONAL_WEIGHT = 0.5
FORECAST_METHOD = (
    "0.5 × same week 52 weeks earlier + 0.5 × mean of the last 8 complete weeks "
    "(the mean alone when the earlier week predates the data)"
)


@dataclass(frozen=True)
class Group:
    """A category, or everything in the slice (``category_id`` None)."""

    category_id: int | None
    slug: str | None
    name: str | None


@dataclass(frozen=True)
class PeriodCount:
    """Cases opened in one calendar bucket, with its bounds (UTC) for the drill-down."""

    label: str  # "2026-03" for a month, the Monday's date for a week
    start: datetime
    end: datetime
    n: int
    partial: bool = False


@dataclass(frozen=True)
class SubmissionPattern:
    group: Group
    n: int
    cells: list[list[int]]  # [weekday Mon..Sun][hour 0..23]
    months: list[PeriodCount]


@dataclass(frozen=True)
class SeasonalMonth:
    label: str
    month_of_year: int
    start: datetime
    end: datetime
    n: int
    index: float | None


@dataclass(frozen=True)
class SeasonalYear:
    label: str  # "2024-03..2025-02"
    n: int
    monthly_mean: float
    partial: bool
    months: list[SeasonalMonth]


@dataclass(frozen=True)
class RecurringPeak:
    month_of_year: int
    years: list[str]
    indexes: list[float]


@dataclass(frozen=True)
class SeasonalGroup:
    group: Group
    n: int
    years: list[SeasonalYear]
    recurring_peaks: list[RecurringPeak]


@dataclass(frozen=True)
class SeasonalIndex:
    start: datetime
    end: datetime
    data_start: datetime | None
    years: int
    groups: list[SeasonalGroup]


@dataclass(frozen=True)
class ForecastWeek:
    week: str
    start: datetime
    end: datetime
    expected: float
    actual: int | None = None


@dataclass(frozen=True)
class ForecastGroup:
    group: Group
    n: int  # cases in the weekly history the forecast reads
    level: float
    forecast: list[ForecastWeek]
    backtest: list[ForecastWeek]
    mae: float | None
    mape: float | None  # a fraction: 0.12 = 12 %
    mape_n: int  # backtest weeks with at least one case (MAPE is undefined on zeros)


@dataclass(frozen=True)
class SubmissionForecast:
    origin: str  # the Monday of the first forecast week
    history_start: datetime
    history_weeks: int
    method: str
    groups: list[ForecastGroup]


@dataclass(frozen=True)
class SeasonalityResult:
    patterns: list[SubmissionPattern]
    seasonal: SeasonalIndex
    forecast: SubmissionForecast


# --- calendar helpers -------------------------------------------------------------------


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _anchor(f: KpiFilter, now: datetime) -> datetime:
    """History ends at the window's end, or now if the window reaches into the future."""
    return min(f.end, now)


def _group(row: dict[str, Any]) -> Group:
    return Group(row["grp"] or None, row["slug"], row["name"])


def _ordered(groups: dict[int, Any]) -> list[Any]:
    """Everything first, then categories by name."""
    return [groups[k] for k in sorted(groups, key=lambda k: (k != 0, groups[k].group.name, k))]


def _groups_cte(f: KpiFilter, counts: str, *, by_category: bool = True) -> str:
    """Everything (grp 0) and each category with a case in ``counts``. Listed from the small
    category table: a DISTINCT over the counts is estimated at tens of thousands of groups,
    which makes the planner switch on JIT compilation that costs more than the query."""
    if not by_category:
        return "groups AS (SELECT 0::bigint AS grp)"
    categories = "cat.id = ANY(%(slice_category_id)s)" if f.category_ids is not None else "TRUE"
    return f"""groups AS (
    SELECT 0::bigint AS grp
    UNION ALL
    SELECT cat.id FROM cases_category cat
     WHERE {categories} AND EXISTS (SELECT 1 FROM {counts} x WHERE x.grp = cat.id)
)"""


def _counts_cte(name: str, keys: str, *, by_category: bool = True) -> str:
    """CTE ``name`` (grp, <keys>, n) over ``sliced``: per category, and everything as grp 0
    summed from those rows: one hash aggregation over the cases, where GROUPING SETS would
    sort them all."""
    if not by_category:
        return (
            f"{name} AS (SELECT 0::bigint AS grp, {keys}, count(*) AS n "
            f"FROM sliced GROUP BY {keys})"
        )
    return f"""{name}_by_category AS (
    SELECT category_id AS grp, {keys}, count(*) AS n FROM sliced GROUP BY category_id, {keys}
),
{name} AS (
    SELECT grp, {keys}, n FROM {name}_by_category
    UNION ALL
    SELECT 0::bigint, {keys}, sum(n)::bigint FROM {name}_by_category GROUP BY {keys}
)"""


# --- the same counts from the rollups (metrics.rollups) -------------------------------------
# When the rollups answer exactly (slice by team/category only, boundaries on the hour, a
# zone with whole-hour offsets), the count CTEs below come from the cumulative hourly
# counts of the smallest rollup table that has the slice's dimensions (and categories, when
# the figure is per category): the same rows, far fewer to read.

# Tables with the opened counts, smallest first: for the whole slice, and per category.
OPENED_TOTALS = (BACKLOG_DAY, CATEGORY_DAY, OPENED_DAY)
PER_CATEGORY = (CATEGORY_DAY, OPENED_DAY)
BUCKET_KEYS = {"month": "s.bucket AS month", "week": "s.bucket AS week"}


def _rollup_rows(f: KpiFilter, table: RollupTable, *, by_category: bool) -> str:
    """The rollup rows (day, grp, c) of the window's days and the slice."""
    condition, _ = rollup_slice_sql(f, table)
    grp = "r.category_id" if by_category else "0::bigint"
    return (
        f"SELECT r.day, {grp} AS grp, r.opened AS c FROM {table.live} r "
        "WHERE r.day >= (%(start)s::timestamptz AT TIME ZONE 'UTC')::date "
        "AND r.day <= (%(end)s::timestamptz AT TIME ZONE 'UTC' - interval '1 hour')::date "
        f"AND {condition}"
    )


def _per_category(name: str, body: str, keys: str, *, by_category: bool) -> str:
    """CTE ``name`` (grp, <keys>, n) shaped as ``_counts_cte`` shapes it, from ``body``
    giving (grp, <keys>, n) per category: plus everything as grp 0."""
    if not by_category:
        return f"{name} AS ({body})"
    return f"""{name}_by_category AS ({body}),
{name} AS (
    SELECT grp, {keys}, n FROM {name}_by_category
    UNION ALL
    SELECT 0::bigint, {keys}, sum(n)::bigint FROM {name}_by_category GROUP BY {keys}
)"""


def _rollup_counts_cte(name: str, unit: str, rows: str, *, by_category: bool) -> str:
    """Counts ``name`` (grp, month or week, n) of the non-empty local buckets."""
    count = span("c", rows="d")
    body = f"""
    SELECT d.grp, {BUCKET_KEYS[unit]}, sum({count})::bigint AS n
      FROM {name}_segments s JOIN ({rows}) d ON d.day = s.day
     GROUP BY d.grp, {unit} HAVING sum({count}) <> 0
"""
    segments = segments_cte(
        f"{name}_segments", unit, start="%(start)s::timestamptz", end="%(end)s::timestamptz"
    )
    return f"{segments},\n{_per_category(name, body, unit, by_category=by_category)}"


def _rollup_heat_cte(rows: str, *, by_category: bool) -> str:
    """``heat`` (grp, weekday, hour, n): local weekday × hour counts of the window.

    Each UTC hour of a day falls into one local weekday × hour; the days that map their
    hours the same way (the same UTC weekday and offset: all but DST days) are summed
    first, so only a few dozen day patterns are spread over their 24 hours.
    """
    sums = ", ".join(f"sum(d.c[{i}])" for i in range(1, SLOTS + 1))
    pattern = "h.pattern[i.i][{k}]"
    body = f"""
    SELECT h.grp, {pattern.format(k=1)} AS weekday, {pattern.format(k=2)} AS hour,
           sum(h.c[{pattern.format(k=4)} + 1] - h.c[{pattern.format(k=3)} + 1])::bigint AS n
      FROM heat_sums h
     CROSS JOIN LATERAL generate_series(1, array_length(h.pattern, 1)) AS i(i)
     GROUP BY h.grp, weekday, hour
    HAVING sum(h.c[{pattern.format(k=4)} + 1] - h.c[{pattern.format(k=3)} + 1]) <> 0
"""
    segments = segments_cte(
        "heat_segments", "hour", start="%(start)s::timestamptz", end="%(end)s::timestamptz"
    )
    return f"""{segments},
heat_days AS (
    SELECT s.day, array_agg(ARRAY[extract(isodow FROM s.bucket)::int,
                                  extract(hour FROM s.bucket)::int, s.h0, s.h1]
                            ORDER BY s.h0) AS pattern
      FROM heat_segments s GROUP BY s.day
),
heat_sums AS (
    SELECT k.pattern, d.grp, ARRAY[{sums}] AS c
      FROM ({rows}) d JOIN heat_days k ON k.day = d.day
     GROUP BY k.pattern, d.grp
),
{_per_category("heat", body, "weekday, hour", by_category=by_category)}"""


def _rollup_pattern_sources(
    f: KpiFilter, table: RollupTable, *, by_category: bool
) -> tuple[str, dict[str, Any]]:
    """``heat`` and ``month_counts`` of the window from the rollups."""
    _, params = rollup_slice_sql(f, table)
    rows = _rollup_rows(f, table, by_category=by_category)
    heat = _rollup_heat_cte(rows, by_category=by_category)
    months = _rollup_counts_cte("month_counts", "month", rows, by_category=by_category)
    return f"{heat},\n{months}", params


def _rollup_sources(
    f: KpiFilter, table: RollupTable, name: str, unit: str
) -> tuple[str, dict[str, Any]]:
    """Per-category counts ``name`` by local ``unit`` (month/week) from ``table``."""
    _, params = rollup_slice_sql(f, table)
    rows = _rollup_rows(f, table, by_category=True)
    return _rollup_counts_cte(name, unit, rows, by_category=True), params


# --- heatmap and months of the window --------------------------------------------------

PATTERN_SOURCES = """sliced AS MATERIALIZED (
    SELECT c.category_id,
           extract(isodow FROM c.opened_at AT TIME ZONE %(tz)s)::int AS weekday,
           extract(hour FROM c.opened_at AT TIME ZONE %(tz)s)::int AS hour,
           date_trunc('month', c.opened_at AT TIME ZONE %(tz)s)::date AS month
      FROM cases_case c
     WHERE {slice} AND c.opened_at >= %(start)s AND c.opened_at < %(end)s
),
{heat},
{month_counts}"""

PATTERN_SQL = """
WITH {sources},
{groups},
months AS (
    SELECT m::date AS month
      FROM generate_series(%(first_month)s::timestamp, %(last_month)s::timestamp,
                           interval '1 month') AS m
),
cells AS (
    SELECT 'heat' AS kind, g.grp, d.weekday, h.hour, NULL::date AS month, coalesce(x.n, 0) AS n
      FROM groups g
     CROSS JOIN generate_series(1, 7) AS d(weekday)
     CROSS JOIN generate_series(0, 23) AS h(hour)
      LEFT JOIN heat x ON x.grp = g.grp AND x.weekday = d.weekday AND x.hour = h.hour
    UNION ALL
    SELECT 'month', g.grp, NULL, NULL, mo.month, coalesce(y.n, 0)
      FROM groups g CROSS JOIN months mo
      LEFT JOIN month_counts y ON y.grp = g.grp AND y.month = mo.month
)
SELECT cells.*, cat.slug, cat.name
  FROM cells LEFT JOIN cases_category cat ON cat.id = cells.grp
 ORDER BY cells.kind, cells.grp, cells.weekday, cells.hour, cells.month
"""


def kpi_submission_patterns(
    *, f: KpiFilter, now: datetime, by_category: bool = False
) -> list[SubmissionPattern]:
    """Weekday × hour heatmap and calendar-month counts of the cases opened in the window,
    for the whole slice and, with ``by_category``, for each category that had a case."""
    condition, params = slice_sql(f, alias="c")
    first_month = f.start.astimezone(f.tz).date().replace(day=1)
    last_month = (f.end - timedelta(microseconds=1)).astimezone(f.tz).date().replace(day=1)
    candidates = PER_CATEGORY if by_category else OPENED_TOTALS
    table = first_serving(f, candidates, bounds=(f.start, f.end))
    if table is not None:
        sources, rollup_params = _rollup_pattern_sources(f, table, by_category=by_category)
        params = {**params, **rollup_params}
    else:
        sources = PATTERN_SOURCES.format(
            slice=condition,
            heat=_counts_cte("heat", "weekday, hour", by_category=by_category),
            month_counts=_counts_cte("month_counts", "month", by_category=by_category),
        )
    rows = fetch_dicts(
        PATTERN_SQL.format(sources=sources, groups=_groups_cte(f, "heat", by_category=by_category)),
        {
            "tz": str(f.tz),
            "start": f.start,
            "end": f.end,
            "first_month": first_month,
            "last_month": last_month,
            **params,
        },
    )
    cells: dict[int, list[list[int]]] = {}
    months: dict[int, list[PeriodCount]] = {}
    groups: dict[int, Group] = {}
    for r in rows:  # 168 + ≤ 13 already-aggregated rows per group
        groups.setdefault(r["grp"], _group(r))
        if r["kind"] == "heat":
            grid = cells.setdefault(r["grp"], [[0] * 24 for _ in WEEKDAYS])
            grid[r["weekday"] - 1][r["hour"]] = r["n"]
        else:
            start = max(_midnight(r["month"], f.tz), f.start)
            end = min(_midnight(_add_months(r["month"], 1), f.tz), f.end)
            partial = start > _midnight(r["month"], f.tz) or end < _midnight(
                _add_months(r["month"], 1), f.tz
            )
            months.setdefault(r["grp"], []).append(
                PeriodCount(r["month"].strftime("%Y-%m"), start, end, r["n"], partial)
            )
    patterns = {
        key: SubmissionPattern(
            group=groups[key],
            n=sum(map(sum, cells[key])),
            cells=cells[key],
            months=months.get(key, []),
        )
        for key in groups
    }
    return _ordered(patterns)


# --- seasonal index ----------------------------------------------------------------------

MONTHLY_SOURCES = """sliced AS (
    SELECT c.category_id, date_trunc('month', c.opened_at AT TIME ZONE %(tz)s)::date AS month
      FROM cases_case c
     WHERE {slice} AND c.opened_at >= %(start)s AND c.opened_at < %(end)s
),
{counts}"""

MONTHLY_SQL = """
WITH {sources},
{groups},
months AS (
    SELECT m::date AS month, (row_number() OVER (ORDER BY m DESC) - 1) / 12 AS block
      FROM generate_series(%(first_month)s::timestamp, %(last_month)s::timestamp,
                           interval '1 month') AS m
),
grid AS (
    SELECT g.grp, mo.month, mo.block, coalesce(x.n, 0) AS n
      FROM groups g CROSS JOIN months mo
      LEFT JOIN counts x ON x.grp = g.grp AND x.month = mo.month
)
SELECT grid.grp, grid.month, grid.block, grid.n,
       avg(grid.n) OVER (PARTITION BY grid.grp, grid.block) AS block_mean,
       grid.n / nullif(avg(grid.n) OVER (PARTITION BY grid.grp, grid.block), 0) AS ratio,
       cat.slug, cat.name,
       (SELECT min(c.opened_at) FROM cases_case c WHERE {slice}) AS data_start
  FROM grid LEFT JOIN cases_category cat ON cat.id = grid.grp
 ORDER BY grid.grp, grid.month
"""


def kpi_seasonal_index(*, f: KpiFilter, now: datetime, years: int = DEFAULT_YEARS) -> SeasonalIndex:
    """Monthly counts over ``years`` 12-month years before the window's end, each month's
    ratio to its year's monthly mean, and the months that peak in more than one year."""
    condition, params = slice_sql(f, alias="c")
    boundary = _anchor(f, now).astimezone(f.tz).date().replace(day=1)
    first_month = _add_months(boundary, -12 * years)
    start, end = _midnight(first_month, f.tz), _midnight(boundary, f.tz)
    sources = MONTHLY_SOURCES.format(slice=condition, counts=_counts_cte("counts", "month"))
    table = first_serving(f, PER_CATEGORY, bounds=(start, end))
    if table is not None:
        sources, rollup_params = _rollup_sources(f, table, "counts", "month")
        params = {**params, **rollup_params}
    rows = fetch_dicts(
        MONTHLY_SQL.format(slice=condition, sources=sources, groups=_groups_cte(f, "counts")),
        {
            "tz": str(f.tz),
            "start": start,
            "end": end,
            "first_month": first_month,
            "last_month": _add_months(boundary, -1),
            **params,
        },
    )
    data_start = rows[0]["data_start"] if rows else None
    first_data_month = (
        data_start.astimezone(f.tz).date().replace(day=1) if data_start is not None else None
    )
    by_group: dict[int, dict[int, list[dict[str, Any]]]] = {}
    for r in rows:  # ≤ 36 rows per group
        by_group.setdefault(r["grp"], {}).setdefault(r["block"], []).append(r)
    groups: dict[int, SeasonalGroup] = {}
    for key, blocks in by_group.items():
        seasonal_years = [
            _seasonal_year(blocks[b], f.tz, first_data_month) for b in sorted(blocks, reverse=True)
        ]
        groups[key] = SeasonalGroup(
            group=_group(blocks[0][0]),
            n=sum(y.n for y in seasonal_years),
            years=seasonal_years,
            recurring_peaks=_recurring_peaks(seasonal_years),
        )
    return SeasonalIndex(
        start=start, end=end, data_start=data_start, years=years, groups=_ordered(groups)
    )


def _seasonal_year(
    rows: list[dict[str, Any]], tz: ZoneInfo, first_data_month: date | None
) -> SeasonalYear:
    first, last = rows[0]["month"], rows[-1]["month"]
    partial = first_data_month is None or first_data_month > first
    return SeasonalYear(
        label=f"{first:%Y-%m}..{last:%Y-%m}",
        n=sum(r["n"] for r in rows),
        monthly_mean=float(rows[0]["block_mean"]),
        partial=partial,
        months=[
            SeasonalMonth(
                label=f"{r['month']:%Y-%m}",
                month_of_year=r["month"].month,
                start=_midnight(r["month"], tz),
                end=_midnight(_add_months(r["month"], 1), tz),
                n=r["n"],
                index=None if partial or r["ratio"] is None else float(r["ratio"]),
            )
            for r in rows
        ],
    )


def _recurring_peaks(years: list[SeasonalYear]) -> list[RecurringPeak]:
    peaks = []
    for month_of_year in range(1, 13):
        hits = [
            (year.label, month.index)
            for year in years
            for month in year.months
            if month.month_of_year == month_of_year
            and month.index is not None
            and month.index >= PEAK_INDEX
        ]
        if len(hits) > 1:
            peaks.append(
                RecurringPeak(month_of_year, [h[0] for h in hits], [float(h[1]) for h in hits])
            )
    return peaks


# --- weekly forecast ---------------------------------------------------------------------

WEEKLY_SOURCES = """sliced AS (
    SELECT c.category_id, date_trunc('week', c.opened_at AT TIME ZONE %(tz)s)::date AS week
      FROM cases_case c
     WHERE {slice} AND c.opened_at >= %(start)s AND c.opened_at < %(end)s
),
{counts}"""

WEEKLY_SQL = """
WITH {sources},
{groups},
weeks AS (
    SELECT w::date AS week
      FROM generate_series(%(first_week)s::timestamp, %(last_week)s::timestamp,
                           interval '1 week') AS w
)
SELECT g.grp, wk.week, coalesce(x.n, 0) AS n, cat.slug, cat.name,
       -- On the first row only: Python reads it from there, and a timestamp on each of the
       -- ~3,500 rows cost more to decode than the whole query took.
       CASE WHEN row_number() OVER (ORDER BY g.grp, wk.week) = 1
            THEN (SELECT min(c.opened_at) FROM cases_case c WHERE {slice}) END AS data_start
  FROM groups g CROSS JOIN weeks wk
  LEFT JOIN counts x ON x.grp = g.grp AND x.week = wk.week
  LEFT JOIN cases_category cat ON cat.id = g.grp
 ORDER BY g.grp, wk.week
"""


def seasonal_naive_forecast(
    series: Sequence[int], *, known_from: int = 0, horizon: int = FORECAST_WEEKS
) -> tuple[float, list[float]]:
    """The level and the next ``horizon`` weekly forecasts after ``series`` (oldest first).

    level = mean of the last ``LEVEL_WEEKS`` weeks from ``known_from`` on (weeks before it
    predate the data); forecast(h) = ``SEASONAL_WEIGHT`` × the week 52 weeks before it +
    (1 − weight) × level, or the level alone when that week predates the data.
    """
    known = list(series[known_from:])
    recent = known[-LEVEL_WEEKS:]
    level = sum(recent) / len(recent) if recent else 0.0
    forecasts = []
    for h in range(horizon):
        year_before = len(series) - SEASON_WEEKS + h
        if max(known_from, 0) <= year_before < len(series):
            forecasts.append(SEASONAL_WEIGHT * series[year_before] + (1 - SEASONAL_WEIGHT) * level)
        else:
            forecasts.append(level)
    return level, forecasts


def forecast_errors(
    forecasts: Sequence[float], actuals: Sequence[int]
) -> tuple[float | None, float | None, int]:
    """MAE over all weeks; MAPE (a fraction) over the weeks with a non-zero actual."""
    if not actuals:
        return None, None, 0
    mae = sum(abs(f - a) for f, a in zip(forecasts, actuals, strict=True)) / len(actuals)
    ratios = [abs(f - a) / a for f, a in zip(forecasts, actuals, strict=True) if a > 0]
    return mae, (sum(ratios) / len(ratios) if ratios else None), len(ratios)


def kpi_submission_forecast(
    *, f: KpiFilter, now: datetime, years: int = DEFAULT_YEARS
) -> SubmissionForecast:
    """Expected cases per week for the next ``FORECAST_WEEKS`` weeks, per category and
    overall, with the same method's error on the last ``BACKTEST_WEEKS`` complete weeks."""
    condition, params = slice_sql(f, alias="c")
    local = _anchor(f, now).astimezone(f.tz).date()
    origin = local - timedelta(days=local.weekday())
    history_weeks = SEASON_WEEKS * years + BACKTEST_WEEKS
    first_week = origin - timedelta(weeks=history_weeks)
    start, end = _midnight(first_week, f.tz), _midnight(origin, f.tz)
    sources = WEEKLY_SOURCES.format(slice=condition, counts=_counts_cte("counts", "week"))
    table = first_serving(f, PER_CATEGORY, bounds=(start, end))
    if table is not None:
        sources, rollup_params = _rollup_sources(f, table, "counts", "week")
        params = {**params, **rollup_params}
    rows = fetch_dicts(
        WEEKLY_SQL.format(slice=condition, sources=sources, groups=_groups_cte(f, "counts")),
        {
            "tz": str(f.tz),
            "start": start,
            "end": end,
            "first_week": first_week,
            "last_week": origin - timedelta(weeks=1),
            **params,
        },
    )
    data_start = rows[0]["data_start"] if rows else None
    if data_start is None:
        known_from = history_weeks
    else:
        first_local = data_start.astimezone(f.tz).date()
        first_data_week = first_local - timedelta(days=first_local.weekday())
        known_from = min(max((first_data_week - first_week).days // 7, 0), history_weeks)
    series: dict[int, list[int]] = {}
    groups: dict[int, Group] = {}
    for r in rows:  # ≤ 164 weekly rows per group
        series.setdefault(r["grp"], []).append(r["n"])
        groups.setdefault(r["grp"], _group(r))
    result = {
        key: _forecast_group(groups[key], values, known_from, origin, f.tz)
        for key, values in series.items()
    }
    return SubmissionForecast(
        origin=origin.isoformat(),
        history_start=_midnight(first_week, f.tz),
        history_weeks=history_weeks,
        method=FORECAST_METHOD,
        groups=_ordered(result),
    )


def _week(monday: date, tz: ZoneInfo, expected: float, actual: int | None) -> ForecastWeek:
    return ForecastWeek(
        week=monday.isoformat(),
        start=_midnight(monday, tz),
        end=_midnight(monday + timedelta(weeks=1), tz),
        expected=round(expected, 2),
        actual=actual,
    )


def _forecast_group(
    group: Group, series: list[int], known_from: int, origin: date, tz: ZoneInfo
) -> ForecastGroup:
    level, ahead = seasonal_naive_forecast(series, known_from=known_from)
    past, actuals = series[:-BACKTEST_WEEKS], series[-BACKTEST_WEEKS:]
    backtest: list[ForecastWeek] = []
    mae = mape = None
    mape_n = 0
    if known_from < len(past):  # some data before the backtest weeks to forecast them from
        _, predicted = seasonal_naive_forecast(past, known_from=known_from, horizon=len(actuals))
        mae, mape, mape_n = forecast_errors(predicted, actuals)
        first_backtest = origin - timedelta(weeks=len(actuals))
        backtest = [
            _week(first_backtest + timedelta(weeks=i), tz, p, a)
            for i, (p, a) in enumerate(zip(predicted, actuals, strict=True))
        ]
    return ForecastGroup(
        group=group,
        n=sum(series),
        level=round(level, 2),
        forecast=[_week(origin + timedelta(weeks=h), tz, v, None) for h, v in enumerate(ahead)],
        backtest=backtest,
        mae=None if mae is None else round(mae, 2),
        mape=None if mape is None else round(mape, 4),
        mape_n=mape_n,
    )


def kpi_submission_seasonality(
    *, f: KpiFilter, now: datetime, years: int = DEFAULT_YEARS, by_category: bool = False
) -> SeasonalityResult:
    """The window's heatmap and months, the seasonal index over ``years`` years before the
    window's end, and the 8-week forecast with its backtest: three SQL statements."""
    return SeasonalityResult(
        patterns=kpi_submission_patterns(f=f, now=now, by_category=by_category),
        seasonal=kpi_seasonal_index(f=f, now=now, years=years),
        forecast=kpi_submission_forecast(f=f, now=now, years=years),
    )
