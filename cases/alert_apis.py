"""REST interface of the detractor alerts: list and detail (scoped), contact and close.

Thin: the workflow rules (which transitions, who and when) live in cases.services.alerts,
who sees what in cases.alert_selectors.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import alert_selectors
from cases.filters import UtcIsoDateTimeFilter
from cases.models import DetractorAlert
from cases.scoping import Role, scope_for
from cases.services import alerts as alert_services


class DetractorAlertFilter(django_filters.FilterSet):
    """Alert-list filters. Date bounds are ISO 8601 (no offset: UTC), ``[after, before)``."""

    status = django_filters.MultipleChoiceFilter(choices=DetractorAlert.Status.choices)
    team = django_filters.NumberFilter(field_name="team_id")
    rep = django_filters.NumberFilter(field_name="representative_id")
    case = django_filters.NumberFilter(field_name="case_id")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = DetractorAlert
        fields: list[str] = []


class AlertCursorPagination(CursorPagination):
    """Stable cursor over (-created_at, -id), as for cases: new alerts never shift a page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering_choices = {
        "-created_at": ("-created_at", "-id"),
        "created_at": ("created_at", "id"),
    }

    def get_ordering(self, request: Request, queryset, view) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        requested = request.query_params.get("ordering", "-created_at")
        if requested not in self.ordering_choices:
            choices = ", ".join(sorted(self.ordering_choices))
            raise serializers.ValidationError(
                {"ordering": [f"Unknown ordering {requested!r}; use one of {choices}."]}
            )
        return self.ordering_choices[requested]


class ReadAlertsActAsManager(BasePermission):
    """Any role reads (narrowed by the queryset); contact and close are for managers and
    admins: the rep concerned and integrations get 403."""

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = scope_for(request.user)
        if request.method in SAFE_METHODS:
            return scope.role != Role.NONE
        return alert_selectors.may_act_on_alerts(scope)


class DetractorAlertSerializer(serializers.ModelSerializer):
    """One alert: the case, the rep, the answer, and who moved it along the workflow when."""

    case_external_id = serializers.CharField(source="case.external_id", read_only=True)
    case_subject = serializers.CharField(source="case.subject", read_only=True)
    representative_name = serializers.CharField(
        source="representative.display_name", read_only=True, default=None
    )
    csat = serializers.IntegerField(source="response.csat", read_only=True)
    nps = serializers.IntegerField(source="response.nps", read_only=True)
    effort = serializers.IntegerField(source="response.effort", read_only=True)
    comment = serializers.SerializerMethodField()
    contacted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    time_to_first_contact_seconds = serializers.SerializerMethodField()

    class Meta:
        model = DetractorAlert
        fields = [
            "id",
            "status",
            "case",
            "case_external_id",
            "case_subject",
            "team",
            "representative",
            "representative_name",
            "csat",
            "nps",
            "effort",
            "comment",
            "created_at",
            "contacted_at",
            "contacted_by",
            "closed_at",
            "closed_by",
            "note",
            "time_to_first_contact_seconds",
        ]
        read_only_fields = fields

    def get_comment(self, alert: DetractorAlert) -> str | None:
        """None for callers who may not read the customer's words (see alert_selectors)."""
        return alert.response.comment if self.context.get("show_comment", False) else None

    def get_time_to_first_contact_seconds(self, alert: DetractorAlert) -> float | None:
        if alert.contacted_at is None:
            return None
        return (alert.contacted_at - alert.created_at).total_seconds()


def _serializer_context(request: Request) -> dict[str, Any]:
    return {
        "request": request,
        "show_comment": alert_selectors.may_read_alert_comment(scope_for(request.user)),
    }


class DetractorAlertViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Detractor alerts in the caller's scope, newest first."""

    permission_classes = [ReadAlertsActAsManager]
    serializer_class = DetractorAlertSerializer
    filterset_class = DetractorAlertFilter
    pagination_class = AlertCursorPagination

    def get_queryset(self) -> QuerySet[DetractorAlert]:
        return alert_selectors.detractor_alert_list(scope=scope_for(self.request.user))

    def get_serializer_context(self) -> dict[str, Any]:
        return _serializer_context(self.request)

    @extend_schema(
        parameters=[
            OpenApiParameter("ordering", enum=["-created_at", "created_at"], default="-created_at")
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


def _alert_in_scope(request: Request, alert_id: int) -> DetractorAlert:
    return get_object_or_404(
        alert_selectors.detractor_alert_list(scope=scope_for(request.user)), pk=alert_id
    )


def _alert_body(request: Request, alert: DetractorAlert) -> dict[str, Any]:
    fresh = alert_selectors.detractor_alert_get(scope=scope_for(request.user), alert_id=alert.pk)
    return DetractorAlertSerializer(fresh, context=_serializer_context(request)).data


class DetractorAlertContactApi(APIView):
    """Record that the customer was contacted (open → contacted), by the caller, now."""

    permission_classes = [ReadAlertsActAsManager]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

        class Meta:
            ref_name = "DetractorAlertContact"

    @extend_schema(request=InputSerializer, responses=DetractorAlertSerializer)
    def post(self, request: Request, alert_id: int) -> Response:
        alert = _alert_in_scope(request, alert_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_services.detractor_alert_contact(
            alert=alert, user=request.user, **serializer.validated_data
        )
        return Response(_alert_body(request, alert))


class DetractorAlertCloseApi(APIView):
    """Record the outcome of the follow-up (contacted → recovered / not recovered)."""

    permission_classes = [ReadAlertsActAsManager]

    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=[DetractorAlert.Status.RECOVERED, DetractorAlert.Status.NOT_RECOVERED]
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)

        class Meta:
            ref_name = "DetractorAlertClose"

    @extend_schema(request=InputSerializer, responses=DetractorAlertSerializer)
    def post(self, request: Request, alert_id: int) -> Response:
        alert = _alert_in_scope(request, alert_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_services.detractor_alert_close(
            alert=alert, user=request.user, **serializer.validated_data
        )
        return Response(_alert_body(request, alert))


# Included by cases/urls.py; list and detail are on its router (``alerts``, basename alert).
urlpatterns = [
    path(
        "alerts/<int:alert_id>/contact/",
        DetractorAlertContactApi.as_view(),
        name="alert-contact",
    ),
    path("alerts/<int:alert_id>/close/", DetractorAlertCloseApi.as_view(), name="alert-close"),
]
