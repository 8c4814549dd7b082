"""A rep's coaching page: their figures beside their team's for the same case mix (the
coaching KPI), the same by category, and their monthly trend. Nothing is ranked.

A rep's own figures below the minimum sample are shown as "insufficient data", never as a
number or a bar; team figures (a group, not one person) are always shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dashboard import charts
from dashboard.panels import (
    EMPTY,
    Cell,
    Panel,
    Table,
    count,
    duration,
    duration_interval,
    insufficient,
    num,
    percent,
    percent_interval,
    row_label,
)
from metrics.drilldown import cases_link
from metrics.kpis import coaching, csat, fcr, times
from metrics.kpis.coaching import CoachingFigure, CoachingResult, Side
from metrics.kpis.fcr import FcrFigure
from metrics.kpis.times import DurationFigure
from metrics.types import KpiFilter

RATE_FIGURES = ("fcr", "reopen", "csat")


@dataclass(frozen=True)
class CoachingPage:
    result: CoachingResult
    panels: list[Panel]


def own_cases_link(f: KpiFilter, figure: str, rep: int) -> str:
    """The rep's cases behind a figure, as the coaching endpoint links them."""
    own = replace(f, rep_ids=None, team_ids=None)
    if figure == "first_response_time":
        return cases_link(own, period_field="first_response", first_responder=rep)
    if figure == "csat":
        return cases_link(own, period_field="responded", survey_rep=rep)
    if figure == "fcr":
        return cases_link(own, period_field="resolved", resolved_by=rep, agent_responses_min=1)
    return cases_link(own, period_field="resolved", resolved_by=rep)


def coaching_page(f: KpiFilter, now: datetime, *, rep_id: int, min_n: int) -> CoachingPage:
    """``f`` is the page's slice with the rep as its rep filter (so the viewer's scope was
    checked); the team side is the rep's own team."""
    result = coaching.kpi_rep_coaching(f=f, now=now, rep_id=rep_id, min_n=min_n)
    rep_f = replace(f, rep_ids=(rep_id,), team_ids=None)
    team_f = replace(f, rep_ids=None, team_ids=(result.team,))
    return CoachingPage(
        result=result,
        panels=[
            figures_panel(f, result),
            category_panel(rep_f, team_f, now, min_n=min_n),
            trend_panel(rep_f, now, min_n=min_n),
        ],
    )


def _value(kind: str, value: float | None) -> str:
    if kind == "rate":
        return percent(value)
    if kind == "duration":
        return duration(value)
    return EMPTY if value is None else f"{value:,.1f}".removesuffix(".0")


def _side_text(kind: str, side: Side, min_n: int | None) -> str:
    if side.insufficient_data and min_n is not None:
        return insufficient(side.n, min_n)
    if side.value is None:
        return EMPTY
    text = _value(kind, side.value)
    if kind == "rate":
        text += f" ({percent_interval(side.low, side.high)})"
    elif kind == "duration" and side.low is not None:
        text += f" ({duration_interval(side.low, side.high)}; median {duration(side.median)})"
    return text


def figures_panel(f: KpiFilter, result: CoachingResult) -> Panel:
    rates = [fig for fig in result.figures if fig.figure in RATE_FIGURES]
    labels = [
        fig.label + (" — insufficient data" if fig.rep.insufficient_data else "") for fig in rates
    ]
    return Panel(
        id="figures",
        title=f"{result.rep_label} beside the team",
        description="Each figure of the period beside what the team would have on the same "
        "mix of category, channel and priority (the team is the rep's teammates). "
        f"Below {result.min_n} cases a figure is not compared.",
        chart=charts.bar_chart(
            labels,
            [
                (
                    result.rep_label,
                    [None if fig.rep.insufficient_data else fig.rep.value for fig in rates],
                ),
                (
                    "Team, same case mix",
                    [fig.vs_team.expected if fig.vs_team else None for fig in rates],
                ),
            ],
            value_title="Share",
            value_format="percent",
            horizontal=True,
        ),
        chart_label="Bar chart: the rep's rates beside the team's for the same case mix.",
        chart_height=220,
        tables=[
            Table(
                caption="Figures beside the team (95% intervals in brackets)",
                columns=["Figure", "Rep", "Team, same case mix", "Team", "What it says"],
                rows=[_figure_row(f, result, fig) for fig in result.figures],
            ),
            Table(
                caption=f"This month so far ({result.this_month}) against last month "
                f"({result.last_month})",
                columns=["Figure", "This month", "Last month", "What it says"],
                rows=[
                    [
                        row_label(fig.label),
                        num(_side_text(fig.kind, fig.month_on_month.this_month, result.min_n)),
                        num(_side_text(fig.kind, fig.month_on_month.last_month, result.min_n)),
                        Cell(fig.month_on_month.statement),
                    ]
                    for fig in result.figures
                ],
            ),
        ],
        wide=True,
    )


def _figure_row(f: KpiFilter, result: CoachingResult, fig: CoachingFigure) -> list[Cell]:
    expected = fig.vs_team.expected if fig.vs_team else None
    rep_text = _side_text(fig.kind, fig.rep, result.min_n)
    if fig.kind == "count":
        team_text = f"{_value('count', fig.team.value)} per teammate"
    else:
        team_text = _side_text(fig.kind, fig.team, None)
    statement = fig.vs_team.statement if fig.vs_team else fig.month_on_month.statement
    return [
        row_label(fig.label),
        num(f"{rep_text} · n = {count(fig.rep.n)}", own_cases_link(f, fig.figure, result.rep)),
        num(_value(fig.kind, expected) if fig.vs_team and expected is not None else EMPTY),
        num(f"{team_text} · n = {count(fig.team.n)}"),
        Cell(statement),
    ]


