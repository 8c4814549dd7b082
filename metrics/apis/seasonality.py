"""Seasonality endpoint: when cases arrive, which months peak, and the next 8 weeks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import cases_link
from metrics.kpis import seasonality
from metrics.kpis.seasonality import ForecastWeek, Group, PeriodCount
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

TABLES = ("heatmap", "months", "seasonal_index", "forecast")


class KpiSubmissionSeasonalityApi(KpiApi):
    """Weekday × hour heatmap and months of the period; seasonal index, recurring peaks and
    an 8-week forecast per category over the last ``years`` years."""

    metric = "submission_seasonality"
    definition_version = seasonality.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        group_by = serializers.ChoiceField(choices=["category"], required=False)
        years = serializers.IntegerField(
            min_value=1, max_value=seasonality.MAX_YEARS, default=seasonality.DEFAULT_YEARS
        )
        table = serializers.ChoiceField(choices=TABLES, default="heatmap")

    query_serializer = InputSerializer

    @kpi_schema(
        "Seasonal submission patterns and an 8-week forecast",
        parameters=[
            OpenApiParameter(
                "group_by", str, enum=["category"], description="Heatmap and months per category"
            ),
            OpenApiParameter(
                "years", int, description="History for the seasonal index (default 2, max 3)"
            ),
            OpenApiParameter("table", str, enum=list(TABLES), description="Table for CSV"),
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        by_category = options.get("group_by") == "category"
        result = seasonality.kpi_submission_seasonality(
            f=f, now=now, years=options["years"], by_category=by_category
        )
        self.csv_table = options["table"]
        overall, *per_category = result.patterns
        return {
            "group_by": options.get("group_by"),
            "weekdays": list(seasonality.WEEKDAYS),
            "heatmap": _pattern(f, overall),
            "rows": [_pattern(f, p) for p in per_category],
            "seasonal_index": {
                "from": result.seasonal.start,
                "to": result.seasonal.end,
                "years": result.seasonal.years,
                "data_start": result.seasonal.data_start,
                "peak_index": seasonality.PEAK_INDEX,
                "groups": [
                    {
                        "key": _key(g.group),
                        **_labels(g.group),
                        "n": g.n,
                        "years": [
                            {
                                "label": y.label,
                                "n": y.n,
                                "monthly_mean": y.monthly_mean,
                                "partial": y.partial,
                                "months": [
                                    {
                                        "month": m.label,
                                        "month_of_year": m.month_of_year,
                                        "n": m.n,
                                        "index": m.index,
                                        "cases_url": _link(f, g.group, m.start, m.end),
                                    }
                                    for m in y.months
                                ],
                            }
                            for y in g.years
                        ],
                        "recurring_peaks": g.recurring_peaks,
                    }
                    for g in result.seasonal.groups
                ],
            },
            "forecast": {
                "origin": result.forecast.origin,
                "history_from": result.forecast.history_start,
                "history_weeks": result.forecast.history_weeks,
                "method": result.forecast.method,
                "groups": [
                    {
                        "key": _key(g.group),
                        **_labels(g.group),
                        "n": g.n,
                        "level": g.level,
                        "forecast": [{"week": w.week, "expected": w.expected} for w in g.forecast],
                        "backtest": {
                            "mae": g.mae,
                            "mape": g.mape,
                            "mape_n": g.mape_n,
                            "weeks": [_backtest_week(f, g.group, w) for w in g.backtest],
                        },
                    }
                    for g in result.forecast.groups
                ],
            },
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        data = body["data"]
        table = getattr(self, "csv_table", "heatmap")
        patterns = [data["heatmap"], *data["rows"]]
        if table == "heatmap":
            return [
                {"category": p["slug"], "weekday": day, "hour": hour, "n": count}
                for p in patterns
                for day, hours in zip(data["weekdays"], p["cells"], strict=True)
                for hour, count in enumerate(hours)
            ]
        if table == "months":
            return [{"category": p["slug"], **m} for p in patterns for m in p["months"]]
        if table == "seasonal_index":
            return [
                {"category": g["slug"], "year": y["label"], "partial": y["partial"], **m}
                for g in data["seasonal_index"]["groups"]
                for y in g["years"]
                for m in y["months"]
            ]
        return [
            {"category": g["slug"], "kind": kind, **w, "mae": g["backtest"]["mae"]}
            for g in data["forecast"]["groups"]
            for kind, weeks in (("forecast", g["forecast"]), ("backtest", g["backtest"]["weeks"]))
            for w in weeks
        ]


def _key(group: Group) -> dict[str, Any]:
    return {"category": group.category_id}


def _labels(group: Group) -> dict[str, Any]:
    return {"slug": group.slug, "name": group.name}


def _link(
    f: KpiFilter, group: Group, start: datetime | None = None, end: datetime | None = None
) -> str:
    extra: dict[str, Any] = (
        {"category_id": group.category_id} if group.category_id is not None else {}
    )
    return cases_link(f, start=start, end=end, **extra)


def _pattern(f: KpiFilter, pattern: seasonality.SubmissionPattern) -> dict[str, Any]:
    return {
        "key": _key(pattern.group),
        **_labels(pattern.group),
        "n": pattern.n,
        "cells": pattern.cells,
        "cases_url": _link(f, pattern.group),
        "months": [_month(f, pattern.group, m) for m in pattern.months],
    }


def _month(f: KpiFilter, group: Group, month: PeriodCount) -> dict[str, Any]:
    return {
        "month": month.label,
        "month_of_year": int(month.label[5:]),
        "n": month.n,
        "partial": month.partial,
        "cases_url": _link(f, group, month.start, month.end),
    }


def _backtest_week(f: KpiFilter, group: Group, week: ForecastWeek) -> dict[str, Any]:
    return {
        "week": week.week,
        "expected": week.expected,
        "n": week.actual,
        "cases_url": _link(f, group, week.start, week.end),
    }


urlpatterns = [
    path("seasonality/", KpiSubmissionSeasonalityApi.as_view(), name="kpi-seasonality"),
]
