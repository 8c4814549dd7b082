"""Admin-only REST view of the outbox: what failed or waits, and "retry now".

Failures must be visible, not silent. The list never shows an address or a body: survey
rows store none (the address is read from the case when the mail is built), and staff mails
show their subject only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import OutboundEmail
from cases.scoping import Role, scope_for
from cases.services.outbox import outbound_email_retry

STAFF_KINDS = {OutboundEmail.Kind.DETRACTOR_ALERT, OutboundEmail.Kind.COACHING_DIGEST}


def outbound_email_list(
    *, status: list[str] | None = None, kind: list[str] | None = None
) -> QuerySet[OutboundEmail]:
    """Outbox rows, newest first, optionally narrowed to some statuses and kinds."""
    queryset = OutboundEmail.objects.all()
    if status:
        queryset = queryset.filter(status__in=status)
    if kind:
        queryset = queryset.filter(kind__in=kind)
    return queryset


class IsAdminRole(BasePermission):
    """Admins only: the outbox is operations, not coaching."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return scope_for(request.user).role == Role.ADMIN


class OutboxCursorPagination(CursorPagination):
    """Stable cursor over (-created_at, -id): new emails never shift the page being read."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-created_at", "-id")


class OutboundEmailOutputSerializer(serializers.ModelSerializer):
    subject = serializers.SerializerMethodField()

    class Meta:
        model = OutboundEmail
        fields = [
            "id",
            "kind",
            "dedupe_key",
            "status",
            "attempts",
            "last_error",
            "next_attempt_at",
            "claimed_at",
            "sent_at",
            "created_at",
            "invitation",
            "alert",
            "recipient",
            "period_start",
            "subject",
        ]
        read_only_fields = fields

    def get_subject(self, email: OutboundEmail) -> str | None:
        """Staff mails only; a survey's subject is built at send time and not stored."""
        return email.subject if email.kind in STAFF_KINDS else None


class OutboundEmailListApi(APIView):
    """``GET /api/v1/outbox/?status=failed&kind=survey_invitation``: the outbox, admins only."""

    permission_classes = [IsAdminRole]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ListField(
            child=serializers.ChoiceField(choices=OutboundEmail.Status.choices), required=False
        )
        kind = serializers.ListField(
            child=serializers.ChoiceField(choices=OutboundEmail.Kind.choices), required=False
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses=inline_serializer(
            "OutboundEmailPage",
            fields={
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": OutboundEmailOutputSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(
            data={
                key: request.query_params.getlist(key)
                for key in ("status", "kind")
                if key in request.query_params
            }
        )
        filters.is_valid(raise_exception=True)
        queryset = outbound_email_list(**filters.validated_data)
        paginator = OutboxCursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(OutboundEmailOutputSerializer(page, many=True).data)


class OutboundEmailRetryApi(APIView):
    """``POST /api/v1/outbox/{id}/retry/``: a failed email gets fresh attempts, sent now."""

    permission_classes = [IsAdminRole]

    @extend_schema(request=None, responses=OutboundEmailOutputSerializer)
    def post(self, request: Request, email_id: int) -> Response:
        email = get_object_or_404(OutboundEmail, pk=email_id)
        email = outbound_email_retry(email=email)
        email.refresh_from_db()
        return Response(OutboundEmailOutputSerializer(email).data)


urlpatterns = [
    path("outbox/", OutboundEmailListApi.as_view(), name="outbox-list"),
    path("outbox/<int:email_id>/retry/", OutboundEmailRetryApi.as_view(), name="outbox-retry"),
]
