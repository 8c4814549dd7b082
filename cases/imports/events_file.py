"""The events file: a case's full history, folded with ``cases.state.apply_event``.

For each case the file names, its events (sorted by time, file order breaking ties) are
folded from the state at creation, exactly as the live API folds them one at a time
(``case_event_record``). The result replaces the case's lifecycle fields and its stored
history. See docs/import.md for how this file combines with the cases file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cases.imports.cases_file import CasePlan, Key, read_username
from cases.imports.columns import RowReader, read_choice, read_slug, read_timestamp
from cases.imports.lookups import Calendars, Lookups, References
from cases.imports.reader import CsvFile
from cases.imports.report import ErrorLog
from cases.imports.store import StoredCase
from cases.models import CaseEvent, CaseStatus
from cases.services.durations import DURATION_FIELDS, duration_updates
from cases.services.lifecycle import CLOCK_SKEW
from cases.state import CaseState, TransitionError, apply_event

EventType = CaseEvent.Type
EVENT_TYPES = tuple(EventType.values)
STATUSES = tuple(CaseStatus.values)


@dataclass(slots=True)
class EventRow:
    line: int
    event_type: str
    occurred_at: datetime
    actor: str
    assignee: str
    to_status: str
    readable: bool


def event_rows_read(
    csv_file: CsvFile,
    *,
    default_source: str,
    now: datetime,
    errors: ErrorLog,
    refs: References,
) -> dict[Key, list[EventRow]]:
    """Read every row's cells; the rows grouped by case, in file order."""
    reader = RowReader("events", csv_file.index, _CELLS, required=_REQUIRED, defaults={})
    latest = now + CLOCK_SKEW
    cases: dict[Key, list[EventRow]] = {}
    for line, raw in csv_file.rows(errors):
        cells, readable = reader.read(raw, line, errors)
        external_id, event_type = cells["case_external_id"], cells["event_type"]
        occurred_at = cells["occurred_at"]
        source = cells["source"] or default_source
        actor, assignee = cells["actor"] or "", cells["assignee"] or ""
        to_status = cells["to_status"] or ""
        if occurred_at is not None and occurred_at > latest:
            errors.add("events", line, "occurred_at", "Timestamp is in the future.")
            readable = False
        if assignee and event_type != EventType.ASSIGNED:
            errors.add("events", line, "assignee", "Only assigned events name an assignee.")
            readable = False
        # (None: a to_status that could not be read, reported already.)
        if event_type == EventType.STATUS_CHANGED and cells["to_status"] == "":
            errors.add("events", line, "to_status", "Required for status_changed events.")
            readable = False
        if to_status and event_type != EventType.STATUS_CHANGED:
            errors.add("events", line, "to_status", "Only status_changed events take to_status.")
            readable = False
        for username in (actor, assignee):
            if username:
                refs.rep(username)
        row = EventRow(line, event_type, occurred_at, actor, assignee, to_status, readable)
        cases.setdefault((source, external_id or ""), []).append(row)
    return cases


def histories_fold(
    cases: dict[Key, list[EventRow]],
    *,
    plans: dict[Key, CasePlan],
    case_file_keys: set[Key],
    stored: dict[Key, StoredCase],
    lookups: Lookups,
    calendars: Calendars,
    errors: ErrorLog,
) -> int:
    """Fold each case's events; set its plan's history and lifecycle fields.

    A case only in the database gets a plan from its stored row. Returns how many cases
    had their history folded.
    """
    folded = 0
    team_of = {rep.pk: rep.team_id for rep in lookups.reps.values()}
    for key, rows in cases.items():
        ids = _resolve(rows, lookups, errors)
        if key in case_file_keys:
            plan = plans.get(key)
            if plan is None:
                continue  # its cases-file row has errors, already reported
        elif key in stored:
            existing = stored[key]
            values = {name: value for name, value in existing.items() if name != "id"}
            plan = CasePlan(key, None, values, existing, opening_team_id=existing.team_id)
        else:
            if key[1]:
                errors.add(
                    "events",
                    rows[0].line,
                    "case_external_id",
                    f"No case {key[1]!r} with source {key[0]!r} in the cases file or the database.",
                )
            continue
        if ids is None:
            continue
        history = _fold(plan, rows, ids, team_of, calendars, errors)
        if history is None:
            continue
        plan.history = history
        plans[key] = plan
        folded += 1
    return folded


