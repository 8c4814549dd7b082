"""First response time and resolution time endpoints."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Any, ClassVar

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import cases_link
from metrics.kpis import times
from metrics.kpis.times import DurationFigure
from metrics.params import GROUP_BY_CHOICES, KpiQuerySerializer
from metrics.stats import default_min_n
from metrics.types import KpiFilter

GROUP_BY_PARAMETER = OpenApiParameter("group_by", str, enum=list(GROUP_BY_CHOICES))
MIN_N_PARAMETER = OpenApiParameter(
    "min_n",
    int,
    description="Smallest sample a per-rep figure is reported for (default 10)",
)
# group_by → the case-list filter that selects a group's cases (calendar groups use dates).
LINK_PARAMS = {
    "team": "team",
    "category": "category_id",
    "channel": "channel",
    "priority": "priority",
}


class SampledQuerySerializer(KpiQuerySerializer):
    """The shared filters plus ``min_n`` for per-rep figures."""

    min_n = serializers.IntegerField(min_value=1, max_value=10_000, required=False)


def min_n_option(options: dict[str, Any]) -> int:
    return options.get("min_n") or default_min_n()


def key_value(key: object) -> object:
    """A group key as JSON and CSV show it (calendar buckets as ISO dates)."""
    return key.isoformat() if isinstance(key, date) else key


def group_link(
    f: KpiFilter,
    *,
    group_by: str | None,
    key: object,
    period_field: str,
    rep_param: str,
    **extra: Any,
) -> str | None:
    """The case-list link for the overall figure (``group_by`` None) or one group's cases,
    narrowed by ``extra`` case-list filters; None where the list cannot select the group
    (cases without a rep or a team)."""
    if group_by is None:
        return cases_link(f, period_field=period_field, **extra)
    if group_by in times.TIME_GROUPS:
        start, end = times.bucket_bounds(f, group_by, key)  # type: ignore[arg-type]
        return cases_link(f, period_field=period_field, start=start, end=end, **extra)
    if key is None:
        return None
    param = rep_param if group_by == "rep" else LINK_PARAMS[group_by]
    params: dict[str, Any] = {param: key, **extra}
    return cases_link(f, period_field=period_field, **params)


def group_key(group_by: str, key: object, label: str | None) -> dict[str, object]:
    if group_by in times.LABELS:
        return {group_by: key, "name": label}
    return {group_by: key_value(key)}


class _DurationApi(KpiApi):
    measure: ClassVar[str]
    # The case-list filters that select the measured cases: the period and the rep. None
    # when the case list cannot select them, and then there is no drill-down link.
    period_field: ClassVar[str | None]
    rep_param: ClassVar[str]

    class InputSerializer(SampledQuerySerializer):
        group_by = serializers.ChoiceField(choices=GROUP_BY_CHOICES, required=False)

    query_serializer = InputSerializer

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        min_n = min_n_option(options)
        group_by = options.get("group_by")
        result = times.kpi_duration(
            f=f, now=now, measure=self.measure, group_by=group_by, min_n=min_n
        )
        return {
            "unit": "seconds",
            "basis": result.basis,
            "min_n": min_n,
            "histogram_buckets": [
                {"name": name, "from_seconds": low, "to_seconds": high}
                for name, low, high in times.HISTOGRAM_BUCKETS
            ],
            "overall": {**self.figure(result.overall), "cases_url": self.link(f, None, None)},
            "group_by": group_by,
            "rows": [
                {
                    "key": group_key(group_by, row.key, row.label),
                    **self.figure(row.figure),
                    "cases_url": self.link(f, group_by, row.key),
                }
                for row in result.rows
            ],
        }

    def figure(self, figure: DurationFigure) -> dict[str, Any]:
        body: dict[str, Any] = {
            "n": figure.stats.n,
            "cases": figure.cases,
            "mean": figure.stats.mean,
            "median": figure.stats.median,
            "p90": figure.stats.p90,
            "mean_interval": {"low": figure.mean_low, "high": figure.mean_high},
            "insufficient_data": figure.insufficient_data,
            "histogram": figure.histogram,
        }
        if figure.sla is not None:
            body["sla"] = {**asdict(figure.sla.attainment), "no_target": figure.sla.no_target}
        return body

    def link(self, f: KpiFilter, group_by: str | None, key: object) -> str | None:
        """The case-list link for the overall figure (group_by None) or one group."""
        if self.period_field is None:
            return None
        extra: dict[str, Any] = {}
        if self.rep_param not in ("rep", "resolved_by") and f.rep_ids is not None:
            # cases_link would read the rep filter as the assignee: pass it as the rep the
            # measure attributes to instead (a rep row's own key already narrows to one rep).
            if len(f.rep_ids) != 1:
                return None
            if group_by != "rep":
                extra[self.rep_param] = f.rep_ids[0]
            f = replace(f, rep_ids=None)
        return group_link(
            f,
            group_by=group_by,
            key=key,
            period_field=self.period_field,
            rep_param=self.rep_param,
            **extra,
        )


class KpiFirstResponseTimeApi(_DurationApi):
    """First response time of the cases first responded to in the period."""

    metric = "response_time"
    measure = "first_response"
    # Cases first responded to in the window, attributed to their first responder.
    period_field = "first_response"
    rep_param = "first_responder"
    definition_version = times.DEFINITION_VERSION

    @kpi_schema(
        "First response time: mean, median, p90 and histogram",
        parameters=[GROUP_BY_PARAMETER, MIN_N_PARAMETER],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)


class KpiResolutionTimeApi(_DurationApi):
    """Resolution time and SLA attainment of the cases resolved in the period."""

    metric = "resolution_time"
    measure = "resolution"
    period_field = "resolved"
    rep_param = "resolved_by"
    definition_version = times.DEFINITION_VERSION

    @kpi_schema(
        "Resolution time: mean, median, p90, histogram and SLA attainment",
        parameters=[GROUP_BY_PARAMETER, MIN_N_PARAMETER],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)


urlpatterns = [
    path("response-time/", KpiFirstResponseTimeApi.as_view(), name="kpi-response-time"),
    path("resolution-time/", KpiResolutionTimeApi.as_view(), name="kpi-resolution-time"),
]
