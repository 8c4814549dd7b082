"""A case's version for optimistic concurrency: the strong ETag of its API representation.

Derived from what the detail shows (its lifecycle fields and its editable fields) and
``updated_at``, which every write moves: any change to the case gives another tag, and a
PATCH that changes nothing keeps it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cases.models import Case
from cases.state import EDITABLE_FIELDS, CaseState

# Column names (``category_id``), so that computing a tag loads no related row.
_COLUMNS = tuple(
    field.attname
    for field in Case._meta.concrete_fields
    if field.name in {"id", "updated_at", *CaseState.FIELDS, *EDITABLE_FIELDS}
    or field.attname in CaseState.FIELDS
)


def _text(value: object) -> str:
    # One instant, one text: whatever offset an in-memory datetime carries.
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else repr(value)


def case_etag(case: Case) -> str:
    """The strong entity tag of ``case`` as stored (quoted, as HTTP sends it)."""
    values = "\x1f".join(_text(getattr(case, column)) for column in _COLUMNS)
    return '"' + hashlib.sha256(values.encode()).hexdigest()[:32] + '"'
