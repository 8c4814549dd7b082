"""OpenAPI generation: every operation documents the errors it can answer, in the error shape.

drf-spectacular documents only the success response unless a view lists its errors. Clients
(and the schema fuzzer, tests/hardening/test_fuzz.py) need the rest too: which statuses an
operation answers and that their body is ``{"message", "code", "extra"}``
(supportmetrics/exceptions.py). A view that declares errors itself (``@extend_schema(responses=
{...})``) is taken at its word for the errors it raises (400, 404, 409, …); the others are
added here from what the operation is:

- 400 ``validation_error``/``parse_error``: it takes a body or query parameters;
- 401/403: it needs a logged-in caller (views open to anyone, e.g. surveys, do not);
- 404: an object outside the caller's scope, an unknown page or cursor, a KPI filter naming
  someone out of scope;
- 409: writes that can conflict (existing case, lifecycle transitions, objects in use);
- 413/415: it takes a body (size limit, media type);
- 429: it is rate limited (supportmetrics/ratelimit.py), which every API view is;
- 503: a KPI past its statement timeout (metrics/timeouts.py).

Read-only fields are described as the rows they come from: a field reached through a
nullable relation or column (``source="resolved_by"``, ``"response.nps"``) may be null, and a
choice column stored blank (an event's ``from_status``) may be ``""``. DRF drops
``allow_null``/``allow_blank`` from read-only fields, so the schema would otherwise promise
values the API does not always send.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    message = serializers.CharField(help_text="For people.")
    code = serializers.CharField(help_text="Stable, for programs (e.g. validation_error).")
    extra = serializers.DictField(
        help_text="Details; validation errors name each field under extra.fields."
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: validation_error (extra.fields names each field) or parse_error.",
    "401": "No credentials (not_authenticated) or an unknown token (authentication_failed).",
    "403": "No role, or the role may not do this (permission_denied).",
    "404": "Unknown object, or one outside the caller's scope; unknown page or cursor.",
    "409": "Conflicts with the stored state (case_exists, a lifecycle rule, in_use, …).",
    "413": "The body is over the size limit (request_too_large).",
    "415": "The body is neither JSON nor a form (unsupported_media_type).",
    "412": "If-Match names a version that is no longer current (precondition_failed); "
    "extra.etag and the ETag header give the current one.",
    "422": "The Idempotency-Key was used for another request (idempotency_key_reused).",
    "428": "If-Match is missing (precondition_required): read the object, send its ETag.",
    "429": "Over the rate limit (rate_limited); extra.retry_after and Retry-After say when "
    "to try again.",
    "503": "A KPI took longer than its time limit (kpi_timeout); Retry-After says when to "
    "try again.",
}

# What these request headers add to an operation's errors, whatever the view declares
# itself (idempotency/decorators.py, cases/etags.py).
HEADER_ERRORS = {
    ("Idempotency-Key", False): ("400", "409", "422"),
    ("If-Match", True): ("412", "428"),
}
IN_FLIGHT = " idempotency_key_in_flight: a request with this Idempotency-Key is running."

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _source_column(field: serializers.Field) -> tuple[bool, models.Field | None]:
    """(may the path to the value be null, the model column at its end) for a field of a
    ModelSerializer; (False, None) when the source is not a chain of model fields."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or field.source == "*":
        return False, None
    nullable = False
    column: Any = None
    for name in field.source.split("."):
        if model is None:
            return nullable, None
        try:
            column = model._meta.get_field(name)
        except FieldDoesNotExist:
            return nullable, None  # a property or method: nothing known
        nullable = nullable or bool(getattr(column, "null", False))
        model = column.related_model if column.is_relation else None
    return nullable, column


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> Any:
        if direction == "response" and getattr(field, "read_only", False) and field.parent:
            nullable, column = _source_column(field)
            if nullable:
                field.allow_null = True
            if (
                isinstance(field, serializers.ChoiceField)
                and column is not None
                and column.blank
                and not column.is_relation
            ):
                field.allow_blank = True
        return super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )

    def _error_codes(self, operation: dict[str, Any], *, domain: bool) -> list[str]:
        """The errors this operation can answer. ``domain``: also those the view itself
        raises (400, 404, 409); the others come from layers before the view (authentication
        and permissions, the body-size middleware, the parsers) and apply whatever it says."""
        codes = []
        takes_body = "requestBody" in operation
        open_to_anyone = any(
            isinstance(permission, AllowAny) for permission in self.view.get_permissions()
        )
        if not open_to_anyone:
            codes += ["401", "403"]
        if takes_body:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        if getattr(self.view, "answers_kpi_timeout", False):
            codes.append("503")
        if domain:
            codes.append("404")
            if takes_body or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append("400")
            if self.method in WRITE_METHODS:
                codes.append("409")
        return sorted(codes)

    def _header_error_codes(self, operation: dict[str, Any]) -> list[str]:
        codes: list[str] = []
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "header":
                key = (parameter["name"], bool(parameter.get("required")))
                codes += HEADER_ERRORS.get(key, ())
        return codes

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        declared = any(code.startswith("4") for code in responses)  # the view lists its own
        header_codes = self._header_error_codes(operation)
        codes = set(self._error_codes(operation, domain=not declared)) | set(header_codes)
        for code in sorted(codes):
            if code in responses:
                continue
            response = self._get_response_for_code(  # type: ignore[no-untyped-call]
                ErrorSerializer, code
            )
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        if "422" in header_codes:
            responses["409"]["description"] = responses["409"].get("description", "") + IN_FLIGHT
        return operation
