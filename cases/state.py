"""The case status machine: a pure fold of events over a case's fields.

Both the live API (one event at a time) and the CSV events import (a whole history)
go through ``apply_event``, so a case rebuilt from an exported history has exactly the
fields the live API would have kept. The rules are documented in docs/case-lifecycle.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cases.models import CaseEvent, CaseStatus

EventType = CaseEvent.Type

OPEN = (CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING)
# What `status_changed` may target; resolving, reopening and closing have events of their own.
STATUS_CHANGE_TARGETS = (CaseStatus.OPEN, CaseStatus.PENDING)


# The case fields a client edits directly (PUT/PATCH); everything in ``CaseState`` is the
# fold of the case's events instead.
EDITABLE_FIELDS = (
    "account",
    "requester_email",
    "requester_name",
    "category",
    "channel",
    "priority",
    "subject",
)


class TransitionError(Exception):
    """An event the current status does not allow."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CaseState:
    status: str
    opened_at: datetime
    assignee_id: int | None = None
    team_id: int | None = None
    resolved_by_id: int | None = None
    first_responder_id: int | None = None
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    first_resolved_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    last_customer_activity_at: datetime | None = None
    agent_response_count: int = 0
    reopened_count: int = 0

    FIELDS = (
        "status",
        "opened_at",
        "assignee_id",
        "team_id",
        "resolved_by_id",
        "first_responder_id",
        "assigned_at",
        "first_response_at",
        "first_resolved_at",
        "resolved_at",
        "closed_at",
        "last_customer_activity_at",
        "agent_response_count",
        "reopened_count",
    )

    @classmethod
    def of(cls, case: object) -> CaseState:
        return cls(**{name: getattr(case, name) for name in cls.FIELDS})

    def as_fields(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.FIELDS}


def apply_event(
    state: CaseState,
    *,
    event_type: str,
    occurred_at: datetime,
    actor_id: int | None = None,
    assignee_id: int | None = None,
    assignee_team_id: int | None = None,
    to_status: str = "",
) -> CaseState:
    """Return the state after one event, or raise TransitionError.

    - `closed` is terminal: no event of any kind is accepted after it.
    - `agent_response` sets the first response (and its responder: the actor, else the
      assignee) once, counts every response and moves a
      `new` case to `open`; it is refused on a resolved case (reopen it first).
    - `customer_response` moves a `pending` case back to `open`; on a resolved case it only
      records the activity (reopening is an explicit event).
    - `assigned` sets or clears the assignee; the case takes the assignee's team; a `new`
      case becomes `open`.
    - `status_changed` moves between `open` and `pending` only.
    - `resolved` needs an open status; the resolver is the actor, else the assignee.
    - `reopened` needs `resolved`; it counts the reopen and clears the resolution.
    - `closed` needs `resolved`.
    """
    status = state.status
    if status == CaseStatus.CLOSED:
        raise TransitionError(
            "The case is closed; closed cases take no further events.", "case_already_closed"
        )
    if occurred_at < state.opened_at:
        raise TransitionError(
            "An event cannot happen before the case was opened.", "event_before_opened"
        )

    if event_type == EventType.CREATED:
        raise TransitionError("A case is created once, by creating it.", "invalid_transition")

    if event_type == EventType.AGENT_RESPONSE:
        if status not in OPEN:
            raise TransitionError(
                "Reopen a resolved case before responding to it.", "case_not_open"
            )
        return replace(
            state,
            status=CaseStatus.OPEN if status == CaseStatus.NEW else status,
            first_response_at=state.first_response_at or occurred_at,
            first_responder_id=(
                state.first_responder_id
                if state.first_response_at
                else (actor_id or state.assignee_id)
            ),
            agent_response_count=state.agent_response_count + 1,
        )

    if event_type == EventType.CUSTOMER_RESPONSE:
        return replace(
            state,
            status=CaseStatus.OPEN if status == CaseStatus.PENDING else status,
            last_customer_activity_at=occurred_at,
        )

    if event_type == EventType.ASSIGNED:
        if status not in OPEN:
            raise TransitionError("Only open cases can be assigned.", "case_not_open")
        return replace(
            state,
            status=CaseStatus.OPEN if status == CaseStatus.NEW and assignee_id else status,
            assignee_id=assignee_id,
            team_id=assignee_team_id if assignee_id else state.team_id,
            assigned_at=occurred_at if assignee_id else None,
        )

    if event_type == EventType.STATUS_CHANGED:
        if to_status not in STATUS_CHANGE_TARGETS:
            raise TransitionError(
                "status_changed moves a case between open and pending; use the resolved, "
                "reopened and closed events for those transitions.",
                "invalid_transition",
            )
        if status not in OPEN:
            raise TransitionError(f"A {status} case cannot change to {to_status}.", "case_not_open")
        return replace(state, status=to_status)

    if event_type == EventType.RESOLVED:
        if status not in OPEN:
            raise TransitionError(f"A {status} case cannot be resolved.", "case_not_open")
        return replace(
            state,
            status=CaseStatus.RESOLVED,
            resolved_at=occurred_at,
            first_resolved_at=state.first_resolved_at or occurred_at,
            resolved_by_id=actor_id or state.assignee_id,
        )

    if event_type == EventType.REOPENED:
        if status != CaseStatus.RESOLVED:
            raise TransitionError("Only a resolved case can be reopened.", "case_not_resolved")
        return replace(
            state,
            status=CaseStatus.OPEN,
            resolved_at=None,
            resolved_by_id=None,
            reopened_count=state.reopened_count + 1,
        )

    if event_type == EventType.CLOSED:
        if status != CaseStatus.RESOLVED:
            raise TransitionError("Only a resolved case can be closed.", "case_not_resolved")
        return replace(state, status=CaseStatus.CLOSED, closed_at=occurred_at)

    raise TransitionError(f"Unknown event type {event_type!r}.", "invalid_event_type")
