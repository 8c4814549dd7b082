"""Case load endpoint."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.apis.times import MIN_N_PARAMETER, SampledQuerySerializer, min_n_option
from metrics.kpis import load
from metrics.kpis.load import LoadCount
from metrics.kpis.times import TIME_GROUPS
from metrics.types import KpiFilter


class KpiCaseLoadApi(KpiApi):
    """Cases taken on and resolved per rep, and how evenly each team spreads them."""

    metric = "load"
    definition_version = load.DEFINITION_VERSION

    class InputSerializer(SampledQuerySerializer):
        group_by = serializers.ChoiceField(choices=TIME_GROUPS, required=False)

    query_serializer = InputSerializer

    @kpi_schema(
        "Case load per rep and its spread within each team",
        parameters=[
            OpenApiParameter(
                "group_by",
                str,
                enum=list(TIME_GROUPS),
                description="Add a per-rep series by calendar day, week or month",
            ),
            MIN_N_PARAMETER,
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        min_n = min_n_option(options)
        result = load.kpi_case_load(f=f, now=now, group_by=options.get("group_by"), min_n=min_n)
        return {
            "min_n": min_n,
            "group_by": result.group_by,
            "rows": [
                {
                    "key": {"rep": r.rep, "name": r.name},
                    "team": r.team,
                    "in_spread": r.in_spread,
                    "taken_on": _count(r.taken_on),
                    "resolved": _count(r.resolved),
                    "series": [asdict(p) for p in r.series],
                    # The case list selects by current assignee and latest resolution only;
                    # these counts need event-based filters (see docs): no exact drill-down.
                    "cases_url": None,
                }
                for r in result.reps
            ],
            "teams": [
                {
                    "key": {"team": t.team, "name": t.name},
                    "reps": t.reps,
                    "equal_share": t.equal_share,
                    "taken_on": {"n": t.taken_on, "gini": t.taken_on_gini},
                    "resolved": {"n": t.resolved, "gini": t.resolved_gini},
                }
                for t in result.teams
            ],
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """One line per rep, or per rep and period when a series was asked for."""
        rows = body["data"]["rows"]
        if body["data"]["group_by"] is None:
            return [{k: v for k, v in r.items() if k != "series"} for r in rows]
        return [
            {"key": r["key"], "team": r["team"], **period} for r in rows for period in r["series"]
        ]


def _count(count: LoadCount) -> dict[str, Any]:
    """The rep's count and their share of the team's total (``team_n``), flat for CSV."""
    share = count.share
    return {
        "n": count.n,
        "team_n": share.n if share else None,
        "share": share.value if share else None,
        "share_low": share.low if share else None,
        "share_high": share.high if share else None,
        "equal_share": count.equal_share,
        "insufficient_data": share.insufficient_data if share else False,
    }


urlpatterns = [
    path("load/", KpiCaseLoadApi.as_view(), name="kpi-load"),
]
