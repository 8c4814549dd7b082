"""Accounts at risk: the riskiest accounts in scope, what makes up their score, their cases."""

from __future__ import annotations

from datetime import datetime

from dashboard import charts
from dashboard.figures import links
from dashboard.panels import (
    EMPTY,
    Cell,
    Panel,
    Table,
    Tile,
    count,
    decimal,
    insufficient,
    num,
    percent,
    percent_interval,
    row_label,
)
from metrics.drilldown import cases_link
from metrics.kpis import accounts
from metrics.types import KpiFilter

FACTOR_LABELS = {
    "volume_trend": "More cases than before",
    "volume_vs_value": "Many cases for its value",
    "csat": "Low CSAT",
    "detractors": "Detractors",
    "reopens": "Reopens",
    "open_backlog": "Open backlog",
}
CHART_ROWS = 10


def accounts_panels(f: KpiFilter, now: datetime, *, min_n: int, limit: int = 25) -> list[Panel]:
    page = accounts.kpi_account_risk(f=f, now=now, limit=limit, ordering="-risk", min_n=min_n)
    turnover = accounts.kpi_account_turnover(f=f, now=now)
    churn_interval = percent_interval(turnover.rate.low, turnover.rate.high)
    shown = page.rows[:CHART_ROWS]
    factor_series = [
        (FACTOR_LABELS[fd.name], [a.factors[i].points for a in shown])
        for i, fd in enumerate(accounts.FACTORS)
    ]
    return [
        Panel(
            id="risk",
            title="Accounts at risk",
            description=f"The {len(page.rows)} accounts with the highest risk score (0–100) "
            f"of the {count(page.total)} in scope, and the factors that make it up. Each "
            "factor scores up to its weight; rates over few cases are shrunk toward the "
            f"peers' rate. The chart shows the first {len(shown)}; the table lists all "
            f"{len(page.rows)}.",
            tiles=[
                Tile(
                    "Account turnover",
                    percent(turnover.rate.value),
                    f"{count(turnover.churned)} of {count(turnover.n)} active at the start "
                    f"churned (95% interval {churn_interval})",
                ),
                Tile("Accounts in scope", count(page.total)),
            ],
            chart=charts.bar_chart(
                [a.name for a in shown],
                factor_series,
                value_title="Risk points",
                horizontal=True,
                stacked=True,
            ),
            chart_label=f"Stacked bar chart: the risk score of the {len(shown)} riskiest "
            "accounts, split into its factors.",
            chart_height=max(160, 80 + 34 * len(shown)),
            tables=[
                Table(
                    caption="Riskiest accounts, their factors and cases",
                    columns=[
                        "Account",
                        "Segment",
                        "Risk",
                        "Main factors (points)",
                        "Cases (previous period)",
                        "Open now",
                        "Reopened",
                        "Mean CSAT",
                    ],
                    rows=[_row(f, page, a, min_n) for a in page.rows],
                    note="Case counts link to the account's cases in the period; open counts "
                    "to its open cases now.",
                )
            ],
            wide=True,
        )
    ]


def _row(
    f: KpiFilter, page: accounts.AccountRiskPage, a: accounts.AccountFigures, min_n: int
) -> list[Cell]:
    account = {"account": a.external_id}
    factors = sorted((x for x in a.factors if x.points > 0), key=lambda x: -x.points)
    csat = (
        insufficient(a.csat.n, min_n)
        if a.csat.insufficient_data
        else f"{decimal(a.csat.mean)} (n = {a.csat.n})"
    )
    return [
        row_label(f"{a.name} ({a.external_id})"),
        Cell(a.segment.replace("_", " ")),
        num(decimal(a.risk, 1)),
        Cell("; ".join(f"{FACTOR_LABELS[x.name]} {x.points:.1f}" for x in factors) or EMPTY),
        num(
            f"{count(a.cases)} ({count(a.previous_cases)})",
            cases_link(f, start=page.period_start, end=page.period_end, **account),
        ),
        num(count(a.open_now), links.open_cases(f, **account)),
        num(f"{count(a.reopened)} ({percent(a.reopen_rate.value, 0)})"),
        num(csat),
    ]
