"""Prioritized queue: the caller's open cases, most urgent first, with the score's parts."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from cases.models import OPEN_STATUSES
from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import CASES_URL, cases_link
from metrics.kpis import queue
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


class KpiQueueApi(KpiApi):
    """Open cases ranked by a documented priority score: a rep's own queue, a manager's
    team (or one of its reps), an admin everything. Period parameters do not apply."""

    metric = "queue"
    definition_version = queue.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
        offset = serializers.IntegerField(min_value=0, default=0)
        # Waiting and age are calendar time; business-time queues are not computed.
        basis = serializers.ChoiceField(choices=["calendar"], default="calendar")

    query_serializer = InputSerializer

    @kpi_schema(
        "Prioritized queue of open cases with each score's components",
        parameters=[
            OpenApiParameter("limit", int, description="Rows per page (default 50, max 200)"),
            OpenApiParameter("offset", int, description="Rows to skip (default 0)"),
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        page = queue.kpi_queue(f=f, now=now, limit=options["limit"], offset=options["offset"])
        return {
            "count": page.total,
            "n": page.total,
            "limit": options["limit"],
            "offset": options["offset"],
            "cases_url": cases_link(f, period_field=None, status=[str(s) for s in OPEN_STATUSES]),
            "rows": [
                {
                    "key": {"case": c.case_id},
                    "case_url": f"{CASES_URL}{c.case_id}/",
                    **{k: v for k, v in asdict(c).items() if k not in ("case_id", "components")},
                    "components": {k: asdict(v) for k, v in c.components.items()},
                }
                for c in page.rows
            ],
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                **{k: v for k, v in r.items() if k != "components"},
                **{
                    f"{name}.{field}": part[field]
                    for name, part in r["components"].items()
                    for field in ("raw", "points")
                },
            }
            for r in body["data"]["rows"]
        ]


urlpatterns = [path("queue/", KpiQueueApi.as_view(), name="kpi-queue")]
