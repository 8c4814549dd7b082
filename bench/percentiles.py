"""How far the duration rollup's median and p90 are from ``percentile_cont``, measured on
the benchmark's data set for each window and scope the endpoints were timed with.

The default response- and resolution-time request estimates its percentiles from
log-spaced buckets (metrics.rollups.durations); docs/metrics.md promises at most
``max_relative_error()`` (1.98%). This is the measured error beside that bound.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.endpoints import Subjects, Window
from metrics.kpis.times import percentile_error
from metrics.rollups.durations import max_relative_error
from metrics.rollups.read import rollups_enabled
from metrics.types import KpiFilter

MEASURES = ("first_response", "resolution")


def measure_errors(
    windows: Sequence[Window], subjects: Subjects, log: Callable[[str], None]
) -> dict[str, Any]:
    """The relative error of each estimate, per measure, window and scope (UTC days, as the
    benchmark's URLs ask for them)."""
    bound = max_relative_error()
    if not rollups_enabled():  # every percentile is percentile_cont itself
        return {"bound": bound, "worst": None, "within_bound": True, "rows": []}
    rows: list[dict[str, Any]] = []
    measured: list[float] = []
    utc = ZoneInfo("UTC")
    for window in windows:
        start = datetime.combine(window.first_day, time(0), tzinfo=utc)
        end = datetime.combine(window.last_day + timedelta(days=1), time(0), tzinfo=utc)
        for scope, teams in (("all", None), ("team", (subjects.team_id,))):
            f = KpiFilter(start=start, end=end, tz=utc, team_ids=teams)
            for measure in MEASURES:
                errors = percentile_error(f, measure)
                rows.append({"measure": measure, "window": window.label, "scope": scope, **errors})
                measured += [e for e in errors.values() if e is not None]
                log(
                    f"percentile estimate {measure:15s} {window.label:4s} {scope:5s} "
                    + "  ".join(f"{name} {_pct(errors[name])}" for name in ("median", "p90"))
                    + f"  (bound {bound:.2%})"
                )
    worst = max(measured, default=None)
    return {
        "bound": bound,
        "worst": worst,
        "within_bound": worst is None or worst <= bound,
        "rows": rows,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3%}"
