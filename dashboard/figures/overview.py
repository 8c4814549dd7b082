"""The team overview: backlog, response and resolution times, FCR, SLA, load and CSAT.

Each panel is one call to the KPI function its endpoint uses (metrics/kpis), shaped for the
page: a chart, the same numbers as a table, and links to the cases behind them.
"""

from __future__ import annotations

from datetime import date, datetime

from dashboard import charts
from dashboard.figures import links
from dashboard.figures.links import RepUrl
from dashboard.panels import (
    EMPTY,
    Cell,
    Panel,
    Table,
    Tile,
    count,
    duration,
    duration_interval,
    insufficient,
    num,
    percent,
    percent_interval,
    row_label,
)
from metrics.kpis import backlog, csat, fcr, load, times
from metrics.kpis.load import LoadCount
from metrics.kpis.times import DurationResult
from metrics.stats import Proportion
from metrics.types import KpiFilter

AGE_LABELS = {
    "lt_1d": "Under 1 day",
    "d1_3": "1–3 days",
    "d3_7": "3–7 days",
    "d7_30": "7–30 days",
    "gt_30d": "Over 30 days",
}
HISTOGRAM_LABELS = {
    "lt_1h": "Under 1 h",
    "h1_4": "1–4 h",
    "h4_8": "4–8 h",
    "h8_24": "8–24 h",
    "d1_3": "1–3 days",
    "d3_7": "3–7 days",
    "gte_7d": "7 days or more",
}


def overview_panels(f: KpiFilter, now: datetime, *, min_n: int, rep_url: RepUrl) -> list[Panel]:
    """The overview's panels, in reading order."""
    resolution = times.kpi_resolution_time(f=f, now=now, min_n=min_n)
    return [
        backlog_panel(f, now),
        duration_panel(
            f,
            times.kpi_first_response_time(f=f, now=now, min_n=min_n),
            panel_id="response-time",
            title="First response time",
            what="cases first responded to in the period",
            href=links.first_responded(f),
        ),
        duration_panel(
            f,
            resolution,
            panel_id="resolution-time",
            title="Resolution time",
            what="cases resolved in the period",
            href=links.resolved(f),
        ),
        quality_panel(f, now, resolution, min_n=min_n),
        load_panel(f, now, min_n=min_n, rep_url=rep_url),
        csat_panel(f, now, min_n=min_n, rep_url=rep_url),
    ]


def backlog_panel(f: KpiFilter, now: datetime) -> Panel:
    result = backlog.kpi_backlog(f=f, now=now, group_by=None)
    days = [d.day for d in result.trend]
    return Panel(
        id="backlog",
        title="Backlog",
        description="Open cases (new, open or pending) now by age, and the number open at "
        "the end of each day of the period.",
        tiles=[Tile("Open now", count(result.open_now), href=links.open_cases(f))],
        chart=charts.line_chart(
            days,
            [("Open at the end of the day", [d.open_at_end for d in result.trend])],
            y_title="Open cases",
        ),
        chart_label="Line chart: open cases at the end of each day of the period.",
        tables=[
            Table(
                caption="Open cases now by age",
                columns=["Age", "Open cases"],
                rows=[
                    [row_label(AGE_LABELS[name]), num(count(n))] for name, n in result.age.items()
                ],
            ),
            Table(
                caption="Backlog at the end of each day",
                columns=["Day", "Open at end of day", "Opened", "Resolved", "Reopened"],
                rows=[
                    [
                        row_label(d.day),
                        num(count(d.open_at_end)),
                        num(count(d.opened), links.opened_on(f, date.fromisoformat(d.day))),
                        num(count(d.resolved)),
                        num(count(d.reopened)),
                    ]
                    for d in result.trend
                ],
            ),
        ],
        links=[("Open cases now", links.open_cases(f))],
    )


