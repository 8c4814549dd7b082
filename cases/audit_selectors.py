"""Reads of the audit trail (cases.models.audit) for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.db.models import QuerySet
from pghistory.models import MiddlewareEvents

from cases.models.audit import AUDITED_MODELS, AUDITED_OBJECTS

# What an audit event says about its row: pghistory's bookkeeping columns are not data.
_CASE_BEFORE = {"assignee_id": "assignee_before_id", "team_id": "team_before_id"}


def audit_event_list(
    *,
    model: str | None = None,
    object_id: int | None = None,
    actor_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[MiddlewareEvents]:
    """Audit events, optionally of one model (``AUDITED_MODELS`` key), one object of it, one
    acting user (from the request context), in ``[since, until)``; with the acting user.

    ``object_id`` needs ``model``: ids are per table.
    """
    event_models = [AUDITED_MODELS[model]] if model else list(AUDITED_MODELS.values())
    queryset = cast(
        "QuerySet[MiddlewareEvents]",
        MiddlewareEvents.objects.across(*event_models),  # type: ignore[no-untyped-call]
    ).select_related("user")
    if object_id is not None and model:
        # Filtered inside each event table's SELECT (pghistory's tracks()), not after it.
        queryset = queryset.tracks(AUDITED_OBJECTS[model](pk=object_id))  # type: ignore[attr-defined]
    if actor_id is not None:
        queryset = queryset.filter(user_id=actor_id)
    if since is not None:
        queryset = queryset.filter(pgh_created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(pgh_created_at__lt=until)
    return queryset


def audit_model_name(event: MiddlewareEvents) -> str:
    """The AUDITED_MODELS key of an event's model ("team", "case", ...)."""
    for name, event_model in AUDITED_MODELS.items():
        if event_model._meta.label == event.pgh_model:
            return name
    raise LookupError(event.pgh_model)


def audit_event_changes(event: MiddlewareEvents) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` of the fields the event changed.

    A case's event carries both values itself. For snapshots (categories, teams, reps) the
    "before" is the object's previous snapshot (pghistory's ``pgh_diff``): an insert has
    none (every field from null), a delete keeps none (every field to null). Rows that
    existed when auditing began have a ``baseline`` snapshot, so updates always have one.
    """
    data: dict[str, Any] = event.pgh_data or {}
    if event.pgh_model == AUDITED_MODELS["case"]._meta.label:
        return {
            field: [data.get(before), data.get(field)]
            for field, before in _CASE_BEFORE.items()
            if data.get(before) != data.get(field)
        }
    if event.pgh_label in ("insert", "baseline"):
        return {field: [None, value] for field, value in sorted(data.items())}
    if event.pgh_label == "delete":
        return {field: [value, None] for field, value in sorted(data.items())}
    return {field: list(pair) for field, pair in sorted((event.pgh_diff or {}).items())}


def audit_event_data(event: MiddlewareEvents) -> dict[str, Any]:
    """The row as the event left it (as it was, for a delete); a case's assignment only."""
    data: dict[str, Any] = dict(event.pgh_data or {})
    if event.pgh_model == AUDITED_MODELS["case"]._meta.label:
        return {field: data.get(field) for field in _CASE_BEFORE}
    return data
