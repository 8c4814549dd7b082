"""The cases file: one snapshot per row, checked by the same rules as the bulk API.

Two passes keep database work out of the row loop: ``case_rows_read`` reads the cells and
collects the names they use; after the lookups are loaded, ``case_rows_plan`` resolves the
names and applies ``snapshot_errors`` (after ``_complete``, exactly as
``case_snapshot_upsert`` does) to produce the values each case will have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from cases.business_hours import BusinessCalendar
from cases.imports.columns import (
    CellError,
    RowReader,
    read_choice,
    read_email,
    read_int,
    read_slug,
    read_timestamp,
)
from cases.imports.lookups import Calendars, Lookups, References
from cases.imports.reader import CsvFile
from cases.imports.report import ErrorLog
from cases.imports.store import CASE_DEFAULTS, StoredCase
from cases.models import Case, CaseStatus, Category, Channel, Priority, Representative, Team
from cases.services.durations import duration_updates
from cases.services.snapshots import SNAPSHOT_FIELDS, _complete, snapshot_errors

Key = tuple[str, str]  # (source, external_id)

TIMESTAMPS = ("opened_at", "assigned_at", "first_response_at", "resolved_at", "closed_at")
CHANNELS = tuple(Channel.values)
PRIORITIES = tuple(Priority.values)
STATUSES = tuple(CaseStatus.values)
# Django's username rule (UnicodeUsernameValidator), so a created rep gets a valid user.
USERNAME = re.compile(r"^[\w.@+-]{1,150}\Z")


@dataclass(slots=True)
class CaseRow:
    line: int
    key: Key
    cells: dict[str, Any]
    readable: bool  # every cell could be read; the snapshot rules need them all


@dataclass(slots=True)
class CasePlan:
    """What one case will be: its column values and, if the events file has it, its history."""

    key: Key
    line: int | None  # None: the case is only in the database (named by the events file)
    values: dict[str, Any]
    stored: StoredCase | None
    opening_team_id: int | None
    history: list[tuple[Any, ...]] | None = field(default=None)
    # A new case's durations are computed as its row is written (``with_durations``), so
    # that work overlaps the database's; this is the calendar they use.
    calendar: BusinessCalendar | None = field(default=None)
    durations_due: bool = field(default=False)

    def with_durations(self) -> dict[str, Any]:
        """The values, durations included (unless a folded history already set them)."""
        if self.durations_due and self.history is None:
            self.values.update(
                duration_updates(before=None, after=self.values, calendar=self.calendar)
            )
        self.durations_due = False
        return self.values


def read_username(text: str) -> str:
    if not USERNAME.match(text):
        raise CellError(f"{text!r} is not a valid username.")
    return text


def case_rows_read(
    csv_file: CsvFile, *, default_source: str, errors: ErrorLog, refs: References
) -> list[CaseRow]:
    """Read every row's cells; report unreadable cells and duplicate keys."""
    reader = RowReader("cases", csv_file.index, _CELLS, required=_REQUIRED, defaults=_DEFAULTS)
    seen: dict[Key, int] = {}
    rows = []
    for line, raw in csv_file.rows(errors):
        cells, readable = reader.read(raw, line, errors)
        source = cells["source"] or default_source
        key = (source, cells["external_id"])
        if key in seen:
            errors.add(
                "cases",
                line,
                "external_id",
                f"Duplicate of line {seen[key]}: same source and external_id.",
            )
            readable = False
        elif cells["external_id"]:
            seen[key] = line
        rows.append(CaseRow(line, key, cells, readable))
        if cells["category"]:
            refs.categories.add(cells["category"])
        if cells["account"]:
            refs.accounts.add(cells["account"])
        if cells["team"]:
            refs.teams.add(cells["team"])
        for name in ("assignee", "resolved_by", "first_responder"):
            if cells[name]:
                refs.rep(cells[name], cells["team"] or None)
    return rows


