"""Serializer fields shared by the case APIs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.models import Representative


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp that must carry its UTC offset; stored in UTC.

    A naive timestamp is ambiguous (whose local time?), so it is refused instead of
    being silently read as UTC.
    """

    default_error_messages = {
        "naive": "Timestamp has no time zone; add an offset such as 'Z' or '+02:00'.",
    }

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            text = value.strip()
            if text.endswith("z"):  # RFC 3339 allows a lower-case "z"; Python's parser does not
                text = text[:-1] + "Z"
            parsed = _UTC_PARSER.to_internal_value(text)
            # Ask the parser whether it saw an offset rather than looking for "+"/"-" in the
            # text: a bare date ("2026-03-02") has dashes, no offset, and is naive.
            if timezone.is_naive(parse_datetime(text)):  # type: ignore[arg-type]
                self.fail("naive")
            return parsed.astimezone(UTC)
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                self.fail("naive")
            return value.astimezone(UTC)
        return super().to_internal_value(value)


# Stateless once built; one for every call (building a field costs more than a parse).
_UTC_PARSER = serializers.DateTimeField(default_timezone=UTC)


@extend_schema_field(OpenApiTypes.STR)
class RepresentativeUsernameField(serializers.SlugRelatedField):
    """A representative named by their login username (stable across systems, unlike ids)."""

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Representative.objects.select_related("user", "team"))
        super().__init__(slug_field="user__username", **kwargs)

    def to_representation(self, obj: Representative) -> str:
        return obj.user.username
