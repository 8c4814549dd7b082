"""``case_import``: bring a help desk's past in from a cases CSV and/or an events CSV.

Everything is read and checked before anything is written, and all of it happens in one
transaction: one bad row and nothing is imported. See docs/import.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import IO, Any

import psycopg
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.imports import store
from cases.imports.cases_file import CasePlan, case_rows_plan, case_rows_read
from cases.imports.columns import CASES_COLUMNS, EVENTS_COLUMNS, CellError, read_slug
from cases.imports.events_file import event_rows_read, histories_fold
from cases.imports.lookups import (
    Calendars,
    References,
    lookups_create_missing,
    lookups_load,
)
from cases.imports.reader import CsvFile, FileProblem
from cases.imports.report import CaseImportError, ErrorLog, ImportReport, file_error
from cases.imports.synthetic import SyntheticHistory
from cases.models import CaseEvent
from cases.services.snapshots import OPEN, RESOLVED
from supportmetrics.exceptions import ApplicationError

EventType = CaseEvent.Type

DEFAULT_SOURCE = "api"  # the same default as the case and bulk APIs


def case_import(
    *,
    cases: IO[bytes] | IO[str] | None = None,
    events: IO[bytes] | IO[str] | None = None,
    source: str = DEFAULT_SOURCE,
    create_missing: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Import cases (snapshots) and/or events (histories); all or nothing.

    - A file that cannot be read (empty, not UTF-8, not CSV, wrong header) raises
      ``ApplicationError(code="validation_error")`` naming it in ``extra.fields``.
    - Invalid rows raise ``CaseImportError`` (``code="import_invalid"``) listing every
      error found by file, line and field; nothing is written.
    - Unknown reps, accounts, categories and teams are errors, unless ``create_missing``.
    - ``source`` is the source of rows that leave theirs empty.
    - ``dry_run`` does everything, reports the counts, and rolls back.
    Re-importing the same files changes nothing and reports every case unchanged.
    """
    if cases is None and events is None:
        raise file_error({"cases": ["Upload a cases file, an events file, or both."]})
    try:
        read_slug(source, "source")
    except CellError as error:
        raise file_error({"source": [str(error)]}) from None
    files = _open({"cases": cases, "events": events})
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            store.import_lock()
            _run(files, source=source, create_missing=create_missing, report=report)
            if dry_run:
                transaction.set_rollback(True)
    except (IntegrityError, psycopg.IntegrityError) as error:
        # A rule the checks above did not foresee, or a concurrent write; report, don't 500.
        # (COPY runs on the psycopg cursor, whose errors Django does not translate.)
        raise ApplicationError(
            f"The database refused the import; nothing was imported: {error.__cause__ or error}",
            code="import_rejected",
        ) from error
    return report


def _open(streams: dict[str, IO[bytes] | IO[str] | None]) -> dict[str, CsvFile]:
    columns = {"cases": CASES_COLUMNS, "events": EVENTS_COLUMNS}
    files, problems = {}, {}
    for name, stream in streams.items():
        if stream is None:
            continue
        try:
            files[name] = CsvFile(stream, name=name, columns=columns[name])
        except FileProblem as problem:
            problems[name] = [problem.message]
    if problems:
        raise file_error(problems)
    return files


def _run(
    files: dict[str, CsvFile], *, source: str, create_missing: bool, report: ImportReport
) -> None:
    now = timezone.now()
    errors = ErrorLog()
    refs = References()
    try:
        case_rows = (
            case_rows_read(files["cases"], default_source=source, errors=errors, refs=refs)
            if "cases" in files
            else []
        )
        event_cases = (
            event_rows_read(
                files["events"], default_source=source, now=now, errors=errors, refs=refs
            )
            if "events" in files
            else {}
        )
    except FileProblem as problem:
        raise file_error({problem.name: [problem.message]}) from None
    report.cases_rows = files["cases"].rows_read if "cases" in files else 0
    report.events_rows = files["events"].rows_read if "events" in files else 0

    lookups = lookups_load(refs)
    if create_missing:
        # Inside the transaction: rolled back with everything else if a row is bad.
        report.created_missing = lookups_create_missing(lookups, refs)
    calendars = Calendars(lookups)
    case_keys = {row.key for row in case_rows}
    stored = store.stored_cases(case_keys)
    # A case only the events file names is rewritten whole: read all of it.
    stored.update(store.stored_cases(set(event_cases) - case_keys, every_column=True))
    plans = case_rows_plan(
        case_rows, lookups=lookups, stored=stored, calendars=calendars, now=now, errors=errors
    )
    case_rows.clear()  # the plans have what is needed; free the cells of a large file
    report.histories = histories_fold(
        event_cases,
        plans=plans,
        case_file_keys=case_keys,
        stored=stored,
        lookups=lookups,
        calendars=calendars,
        errors=errors,
    )
    if len(errors):
        raise CaseImportError(errors)
    _write(plans, report=report, now=now)


