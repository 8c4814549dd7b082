"""``GET /api/v1/audit/``: the audit trail (who changed categories, teams, reps, assignments).

Admins only, like the outbox: it names every user who changed the configuration.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from pghistory.models import MiddlewareEvents
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.audit_selectors import (
    audit_event_changes,
    audit_event_data,
    audit_event_list,
    audit_model_name,
)
from cases.models.audit import AUDITED_MODELS
from cases.outbox_apis import IsAdminRole

MAX_ID = 2**63 - 1  # bigint: a larger id is a validation error, not a database error


class AuditCursorPagination(CursorPagination):
    """Newest first (the time of each change, ``clock_timestamp()``); ties by event id."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-pgh_created_at", "-pgh_id", "-pgh_model")


class AuditEventOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="pgh_slug")
    model = serializers.SerializerMethodField()
    object_id = serializers.IntegerField(source="pgh_obj_id")
    action = serializers.CharField(source="pgh_label")
    at = serializers.DateTimeField(source="pgh_created_at")
    actor = serializers.SerializerMethodField()
    origin = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    values = serializers.SerializerMethodField()

    def get_model(self, event: MiddlewareEvents) -> str:
        return audit_model_name(event)

    @extend_schema(
        responses=inline_serializer(
            "AuditActor",
            fields={"id": serializers.IntegerField(), "username": serializers.CharField()},
            allow_null=True,
        )
    )
    def get_actor(self, event: MiddlewareEvents) -> dict[str, Any] | None:
        """The request's user; null for a command, a task or an unlabeled writer."""
        user = event.user
        return {"id": user.pk, "username": user.get_username()} if user is not None else None

    def get_origin(self, event: MiddlewareEvents) -> dict[str, Any]:
        """Where the change came from: ``url`` (a request), ``command`` or ``task``."""
        metadata = event.pgh_context or {}
        return {key: metadata[key] for key in ("url", "command", "task") if key in metadata}

    def get_changes(self, event: MiddlewareEvents) -> dict[str, list[Any]]:
        """``{field: [before, after]}``."""
        return audit_event_changes(event)

    def get_values(self, event: MiddlewareEvents) -> dict[str, Any]:
        return audit_event_data(event)


class AuditEventListApi(APIView):
    """``GET /api/v1/audit/?model=team&object_id=3&actor=7&since=...&until=...``."""

    permission_classes = [IsAdminRole]

    class FilterSerializer(serializers.Serializer):
        model = serializers.ChoiceField(choices=sorted(AUDITED_MODELS), required=False)
        object_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        actor = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "object_id" in attrs and "model" not in attrs:
                raise serializers.ValidationError({"object_id": ["Give the model as well."]})
            return attrs

    @extend_schema(
        parameters=[FilterSerializer],
        responses=inline_serializer(
            "AuditEventPage",
            fields={
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": AuditEventOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        params = dict(filters.validated_data)
        queryset = audit_event_list(
            model=params.get("model"),
            object_id=params.get("object_id"),
            actor_id=params.get("actor"),
            since=params.get("since"),
            until=params.get("until"),
        )
        paginator = AuditCursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(AuditEventOutputSerializer(page, many=True).data)


urlpatterns = [path("audit/", AuditEventListApi.as_view(), name="audit-list")]
