"""First contact resolution endpoint."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.apis.times import (
    MIN_N_PARAMETER,
    SampledQuerySerializer,
    group_key,
    group_link,
    min_n_option,
)
from metrics.kpis import fcr
from metrics.kpis.fcr import FcrFigure
from metrics.types import KpiFilter


class KpiFirstContactResolutionApi(KpiApi):
    """One-touch resolution rate and reopen rate of the cases resolved in the period."""

    metric = "fcr"
    definition_version = fcr.DEFINITION_VERSION

    class InputSerializer(SampledQuerySerializer):
        group_by = serializers.ChoiceField(choices=fcr.GROUP_BY_CHOICES, required=False)

    query_serializer = InputSerializer

    @kpi_schema(
        "First contact resolution (one-touch) and reopen rate",
        parameters=[
            OpenApiParameter("group_by", str, enum=list(fcr.GROUP_BY_CHOICES)),
            MIN_N_PARAMETER,
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        min_n = min_n_option(options)
        group_by = options.get("group_by")
        result = fcr.kpi_first_contact_resolution(f=f, now=now, group_by=group_by, min_n=min_n)
        return {
            "min_n": min_n,
            "overall": _figure(f, result.overall, group_by=None, key=None),
            "group_by": group_by,
            "rows": [
                {
                    "key": group_key(group_by, row.key, row.label),
                    **_figure(f, row.figure, group_by=group_by, key=row.key),
                }
                for row in result.rows
            ],
        }


def _figure(f: KpiFilter, figure: FcrFigure, *, group_by: str | None, key: object) -> dict:
    """A figure with its drill-down links: the resolved cases, the reopened ones, the
    zero-touch ones; FCR's link lists its ``count``: the one-touch cases (exactly one agent
    response, never reopened — zero-touch cases are outside FCR)."""

    def link(**extra: Any) -> str | None:
        return group_link(
            f, group_by=group_by, key=key, period_field="resolved", rep_param="resolved_by", **extra
        )

    return {
        "n": figure.resolved,
        "fcr": {
            **asdict(figure.fcr),
            "cases_url": link(agent_responses_min=1, agent_responses_max=1, reopened="false"),
        },
        "reopen_rate": {**asdict(figure.reopen_rate), "cases_url": link(reopened="true")},
        "zero_touch": {"n": figure.zero_touch, "cases_url": link(agent_responses_max=0)},
        "cases_url": link(),
    }


urlpatterns = [
    path("fcr/", KpiFirstContactResolutionApi.as_view(), name="kpi-fcr"),
]
