"""CSV for KPI responses: each KPI view names the table that represents it in CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"key": {"rep": 1}, "csat": {"value": .9}} → {"rep": 1, "csat.value": .9}."""
    flat: dict[str, Any] = {}
    for name, value in row.items():
        label = name if prefix in ("", "key.") else f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(flatten(value, "" if name == "key" else f"{label}."))
        elif isinstance(value, list):
            flat[label] = ";".join(str(v) for v in value)
        else:
            flat[label] = value
    return flat


class KpiCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        context = renderer_context or {}
        view, response = context.get("view"), context.get("response")
        if (
            (response is not None and response.status_code >= 400)
            or view is None
            or not hasattr(view, "csv_rows")
        ):
            rows = [flatten(data)] if isinstance(data, dict) else []
        else:
            rows = [flatten(r) for r in view.csv_rows(data)]
        if response is not None and response.status_code < 400:
            response["Content-Disposition"] = (
                f'attachment; filename="{getattr(view, "metric", "kpi")}.csv"'
            )
        out = io.StringIO()
        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode(self.charset)
