"""Request parsers that refuse the NUL character (U+0000) in text.

PostgreSQL text cannot hold NUL: a value carrying one reached the database (as a lookup or
a stored field) and failed there with a 500. DRF's CharField refuses it, but related-field
lookups, filters and free-form values did not. Refusing it where the body is parsed covers
every JSON and form endpoint at once, with a 400 that names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser

NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


def nul_paths(value: Any, prefix: str = "") -> list[str]:
    """The dotted paths of every key or string in ``value`` that contains NUL."""
    found: list[str] = []
    if isinstance(value, str):
        if NUL in value:
            found.append(prefix or "non_field_errors")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if NUL in str(key):
                found.append(path)
            elif hasattr(value, "getlist"):  # a QueryDict: every value of the key
                for each in value.getlist(key):
                    found += nul_paths(each, path)
            else:
                found += nul_paths(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += nul_paths(item, f"{prefix}.{index}" if prefix else str(index))
    return found


def refuse_nul(data: Any) -> Any:
    paths = nul_paths(data)
    if paths:
        raise serializers.ValidationError({path: [NUL_MESSAGE] for path in paths})
    return data


class NulFreeJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return refuse_nul(super().parse(stream, media_type, parser_context))


class NulFreeFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return refuse_nul(super().parse(stream, media_type, parser_context))
