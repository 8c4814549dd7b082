"""Conditional requests (RFC 9110 §13): ``If-Match`` on updates, ``ETag`` on answers.

A client reads an object (its ``ETag``), then updates it sending ``If-Match`` with that tag:
if someone changed it meanwhile the update is refused with 412, so no one overwrites a
change they have not seen. Updates without ``If-Match`` are refused with 428. Views parse
the header here; the service compares under its row lock (docs/api.md).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.request import Request

from supportmetrics.exceptions import ApplicationError

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "The ETag of the object as last read (GET). Missing: 428 precondition_required; "
        'no longer current: 412 precondition_failed. "*" matches any version.'
    ),
    examples=[OpenApiExample("any version", value="*")],
)


def etag_header(*status_codes: int) -> OpenApiParameter:
    """The ``ETag`` response header, documented on the answers with those status codes."""
    return OpenApiParameter(
        "ETag",
        type=str,
        location=OpenApiParameter.HEADER,
        response=list(status_codes),
        description="The object's current version (strong); send it back as If-Match.",
    )


def if_match(request: Request) -> frozenset[str] | None:
    """The entity tags ``If-Match`` names; ``None`` for ``*`` (any current version).

    Raises a 428 when the header is missing. Weak tags (``W/"…"``) are kept: they never
    equal a strong tag, so they fail the comparison as RFC 9110 requires.
    """
    value = request.headers.get("If-Match")
    if value is None or not value.strip():
        raise ApplicationError(
            "This update needs an If-Match header with the ETag you last read.",
            code="precondition_required",
            status_code=428,
        )
    if value.strip() == "*":
        return None
    return frozenset(tag.strip() for tag in value.split(",") if tag.strip())
