"""Backlog endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import path
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import cases_link
from metrics.kpis import backlog
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

OPEN = ["new", "open", "pending"]


class KpiBacklogApi(KpiApi):
    """Open cases now by age bucket and group, and the daily backlog trend over the period."""

    metric = "backlog"
    definition_version = backlog.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        group_by = serializers.ChoiceField(
            choices=list(backlog.GROUP_FIELDS), required=False, default="rep"
        )

    query_serializer = InputSerializer

    @kpi_schema("Backlog now by age, and its daily trend")
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        result = backlog.kpi_backlog(f=f, now=now, group_by=options["group_by"])
        group_param = {"rep": "rep", "team": "team", "category": "category_id"}.get(
            options["group_by"], options["group_by"]
        )
        return {
            "open_now": {
                "n": result.open_now,
                "age": result.age,
                "cases_url": cases_link(f, period_field=None, status=OPEN),
            },
            "group_by": options["group_by"],
            "rows": [
                {
                    "key": {options["group_by"]: g.key},
                    "n": g.n,
                    "age": g.age,
                    "cases_url": cases_link(
                        f, period_field=None, status=OPEN, **{group_param: g.key}
                    ),
                }
                for g in result.groups
            ],
            "trend": [{**day.__dict__, "n": day.open_at_end} for day in result.trend],
        }


class KpiBacklogRepHistoryApi(KpiApi):
    """Each rep's open-to-resolved ratio per week against their own trailing history."""

    metric = "backlog_rep_history"
    definition_version = backlog.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        history_weeks = serializers.IntegerField(min_value=2, max_value=52, default=8)

    query_serializer = InputSerializer

    @kpi_schema("Backlog ratio per rep against the rep's own history")
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        trends = backlog.kpi_backlog_by_rep_history(
            f=f, now=now, history_weeks=options["history_weeks"]
        )
        return {
            "rows": [
                {
                    "key": {"rep": t.rep},
                    "n": t.open_now,
                    "ratio_now": t.ratio_now,
                    "baseline_ratio": t.baseline_ratio,
                    "persistently_high": t.persistently_high,
                    "weeks": t.weeks,
                    "cases_url": cases_link(f, period_field=None, status=OPEN, rep=t.rep),
                }
                for t in trends
            ]
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "weeks"} for r in body["data"]["rows"]]


urlpatterns = [
    path("backlog/", KpiBacklogApi.as_view(), name="kpi-backlog"),
    path("backlog/reps/", KpiBacklogRepHistoryApi.as_view(), name="kpi-backlog-rep-history"),
]