def _write(plans: dict[Any, CasePlan], *, report: ImportReport, now: datetime) -> None:
    # In the order the cases were opened: most indexes of both tables are on opening (or
    # event) time, so each write lands beside the one before instead of anywhere.
    plans = dict(sorted(plans.items(), key=lambda item: item[1].values["opened_at"]))
    # New cases go straight in; for stored ones the database tells which rows differ from
    # what is stored, and only those are written.
    new = [plan for plan in plans.values() if plan.stored is None]
    inserted = store.cases_insert((plan.with_durations() for plan in new), count=len(new), now=now)
    changed = store.cases_upsert(
        [plan.values for plan in plans.values() if plan.stored is not None], now=now
    )
    changed.update((key, (pk, True)) for key, pk in inserted.items())
    snapshots: list[tuple[int, CasePlan, bool]] = []  # (id, plan, created): history implied
    histories: list[tuple[int, CasePlan]] = []  # history from the events file
    for key, plan in plans.items():
        if key in changed:
            case_id, created = changed[key]
            if created:
                report.cases_created += 1
            else:
                report.cases_updated += 1
        else:
            assert plan.stored is not None  # only a stored case can be unchanged
            case_id, created = plan.stored.id, False
            report.cases_unchanged += 1
        if plan.history is not None:
            histories.append((case_id, plan))
        elif key in changed:
            snapshots.append((case_id, plan, created))

    # Every delete before any insert: a replaced event may come back with the same key.
    implied = _implied_histories(snapshots, report=report, now=now)
    folded = _folded_histories(histories, report=report)
    # A generator: the COPY sends each event while the next ones are being made.
    report.events_created = store.events_insert(chain(folded, implied), now=now)


def _implied_histories(
    snapshots: list[tuple[int, CasePlan, bool]], *, report: ImportReport, now: datetime
) -> Iterator[Sequence[Any]]:
    """Delete what must go and return the events to add for the snapshot cases, as
    case_snapshot_upsert does: a new or changed case gets its synthetic history again,
    without an event where a reported one already is. A resolved case that a snapshot
    reopens keeps its resolution as a reported event and gets a reopen "now"."""
    updated = [case_id for case_id, _, created in snapshots if not created]
    reopened = [
        (case_id, plan.stored["status"], plan.values)
        for case_id, plan, created in snapshots
        if not created
        and plan.stored is not None
        and plan.stored["status"] in RESOLVED
        and plan.values["status"] in OPEN
    ]
    if reopened:
        store.events_mark_reported(
            [case_id for case_id, _, _ in reopened], event_type=CaseEvent.Type.RESOLVED
        )
    report.events_deleted += store.events_delete(synthetic_of=updated)
    reported = store.reported_event_times(updated) if updated else set()
    reopens = [
        (
            case_id,
            EventType.REOPENED.value,
            max(now, values["opened_at"]),
            None,  # actor
            None,  # assignee
            previous,
            values["status"],
            False,  # reported
        )
        for case_id, previous, values in reopened
    ]
    synthetic = SyntheticHistory()
    return chain(
        reopens,
        (
            event
            for case_id, plan, _ in snapshots
            for event in synthetic.rows(case_id, plan.values)
            if (case_id, event[1], event[2]) not in reported
        ),
    )


def _folded_histories(
    histories: list[tuple[int, CasePlan]], *, report: ImportReport
) -> list[tuple[Any, ...]]:
    """Delete the stored events the folded histories do not have; return those to add."""
    stored: dict[int, dict[tuple[Any, ...], int]] = defaultdict(dict)
    if histories:
        for event_id, case_id, *fields in store.events_of([case_id for case_id, _ in histories]):
            stored[case_id][tuple(fields)] = event_id
    new = []
    for case_id, plan in histories:
        have = stored[case_id]
        for event in plan.history or ():
            if have.pop(event, None) is not None:
                report.events_unchanged += 1
            else:
                new.append((case_id, *event))
    stale = [event_id for have in stored.values() for event_id in have.values()]
    report.events_deleted += store.events_delete(ids=stale)
    return new
