"""Coaching endpoint: one rep's figures beside their team's, for the same case mix."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from django.urls import path
from rest_framework import serializers

from metrics.apis.base import KpiApi, kpi_schema
from metrics.apis.csat import MIN_N_PARAMETER
from metrics.drilldown import cases_link
from metrics.kpis import coaching
from metrics.params import KpiQuerySerializer
from metrics.types import KpiFilter

UNITS = {"duration": "seconds", "rate": "share", "count": "resolutions"}


def _own_cases_link(f: KpiFilter, figure: str, rep: int) -> str:
    """The rep's ``n`` cases behind a figure (the slice without its team and rep filters):
    resolved in the window by the rep (FCR: those with an agent response, zero-touch cases
    being outside it), first responded to in the window by the rep, or answered in the
    window with the rep as the answer's representative (CSAT)."""
    own = replace(f, rep_ids=None, team_ids=None)
    if figure == "first_response_time":
        return cases_link(own, period_field="first_response", first_responder=rep)
    if figure == "csat":
        return cases_link(own, period_field="responded", survey_rep=rep)
    if figure == "fcr":
        return cases_link(own, period_field="resolved", resolved_by=rep, agent_responses_min=1)
    return cases_link(own, period_field="resolved", resolved_by=rep)


class KpiRepCoachingApi(KpiApi):
    """A rep's resolution and first response times, FCR, reopen rate, CSAT and volume
    beside their teammates' for the same mix of category, channel and priority, with the
    statistically meaningful differences named in words, and the change since last month.

    A rep may open only their own page, a manager those of their team, an admin all (any
    other rep answers 404). Reps are never ranked.
    """

    metric = "coaching"
    definition_version = coaching.DEFINITION_VERSION

    class InputSerializer(KpiQuerySerializer):
        min_n = serializers.IntegerField(min_value=1, max_value=100_000, required=False)

    query_serializer = InputSerializer

    @kpi_schema(
        "A rep's coaching view: their figures beside the team's", parameters=[MIN_N_PARAMETER]
    )
    def get(self, request, rep_id: int, **kwargs):  # type: ignore[no-untyped-def]
        # The rep in the URL is the `rep` filter, so build_filter applies the role scope.
        return super().get(request, rep=rep_id, **kwargs)

    def compute(self, f: KpiFilter, options: dict[str, Any], now: datetime) -> dict[str, Any]:
        result = coaching.kpi_rep_coaching(
            f=f, now=now, rep_id=options["rep"], min_n=options.get("min_n")
        )
        return {
            "rep": {"id": result.rep, "label": result.rep_label},
            "team": {"id": result.team, "label": result.team_label},
            "min_n": result.min_n,
            "this_month": result.this_month,
            "last_month": result.last_month,
            "summary": result.summary,
            "figures": [
                {
                    "figure": fig.figure,
                    "label": fig.label,
                    "kind": fig.kind,
                    "unit": UNITS[fig.kind],
                    "n": fig.rep.n,
                    **{
                        k: v for k, v in asdict(fig).items() if k not in ("figure", "label", "kind")
                    },
                    "cases_url": _own_cases_link(f, fig.figure, result.rep),
                }
                for fig in result.figures
            ],
            "mix": [asdict(cell) for cell in result.mix],
            "method": coaching.method(result.min_n),
        }

    def csv_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return list(body["data"]["figures"])


urlpatterns = [
    path("reps/<int:rep_id>/coaching/", KpiRepCoachingApi.as_view(), name="kpi-rep-coaching"),
]
