"""Snapshot upserts for a whole batch in a fixed number of statements (the bulk API).

The rules are those of ``cases.services.snapshots`` (completion, ``snapshot_errors``, the
first resolution kept, durations, synthetic history, the reopen rule, a survey for each new
resolution; docs/case-lifecycle.md). What changes is how they are applied: instead of a few
queries and a savepoint per item, a batch is read with one locking query, checked and
computed in Python, and written with one INSERT for the new cases, one UPDATE for the
changed ones and one INSERT for their events; unchanged items write nothing.

Items are independent unless they name the same case: a batch is cut into runs without a
repeated (source, external_id), applied in order, so an item sees what an earlier item of
the batch did to its case, exactly as if the items had been upserted one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from cases.models import Case, CaseEvent
from cases.services.durations import DURATION_FIELDS, duration_updates, team_calendars
from cases.services.snapshots import (
    OPEN,
    RESOLVED,
    SNAPSHOT_FIELDS,
    _complete,
    _default,
    snapshot_errors,
)
from cases.services.sql import execute_binary
from cases.services.survey_batch import Resolution, survey_invitations_create_for_resolutions
from supportmetrics.exceptions import ApplicationError

Key = tuple[str, str]  # (source, external_id)

CASE_TABLE = Case._meta.db_table
EVENT_TABLE = CaseEvent._meta.db_table
_CASE_FIELDS = {f.attname: f for f in Case._meta.concrete_fields}
# (snapshot field, column, is a relation)
_SNAPSHOT_COLUMNS = tuple(
    (name, field.attname, field.is_relation)
    for name in SNAPSHOT_FIELDS
    for field in [cast(models.Field, Case._meta.get_field(name))]
)
_DURATION_COLUMNS = tuple(name for pair in DURATION_FIELDS.values() for name in pair)
# What a snapshot decides on a stored case; every other column keeps its stored value.
UPDATED_COLUMNS = (
    *(attname for _, attname, _ in _SNAPSHOT_COLUMNS),
    "first_resolved_at",
    *_DURATION_COLUMNS,
)
INSERTED_COLUMNS = tuple(c for c in _CASE_FIELDS if c != "id")
STORED_COLUMNS = ("id", "source", "external_id", *UPDATED_COLUMNS)
# What a new case has in the columns a snapshot does not set.
_DEFAULTS = {
    attname: f.get_default()
    for attname, f in _CASE_FIELDS.items()
    if attname not in ("id", "created_at", "updated_at")
}
EVENT_COLUMNS = (
    "case_id",
    "event_type",
    "occurred_at",
    "actor_id",
    "assignee_id",
    "from_status",
    "to_status",
    "synthetic",
    "recorded_at",
)
# What synthetic_events reads of a case (the synthetic history's template shape).
_HISTORY_FIELDS = (
    "opened_at",
    "assignee_id",
    "assigned_at",
    "first_response_at",
    "first_responder_id",
    "resolved_at",
    "resolved_by_id",
    "closed_at",
)
_MAX_ATTEMPTS = 3


@dataclass(slots=True)
class SnapshotResult:
    """One item's outcome: the case and created/updated/unchanged, or its errors by field."""

    case_id: int | None = None
    result: str | None = None
    errors: dict[str, list[str]] | None = None


@dataclass(slots=True)
class _Plan:
    index: int
    key: Key
    values: dict[str, Any]  # every UPDATED_COLUMNS value (and, for a new case, every column)
    stored: _Stored | None


