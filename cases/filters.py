"""django-filter FilterSets for the case list. Date bounds are ISO 8601; without an offset, UTC."""

from __future__ import annotations

import django_filters

from cases.models import Case, CaseStatus, Channel, Priority


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    category = django_filters.CharFilter(field_name="category__slug")
    assignee = django_filters.CharFilter(field_name="assignee__user__username")
    unassigned = django_filters.BooleanFilter(field_name="assignee", lookup_expr="isnull")
    team = django_filters.NumberFilter(field_name="team_id")
    account = django_filters.CharFilter(field_name="account__external_id")
    source = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    resolved_after = django_filters.IsoDateTimeFilter(field_name="resolved_at", lookup_expr="gte")
    resolved_before = django_filters.IsoDateTimeFilter(field_name="resolved_at", lookup_expr="lt")

    class Meta:
        model = Case
        fields: list[str] = []
