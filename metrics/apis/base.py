"""The plumbing every KPI endpoint shares: parse, scope, compute, wrap, render.

A KPI view subclasses ``KpiApi``, names its metric and definition version, and implements
``compute`` as one call to a ``metrics.kpis`` function. The envelope names the definition
version that produced the figures; bump it in the KPI module when a definition changes.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.permissions import HasCaseRole
from cases.scoping import scope_for
from metrics.params import KpiQuerySerializer, build_filter, query_data
from metrics.rendering import KpiCsvRenderer
from metrics.timeouts import kpi_statement_timeout
from metrics.types import KpiFilter

COMMON_PARAMETERS = [
    OpenApiParameter(
        "from",
        str,
        description="First day (YYYY-MM-DD, in the calendar's zone) or an aware timestamp",
    ),
    OpenApiParameter(
        "to", str, description="Last day, inclusive (YYYY-MM-DD) or an aware timestamp (exclusive)"
    ),
    OpenApiParameter(
        "last_days",
        int,
        description="Instead of from/to: the last N days ending today (default 30, max 366)",
    ),
    OpenApiParameter(
        "tz", str, description="IANA time zone for calendar buckets (default: the team's)"
    ),
    OpenApiParameter("team", int),
    OpenApiParameter("rep", int),
    OpenApiParameter("category", str, description="Category slug; sub-categories included"),
    OpenApiParameter("channel", str, many=True),
    OpenApiParameter("priority", str, many=True),
    OpenApiParameter("segment", str, many=True, description="Account segment"),
    OpenApiParameter(
        "basis",
        str,
        enum=["calendar", "business"],
        description="Durations in calendar or business time",
    ),
    OpenApiParameter("format", str, enum=["json", "csv"]),
]


def plain(value: Any) -> Any:
    """Dataclasses → dicts, datetimes → ISO strings, recursively (JSON-ready)."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class KpiApi(APIView):
    """A KPI endpoint. Its statements run under the KPI statement timeout (503 past it)."""

    answers_kpi_timeout: ClassVar[bool] = True  # for the schema (supportmetrics/schema.py)
    metric: ClassVar[str]
    definition_version: ClassVar[int]
    query_serializer: ClassVar[type[KpiQuerySerializer]] = KpiQuerySerializer
    permission_classes = [HasCaseRole]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, KpiCsvRenderer]

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> Any:
        raise NotImplementedError

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The table that stands for this figure in CSV; by default ``data.rows``."""
        return list(body["data"].get("rows", []))

    def get(self, request: Request, **kwargs: Any) -> Response:
        with kpi_statement_timeout():
            return self.respond(request, **kwargs)

    def respond(self, request: Request, **kwargs: Any) -> Response:
        now = timezone.now()
        query = self.query_serializer(data={**query_data(request.query_params), **kwargs})
        query.is_valid(raise_exception=True)
        options = dict(query.validated_data)
        f = build_filter(options, scope_for(request.user), now)
        data = self.compute(f, options, now)
        return Response(
            {
                "metric": self.metric,
                "definition_version": f"{self.metric}@{self.definition_version}",
                "generated_at": now.isoformat(),
                "period": {
                    "from": f.start.isoformat(),
                    "to": f.end.isoformat(),
                    "timezone": str(f.tz),
                },
                "filters": {
                    "team": f.team_ids,
                    "rep": f.rep_ids,
                    "category": f.category_ids,
                    "channel": f.channels,
                    "priority": f.priorities,
                    "segment": f.segments,
                    "basis": f.basis,
                },
                "data": plain(data),
            }
        )


def _ids() -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(), allow_null=True)


def _names() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), allow_null=True)


# The envelope KpiApi.get wraps every figure in; ``data`` is the KPI's own (metrics.md).
KPI_ENVELOPE = inline_serializer(
    "KpiEnvelope",
    fields={
        "metric": serializers.CharField(),
        "definition_version": serializers.CharField(),
        "generated_at": serializers.DateTimeField(),
        "period": inline_serializer(
            "KpiPeriod",
            fields={
                "from": serializers.DateTimeField(),
                "to": serializers.DateTimeField(),
                "timezone": serializers.CharField(),
            },
        ),
        "filters": inline_serializer(
            "KpiFilters",
            fields={
                "team": _ids(),
                "rep": _ids(),
                "category": _ids(),
                "channel": _names(),
                "priority": _names(),
                "segment": _names(),
                "basis": serializers.CharField(),
            },
        ),
        "data": serializers.DictField(),
    },
)


def kpi_schema(  # type: ignore[no-untyped-def]
    summary: str,
    *,
    parameters: list[OpenApiParameter] | None = None,
    operation_id: str | None = None,
):
    return extend_schema(
        summary=summary,
        operation_id=operation_id,
        parameters=[*COMMON_PARAMETERS, *(parameters or [])],
        responses={200: KPI_ENVELOPE},
    )
