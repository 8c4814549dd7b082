"""django-filter FilterSets for the case list. Date bounds are ISO 8601; without an offset, UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from cases.models import Account, Case, CaseStatus, Channel, Priority, SurveyResponse


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 bound converted to UTC here, so the database never sees the offset.

    PostgreSQL takes UTC offsets up to ±15:59 and Python up to ±23:59: a bound such as
    ``…+23:56`` reached the query as written and failed there (a 500). A bound that has no
    UTC equivalent (year 1 with a positive offset) is a 400, not an OverflowError.
    """

    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Timestamp is out of range.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """``?category_id=3,4`` → category_id IN (3, 4)."""


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true``/``false`` (or ``True``/``False``, ``1``/``0``); anything else answers 400.

    django-filter's BooleanFilter reads a value it does not understand as "no filter", so
    ``?unassigned=yes`` silently answered every case.
    """

    TRUE = ("true", "True", "1")
    FALSE = ("false", "False", "0")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", [(v, v) for v in (*self.TRUE, *self.FALSE)])
        kwargs.setdefault("coerce", lambda value: value in StrictBooleanFilter.TRUE)
        super().__init__(*args, **kwargs)


class CaseFilter(django_filters.FilterSet):
    """Case-list filters; metrics drill-down links use the same names (metrics/drilldown.py)."""

    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    category = django_filters.CharFilter(field_name="category__slug")
    assignee = django_filters.CharFilter(field_name="assignee__user__username")
    unassigned = StrictBooleanFilter(field_name="assignee", lookup_expr="isnull")
    rep = django_filters.NumberFilter(field_name="assignee_id")
    resolved_by = django_filters.NumberFilter(field_name="resolved_by_id")
    category_id = NumberInFilter(field_name="category_id")
    segment = django_filters.MultipleChoiceFilter(
        field_name="account__segment", choices=Account.Segment.choices
    )
    reopened = StrictBooleanFilter(method="filter_reopened")
    agent_responses_max = django_filters.NumberFilter(
        field_name="agent_response_count", lookup_expr="lte"
    )
    agent_responses_min = django_filters.NumberFilter(
        field_name="agent_response_count", lookup_expr="gte"
    )
    first_responder = django_filters.NumberFilter(field_name="first_responder_id")
    first_response_after = UtcIsoDateTimeFilter(field_name="first_response_at", lookup_expr="gte")
    first_response_before = UtcIsoDateTimeFilter(field_name="first_response_at", lookup_expr="lt")
    # Survey answers: these combine into one condition on the same answer (see filter_queryset).
    responded_after = UtcIsoDateTimeFilter(method="_survey_condition")
    responded_before = UtcIsoDateTimeFilter(method="_survey_condition")
    survey_rep = django_filters.NumberFilter(method="_survey_condition")
    csat_max = django_filters.NumberFilter(method="_survey_condition")
    team = django_filters.NumberFilter(field_name="team_id")
    account = django_filters.CharFilter(field_name="account__external_id")
    source = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    opened_after = UtcIsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = UtcIsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    resolved_after = UtcIsoDateTimeFilter(field_name="resolved_at", lookup_expr="gte")
    resolved_before = UtcIsoDateTimeFilter(field_name="resolved_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields: list[str] = []

    SURVEY_LOOKUPS = {
        "responded_after": "responded_at__gte",
        "responded_before": "responded_at__lt",
        "survey_rep": "representative_id",
        "csat_max": "csat__lte",
    }

    def _survey_condition(self, queryset: QuerySet[Case], name: str, value: Any) -> QuerySet[Case]:
        return queryset  # applied together in filter_queryset

    def filter_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        """Cases with a survey answer matching every survey parameter given (one answer)."""
        queryset = super().filter_queryset(queryset)
        lookups = {
            lookup: self.form.cleaned_data[name]
            for name, lookup in self.SURVEY_LOOKUPS.items()
            if self.form.cleaned_data.get(name) is not None
        }
        if lookups:
            answers = SurveyResponse.objects.filter(case_id=OuterRef("pk"), **lookups)
            queryset = queryset.filter(Exists(answers))
        return queryset

    def filter_reopened(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        return queryset.filter(reopened_count__gt=0) if value else queryset.filter(reopened_count=0)
