"""Submission-frequency endpoints: repeat contacts by account and by requester."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from cases.scoping import Role, scope_for
from metrics.apis.base import KpiApi, kpi_schema
from metrics.drilldown import cases_link
from metrics.kpis import frequency
from metrics.kpis.frequency import RepeatRate
from metrics.params import KpiQuerySerializer
from metrics.stats import default_min_n
from metrics.types import KpiFilter

TABLES = ("accounts", "requesters", "rates")


class KpiRepeatContactsApi(KpiApi):
    """Cases that repeat an earlier same-category case of the same account or requester."""

    metric = "repeat_contacts"
    definition_version = frequency.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        within_days = serializers.IntegerField(
            min_value=1, max_value=frequency.MAX_WITHIN_DAYS, default=frequency.DEFAULT_WITHIN_DAYS
        )
        limit = serializers.IntegerField(
            min_value=1, max_value=frequency.MAX_LIMIT, default=frequency.DEFAULT_LIMIT
        )
        min_n = serializers.IntegerField(min_value=1, required=False)
        table = serializers.ChoiceField(choices=TABLES, default="accounts")

    query_serializer = InputSerializer

    @kpi_schema(
        "Repeat contacts: same account or requester, same category, within N days",
        parameters=[
            OpenApiParameter("within_days", int, description="N (default 7, max 90)"),
            OpenApiParameter("limit", int, description="List length (default 50, max 500)"),
            OpenApiParameter("min_n", int, description="Minimum cases for a rate (default 10)"),
            OpenApiParameter("table", str, enum=list(TABLES), description="Table for CSV"),
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        # Requester e-mail addresses are personal data: admins only (docs/metrics.md).
        is_admin = scope_for(self.request.user).role == Role.ADMIN
        min_n = options.get("min_n") or default_min_n()
        result = frequency.kpi_repeat_contacts(
            f=f,
            now=now,
            within_days=options["within_days"],
            limit=options["limit"],
            min_n=min_n,
            include_email=is_admin,
        )
        self.csv_table = options["table"]
        window_link = cases_link(f)
        return {
            "within_days": result.within_days,
            "min_n": min_n,
            "rates": {
                "account": _rate(result.account_rate, window_link),
                "requester": _rate(result.requester_rate, window_link),
            },
            "accounts": {
                "total": result.accounts_total,
                "limit": options["limit"],
                "rows": [
                    {
                        "key": {"account": a.external_id},
                        "name": a.name,
                        "n": a.n,
                        "repeats": a.repeats,
                        "categories": a.categories,
                        "cases_url": cases_link(f, account=a.external_id),
                    }
                    for a in result.accounts
                ],
            },
            "requesters": {
                "total": result.requesters_total,
                "limit": options["limit"],
                "rows": [
                    {
                        "key": {"requester": r.pseudonym},
                        **({"email": r.email} if is_admin else {}),
                        "account": r.account_external_id,
                        "account_name": r.account_name,
                        "n": r.n,
                        "repeats": r.repeats,
                        "categories": r.categories,
                        # The case list has no requester filter (and an address must not
                        # travel in a URL): no exact drill-down for a requester yet.
                        "cases_url": None,
                    }
                    for r in result.requesters
                ],
            },
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        data = body["data"]
        table = getattr(self, "csv_table", "accounts")
        if table == "rates":
            return list(data["rates"].values())
        return list(data[table]["rows"])


def _rate(rate: RepeatRate, link: str) -> dict[str, Any]:
    return {**asdict(rate), "cases_url": link}


urlpatterns = [
    path("repeat-contacts/", KpiRepeatContactsApi.as_view(), name="kpi-repeat-contacts"),
]
