"""Request body limits that answer 413 in the API's error shape before anything is parsed."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.parsers import MultiPartParser

from supportmetrics.exceptions import error_body


def _takes_uploads(path: str) -> bool:
    """Does the view at ``path`` parse multipart bodies (the CSV import)? Elsewhere a
    multipart body gets the JSON limit: calling it an upload must not buy 50 MB."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    view = getattr(match.func, "cls", None) or getattr(match.func, "view_class", None)
    parsers = getattr(view, "parser_classes", ())
    return any(isinstance(p, type) and issubclass(p, MultiPartParser) for p in parsers)


class RequestBodyLimitMiddleware:
    """Refuse oversize bodies: uploads (multipart, to a view that takes them) above the upload
    limit, every other body above the JSON limit.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE answers 400 and only for form data; clients
    deserve a 413 that says which limit they hit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        is_upload = request.content_type == "multipart/form-data" and _takes_uploads(
            request.path_info
        )
        limit = (
            settings.SUPPORTMETRICS_MAX_UPLOAD_BYTES
            if is_upload
            else settings.SUPPORTMETRICS_MAX_JSON_BODY_BYTES
        )
        if length > limit:
            return JsonResponse(
                error_body(
                    f"Request body is {length} bytes; the limit is {limit} bytes.",
                    "request_too_large",
                    {"limit_bytes": limit},
                ),
                status=413,
            )
        return self.get_response(request)


class NulQueryStringMiddleware:
    """Refuse a query string carrying the NUL character (``%00``) with a 400.

    PostgreSQL text cannot hold NUL, so a filter value with one failed in the database (a
    500). In a query string NUL can only arrive percent-encoded: a literal "%00" in a value
    is sent as "%2500", so this refuses nothing else. Bodies: supportmetrics/parsers.py.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        names = sorted(
            {key for key, values in request.GET.lists() for value in values if "\x00" in value}
            | {key for key in request.GET if "\x00" in key}
        )
        if names:
            message = "Text may not contain the NUL character (U+0000)."
            return JsonResponse(
                error_body(
                    f"{names[0]}: {message}",
                    "validation_error",
                    {"fields": {name: [message] for name in names}},
                ),
                status=400,
            )
        return self.get_response(request)
