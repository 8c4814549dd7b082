"""Seasonality: when cases arrive (weekday × hour), months, recurring peaks, the forecast.

One call to ``kpi_submission_seasonality`` (the endpoint's function); the page shows the
slice's overall group, so the category filter narrows every panel to that category.
"""

from __future__ import annotations

from calendar import month_abbr
from datetime import datetime

from dashboard import charts
from dashboard.panels import EMPTY, Panel, Table, Tile, count, decimal, num, percent, row_label
from metrics.drilldown import cases_link
from metrics.kpis import seasonality
from metrics.types import KpiFilter

WEEKDAY_LABELS = [day.title() for day in seasonality.WEEKDAYS]
HOUR_LABELS = [f"{hour:02d}" for hour in range(24)]
MONTH_LABELS = [month_abbr[m] for m in range(1, 13)]


def seasonality_panels(f: KpiFilter, now: datetime) -> list[Panel]:
    result = seasonality.kpi_submission_seasonality(f=f, now=now)
    pattern = result.patterns[0]  # everything in the slice
    seasonal = result.seasonal.groups[0] if result.seasonal.groups else None
    forecast = result.forecast.groups[0] if result.forecast.groups else None
    return [
        heatmap_panel(f, pattern),
        months_panel(f, pattern),
        seasonal_panel(f, seasonal, result.seasonal),
        forecast_panel(f, forecast, result.forecast),
    ]


def heatmap_panel(f: KpiFilter, pattern: seasonality.SubmissionPattern) -> Panel:
    return Panel(
        id="heatmap",
        title="When cases arrive",
        description=f"Cases opened in the period by weekday and hour, in {f.tz} "
        f"(n = {count(pattern.n)}). Darker cells had more cases.",
        chart=charts.heatmap_chart(
            WEEKDAY_LABELS, HOUR_LABELS, pattern.cells, label="Cases opened"
        ),
        chart_label="Heatmap: cases opened by weekday (rows) and hour of day (columns).",
        chart_height=300,
        tables=[
            Table(
                caption="Cases opened by weekday (rows) and hour of day (columns)",
                columns=["Weekday", *HOUR_LABELS],
                rows=[
                    [row_label(day), *(num(count(n)) for n in hours)]
                    for day, hours in zip(WEEKDAY_LABELS, pattern.cells, strict=True)
                ],
            )
        ],
        links=[("Cases opened in the period", cases_link(f))],
        wide=True,
    )


def months_panel(f: KpiFilter, pattern: seasonality.SubmissionPattern) -> Panel:
    labels = [m.label + (" (part)" if m.partial else "") for m in pattern.months]
    return Panel(
        id="months",
        title="Cases per month of the period",
        description="Cases opened in each calendar month of the period; a month the "
        "period covers only in part is marked.",
        chart=charts.bar_chart(
            labels, [("Cases opened", [m.n for m in pattern.months])], value_title="Cases"
        ),
        chart_label="Bar chart: cases opened per calendar month of the period.",
        tables=[
            Table(
                caption="Cases opened per month",
                columns=["Month", "Cases opened", "Whole month"],
                rows=[
                    [
                        row_label(m.label),
                        num(count(m.n), cases_link(f, start=m.start, end=m.end)),
                        num("no, part" if m.partial else "yes"),
                    ]
                    for m in pattern.months
                ],
            )
        ],
    )


def seasonal_panel(
    f: KpiFilter, group: seasonality.SeasonalGroup | None, index: seasonality.SeasonalIndex
) -> Panel:
    years = group.years if group else []
    series = []
    for year in years:  # at most 3 years × 12 months
        by_month: list[float | None] = [None] * 12
        for month in year.months:
            by_month[month.month_of_year - 1] = month.n
        series.append((year.label, by_month))
    peaks = group.recurring_peaks if group else []
    peak_words = (
        "; ".join(
            f"{month_abbr[p.month_of_year]} (index "
            + ", ".join(f"{i:.2f}" for i in p.indexes)
            + ")"
            for p in peaks
        )
        if peaks
        else "none: no month of the year peaks in more than one year"
    )
    return Panel(
        id="month-of-year",
        title="Month of the year",
        description=f"Cases per calendar month over the {index.years} twelve-month years "
        "before the period's end, one line per year. The seasonal index is a month's count "
        f"over its year's monthly mean; a month at {seasonality.PEAK_INDEX} or more in more "
        "than one year is a recurring peak. A year that starts before the first case has "
        "no index.",
        tiles=[Tile("Recurring peaks", str(len(peaks)), peak_words)],
        chart=charts.line_chart(MONTH_LABELS, series, y_title="Cases", x_title="Month of the year"),
        chart_label="Line chart: cases per month of the year, one line per twelve-month year.",
        tables=[
            Table(
                caption=f"Cases and seasonal index per month, year {year.label}"
                + (" (starts before the data: no index)" if year.partial else ""),
                columns=["Month", "Cases", "Seasonal index"],
                rows=[
                    [
                        row_label(m.label),
                        num(count(m.n), cases_link(f, start=m.start, end=m.end)),
                        num(decimal(m.index)),
                    ]
                    for m in year.months
                ],
            )
            for year in years
        ],
    )


def forecast_panel(
    f: KpiFilter,
    group: seasonality.ForecastGroup | None,
    forecast: seasonality.SubmissionForecast,
) -> Panel:
    if group is None:
        return Panel(id="forecast", title="Forecast: the next 8 weeks", description="No data.")
    weeks = [w.week for w in group.backtest] + [w.week for w in group.forecast]
    actual = [w.actual for w in group.backtest] + [None] * len(group.forecast)
    expected = [w.expected for w in group.backtest] + [w.expected for w in group.forecast]
    return Panel(
        id="forecast",
        title=f"Forecast: the next {seasonality.FORECAST_WEEKS} weeks",
        description=f"Expected cases per week (weeks start on Monday, {f.tz}): "
        f"{forecast.method}. The same method forecast the last "
        f"{len(group.backtest)} complete weeks; the errors say how far off it was.",
        tiles=[
            Tile("Level (recent weekly mean)", decimal(group.level, 1)),
            Tile("Backtest mean absolute error", decimal(group.mae, 1), "cases per week"),
            Tile(
                "Backtest mean absolute % error",
                percent(group.mape) if group.mape is not None else EMPTY,
                f"over {group.mape_n} weeks with cases",
            ),
        ],
        chart=charts.line_chart(
            weeks,
            [("Actual", actual), ("Forecast", expected)],
            y_title="Cases per week",
            x_title="Week starting",
        ),
        chart_label="Line chart: actual cases per week in the backtest weeks and the "
        "forecast for them and for the next 8 weeks.",
        tables=[
            Table(
                caption="Backtest: forecast against what happened",
                columns=["Week starting", "Forecast", "Actual"],
                rows=[
                    [
                        row_label(w.week),
                        num(decimal(w.expected, 1)),
                        num(count(w.actual), cases_link(f, start=w.start, end=w.end)),
                    ]
                    for w in group.backtest
                ],
            ),
            Table(
                caption="Forecast for the next weeks",
                columns=["Week starting", "Expected cases"],
                rows=[[row_label(w.week), num(decimal(w.expected, 1))] for w in group.forecast],
            ),
        ],
    )
