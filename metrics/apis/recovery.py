"""Detractor recovery endpoint: time to first contact and recovery rate, per team and rep."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.urls import path
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.apis.csat import MIN_N_PARAMETER
from metrics.kpis import recovery
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

ALERTS_URL = "/api/v1/alerts/"


class KpiDetractorRecoveryApi(KpiApi):
    """Detractor alerts raised in the window: how many were contacted, how fast (mean, median,
    p90 of the time to first contact, seconds), how many closed and the share recovered (Wilson
    interval); overall, per team and per rep (alphabetical, never ranked).

    ``alerts_url`` lists the alerts behind a figure (the alert list filtered by creation time,
    team and rep); it is null when the query slices by category, channel, priority or
    segment, which the alert list cannot filter by.
    """

    metric = "recovery"
    definition_version = recovery.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        min_n = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    query_serializer = InputSerializer

    @kpi_schema(
        "Detractor recovery: time to first contact and recovery rate per team and rep",
        parameters=[MIN_N_PARAMETER],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        result = recovery.kpi_detractor_recovery(f=f, now=now, min_n=options.get("min_n"))
        return {
            "min_n": result.min_n,
            "overall": {
                "n": result.overall.alerts,
                **asdict(result.overall),
                "alerts_url": _alerts_link(f),
            },
            "teams": [_row(f, "team", row) for row in result.teams],
            "reps": [_row(f, "rep", row) for row in result.reps],
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """One table: the overall figure, then the teams, then the reps (``group`` says which)."""
        data = body["data"]
        overall = {"group": "overall", "key": {"team": None, "rep": None}, **data["overall"]}
        return [
            overall,
            *({"group": "team", **row} for row in data["teams"]),
            *({"group": "rep", **row} for row in data["reps"]),
        ]


def _row(f: KpiFilter, group: str, row: recovery.RecoveryRow) -> dict[str, Any]:
    return {
        "key": {group: row.key},
        "label": row.label,
        "n": row.figures.alerts,
        **asdict(row.figures),
        "alerts_url": _alerts_link(f, **{group: row.key}) if row.key is not None else None,
    }


def _alerts_link(f: KpiFilter, **key: Any) -> str | None:
    """The alert list behind a figure: created in the window, in its team and of its rep."""
    if any(v is not None for v in (f.category_ids, f.channels, f.priorities, f.segments)):
        return None
    params: list[tuple[str, Any]] = [
        ("created_after", f.start.isoformat()),
        ("created_before", f.end.isoformat()),
    ]
    team = key.get("team", f.team_ids[0] if f.team_ids and len(f.team_ids) == 1 else None)
    rep = key.get("rep", f.rep_ids[0] if f.rep_ids and len(f.rep_ids) == 1 else None)
    if team is not None:
        params.append(("team", team))
    if rep is not None:
        params.append(("rep", rep))
    return f"{ALERTS_URL}?{urlencode(params)}"


urlpatterns = [
    path("recovery/", KpiDetractorRecoveryApi.as_view(), name="kpi-recovery"),
]