def _resolve(
    rows: list[EventRow], lookups: Lookups, errors: ErrorLog
) -> list[tuple[int | None, int | None]] | None:
    """``(actor_id, assignee_id)`` per row, or None when a row is unreadable or names nobody."""
    ids: list[tuple[int | None, int | None]] = []
    ok = True
    reps = lookups.reps
    for row in rows:
        ok = ok and row.readable
        pair: list[int | None] = []
        for name, username in (("actor", row.actor), ("assignee", row.assignee)):
            rep = reps.get(username) if username else None
            if username and rep is None:
                errors.add(
                    "events",
                    row.line,
                    name,
                    f"Unknown representative {username!r}; create it first or import with "
                    "create_missing (--create-missing).",
                )
                ok = False
            pair.append(rep.pk if rep is not None else None)
        ids.append((pair[0], pair[1]))
    return ids if ok else None


def _fold(
    plan: CasePlan,
    rows: list[EventRow],
    ids: list[tuple[int | None, int | None]],
    team_of: dict[int, int],
    calendars: Calendars,
    errors: ErrorLog,
) -> list[tuple[Any, ...]] | None:
    """The case's stored history ``[(*EVENT_FIELDS)]``, or None after reporting a row error."""
    opened_at = plan.values["opened_at"]
    state = CaseState(status=CaseStatus.NEW, opened_at=opened_at, team_id=plan.opening_team_id)
    created_actor = None
    history: list[tuple[Any, ...]] = []
    # A history starts at creation, with no duration fixed yet.
    durations: dict[str, int | None] = {
        name: None for pair in DURATION_FIELDS.values() for name in pair
    }
    seen: dict[tuple[str, datetime], tuple[EventRow, tuple[int | None, int | None]]] = {}
    order = sorted(range(len(rows)), key=lambda i: rows[i].occurred_at)
    for i in order:
        row, (actor_id, assignee_id) = rows[i], ids[i]
        twin = seen.get((row.event_type, row.occurred_at))
        if twin is not None:
            # The same report twice is one event, as in the live API; a conflicting one is not.
            if (twin[0].to_status, twin[1]) == (row.to_status, (actor_id, assignee_id)):
                continue
            errors.add(
                "events",
                row.line,
                "event_type",
                f"Line {twin[0].line} has the same event type and time with other details.",
            )
            return None
        seen[(row.event_type, row.occurred_at)] = (row, (actor_id, assignee_id))
        if row.event_type == EventType.CREATED:
            if row.occurred_at != opened_at:
                errors.add(
                    "events",
                    row.line,
                    "occurred_at",
                    f"A case is created at its opened_at ({opened_at.isoformat()}).",
                )
                return None
            created_actor = actor_id
            continue
        try:
            after = apply_event(
                state,
                event_type=row.event_type,
                occurred_at=row.occurred_at,
                actor_id=actor_id,
                assignee_id=assignee_id,
                assignee_team_id=team_of.get(assignee_id) if assignee_id else None,
                to_status=row.to_status,
            )
        except TransitionError as error:
            errors.add("events", row.line, "event_type", error.message)
            return None
        # As case_event_record does: durations fixed under the calendar of the team the
        # case has after the event (only a changed timestamp changes one: skip the rest).
        if any(getattr(after, stamp) != getattr(state, stamp) for stamp in DURATION_FIELDS):
            durations.update(
                duration_updates(
                    before=state.as_fields(),
                    after=after.as_fields(),
                    calendar=calendars(after.team_id),
                )
            )
        is_assignment = row.event_type == EventType.ASSIGNED
        history.append(
            (
                row.event_type,
                row.occurred_at,
                actor_id,
                assignee_id if is_assignment else None,
                str(state.status),  # plain str, not the TextChoices member
                str(after.status),
                False,
            )
        )
        state = after
    plan.values.update(state.as_fields(), status=str(state.status))
    plan.values.update(durations)
    created = (EventType.CREATED.value, opened_at, created_actor, None, "", CaseStatus.NEW.value)
    return [(*created, False), *history]


_CELLS: dict[str, Any] = {
    "case_external_id": None,
    "source": lambda text: read_slug(text, "source"),
    "event_type": lambda text: read_choice(text, EVENT_TYPES),
    "occurred_at": read_timestamp,
    "actor": read_username,
    "assignee": read_username,
    "to_status": lambda text: read_choice(text, STATUSES),
}
_REQUIRED = frozenset({"case_external_id", "event_type", "occurred_at"})