def _rep_figure(text: str, n: int, min_n: int) -> str:
    return insufficient(n, min_n) if n < min_n else text


def category_panel(rep_f: KpiFilter, team_f: KpiFilter, now: datetime, *, min_n: int) -> Panel:
    """Resolution time and FCR per category, the rep's beside the whole team's."""
    by_category: dict[Any, dict[str, Any]] = {}
    for side, g in (("rep", rep_f), ("team", team_f)):
        for row in times.kpi_resolution_time(f=g, now=now, group_by="category").rows:
            by_category.setdefault(row.key, {"label": row.label})[f"{side}_time"] = row.figure
        for row in fcr.kpi_first_contact_resolution(f=g, now=now, group_by="category").rows:
            by_category.setdefault(row.key, {"label": row.label})[f"{side}_fcr"] = row.figure
    categories = sorted(by_category.values(), key=lambda c: c["label"] or "")
    categories = [c for c in categories if "rep_time" in c]  # where the rep resolved cases
    rows, labels, rep_medians, team_medians = [], [], [], []
    for c in categories:  # one row per category, already aggregated
        rep_time: DurationFigure = c["rep_time"]
        team_time: DurationFigure | None = c.get("team_time")
        rep_fcr: FcrFigure | None = c.get("rep_fcr")
        team_fcr: FcrFigure | None = c.get("team_fcr")
        if rep_time.stats.n >= min_n and rep_time.stats.median is not None:
            labels.append(c["label"])
            rep_medians.append(rep_time.stats.median / 3600)
            team_medians.append(
                team_time.stats.median / 3600
                if team_time and team_time.stats.median is not None
                else None
            )
        rows.append(
            [
                row_label(c["label"]),
                num(count(rep_time.stats.n)),
                num(_rep_figure(duration(rep_time.stats.median), rep_time.stats.n, min_n)),
                num(duration(team_time.stats.median) if team_time else EMPTY),
                num(
                    _rep_figure(percent(rep_fcr.fcr.value), rep_fcr.fcr.n, min_n)
                    if rep_fcr
                    else EMPTY
                ),
                num(percent(team_fcr.fcr.value) if team_fcr else EMPTY),
            ]
        )
    chart = (
        charts.bar_chart(
            labels,
            [("Rep, median", rep_medians), ("Team, median", team_medians)],
            value_title="Median resolution time (hours)",
            value_format="hours",
            horizontal=True,
        )
        if labels
        else None
    )
    return Panel(
        id="by-category",
        title="By category",
        description="Median resolution time and first contact resolution of the cases "
        "resolved in the period, per category where the rep resolved cases: the rep's beside "
        "the whole team's (the rep included). The chart shows the categories with at least "
        f"{min_n} of the rep's cases"
        + ("." if labels else "; there are none in this period, so only the table."),
        chart=chart,
        chart_label="Bar chart: median resolution time per category, the rep's beside the team's.",
        chart_height=max(160, 60 + 44 * len(labels)),
        tables=[
            Table(
                caption="Per category: the rep beside the team",
                columns=[
                    "Category",
                    "Rep's resolved cases",
                    "Rep's median resolution",
                    "Team's median resolution",
                    "Rep's FCR",
                    "Team's FCR",
                ],
                rows=rows,
            )
        ],
        links=[("The rep's resolved cases", cases_link(rep_f, period_field="resolved"))],
    )


def trend_panel(rep_f: KpiFilter, now: datetime, *, min_n: int) -> Panel:
    """The rep's months: resolved cases, median resolution time, CSAT."""
    months = times.kpi_resolution_time(f=rep_f, now=now, group_by="month").rows
    answers = csat.kpi_csat_by_representative(f=rep_f, now=now, group_by="month", min_n=min_n)
    trend = answers.trend[0].months if answers.trend else []
    satisfied = {m.month: m for m in trend}
    labels = [str(m.key)[:7] for m in months]
    shares = []
    rows = []
    for month, label in zip(months, labels, strict=True):  # one row per calendar month
        answer = satisfied.get(label)
        share = answer.satisfied if answer else None
        shares.append(share.value if share and not share.insufficient_data else None)
        n = month.figure.stats.n
        rows.append(
            [
                row_label(label),
                num(
                    count(month.figure.cases),
                    cases_link(rep_f, period_field="resolved", **_month_bounds(rep_f, month.key)),
                ),
                num(_rep_figure(duration(month.figure.stats.median), n, min_n)),
                num(count(answer.responses) if answer else "0"),
                num(
                    EMPTY
                    if share is None
                    else insufficient(share.n, min_n)
                    if share.insufficient_data
                    else f"{percent(share.value)} ({percent_interval(share.low, share.high)})"
                ),
            ]
        )
    return Panel(
        id="trend",
        title="Month by month",
        description="The rep's resolved cases, median resolution time and satisfied share "
        "per calendar month of the period.",
        chart=charts.line_chart(
            labels,
            [("Satisfied share", shares)],
            y_title="Satisfied share",
            y_format="percent",
        ),
        chart_label="Line chart: the rep's satisfied share per month; months with "
        "insufficient data have no point.",
        tables=[
            Table(
                caption="The rep's months",
                columns=[
                    "Month",
                    "Resolved",
                    "Median resolution",
                    "Answers",
                    "Satisfied share (95% interval)",
                ],
                rows=rows,
            )
        ],
    )


def _month_bounds(f: KpiFilter, first_day: Any) -> dict[str, datetime]:
    start, end = times.bucket_bounds(f, "month", first_day)
    return {"start": start, "end": end}
