"""Snapshot ingestion: a help desk tells us what a case looks like now (bulk API, cases CSV).

A snapshot carries the case's status and timestamps directly. It is checked against the
same rules the event fold keeps (docs/case-lifecycle.md), stored, and given a synthetic
event history (created, assigned, first agent response, resolved, closed) so history-based
figures see it. Upserting the same snapshot again changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cases.models import Case, CaseEvent, CaseStatus
from cases.services.lifecycle import CLOCK_SKEW

SNAPSHOT_FIELDS = (
    "account",
    "requester_email",
    "requester_name",
    "category",
    "channel",
    "priority",
    "status",
    "subject",
    "team",
    "assignee",
    "resolved_by",
    "first_responder",
    "opened_at",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "agent_response_count",
    "reopened_count",
)
OPEN = {CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING}
RESOLVED = {CaseStatus.RESOLVED, CaseStatus.CLOSED}


def snapshot_errors(
    data: dict[str, Any], *, now: datetime, existing: Case | None
) -> dict[str, list[str]]:
    """Every rule a snapshot breaks, as ``{field: [reason]}``; empty when it is consistent."""
    errors: dict[str, list[str]] = {}

    def add(field: str, reason: str) -> None:
        errors.setdefault(field, []).append(reason)

    status = data.get("status", CaseStatus.NEW)
    opened_at = data["opened_at"]
    category = data["category"]
    if not category.active and (existing is None or existing.category_id != category.pk):
        add("category", f"Category {category.slug!r} is inactive and takes no new cases.")
    for field in ("opened_at", "assigned_at", "first_response_at", "resolved_at", "closed_at"):
        value = data.get(field)
        if value is None:
            continue
        if value > now + CLOCK_SKEW:
            add(field, "Timestamp is in the future.")
        if field != "opened_at" and value < opened_at:
            add(field, f"{field} is before opened_at.")
    resolved_at, closed_at = data.get("resolved_at"), data.get("closed_at")
    if status in OPEN and resolved_at is not None:
        add("resolved_at", f"A {status} case has no resolved_at; send status resolved or closed.")
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and resolved_at is None:
        add("resolved_at", f"A {status} case needs resolved_at.")
    if status == CaseStatus.CLOSED and closed_at is None:
        add("closed_at", "A closed case needs closed_at.")
    if status != CaseStatus.CLOSED and closed_at is not None:
        add("closed_at", f"A {status} case has no closed_at.")
    if closed_at and resolved_at and closed_at < resolved_at:
        add("closed_at", "closed_at is before resolved_at.")
    responses = data.get("agent_response_count", 0)
    if responses and data.get("first_response_at") is None:
        add("first_response_at", "agent_response_count > 0 needs first_response_at.")
    if not responses and data.get("first_response_at") is not None:
        add(
            "agent_response_count", "A case with first_response_at has at least one agent response."
        )
    if data.get("assignee") is None and data.get("assigned_at") is not None:
        add("assigned_at", "assigned_at needs an assignee.")
    return errors


def synthetic_events(case: Case) -> list[CaseEvent]:
    """The history a snapshot implies (unsaved events); the bulk API and the CSV import share it."""

    def event(event_type: str, at: datetime, **extra: Any) -> CaseEvent:
        return CaseEvent(case=case, event_type=event_type, occurred_at=at, synthetic=True, **extra)

    events = [event(CaseEvent.Type.CREATED, case.opened_at, to_status=CaseStatus.NEW)]
    if case.assignee_id:
        events.append(
            event(
                CaseEvent.Type.ASSIGNED,
                case.assigned_at or case.opened_at,
                assignee_id=case.assignee_id,
            )
        )
    if case.first_response_at:
        events.append(
            event(
                CaseEvent.Type.AGENT_RESPONSE,
                case.first_response_at,
                actor_id=case.first_responder_id or case.assignee_id,
            )
        )
    if case.resolved_at:
        events.append(
            event(
                CaseEvent.Type.RESOLVED,
                case.resolved_at,
                actor_id=case.resolved_by_id,
                to_status=CaseStatus.RESOLVED,
            )
        )
    if case.closed_at:
        events.append(event(CaseEvent.Type.CLOSED, case.closed_at, to_status=CaseStatus.CLOSED))
    return events


def _complete(data: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields a snapshot may leave out with what the lifecycle would have set."""
    data = dict(data)
    status = data.setdefault("status", CaseStatus.NEW)
    assignee = data.get("assignee")
    if assignee is not None:
        data.setdefault("team", assignee.team)
        data["assigned_at"] = data.get("assigned_at") or data["opened_at"]
    if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        data["resolved_by"] = data.get("resolved_by") or assignee
    else:
        data["resolved_by"] = None
    if data.get("first_response_at") is not None:
        data["first_responder"] = data.get("first_responder") or assignee
    else:
        data["first_responder"] = None
    data.setdefault("agent_response_count", 0)
    data.setdefault("reopened_count", 0)
    return data


def _default(name: str) -> Any:
    return {"requester_email": "", "requester_name": "", "subject": "", "priority": "normal"}.get(
        name
    )