def duration_panel(
    f: KpiFilter,
    result: DurationResult,
    *,
    panel_id: str,
    title: str,
    what: str,
    href: str,
) -> Panel:
    figure = result.overall
    stats = figure.stats
    basis = "business hours" if result.basis == "business" else "calendar time"
    tiles = [
        Tile("Median", duration(stats.median), f"n = {count(stats.n)}", href),
        Tile(
            "Mean",
            duration(stats.mean),
            f"95% interval {duration_interval(figure.mean_low, figure.mean_high)}",
        ),
        Tile("90th percentile", duration(stats.p90)),
    ]
    return Panel(
        id=panel_id,
        title=title,
        description=f"Distribution over the {what} ({basis}).",
        tiles=tiles,
        chart=charts.bar_chart(
            [HISTOGRAM_LABELS[name] for name in figure.histogram],
            [("Cases", list(figure.histogram.values()))],
            value_title="Cases",
            label_title=title,
        ),
        chart_label=f"Bar chart: {title.lower()} of the {what}, by duration bucket.",
        tables=[
            Table(
                caption=f"{title}: cases per duration bucket (n = {count(stats.n)})",
                columns=["Duration", "Cases"],
                rows=[
                    [row_label(HISTOGRAM_LABELS[name]), num(count(n))]
                    for name, n in figure.histogram.items()
                ],
            )
        ],
        links=[(f"The {count(figure.cases)} {what}", href)],
    )


def sla_tile(attainment: Proportion, no_target: int) -> Tile:
    return Tile(
        "SLA attained",
        percent(attainment.value),
        f"95% interval {percent_interval(attainment.low, attainment.high)}; "
        f"n = {count(attainment.n)}; {count(no_target)} without a target",
    )


def _share_tile(label: str, share: Proportion, href: str | None) -> Tile:
    return Tile(
        label,
        percent(share.value),
        f"95% interval {percent_interval(share.low, share.high)}; "
        f"{count(share.count)} of {count(share.n)}",
        href,
    )


def quality_panel(f: KpiFilter, now: datetime, resolution: DurationResult, *, min_n: int) -> Panel:
    result = fcr.kpi_first_contact_resolution(f=f, now=now, min_n=min_n).overall
    tiles = [
        _share_tile(
            "First contact resolution",
            result.fcr,
            links.resolved(f, agent_responses_min=1, agent_responses_max=1, reopened="false"),
        ),
        _share_tile("Reopen rate", result.reopen_rate, links.resolved(f, reopened="true")),
        Tile(
            "Resolved without a response",
            count(result.zero_touch),
            "outside FCR",
            links.resolved(f, agent_responses_max=0),
        ),
    ]
    sla = resolution.overall.sla
    if sla is not None:
        tiles.append(sla_tile(sla.attainment, sla.no_target))
    return Panel(
        id="quality",
        title="First contact resolution, reopens and SLA",
        description="Of the cases resolved in the period: resolved with exactly one agent "
        "response and never reopened (cases resolved without a response are left out), "
        "reopened at least once, and resolved within their category's target.",
        tiles=tiles,
        links=[(f"The {count(result.resolved)} cases resolved in the period", links.resolved(f))],
    )


def _share(c: LoadCount, min_n: int) -> str:
    if c.share is None:
        return "outside the spread"
    if c.share.insufficient_data:
        return insufficient(c.share.n, min_n)
    return f"{percent(c.share.value)} ({percent_interval(c.share.low, c.share.high)})"


