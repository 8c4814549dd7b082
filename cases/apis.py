"""REST interface of the case domain. Thin: validation here, rules in services and selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import imports, selectors, services
from cases.etags import case_etag
from cases.filters import CaseFilter
from cases.models import Account, Case, Category, Team
from cases.permissions import AdminWritesOnly, CanIngest, HasCaseRole
from cases.scoping import Role, may_assign, representatives_in_scope, scope_for
from cases.serializers import (
    AccountSerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseEventCreateSerializer,
    CaseEventSerializer,
    CaseListSerializer,
    CaseSnapshotSerializer,
    CaseUpdateSerializer,
    CategorySerializer,
    RepresentativeSerializer,
    TeamSerializer,
)
from idempotency.decorators import idempotent
from supportmetrics.exceptions import ApplicationError, field_errors
from supportmetrics.pagination import CaseCursorPagination
from supportmetrics.preconditions import IF_MATCH_PARAMETER, etag_header, if_match

BULK_MAX_ITEMS = 100


class TeamViewSet(viewsets.ModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["name"]


class RepresentativeViewSet(viewsets.ModelViewSet):
    serializer_class = RepresentativeSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["team", "role", "active"]

    def get_queryset(self) -> QuerySet[Any]:
        return representatives_in_scope(scope_for(self.request.user))


class AccountViewSet(viewsets.ModelViewSet):
    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["segment", "status", "external_id"]


class CategoryViewSet(viewsets.ModelViewSet):
    queryset = Category.objects.select_related("parent")
    serializer_class = CategorySerializer
    permission_classes = [AdminWritesOnly]
    filterset_fields = ["active", "slug"]


class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases in the caller's scope. Status and assignment change through case events."""

    permission_classes = [HasCaseRole]
    filterset_class = CaseFilter
    pagination_class = CaseCursorPagination

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_list(scope=scope_for(self.request.user))

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "list": CaseListSerializer,
            "create": CaseCreateSerializer,
            "update": CaseUpdateSerializer,
            "partial_update": CaseUpdateSerializer,
        }.get(self.action, CaseDetailSerializer)

    @extend_schema(
        parameters=[
            OpenApiParameter("ordering", enum=["-opened_at", "opened_at"], default="-opened_at")
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[etag_header(200)])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        return Response(CaseDetailSerializer(case).data, headers={"ETag": case_etag(case)})

    @extend_schema(
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer, 200: CaseDetailSerializer},
        parameters=[etag_header(200, 201)],
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scope = scope_for(request.user)
        serializer = CaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if scope.role == Role.REP and data["assignee"] is None:
            data["assignee"] = scope.representative  # a rep's new case is theirs
        if not may_assign(scope, data["assignee"]):
            raise ApplicationError(
                "You may not assign cases to this representative.",
                code="permission_denied",
                status_code=403,
            )
        case, created = services.case_create(
            **data,
            team=scope.representative.team
            if scope.role == Role.MANAGER and not data["assignee"]
            else None,
            actor=scope.representative,
        )
        if not selectors.case_list(scope=scope).filter(pk=case.pk).exists():
            # An existing case with this external id, outside the caller's scope.
            raise ApplicationError(
                "A case with this external id already exists.", code="case_exists", status_code=409
            )
        case = selectors.case_get(scope=scope, case_id=case.pk)
        return Response(
            CaseDetailSerializer(case).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"ETag": case_etag(case)},
        )

    @extend_schema(
        request=CaseUpdateSerializer,
        responses=CaseDetailSerializer,
        parameters=[IF_MATCH_PARAMETER, etag_header(200, 412)],
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        expected = if_match(request)
        serializer = CaseUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        case = services.case_update(
            case=case, data=dict(serializer.validated_data), if_match=expected
        )
        case = selectors.case_get(scope=scope_for(request.user), case_id=case.pk)
        return Response(CaseDetailSerializer(case).data, headers={"ETag": case_etag(case)})

    @extend_schema(
        request=CaseUpdateSerializer,
        responses=CaseDetailSerializer,
        parameters=[IF_MATCH_PARAMETER, etag_header(200, 412)],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


class CaseEventApi(APIView):
    """The history of a case (GET) and how clients report what happened to it (POST)."""

    permission_classes = [HasCaseRole]

    def _case(self, request: Request, case_id: int) -> Case:
        return get_object_or_404(selectors.case_list(scope=scope_for(request.user)), pk=case_id)

    @extend_schema(responses=CaseEventSerializer(many=True))
    def get(self, request: Request, case_id: int) -> Response:
        case = self._case(request, case_id)
        return Response(CaseEventSerializer(selectors.case_event_list(case=case), many=True).data)

    @extend_schema(
        request=CaseEventCreateSerializer,
        responses={201: CaseEventSerializer, 200: CaseEventSerializer},
    )
    @idempotent
    def post(self, request: Request, case_id: int) -> Response:
        scope = scope_for(request.user)
        case = self._case(request, case_id)
        serializer = CaseEventCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not may_assign(scope, data["assignee"]):
            raise ApplicationError(
                "You may not assign cases to this representative.",
                code="permission_denied",
                status_code=403,
            )
        event, created = services.case_event_record(case=case, actor=scope.representative, **data)
        return Response(
            CaseEventSerializer(event).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


BulkResultSerializer = inline_serializer(
    "CaseBulkResult",
    fields={
        "index": serializers.IntegerField(),
        "id": serializers.IntegerField(required=False),
        "result": serializers.ChoiceField(
            choices=["created", "updated", "unchanged"], required=False
        ),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)


class CaseBulkUpsertApi(APIView):
    """Upsert up to 100 cases by (source, external_id); each item succeeds or fails alone.

    The whole batch is validated first (one query per kind of name), then written with a
    fixed number of statements (``services.case_snapshots_upsert``).
    """

    permission_classes = [CanIngest]

    @extend_schema(
        request=CaseSnapshotSerializer(many=True),
        responses=inline_serializer(
            "CaseBulkResponse",
            fields={"results": serializers.ListField(child=BulkResultSerializer)},
        ),
    )
    @idempotent
    def post(self, request: Request) -> Response:
        items = request.data
        if not isinstance(items, list):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON array of cases."]})
        if len(items) > BULK_MAX_ITEMS:
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        f"At most {BULK_MAX_ITEMS} cases per request; got {len(items)}."
                    ]
                }
            )
        results: list[dict[str, Any]] = []
        valid: list[tuple[int, tuple[str, str, dict[str, Any]]]] = []
        for index, (data, errors) in enumerate(CaseSnapshotSerializer.validate_items(items)):
            if data is None:
                results.append({"index": index, "errors": field_errors(errors)})
                continue
            results.append({"index": index})
            source, external_id = data.pop("source"), data.pop("external_id")
            valid.append((index, (source, external_id, data)))
        outcomes = services.case_snapshots_upsert(items=[item for _, item in valid])
        for (index, _), outcome in zip(valid, outcomes, strict=True):
            if outcome.errors is not None:
                results[index]["errors"] = outcome.errors
            else:
                results[index].update(id=outcome.case_id, result=outcome.result)
        return Response({"results": results})


class CaseImportApi(APIView):
    """Import a help desk's past from a cases CSV and/or an events CSV; all or nothing.

    See docs/import.md for the columns and the rules. Admins and integration users only.
    """

    permission_classes = [CanIngest]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        cases = serializers.FileField(required=False, help_text="The cases CSV (UTF-8).")
        events = serializers.FileField(required=False, help_text="The events CSV (UTF-8).")
        source = serializers.SlugField(
            max_length=64,
            default=imports.DEFAULT_SOURCE,
            help_text="Source of the rows that leave theirs empty.",
        )
        create_missing = serializers.BooleanField(
            default=False, help_text="Create unknown reps, accounts, categories and teams."
        )
        dry_run = serializers.BooleanField(
            default=False, help_text="Check and count everything; save nothing."
        )

        class Meta:
            ref_name = "CaseImport"

    class OutputSerializer(serializers.Serializer):
        class CasesSerializer(serializers.Serializer):
            rows = serializers.IntegerField()
            created = serializers.IntegerField()
            updated = serializers.IntegerField()
            unchanged = serializers.IntegerField()

            class Meta:
                ref_name = "CaseImportCaseCounts"

        class EventsSerializer(serializers.Serializer):
            rows = serializers.IntegerField()
            histories = serializers.IntegerField()
            created = serializers.IntegerField()
            deleted = serializers.IntegerField()
            unchanged = serializers.IntegerField()

            class Meta:
                ref_name = "CaseImportEventCounts"

        class CreatedSerializer(serializers.Serializer):
            teams = serializers.ListField(child=serializers.CharField())
            representatives = serializers.ListField(child=serializers.CharField())
            accounts = serializers.ListField(child=serializers.CharField())
            categories = serializers.ListField(child=serializers.CharField())

            class Meta:
                ref_name = "CaseImportCreated"

        dry_run = serializers.BooleanField()
        cases = CasesSerializer()
        events = EventsSerializer()
        created_missing = CreatedSerializer()

        class Meta:
            ref_name = "CaseImportReport"

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                response=inline_serializer(
                    "CaseImportErrorResponse",
                    fields={
                        "message": serializers.CharField(),
                        "code": serializers.ChoiceField(
                            choices=["import_invalid", "import_rejected", "validation_error"]
                        ),
                        "extra": serializers.DictField(),
                    },
                ),
                description=(
                    "import_invalid: extra.errors lists each bad row as {file, line, field, "
                    "message} (at most 1000; extra.error_count has the total). "
                    "validation_error: a missing or unreadable file, named in extra.fields."
                ),
            ),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = imports.case_import(**serializer.validated_data)
        return Response(self.OutputSerializer(report.as_dict()).data)
