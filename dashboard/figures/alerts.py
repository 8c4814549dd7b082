"""Detractor recovery figures for the alerts page: the recovery KPI of the period."""

from __future__ import annotations

from datetime import datetime

from dashboard.panels import (
    EMPTY,
    Panel,
    Tile,
    count,
    duration,
    insufficient,
    percent,
    percent_interval,
)
from metrics.kpis import recovery
from metrics.types import KpiFilter


def recovery_panel(f: KpiFilter, now: datetime, *, min_n: int) -> Panel:
    """How fast the team gets back to unhappy customers and how often it wins them back,
    over the alerts raised in the period."""
    figures = recovery.kpi_detractor_recovery(f=f, now=now, min_n=min_n).overall
    first_contact = figures.time_to_first_contact
    rate = figures.recovery_rate
    return Panel(
        id="recovery",
        title="Closing the loop in the period",
        description="Of the detractor alerts raised in the period: how many were contacted, "
        "how long the first contact took, and the share of closed alerts that ended "
        "recovered.",
        tiles=[
            Tile("Alerts raised", count(figures.alerts)),
            Tile("Contacted", count(figures.contacted)),
            Tile(
                "Median time to first contact",
                insufficient(first_contact.n, min_n)
                if first_contact.insufficient_data
                else duration(first_contact.median),
                f"n = {count(first_contact.n)}",
            ),
            Tile(
                "Recovered",
                insufficient(rate.n, min_n) if rate.insufficient_data else percent(rate.value),
                f"95% interval {percent_interval(rate.low, rate.high)}; "
                f"{count(figures.recovered)} of {count(figures.closed)} closed"
                if rate.n
                else EMPTY,
            ),
        ],
        wide=True,
    )