def case_rows_plan(
    rows: list[CaseRow],
    *,
    lookups: Lookups,
    stored: dict[Key, StoredCase],
    calendars: Calendars,
    now: datetime,
    errors: ErrorLog,
) -> dict[Key, CasePlan]:
    """Resolve names and check each snapshot; the plans of the rows without errors."""
    plans: dict[Key, CasePlan] = {}
    # Stand-ins for unknown names, so the snapshot rules still report every other problem.
    unknown_category = Category(slug="", active=True)
    unknown_rep = Representative(team=Team(name=""))

    placeholders = {
        "category": unknown_category,
        "assignee": unknown_rep,
        "resolved_by": unknown_rep,
        "first_responder": unknown_rep,
    }
    tables = {
        "category": (lookups.categories, "category"),
        "account": (lookups.accounts, "account"),
        "team": (lookups.teams, "team"),
        "assignee": (lookups.reps, "representative"),
        "resolved_by": (lookups.reps, "representative"),
        "first_responder": (lookups.reps, "representative"),
    }

    for row in rows:
        cells, line = row.cells, row.line
        ok = row.readable
        found: dict[str, Any] = {}
        for name, (table, what) in tables.items():
            value = cells[name]
            found[name] = table.get(value) if value else None
            if value and found[name] is None:
                ok = False
                errors.add("cases", line, name, _unknown(what, value))
                found[name] = placeholders.get(name)
        category, account_id, team = found["category"], found["account"], found["team"]
        assignee, resolved_by = found["assignee"], found["resolved_by"]
        first_responder = found["first_responder"]
        if not row.readable:
            continue

        data = {name: cells[name] for name in _SNAPSHOT_CELLS}
        data.update(
            category=category,
            assignee=assignee,
            resolved_by=resolved_by,
            first_responder=first_responder,
        )
        if team is not None:
            data["team"] = team  # else _complete takes the assignee's team
        data = _complete(data)
        existing = stored.get(row.key)
        # A StoredCase answers the attributes snapshot_errors reads (category_id).
        for name, reasons in snapshot_errors(
            data, now=now, existing=cast(Case | None, existing)
        ).items():
            ok = False
            for reason in reasons:
                errors.add("cases", line, name, reason)
        if not ok:
            continue
        values = _values(row.key, data, account_id, existing, calendars)
        plans[row.key] = CasePlan(
            key=row.key,
            line=line,
            values=values,
            stored=existing,
            opening_team_id=team.pk if team is not None else None,
            calendar=calendars(values["team_id"]) if existing is None else None,
            durations_due=existing is None,
        )
    return plans


def _values(
    key: Key,
    data: dict[str, Any],
    account_id: int | None,
    existing: StoredCase | None,
    calendars: Calendars,
) -> dict[str, Any]:
    """The columns of a case from its completed snapshot, as case_snapshot_upsert computes
    them; the columns a snapshot does not set keep their stored value (or the default)."""
    values = dict(CASE_DEFAULTS)
    if existing is not None:
        values.update(existing)
        del values["id"]
    values["source"], values["external_id"] = key
    for name, attname, is_relation in _SNAPSHOT_COLUMNS:
        value = data.get(name)
        values[attname] = value.pk if is_relation and value is not None else value
    # Accounts are loaded as ids only (there can be many); the rules never read them.
    values["account_id"] = account_id
    if existing is not None and values["team_id"] is None:
        values["team_id"] = existing.team_id  # unassigned now, still the same team's case
    opened_at = values["opened_at"]
    first_resolved_at = values["resolved_at"]
    # Keep the first resolution as the bulk API does, unless the new opened_at is later
    # (the database requires first_resolved_at >= opened_at).
    if existing and existing.first_resolved_at and existing.first_resolved_at >= opened_at:
        first_resolved_at = existing.first_resolved_at
    values["first_resolved_at"] = first_resolved_at
    if existing is not None:  # a new case's come with its row (CasePlan.with_durations)
        before = {name: existing[name] for name in _DURATION_STAMPS}
        values.update(
            duration_updates(before=before, after=values, calendar=calendars(values["team_id"]))
        )
    return values


def _unknown(what: str, name: str) -> str:
    return (
        f"Unknown {what} {name!r}; create it first or import with create_missing "
        "(--create-missing)."
    )


def _read_category(text: str) -> str:
    return read_slug(text, "category slug")


_CELLS: dict[str, Any] = {
    "external_id": None,
    "source": lambda text: read_slug(text, "source"),
    "opened_at": read_timestamp,
    "assigned_at": read_timestamp,
    "first_response_at": read_timestamp,
    "resolved_at": read_timestamp,
    "closed_at": read_timestamp,
    "channel": lambda text: read_choice(text, CHANNELS),
    "category": _read_category,
    "status": lambda text: read_choice(text, STATUSES),
    "priority": lambda text: read_choice(text, PRIORITIES),
    "account": None,
    "team": None,
    "assignee": read_username,
    "resolved_by": read_username,
    "first_responder": read_username,
    "agent_response_count": lambda text: read_int(text, "agent_response_count"),
    "reopened_count": lambda text: read_int(text, "reopened_count"),
    "subject": None,
    "requester_email": read_email,
    "requester_name": None,
}
_REQUIRED = frozenset({"external_id", "opened_at", "channel", "category"})
_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(TIMESTAMPS),
    "status": CaseStatus.NEW.value,
    "priority": Priority.NORMAL.value,
    "agent_response_count": 0,
    "reopened_count": 0,
}
# (snapshot field, column, is a relation) for every field a snapshot sets.
_SNAPSHOT_COLUMNS = [
    (name, Case._meta.get_field(name).attname, Case._meta.get_field(name).is_relation)
    for name in SNAPSHOT_FIELDS
]
_DURATION_STAMPS = ("opened_at", "first_response_at", "resolved_at")
_SNAPSHOT_CELLS = (
    "requester_email",
    "requester_name",
    "channel",
    "priority",
    "status",
    "subject",
    "opened_at",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "agent_response_count",
    "reopened_count",
)
