"""Links from a figure to the cases behind it: the case list with the same filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from metrics.types import KpiFilter

CASES_URL = "/api/v1/cases/"


def cases_link(
    f: KpiFilter,
    *,
    period_field: str | None = "opened",
    start: datetime | None = None,
    end: datetime | None = None,
    **extra: Any,
) -> str:
    """The case-list URL for a figure: the filter's slice, its period on ``period_field``
    (``opened``, ``resolved`` or None for "open now"), plus the row's own key in ``extra``
    (any case-list filter of cases/filters.py; a list value repeats the parameter)."""
    params: list[tuple[str, Any]] = []
    if period_field:
        params += [
            (f"{period_field}_after", (start or f.start).isoformat()),
            (f"{period_field}_before", (end or f.end).isoformat()),
        ]
    if f.team_ids and len(f.team_ids) == 1:
        params.append(("team", f.team_ids[0]))
    if f.rep_ids and len(f.rep_ids) == 1 and "rep" not in extra and "resolved_by" not in extra:
        params.append(("resolved_by" if period_field == "resolved" else "rep", f.rep_ids[0]))
    if f.category_ids and "category_id" not in extra:
        params.append(("category_id", ",".join(str(c) for c in f.category_ids)))
    for name, values in (
        ("channel", f.channels),
        ("priority", f.priorities),
        ("segment", f.segments),
    ):
        if values and name not in extra:
            params += [(name, v) for v in values]
    for name, value in extra.items():
        if isinstance(value, list | tuple):
            params += [(name, v) for v in value]  # repeated: ?status=new&status=open
        elif value is not None:
            params.append((name, value))
    return f"{CASES_URL}?{urlencode(params)}"