def load_panel(f: KpiFilter, now: datetime, *, min_n: int, rep_url: RepUrl) -> Panel:
    result = load.kpi_case_load(f=f, now=now, min_n=min_n)
    names = [r.name for r in result.reps]
    return Panel(
        id="load",
        title="Case load balance",
        description="Cases each person took on and resolved in the period (alphabetical), "
        "their share of the team's total against an equal share, and the Gini coefficient "
        "of each team (0 = perfectly even).",
        chart=charts.bar_chart(
            names,
            [
                ("Taken on", [r.taken_on.n for r in result.reps]),
                ("Resolved", [r.resolved.n for r in result.reps]),
            ],
            value_title="Cases",
            horizontal=True,
        ),
        chart_label="Bar chart: cases taken on and resolved per person, alphabetical.",
        chart_height=max(160, 60 + 34 * len(names)),
        tables=[
            Table(
                caption="Case load per person (alphabetical)",
                columns=[
                    "Person",
                    "Taken on",
                    "Share taken on (95% interval)",
                    "Resolved",
                    "Share resolved (95% interval)",
                    "Equal share",
                ],
                rows=[
                    [
                        row_label(r.name, rep_url(r.rep)),
                        num(count(r.taken_on.n)),
                        num(_share(r.taken_on, min_n)),
                        num(count(r.resolved.n)),
                        num(_share(r.resolved, min_n)),
                        num(percent(r.resolved.equal_share)),
                    ]
                    for r in result.reps
                ],
                note="These counts come from assignment and resolution events, which the "
                "case list cannot select exactly: there is no case link here. Names open the "
                "person's coaching page.",
            ),
            Table(
                caption="Spread within each team",
                columns=["Team", "Reps", "Taken on", "Resolved", "Gini taken on", "Gini resolved"],
                rows=[
                    [
                        row_label(t.name),
                        num(count(t.reps)),
                        num(count(t.taken_on)),
                        num(count(t.resolved)),
                        num(_gini(t.taken_on_gini)),
                        num(_gini(t.resolved_gini)),
                    ]
                    for t in result.teams
                ],
            ),
        ],
    )


def _gini(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.2f}"


def csat_panel(f: KpiFilter, now: datetime, *, min_n: int, rep_url: RepUrl) -> Panel:
    result = csat.kpi_csat_by_representative(f=f, now=now, group_by="rep", min_n=min_n)
    overall = result.overall
    labels, estimates, rows = [], [], []
    for row in result.rows:  # one row per rep, alphabetical (the KPI's order)
        name = row.label or "No rep (unattributed)"
        satisfied = row.figures.satisfied
        if satisfied.insufficient_data:
            labels.append(f"{name} — insufficient data")
            share_text, interval_text = insufficient(satisfied.n, min_n), EMPTY
        else:
            labels.append(name)
            share_text = percent(satisfied.value)
            interval_text = percent_interval(satisfied.low, satisfied.high)
        estimates.append((satisfied.value, satisfied.low, satisfied.high))
        rate = row.figures.response_rate
        rows.append(
            [
                row_label(name, rep_url(row.key) if isinstance(row.key, int) else None),
                num(count(row.figures.responses)),
                num(share_text),
                num(interval_text),
                num(insufficient(rate.n, min_n) if rate.insufficient_data else percent(rate.value)),
                Cell(
                    f"cases answered for {name}" if row.key is not None else EMPTY,
                    href=links.answered(f, rep=row.key) if row.key is not None else None,
                ),
            ]
        )
    return Panel(
        id="csat",
        title="CSAT per rep",
        description="Share of survey answers rating 4 or 5 of 5, with its 95% interval. "
        "Reps in alphabetical order; below "
        f"{min_n} answers a rep's figure is not shown.",
        tiles=[
            _share_tile("Satisfied (everyone here)", overall.satisfied, links.answered(f)),
            Tile(
                "NPS",
                EMPTY if overall.nps.value is None else f"{overall.nps.value:.0f}",
                f"n = {count(overall.nps.n)}",
            ),
        ],
        chart=charts.interval_chart(labels, estimates, value_title="Satisfied share"),
        chart_label="Interval chart: satisfied share per rep with its 95% interval, "
        "alphabetical; reps with insufficient data have no bar.",
        chart_height=max(160, 60 + 30 * len(labels)),
        tables=[
            Table(
                caption="CSAT per rep (alphabetical)",
                columns=[
                    "Rep",
                    "Answers",
                    "Satisfied share",
                    "95% interval",
                    "Response rate",
                    "Answered cases",
                ],
                rows=rows,
            )
        ],
        links=[("Cases answered in the period", links.answered(f))],
    )
