"""Helpers for the KPIs written in SQL (window functions, generate_series, FILTER)."""

from __future__ import annotations

from typing import Any

from django.db import connection

from metrics.types import KpiFilter


def slice_sql(
    f: KpiFilter, *, alias: str = "c", rep_column: str = "assignee_id"
) -> tuple[str, dict[str, Any]]:
    """The filter's slice (not its period) as a SQL condition on the case table ``alias``,
    with named parameters (``%(slice_…)s``) to merge into the query's own."""
    parts: list[str] = ["TRUE"]
    params: dict[str, Any] = {}

    def any_of(column: str, values: tuple[Any, ...] | None) -> None:
        if values is not None:
            name = f"slice_{column}"
            parts.append(f"{alias}.{column} = ANY(%({name})s)")
            params[name] = list(values)

    any_of("team_id", f.team_ids)
    any_of(rep_column, f.rep_ids)
    any_of("category_id", f.category_ids)
    any_of("channel", f.channels)
    any_of("priority", f.priorities)
    if f.segments is not None:
        parts.append(
            f"EXISTS (SELECT 1 FROM cases_account a WHERE a.id = {alias}.account_id "
            "AND a.segment = ANY(%(slice_segment)s))"
        )
        params["slice_segment"] = list(f.segments)
    return " AND ".join(parts), params


def fetch_dicts(sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
