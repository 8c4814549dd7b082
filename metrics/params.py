"""Parse the query parameters every KPI endpoint shares into a scoped KpiFilter.

Period: ``from``/``to`` (dates, ``to`` inclusive, in the calendar's time zone; or aware
timestamps) or ``last_days`` (default 30, ending with today). At most 366 days.
Slice: team, rep, category (slug; its sub-categories included), channel, priority,
segment (account segment). Calendar: ``tz`` (IANA), else the team's, else UTC.
The caller's role narrows the slice: a rep is always themselves, a manager their team;
asking for someone outside that scope raises Http404.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.http import Http404
from rest_framework import serializers

from cases.models import Account as _Account
from cases.models import Category, Channel, Priority, Representative, Team
from cases.scoping import Role, Scope

MAX_PERIOD_DAYS = 366
DEFAULT_LAST_DAYS = 30
GROUP_BY_CHOICES = ("rep", "team", "category", "channel", "priority", "day", "week", "month")


class _DateOrDateTimeField(serializers.Field):
    default_error_messages = {
        "invalid": "Use a date (YYYY-MM-DD) or a timestamp with a UTC offset.",
    }

    def to_internal_value(self, value: Any) -> date | datetime:
        text = str(value).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        if parsed.tzinfo is None:
            self.fail("invalid")
        return parsed


class KpiQuerySerializer(serializers.Serializer):
    """The shared filters; KPI endpoints subclass it to add their own options."""

    from_ = _DateOrDateTimeField(required=False)
    to = _DateOrDateTimeField(required=False)
    last_days = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PERIOD_DAYS)
    tz = serializers.CharField(required=False)
    team = serializers.IntegerField(required=False, min_value=1)
    rep = serializers.IntegerField(required=False, min_value=1)
    category = serializers.SlugField(required=False)
    channel = serializers.MultipleChoiceField(choices=Channel.choices, required=False)
    priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False)
    segment = serializers.MultipleChoiceField(choices=_Account.Segment.choices, required=False)
    basis = serializers.ChoiceField(choices=["calendar", "business"], default="calendar")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a keyword in Python
        return fields

    def validate_tz(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone name.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "last_days" in attrs and ("from" in attrs or "to" in attrs):
            raise serializers.ValidationError(
                {"last_days": ["Give either last_days or from/to, not both."]}
            )
        if ("from" in attrs) != ("to" in attrs):
            missing = "to" if "from" in attrs else "from"
            raise serializers.ValidationError({missing: ["from and to go together."]})
        return attrs


def _multi(request_params: Any, name: str) -> list[str]:
    """Accept both ?channel=a&channel=b and ?channel=a,b."""
    values: list[str] = []
    for raw in request_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def query_data(params: Any, multi: tuple[str, ...] = ("channel", "priority", "segment")) -> dict:
    data: dict[str, Any] = {k: params.get(k) for k in params if k not in multi and k != "format"}
    for name in multi:
        if name in params:
            data[name] = _multi(params, name)
    return data


def _bounds(
    attrs: dict[str, Any], tz: zoneinfo.ZoneInfo, now: datetime
) -> tuple[datetime, datetime]:
    def as_utc(value: date | datetime, end: bool) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    if "from" in attrs:
        start, end = as_utc(attrs["from"], False), as_utc(attrs["to"], True)
    else:
        today = now.astimezone(tz).date()
        days = attrs.get("last_days", DEFAULT_LAST_DAYS)
        start = as_utc(today - timedelta(days=days - 1), False)
        end = as_utc(today, True)
    if end <= start:
        raise serializers.ValidationError({"to": ["The period ends before it starts."]})
    if (end - start) > timedelta(days=MAX_PERIOD_DAYS, hours=1):  # an hour of DST slack
        raise serializers.ValidationError(
            {"from": [f"The period is longer than {MAX_PERIOD_DAYS} days; ask for less."]}
        )
    return start, end


def scoped_slice(attrs: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """Team/rep ids after applying the caller's scope; Http404 for out-of-scope requests."""
    team_id, rep_id = attrs.get("team"), attrs.get("rep")
    rep = None
    if rep_id is not None:
        rep = Representative.objects.filter(pk=rep_id).only("id", "team_id").first()
        if rep is None:
            raise Http404
    if scope.role == Role.REP:
        own = scope.representative
        if (rep_id is not None and rep_id != own.pk) or (team_id not in (None, own.team_id)):  # type: ignore[union-attr]
            raise Http404
        return {"rep_ids": (own.pk,), "team_ids": None}  # type: ignore[union-attr]
    if scope.role == Role.MANAGER:
        if team_id not in (None, scope.team_id) or (
            rep is not None and rep.team_id != scope.team_id
        ):
            raise Http404
        team_id = scope.team_id
    elif not scope.sees_everything:
        raise Http404
    if team_id is not None and not Team.objects.filter(pk=team_id).exists():
        raise Http404
    if rep is not None and team_id is not None and rep.team_id != team_id:
        raise Http404
    return {
        "rep_ids": (rep_id,) if rep_id is not None else None,
        "team_ids": (team_id,) if team_id is not None else None,
    }


