"""Account summary and risk: the list (riskiest first) and one account."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from cases.models import OPEN_STATUSES
from metrics.apis.base import KpiApi, kpi_schema, plain
from metrics.drilldown import cases_link
from metrics.kpis import accounts
from metrics.params import KpiQuerySerializer
from metrics.stats import default_min_n
from metrics.types import KpiFilter

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
# The risk model was set up and back-tested on 90-day periods (30 days separate churners
# markedly worse: see docs), so that is the default period here rather than 30 days.
DEFAULT_LAST_DAYS = 90


class _AccountQuerySerializer(KpiQuerySerializer):
    min_n = serializers.IntegerField(required=False, min_value=1, max_value=10_000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs.setdefault("min_n", default_min_n())
        if "from" not in attrs:
            attrs.setdefault("last_days", DEFAULT_LAST_DAYS)
        return attrs


def _row(f: KpiFilter, page: accounts.AccountRiskPage, a: accounts.AccountFigures) -> dict:
    """One account as JSON, with links to the cases behind its case counts."""
    account = {"account": a.external_id}
    return {
        "key": {"account": a.account_id},
        "external_id": a.external_id,
        "name": a.name,
        "segment": a.segment,
        "annual_value": a.annual_value,
        "status": a.status,
        "churned_at": a.churned_at,
        "n": a.cases,
        "cases": {
            "period": a.cases,
            "previous": a.previous_cases,
            "change": (a.cases - a.previous_cases) / a.previous_cases if a.previous_cases else None,
        },
        "open_now": a.open_now,
        "reopened": {"n": a.cases, "count": a.reopened, "rate": asdict(a.reopen_rate)},
        "csat": plain(a.csat),
        "cases_per_10k_value": a.cases_per_10k_value,
        "risk": {"score": a.risk, "factors": [asdict(x) for x in a.factors]},
        "cases_url": cases_link(f, start=page.period_start, end=page.period_end, **account),
        "previous_cases_url": cases_link(
            f, start=page.previous_start, end=page.period_start, **account
        ),
        "open_cases_url": cases_link(
            f, period_field=None, status=[str(s) for s in OPEN_STATUSES], **account
        ),
        "reopened_cases_url": cases_link(
            f, start=page.period_start, end=page.period_end, reopened="true", **account
        ),
    }


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """Factors become columns (risk.csat.points, …) instead of one joined cell."""
    flat = {k: v for k, v in row.items() if k != "risk"}
    flat["risk.score"] = row["risk"]["score"]
    for factor in row["risk"]["factors"]:
        for field in ("raw", "adjusted", "points"):
            flat[f"risk.{factor['name']}.{field}"] = factor[field]
    return flat


def _envelope_data(f: KpiFilter, page: accounts.AccountRiskPage) -> dict[str, Any]:
    return {
        "period": {
            "from": page.period_start,
            "to": page.period_end,
            "previous_from": page.previous_start,
            "previous_to": page.period_start,
        },
        "peers": asdict(page.peers),
        "risk_model": [asdict(fd) for fd in accounts.FACTORS],
    }


class KpiAccountListApi(KpiApi):
    """Accounts in scope with their case figures and risk score, riskiest first."""

    metric = "accounts"
    definition_version = accounts.DEFINITION_VERSION

    class InputSerializer(_AccountQuerySerializer):
        limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
        offset = serializers.IntegerField(required=False, min_value=0)
        page = serializers.IntegerField(required=False, min_value=1)
        min_risk = serializers.FloatField(required=False, min_value=0, max_value=100, default=0)
        ordering = serializers.ChoiceField(choices=list(accounts.ORDERINGS), default="-risk")
        include_churned = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            attrs = super().validate(attrs)
            if "limit" in attrs and "page_size" in attrs:
                raise serializers.ValidationError(
                    {"page_size": ["Give either limit or page_size, not both."]}
                )
            if "offset" in attrs and "page" in attrs:
                raise serializers.ValidationError(
                    {"page": ["Give either offset or page, not both."]}
                )
            limit = attrs.get("limit", attrs.get("page_size", DEFAULT_LIMIT))
            attrs["limit"] = limit
            attrs["offset"] = attrs.get("offset", (attrs.get("page", 1) - 1) * limit)
            return attrs

    query_serializer = InputSerializer

    @kpi_schema(
        "Accounts: cases, CSAT, reopens and an explainable risk score; turnover",
        parameters=[
            OpenApiParameter("limit", int, description="Rows per page (default 50, max 500)"),
            OpenApiParameter("offset", int, description="Rows to skip (default 0)"),
            OpenApiParameter("page_size", int, description="Alias of limit"),
            OpenApiParameter("page", int, description="1-based page, with page_size"),
            OpenApiParameter("min_risk", float, description="Only accounts scoring at least this"),
            OpenApiParameter("ordering", str, enum=list(accounts.ORDERINGS)),
            OpenApiParameter("include_churned", bool, description="List churned accounts too"),
            OpenApiParameter("min_n", int, description="Minimum responses to show mean CSAT"),
        ],
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        page = accounts.kpi_account_risk(
            f=f,
            now=now,
            min_risk=options["min_risk"],
            include_churned=options["include_churned"],
            ordering=options["ordering"],
            limit=options["limit"],
            offset=options["offset"],
            min_n=options["min_n"],
        )
        turnover = accounts.kpi_account_turnover(f=f, now=now)
        return {
            **_envelope_data(f, page),
            "count": page.total,
            "limit": options["limit"],
            "offset": options["offset"],
            "ordering": options["ordering"],
            "turnover": {
                "n": turnover.n,
                "churned": turnover.churned,
                "rate": asdict(turnover.rate),
                "new_accounts": turnover.new_accounts,
            },
            "rows": [_row(f, page, a) for a in page.rows],
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_csv_row(r) for r in body["data"]["rows"]]


class KpiAccountDetailApi(KpiApi):
    """One account's case figures and risk score (404 outside the caller's scope)."""

    metric = "account"
    definition_version = accounts.DEFINITION_VERSION

    class InputSerializer(_AccountQuerySerializer):
        account_id = serializers.IntegerField(min_value=1)

    query_serializer = InputSerializer

    @kpi_schema(
        "One account: cases, CSAT, reopens and its explainable risk score",
        parameters=[
            OpenApiParameter("min_n", int, description="Minimum responses to show mean CSAT"),
        ],
        # The list's id is derived from the same path prefix: name this one.
        operation_id="v1_metrics_account_detail",
    )
    def get(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return super().get(request, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        page = accounts.kpi_account_risk(
            f=f,
            now=now,
            account_id=options["account_id"],
            include_churned=True,
            limit=1,
            min_n=options["min_n"],
        )
        if not page.rows:
            raise Http404
        return {**_envelope_data(f, page), **_row(f, page, page.rows[0])}

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        data = body["data"]
        return [
            _csv_row({k: v for k, v in data.items() if k not in ("period", "peers", "risk_model")})
        ]


urlpatterns = [
    path("accounts/", KpiAccountListApi.as_view(), name="kpi-accounts"),
    path("accounts/<int:account_id>/", KpiAccountDetailApi.as_view(), name="kpi-account-detail"),
]
