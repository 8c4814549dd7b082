"""``@idempotent``: the ``Idempotency-Key`` header on a DRF handler (docs/api.md).

Put it under ``@extend_schema`` on a view's POST handler (``post`` or a ViewSet's
``create``). It runs after DRF has authenticated the caller and checked permissions, so keys
are scoped per user and a refused caller never claims one. The view itself stays unaware.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from idempotency.services import (
    Claim,
    KeyInFlight,
    RequestIdentity,
    idempotency_claim,
    idempotency_complete,
    idempotency_lock,
    idempotency_release,
    stored_body,
)
from supportmetrics.exceptions import ApplicationError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers of the first answer that a replay repeats.
STORED_HEADERS = ("Location", "ETag")
MAX_KEY_LENGTH = 255
# Printable ASCII, no space at either end (HTTP would strip it and change the key).
KEY_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
_KEY = re.compile(KEY_PATTERN)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; 1-255 printable ASCII characters, unique per request you mean (a UUID). "
        "The first answer is stored and replayed for 24 h to the same caller sending the same "
        f"key, method, path and body ({REPLAYED_HEADER}: true). The key with another request: "
        "422 idempotency_key_reused; while the first runs: 409 idempotency_key_in_flight. "
        "5xx answers are not stored."
    ),
)

Handler = Callable[..., Response]


class _Unstored(Exception):
    """A 5xx answer: its transaction rolls back and the key is released."""

    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(handler: Handler) -> Handler:
    """Make a POST handler honour the ``Idempotency-Key`` header."""

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return handler(view, request, *args, **kwargs)
        identity = RequestIdentity(
            owner_id=request.user.pk,
            key=_valid_key(key),
            method=request.method or "",
            path=request.get_full_path(),
            fingerprint=request_fingerprint(request),
        )
        outcome = idempotency_claim(request=identity, now=timezone.now())
        if not isinstance(outcome, Claim):
            headers = {**outcome.headers, REPLAYED_HEADER: "true"}
            return Response(stored_body(outcome), status=outcome.status_code, headers=headers)
        return _run(outcome, handler, view, request, *args, **kwargs)

    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)


def _run(
    claim: Claim, handler: Handler, view: APIView, request: Request, *args: Any, **kwargs: Any
) -> Response:
    try:
        with transaction.atomic():
            # Held until the answer is stored: a duplicate sees the key in flight, and the
            # effects and the stored answer commit together.
            idempotency_lock(claim=claim)
            try:
                response = handler(view, request, *args, **kwargs)
            except Exception as exc:  # answered like DRF would; unhandled ones re-raise
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                raise _Unstored(response)
            idempotency_complete(
                claim=claim,
                status_code=response.status_code,
                body=response.data,
                headers={name: response[name] for name in STORED_HEADERS if name in response},
                now=timezone.now(),
            )
    except KeyInFlight:  # taken over before we locked it (slower than the grace): not ours
        raise
    except _Unstored as unstored:
        idempotency_release(claim=claim)
        return unstored.response
    except BaseException:
        idempotency_release(claim=claim)
        raise
    return response


def _valid_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.match(key):
        reason = f"Must be 1-{MAX_KEY_LENGTH} printable ASCII characters."
        raise ApplicationError(
            f"{HEADER}: {reason}", code="validation_error", extra={"fields": {HEADER: [reason]}}
        )
    return key


def request_fingerprint(request: Request) -> str:
    """sha256 of the body as sent; of the fields and files for multipart uploads.

    A multipart body differs between two sends of the same files (a random boundary), and
    reading a large upload whole into memory is what the parsers avoid; so uploads are
    fingerprinted from what they carry: each field and each file's name and content.
    """
    django_request = request._request
    if not (django_request.content_type or "").startswith("multipart/"):
        try:
            return hashlib.sha256(django_request.body).hexdigest()
        except RawPostDataException:
            pass  # already parsed as a form (a CSRF check read it): fall through
    digest = hashlib.sha256(b"multipart\0")
    for name, values in sorted(request.data.lists() if hasattr(request.data, "lists") else []):
        if name in request.FILES:
            continue
        for value in values:
            digest.update(f"{name}\0{value}\0".encode())
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            digest.update(f"{name}\0{upload.name}\0".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()