def category_ids(slug: str | None) -> tuple[int, ...] | None:
    """The category and its descendants (categories form a shallow tree)."""
    if slug is None:
        return None
    root = Category.objects.filter(slug=slug).values_list("id", flat=True).first()
    if root is None:
        raise serializers.ValidationError({"category": [f"Unknown category {slug!r}."]})
    ids, frontier = {root}, {root}
    while frontier:
        frontier = (
            set(Category.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - ids
        )
        ids |= frontier
    return tuple(sorted(ids))


def calendar_tz(attrs: dict[str, Any], slice_: dict[str, Any], scope: Scope) -> zoneinfo.ZoneInfo:
    if attrs.get("tz"):
        return zoneinfo.ZoneInfo(attrs["tz"])
    team_id = (slice_["team_ids"] or (None,))[0] or scope.team_id
    if slice_["rep_ids"] and not team_id:
        team_id = (
            Representative.objects.filter(pk=slice_["rep_ids"][0])
            .values_list("team_id", flat=True)
            .first()
        )
    name = (
        Team.objects.filter(pk=team_id).values_list("timezone", flat=True).first()
        if team_id
        else None
    )
    return zoneinfo.ZoneInfo(name or "UTC")


def build_filter(attrs: dict[str, Any], scope: Scope, now: datetime):  # type: ignore[no-untyped-def]
    """KpiFilter from validated query attributes, the caller's scope and ``now``."""
    from metrics.types import KpiFilter

    slice_ = scoped_slice(attrs, scope)
    tz = calendar_tz(attrs, slice_, scope)
    start, end = _bounds(attrs, tz, now)
    return KpiFilter(
        start=start,
        end=end,
        tz=tz,
        team_ids=slice_["team_ids"],
        rep_ids=slice_["rep_ids"],
        category_ids=category_ids(attrs.get("category")),
        channels=tuple(sorted(attrs["channel"])) if attrs.get("channel") else None,
        priorities=tuple(sorted(attrs["priority"])) if attrs.get("priority") else None,
        segments=tuple(sorted(attrs["segment"])) if attrs.get("segment") else None,
        basis=attrs.get("basis", "calendar"),
    )


def case_slice_q(f: Any, *, prefix: str = "", rep_field: str = "assignee_id") -> Q:
    """The non-period part of a KpiFilter as a Q on Case (``prefix`` for related lookups)."""
    q = Q()
    if f.team_ids is not None:
        q &= Q(**{f"{prefix}team_id__in": f.team_ids})
    if f.rep_ids is not None:
        q &= Q(**{f"{prefix}{rep_field}__in": f.rep_ids})
    if f.category_ids is not None:
        q &= Q(**{f"{prefix}category_id__in": f.category_ids})
    if f.channels is not None:
        q &= Q(**{f"{prefix}channel__in": f.channels})
    if f.priorities is not None:
        q &= Q(**{f"{prefix}priority__in": f.priorities})
    if f.segments is not None:
        q &= Q(**{f"{prefix}account__segment__in": f.segments})
    return q