class _Stored(dict[str, Any]):
    """A stored case's STORED_COLUMNS, also readable as attributes (``snapshot_errors``
    reads ``existing.category_id``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Raced(Exception):
    """A case this batch found missing was inserted by someone else meanwhile."""


def case_snapshots_upsert(
    *, items: Sequence[tuple[str, str, dict[str, Any]]], now: datetime | None = None
) -> list[SnapshotResult]:
    """Upsert each ``(source, external_id, data)``; one result per item, in order.

    ``data`` is what ``CaseSnapshotSerializer`` validated (model instances for the named
    reps, category and account). Each item is decided as ``case_snapshot_upsert`` decides
    one: ``created``, ``updated`` (only if a value differs; ``updated_at`` moves only then)
    or ``unchanged`` (nothing written), or the rules it breaks by field. All in one
    transaction. A database constraint the rules did not foresee is that item's error: the
    batch is then redone one item at a time, each in a savepoint, so the others are stored.
    """
    now = now or timezone.now()
    for _ in range(_MAX_ATTEMPTS):
        results = [SnapshotResult() for _ in items]
        try:
            with transaction.atomic():
                for run in _runs(items):
                    _apply(run, items, results, now)
            return results
        except _Raced:
            continue  # someone inserted one of these cases meanwhile: read them again
        except (IntegrityError, psycopg.IntegrityError):
            break
    # Item by item; rare, so the cost of a savepoint per item does not matter here.
    results = [SnapshotResult() for _ in items]
    with transaction.atomic():
        for index in range(len(items)):
            _apply_alone(index, items, results, now)
    return results


def _runs(items: Sequence[tuple[str, str, dict[str, Any]]]) -> Iterator[list[int]]:
    """Consecutive item indexes without a repeated key."""
    run: list[int] = []
    seen: set[Key] = set()
    for index, (source, external_id, _) in enumerate(items):
        if (source, external_id) in seen:
            yield run
            run, seen = [], set()
        seen.add((source, external_id))
        run.append(index)
    if run:
        yield run


def _apply_alone(
    index: int,
    items: Sequence[tuple[str, str, dict[str, Any]]],
    results: list[SnapshotResult],
    now: datetime,
) -> None:
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                _apply([index], items, results, now)
            return
        except _Raced:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
        except (IntegrityError, psycopg.IntegrityError) as error:
            results[index] = SnapshotResult(
                errors={
                    "non_field_errors": [
                        f"Rejected by a database constraint: {error.__cause__ or error}"
                    ]
                }
            )
            return


def _apply(
    run: list[int],
    items: Sequence[tuple[str, str, dict[str, Any]]],
    results: list[SnapshotResult],
    now: datetime,
) -> None:
    stored = _stored_for_update([(items[i][0], items[i][1]) for i in run])
    plans: list[_Plan] = []
    completed: dict[int, dict[str, Any]] = {}
    team_ids: set[int] = set()
    for index in run:
        source, external_id, data = items[index]
        existing = stored.get((source, external_id))
        data = _complete(data)
        errors = snapshot_errors(data, now=now, existing=existing)  # type: ignore[arg-type]
        if errors:
            results[index] = SnapshotResult(errors=errors)
            continue
        completed[index] = data
        team = data.get("team")
        team_id = team.pk if team is not None else existing["team_id"] if existing else None
        if team_id is not None:
            team_ids.add(team_id)
    calendars = team_calendars(team_ids)

    for index in completed:
        source, external_id, _ = items[index]
        key = (source, external_id)
        values = _values(completed[index], stored.get(key), calendars)
        plans.append(_Plan(index=index, key=key, values=values, stored=stored.get(key)))

    new: list[_Plan] = []
    changed: list[_Plan] = []
    for plan in plans:
        if plan.stored is None:
            new.append(plan)
        elif any(plan.stored[c] != v for c, v in plan.values.items()):
            changed.append(plan)
        else:
            results[plan.index] = SnapshotResult(case_id=plan.stored["id"], result="unchanged")

    ids = _insert(new, now)
    if len(ids) < len(new):
        raise _Raced
    _update(changed, now)
    for plan in new:
        results[plan.index] = SnapshotResult(case_id=ids[plan.key], result="created")
    for plan in changed:
        assert plan.stored is not None
        results[plan.index] = SnapshotResult(case_id=plan.stored["id"], result="updated")
    _write_events(new, changed, ids, now)

    resolutions = []
    for plan in sorted([*new, *changed], key=lambda p: p.index):
        values, before = plan.values, plan.stored
        if values["status"] not in RESOLVED:
            continue
        # A new resolution: a new case arriving resolved, an open case resolved, or a
        # resolved case reopened and resolved again since (its reopened_count went up).
        if before is not None and not (
            before["status"] in OPEN or values["reopened_count"] > before["reopened_count"]
        ):
            continue
        resolutions.append(
            Resolution(
                case_id=ids[plan.key] if before is None else before["id"],
                status=values["status"],
                resolved_at=values["resolved_at"],
                reopened_count=values["reopened_count"],
                resolved_by_id=values["resolved_by_id"],
                account_id=values["account_id"],
                requester_email=values["requester_email"],
            )
        )
    survey_invitations_create_for_resolutions(resolutions=resolutions, now=now)


def _values(
    data: dict[str, Any], existing: _Stored | None, calendars: dict[int, Any]
) -> dict[str, Any]:
    """The UPDATED_COLUMNS of the case after this snapshot, as case_snapshot_upsert sets them."""
    values: dict[str, Any] = {}
    for name, attname, is_relation in _SNAPSHOT_COLUMNS:
        value = data.get(name, _default(name))
        values[attname] = value.pk if is_relation and value is not None else value
    if existing is not None:
        if values["team_id"] is None:
            values["team_id"] = existing["team_id"]  # unassigned now, still the team's case
        for name in _DURATION_COLUMNS:
            values[name] = existing[name]
    kept = existing["first_resolved_at"] if existing is not None else None
    # The first resolution stays what it was, unless the snapshot moved opened_at past it.
    values["first_resolved_at"] = (
        kept if kept is not None and kept >= values["opened_at"] else values["resolved_at"]
    )
    before = (
        {name: existing[name] for name in ("opened_at", "first_response_at", "resolved_at")}
        if existing is not None
        else None
    )
    team_id = values["team_id"]
    values.update(
        duration_updates(
            before=before,
            after=values,
            calendar=calendars.get(team_id) if team_id is not None else None,
        )
    )
    for name in _DURATION_COLUMNS:
        values.setdefault(name, None)
    return values


def _stored_for_update(keys: list[Key]) -> dict[Key, _Stored]:
    """The stored cases among ``keys``, locked (in id order, so batches cannot deadlock)."""
    found = execute_binary(
        f"SELECT {', '.join(f'c.{c}' for c in STORED_COLUMNS)} FROM {CASE_TABLE} c "
        "JOIN unnest(%b::text[], %b::text[]) AS k(source, external_id) "
        "ON c.source = k.source AND c.external_id = k.external_id "
        "ORDER BY c.id FOR UPDATE OF c",
        [[k[0] for k in keys], [k[1] for k in keys]],
    )
    rows = [_Stored(zip(STORED_COLUMNS, row, strict=True)) for row in found]
    return {(row["source"], row["external_id"]): row for row in rows}


_TYPES = {attname: f.db_type(connection) or "text" for attname, f in _CASE_FIELDS.items()}
_EVENT_TYPES = {f.attname: f.db_type(connection) or "text" for f in CaseEvent._meta.concrete_fields}


def _insert(plans: list[_Plan], now: datetime) -> dict[Key, int]:
    """INSERT the new cases in one statement; ``{key: id}`` of those inserted (a key someone
    else inserted meanwhile is missing: ON CONFLICT DO NOTHING)."""
    if not plans:
        return {}
    columns = INSERTED_COLUMNS
    rows = []
    for plan in plans:
        row = {**_DEFAULTS, **plan.values, "created_at": now, "updated_at": now}
        row["source"], row["external_id"] = plan.key
        rows.append(row)
    inserted = execute_binary(
        f"INSERT INTO {CASE_TABLE} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({', '.join(f'%b::{_TYPES[c]}[]' for c in columns)}) "
        "ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id",
        [[row[c] for row in rows] for c in columns],
    )
    return {(source, external_id): pk for pk, source, external_id in inserted}


def _update(plans: list[_Plan], now: datetime) -> None:
    """UPDATE the changed cases in one statement (they are locked: no one else wrote them)."""
    if not plans:
        return
    columns = UPDATED_COLUMNS
    execute_binary(
        f"UPDATE {CASE_TABLE} AS c SET "
        + ", ".join(f"{c} = v.{c}" for c in columns)
        + ", updated_at = %s "
        f"FROM unnest(%b::bigint[], {', '.join(f'%b::{_TYPES[c]}[]' for c in columns)}) "
        f"AS v(id, {', '.join(columns)}) WHERE c.id = v.id",
        [
            now,
            [p.stored["id"] for p in plans if p.stored is not None],
            *([p.values[c] for p in plans] for c in columns),
        ],
    )


def _synthetic() -> Any:
    # Imported on first use: cases.imports imports these services.
    global _HISTORY
    if _HISTORY is None:
        from cases.imports.synthetic import SyntheticHistory

        _HISTORY = SyntheticHistory()
    return _HISTORY


_HISTORY: Any = None


def _write_events(
    new: list[_Plan], changed: list[_Plan], ids: dict[Key, int], now: datetime
) -> None:
    """The synthetic history of new and changed cases, as case_snapshot_upsert writes it:
    a changed case's synthetic events are replaced, without an event where a reported one
    already is; a reopen seen in a snapshot keeps the known resolution as a reported event
    and records a reported reopen now."""
    history = _synthetic()
    rows: list[list[Any]] = []
    for plan in new:
        rows.extend(history.rows(ids[plan.key], {c: plan.values[c] for c in _HISTORY_FIELDS}))
    if changed:
        changed_ids = [p.stored["id"] for p in changed if p.stored is not None]
        reopened = [
            p
            for p in changed
            if p.stored is not None
            and p.stored["status"] in RESOLVED
            and p.values["status"] in OPEN
        ]
        with connection.cursor() as cursor:
            if reopened:
                cursor.execute(
                    f"UPDATE {EVENT_TABLE} SET synthetic = false WHERE case_id = ANY(%s) "
                    "AND synthetic AND event_type = %s",
                    [[p.stored["id"] for p in reopened if p.stored], CaseEvent.Type.RESOLVED.value],
                )
            cursor.execute(
                f"DELETE FROM {EVENT_TABLE} WHERE case_id = ANY(%s) AND synthetic", [changed_ids]
            )
            cursor.execute(
                f"SELECT case_id, event_type, occurred_at FROM {EVENT_TABLE} "
                "WHERE case_id = ANY(%s) AND NOT synthetic",
                [changed_ids],
            )
            reported = set(cursor.fetchall())
        for plan in reopened:
            assert plan.stored is not None
            rows.append(
                [
                    plan.stored["id"],
                    CaseEvent.Type.REOPENED.value,
                    max(now, plan.values["opened_at"]),
                    None,
                    None,
                    plan.stored["status"],
                    plan.values["status"],
                    False,
                ]
            )
        for plan in changed:
            assert plan.stored is not None
            case_id = plan.stored["id"]
            rows.extend(
                row
                for row in history.rows(case_id, {c: plan.values[c] for c in _HISTORY_FIELDS})
                if (case_id, row[1], row[2]) not in reported
            )
    if not rows:
        return
    execute_binary(
        f"INSERT INTO {EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) "
        f"SELECT * FROM unnest({', '.join(f'%b::{_EVENT_TYPES[c]}[]' for c in EVENT_COLUMNS)})",
        [*([row[i] for row in rows] for i in range(len(EVENT_COLUMNS) - 1)), [now] * len(rows)],
    )


def case_snapshot_upsert(
    *, source: str, external_id: str, data: dict[str, Any]
) -> tuple[Case, str]:
    """Insert or update one case from a snapshot; returns the case and created/updated/unchanged.

    The one-item form of ``case_snapshots_upsert``; a snapshot breaking a rule raises
    ``ApplicationError(code="validation_error")`` naming every field.
    """
    [outcome] = case_snapshots_upsert(items=[(source, external_id, data)])
    if outcome.errors:
        field_name, reasons = next(iter(outcome.errors.items()))
        raise ApplicationError(
            f"{field_name}: {reasons[0]}", code="validation_error", extra={"fields": outcome.errors}
        )
    assert outcome.case_id is not None
    return Case.objects.get(pk=outcome.case_id), str(outcome.result)
