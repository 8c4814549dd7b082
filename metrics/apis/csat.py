"""CSAT endpoint: satisfaction, response rate, NPS and effort per rep (or group)."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import cases_link
from metrics.kpis import csat
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

MIN_N_PARAMETER = OpenApiParameter(
    "min_n",
    int,
    description="Smallest sample a figure is shown for; below it: insufficient data "
    "(default: the SUPPORTMETRICS_MIN_SAMPLE setting, 10)",
)


class KpiCsatApi(KpiApi):
    """CSAT per rep, team, category, channel or month, with response rate, NPS and effort.

    Reps are listed alphabetically, never ranked. ``cases_url`` lists the cases with a survey
    answer in the window (answered for the row's rep, in the row's team/category/channel/
    month): the cases behind ``n``.
    """

    metric = "csat"
    definition_version = csat.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        group_by = serializers.ChoiceField(choices=list(csat.GROUP_BY_CHOICES), default="rep")
        min_n = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    query_serializer = InputSerializer

    @kpi_schema(
        "CSAT, response rate, NPS and effort per rep, with intervals",
        parameters=[
            OpenApiParameter("group_by", str, enum=list(csat.GROUP_BY_CHOICES)),
            MIN_N_PARAMETER,
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        group_by = options["group_by"]
        result = csat.kpi_csat_by_representative(
            f=f, now=now, group_by=group_by, min_n=options.get("min_n")
        )
        return {
            "group_by": group_by,
            "min_n": result.min_n,
            "overall": {
                "n": result.overall.responses,
                **asdict(result.overall),
                "cases_url": _row_link(f, None, None),
            },
            "rows": [
                {
                    "key": {group_by: row.key},
                    "label": row.label,
                    "n": row.figures.responses,
                    **asdict(row.figures),
                    "cases_url": _row_link(f, group_by, row.key),
                }
                for row in result.rows
            ],
            "trend": [
                {
                    "key": {"rep": t.rep},
                    "label": t.label,
                    "months": [{"n": m.responses, **asdict(m)} for m in t.months],
                }
                for t in result.trend
            ],
        }


def _row_link(f: KpiFilter, group_by: str | None, key: Any) -> str | None:
    """The cases answered in the window behind the overall figure (``group_by`` None) or a
    row: survey answers with ``responded_at`` in the window (the month's bounds for a month
    row) for the row's rep (``survey_rep``, the answer's representative), all one answer.
    None for unattributed answers, or a rep filter the case list cannot express."""
    extra: dict[str, Any] = {}
    if f.rep_ids is not None:
        if len(f.rep_ids) != 1:
            return None
        extra["survey_rep"] = f.rep_ids[0]
    f = replace(f, rep_ids=None)  # cases_link would read it as the assignee
    start, end = f.start, f.end
    if group_by is not None:
        if key is None:
            return None
        if group_by == "rep":
            extra["survey_rep"] = key
        elif group_by == "month":
            year, month = (int(part) for part in str(key).split("-"))
            start, end = csat.month_bounds(date(year, month, 1), f)
        elif group_by == "team":
            f = replace(f, team_ids=None)
            extra["team"] = key
        else:
            extra[{"category": "category_id", "channel": "channel"}[group_by]] = key
    return cases_link(f, period_field="responded", start=start, end=end, **extra)


urlpatterns = [
    path("csat/", KpiCsatApi.as_view(), name="kpi-csat"),
]
