"""Drill-down links from the dashboard's figures to the case list, as the KPI endpoints make
them (metrics.drilldown.cases_link with the same filters each endpoint uses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from cases.models import OPEN_STATUSES
from metrics.drilldown import cases_link
from metrics.types import KpiFilter

OPEN = [str(s) for s in OPEN_STATUSES]
RepUrl = Callable[[int], str]


def attributed(f: KpiFilter, param: str) -> tuple[KpiFilter, dict[str, Any]]:
    """A one-rep slice as the parameter the figure attributes cases by (``first_responder``,
    ``survey_rep``): the case list would read the plain rep filter as the assignee."""
    if f.rep_ids is not None and len(f.rep_ids) == 1:
        return replace(f, rep_ids=None), {param: f.rep_ids[0]}
    return f, {}


def open_cases(f: KpiFilter, **extra: Any) -> str:
    """Open now (status new, open or pending): the backlog's cases."""
    return cases_link(f, period_field=None, status=OPEN, **extra)


def opened_on(f: KpiFilter, day: date) -> str:
    """Cases opened on a local calendar day (in the filter's time zone), within the window."""
    start = max(datetime.combine(day, time(0), tzinfo=f.tz), f.start)
    end = min(datetime.combine(day + timedelta(days=1), time(0), tzinfo=f.tz), f.end)
    return cases_link(f, start=start, end=end)


def first_responded(f: KpiFilter) -> str:
    """Cases first responded to in the window, by their first responder."""
    g, extra = attributed(f, "first_responder")
    return cases_link(g, period_field="first_response", **extra)


def resolved(f: KpiFilter, **extra: Any) -> str:
    """Cases whose latest resolution is in the window (``resolved_by`` for a one-rep slice)."""
    return cases_link(f, period_field="resolved", **extra)


def answered(f: KpiFilter, *, rep: int | None = None) -> str:
    """Cases with a survey answer in the window, for one rep's answers when ``rep`` is set."""
    g, extra = attributed(f, "survey_rep")
    if rep is not None:
        extra["survey_rep"] = rep
    return cases_link(g, period_field="responded", **extra)
