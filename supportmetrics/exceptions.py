"""One error shape for every API error: ``{"message", "code", "extra"}``.

Validation errors carry ``code="validation_error"`` and ``extra.fields`` mapping each
field (dotted for nested ones) to its reasons.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler

from supportmetrics.outages import (
    RETRY_AFTER_SECONDS,
    database_unavailable_body,
    database_unavailable_page,
    is_database_unavailable,
)


class ApplicationError(Exception):
    """A domain rule was broken; services raise it, the API turns it into a 4xx."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str = "application_error",
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        self.headers = headers or {}
        if status_code is not None:
            self.status_code = status_code


def field_errors(detail: Any) -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into ``{"field.sub": ["reason", ...]}``."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                name = "non_field_errors" if key == "non_field_errors" and not prefix else key
                walk(f"{prefix}.{name}" if prefix else str(name), sub)
        elif (
            isinstance(value, list)
            and value
            and not all(isinstance(v, str | exceptions.ErrorDetail) for v in value)
        ):
            for index, sub in enumerate(value):
                if sub:
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            items = value if isinstance(value, list) else [value]
            flat.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in items)

    walk("", detail)
    return flat


def error_body(message: str, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, "extra": extra or {}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if is_database_unavailable(exc):  # a restart or failover, not a bug: retry (outages.py)
        return Response(
            database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.message, exc.code, exc.extra),
            status=exc.status_code,
            headers=exc.headers,
        )

    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting a team, rep, account or category that cases still point at (PROTECT).
        # It is the client's conflict, not a server bug: answer 409 rather than a 500.
        blocking = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        return Response(
            error_body(
                "This object is still in use and cannot be deleted.",
                "in_use",
                {"referenced_by": sorted({obj._meta.label for obj in blocking})},
            ),
            status=status.HTTP_409_CONFLICT,
        )

    response = exception_handler(exc, context)
    if response is None:
        return None  # a real bug: stays a 500 and is reported

    if isinstance(exc, exceptions.ValidationError):
        fields = field_errors(exc.detail)
        first = next(iter(fields.items()), ("", ["Invalid input."]))
        message = f"{first[0]}: {first[1][0]}" if first[0] != "non_field_errors" else first[1][0]
        response.data = error_body(message, "validation_error", {"fields": fields})
        return response

    detail = getattr(exc, "detail", str(exc))
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    code = codes if isinstance(codes, str) else "error"
    extra: dict[str, Any] = {}
    wait = getattr(exc, "wait", None)
    if wait:  # a rate limit or a KPI time-out: DRF sent Retry-After; the body says it too
        extra["retry_after"] = int(wait)
    if isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
    response.data = error_body(str(detail), code, extra)
    return response


def _json_error(status_code: int, message: str, code: str) -> JsonResponse:
    return JsonResponse(error_body(message, code), status=status_code)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Non-DRF 404s (unknown URLs) in the same shape."""
    return _json_error(404, "Not found.", "not_found")


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except``: the exception is still at hand.
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_page(request)
    return _json_error(500, "Internal server error.", "server_error")


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(400, "Bad request.", "bad_request")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(
        403, "You do not have permission to perform this action.", "permission_denied"
    )
