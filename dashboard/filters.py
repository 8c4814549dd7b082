"""The dashboard's filters: period, team, category and channel, read from the URL.

They are the KPI endpoints' query parameters (``last_days`` or ``from``/``to``, ``team``,
``category``, ``channel``), validated by the same serializer and scoped by the same
``metrics.params.build_filter``: a shared link shows the same slice to anyone allowed to see
it, and a slice outside the viewer's scope (another team, another rep) answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from rest_framework import serializers

from cases.models import Category, Channel, Team
from cases.scoping import Role, Scope
from metrics.params import KpiQuerySerializer, build_filter
from metrics.types import KpiFilter
from supportmetrics.exceptions import field_errors

FILTER_NAMES = ("last_days", "from", "to", "team", "category", "channel")
PERIOD_CHOICES = (
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
    (180, "Last 180 days"),
    (365, "Last 365 days"),
)


class FilterError(Exception):
    """The URL's filters are not valid; ``errors`` maps each parameter to its reasons."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("invalid filters")
        self.errors = errors


@dataclass(frozen=True)
class PageFilters:
    """A page's slice (``kpi``) and what the filter form needs to show it."""

    kpi: KpiFilter
    values: dict[str, str]
    # The filters the viewer chose, as a query string, so that moving between pages keeps them.
    query: str
    team_choices: list[tuple[int, str]] = field(default_factory=list)
    category_choices: list[tuple[str, str]] = field(default_factory=list)
    channel_choices: list[tuple[str, str]] = field(default_factory=list)
    period_choices: tuple[tuple[int, str], ...] = PERIOD_CHOICES
    team_locked: bool = False

    @property
    def period_label(self) -> str:
        """The period in the calendar's days: the first day and the last (inclusive)."""
        first = self.kpi.start.astimezone(self.kpi.tz)
        last = (self.kpi.end - timedelta(microseconds=1)).astimezone(self.kpi.tz)
        return f"{first:%-d %b %Y} – {last:%-d %b %Y} ({self.kpi.tz})"

    @property
    def team_name(self) -> str:
        """The viewer's own team, for a manager or a rep (their team filter is fixed)."""
        return self.team_choices[0][1] if self.team_locked and self.team_choices else ""


def _submitted(params: QueryDict) -> dict[str, list[str]]:
    """The non-empty filter values in the URL (a GET form also submits empty fields).
    Dates win over a period: the form always sends ``last_days``."""
    values = {name: [v.strip() for v in params.getlist(name) if v.strip()] for name in FILTER_NAMES}
    values = {name: v for name, v in values.items() if v}
    if "from" in values or "to" in values:
        values.pop("last_days", None)
    return values


def read_filters(
    params: QueryDict,
    *,
    scope: Scope,
    now: datetime,
    default_last_days: int = 30,
    extra: dict[str, Any] | None = None,
) -> PageFilters:
    """The page's scoped KpiFilter from the URL. ``extra`` adds fixed parameters (the rep of
    a coaching page). Raises FilterError for invalid values and Http404 (from build_filter)
    for a team or rep outside the viewer's scope."""
    submitted = _submitted(params)
    data: dict[str, Any] = {k: v[0] for k, v in submitted.items() if k != "channel"}
    if "channel" in submitted:
        data["channel"] = submitted["channel"]
    if not {"from", "to", "last_days"} & data.keys():
        data["last_days"] = default_last_days
    data.update(extra or {})
    query = KpiQuerySerializer(data=data)
    if not query.is_valid():
        raise FilterError(field_errors(query.errors))
    try:
        f = build_filter(dict(query.validated_data), scope, now)
    except serializers.ValidationError as error:
        raise FilterError(field_errors(error.detail)) from error
    shown = {name: str(data[name]) for name in ("last_days", "from", "to") if name in data}
    shown["team"] = str(f.team_ids[0]) if f.team_ids and len(f.team_ids) == 1 else ""
    shown["category"] = data.get("category", "")
    shown["channel"] = submitted.get("channel", [""])[0]
    return PageFilters(
        kpi=f,
        values=shown,
        query=urlencode([(k, v) for k, vs in submitted.items() for v in vs]),
        team_choices=_team_choices(scope),
        category_choices=list(Category.objects.order_by("name").values_list("slug", "name")),
        channel_choices=list(Channel.choices),
        team_locked=not scope.sees_everything,
    )


def _team_choices(scope: Scope) -> list[tuple[int, str]]:
    teams = Team.objects.order_by("name")
    if scope.role in (Role.MANAGER, Role.REP):
        teams = teams.filter(pk=scope.team_id)
    return list(teams.values_list("id", "name"))
