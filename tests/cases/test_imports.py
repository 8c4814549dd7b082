"""CSV import (cases.imports): snapshots, histories, all-or-nothing errors, re-import, command."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.imports import CASES_COLUMNS, EVENTS_COLUMNS, CaseImportError, case_import, store
from cases.imports.synthetic import SyntheticHistory
from cases.models import Case, CaseEvent, Category, Representative, Team
from cases.services.snapshots import synthetic_events
from cases.state import CaseState
from supportmetrics.exceptions import ApplicationError
from tests.factories import T0, AccountFactory, CaseFactory, CategoryFactory

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
NOW = T0 + timedelta(days=30)


@pytest.fixture(autouse=True)
def pinned_clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def csv_bytes(rows: list[dict], columns: list[str] | None = None) -> io.BytesIO:
    """A CSV upload: the header is ``columns`` or the keys of the rows, in first-seen order."""
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def case_row(**cells) -> dict:
    return {
        "external_id": "C-1",
        "opened_at": iso(T0),
        "channel": "email",
        "category": "billing",
        **cells,
    }


def run_import(cases=None, events=None, **kwargs):
    return case_import(
        cases=csv_bytes(cases) if cases is not None else None,
        events=csv_bytes(events) if events is not None else None,
        **kwargs,
    ).as_dict()


def import_errors(**kwargs) -> list[dict]:
    with pytest.raises(CaseImportError) as caught:
        run_import(**kwargs)
    assert caught.value.code == "import_invalid"
    return caught.value.extra["errors"]


def events_of(case):
    return list(
        case.events.order_by("occurred_at", "id").values_list(
            "event_type",
            "occurred_at",
            "actor_id",
            "assignee_id",
            "from_status",
            "to_status",
            "synthetic",
        )
    )


NO_CREATED = {"teams": [], "representatives": [], "accounts": [], "categories": []}


# --- cases file ----------------------------------------------------------------------------


def test_cases_file_creates_cases_with_the_snapshot_rules(org):
    account = AccountFactory(external_id="ACC-1")
    report = run_import(
        cases=[
            case_row(
                external_id="C-1",
                opened_at="2026-03-02T10:00:00+01:00",  # = T0 in UTC
                status="resolved",
                assignee="rep_a1",
                first_response_at=iso(T0 + H),
                resolved_at=iso(T0 + 4 * H),
                agent_response_count="2",
                account="ACC-1",
                priority="high",
                subject="Wrong VAT",
                requester_email="ana@example.org",
                requester_name="Ana",
            ),
            case_row(external_id="C-2", channel="chat", source="zendesk"),
        ]
    )
    assert report == {
        "dry_run": False,
        "cases": {"rows": 2, "created": 2, "updated": 0, "unchanged": 0},
        "events": {"rows": 0, "histories": 0, "created": 5, "deleted": 0, "unchanged": 0},
        "created_missing": NO_CREATED,
    }
    resolved = Case.objects.get(source="api", external_id="C-1")
    assert CaseState.of(resolved) == CaseState(
        status="resolved",
        opened_at=T0,
        assignee_id=org.rep_a1.pk,
        team_id=org.team_a.pk,  # the assignee's team
        resolved_by_id=org.rep_a1.pk,  # the assignee, as the bulk API decides
        first_responder_id=org.rep_a1.pk,  # likewise
        assigned_at=T0,
        first_response_at=T0 + H,
        first_resolved_at=T0 + 4 * H,
        resolved_at=T0 + 4 * H,
        agent_response_count=2,
    )
    assert (
        resolved.account_id,
        resolved.category_id,
        resolved.channel,
        resolved.priority,
        resolved.subject,
        resolved.requester_email,
        resolved.requester_name,
    ) == (account.pk, org.category.pk, "email", "high", "Wrong VAT", "ana@example.org", "Ana")
    # Team Alpha works 09:00-17:00 Berlin time; T0 is Monday 10:00 there.
    assert (
        resolved.first_response_seconds,
        resolved.first_response_business_seconds,
        resolved.resolution_seconds,
        resolved.resolution_business_seconds,
    ) == (3600, 3600, 4 * 3600, 4 * 3600)
    rep = org.rep_a1.pk
    assert events_of(resolved) == [
        ("created", T0, None, None, "", "new", True),
        ("assigned", T0, None, rep, "", "", True),
        ("agent_response", T0 + H, rep, None, "", "", True),
        ("resolved", T0 + 4 * H, rep, None, "", "resolved", True),
    ]
    new = Case.objects.get(source="zendesk", external_id="C-2")
    assert (new.status, new.channel, new.priority, new.team_id, new.account_id) == (
        "new",
        "chat",
        "normal",
        None,
        None,
    )
    assert events_of(new) == [("created", T0, None, None, "", "new", True)]


def test_cases_file_matches_the_bulk_api_snapshot_upsert(org):
    data = {
        "category": org.category,
        "channel": "phone",
        "status": "closed",
        "assignee": org.rep_b1,
        "opened_at": T0,
        "first_response_at": T0 + H,
        "resolved_at": T0 + 2 * H,
        "closed_at": T0 + 50 * H,
        "agent_response_count": 3,
    }
    via_api, _ = services.case_snapshot_upsert(source="api", external_id="API", data=data)
    run_import(
        cases=[
            case_row(
                external_id="CSV",
                channel="phone",
                status="closed",
                assignee="rep_b1",
                first_response_at=iso(T0 + H),
                resolved_at=iso(T0 + 2 * H),
                closed_at=iso(T0 + 50 * H),
                agent_response_count="3",
            )
        ]
    )
    via_csv = Case.objects.get(external_id="CSV")
    via_api.refresh_from_db()
    assert CaseState.of(via_csv) == CaseState.of(via_api)
    assert events_of(via_csv) == events_of(via_api)


def _both_ways(org, versions: list[dict]) -> tuple[Case, Case]:
    """Apply snapshot versions through the bulk API service (case "API") and the cases file
    (case "CSV"); return both cases."""
    reps = {r.user.username: r for r in Representative.objects.select_related("user", "team")}
    for version in versions:
        data = {"category": org.category, "channel": "email", "opened_at": T0}
        row = case_row(external_id="CSV")
        for name, value in version.items():
            if name in ("assignee", "resolved_by"):
                data[name] = reps[value]
                row[name] = value
            elif name.endswith("_at"):
                data[name] = value
                row[name] = iso(value)
            else:
                data[name] = value
                row[name] = str(value)
        services.case_snapshot_upsert(source="api", external_id="API", data=data)
        run_import(cases=[row])
    return Case.objects.get(external_id="API"), Case.objects.get(external_id="CSV")


@pytest.mark.parametrize(
    "versions",
    [
        pytest.param(
            [{"status": "open", "assignee": "rep_a1"}, {"status": "open"}],
            id="unassigned-keeps-team",
        ),
        pytest.param(
            [
                {"status": "resolved", "assignee": "rep_a1", "resolved_at": T0 + H},
                {"status": "open", "assignee": "rep_a1", "reopened_count": 1},
            ],
            id="reopened",
        ),
        pytest.param(
            [
                {
                    "status": "closed",
                    "assignee": "rep_b1",
                    "first_response_at": T0 + H,
                    "agent_response_count": 2,
                    "resolved_at": T0 + 2 * H,
                    "closed_at": T0 + 9 * H,
                },
                {
                    "status": "closed",
                    "assignee": "rep_a2",
                    "first_response_at": T0 + H,
                    "agent_response_count": 3,
                    "resolved_at": T0 + 2 * H,
                    "closed_at": T0 + 9 * H,
                },
            ],
            id="reassigned",
        ),
    ],
)
def test_a_changed_snapshot_does_what_the_bulk_api_does(org, versions):
    via_api, via_csv = _both_ways(org, versions)
    fields = [
        *CaseState.FIELDS,
        "first_response_seconds",
        "first_response_business_seconds",
        "resolution_seconds",
        "resolution_business_seconds",
    ]
    assert [getattr(via_csv, f) for f in fields] == [getattr(via_api, f) for f in fields]
    assert events_of(via_csv) == events_of(via_api)


def test_reimporting_the_same_file_changes_nothing(org):
    rows = [
        case_row(
            external_id=f"C-{n}",
            status="open",
            assignee="rep_a2",
            first_response_at=iso(T0 + H),
            agent_response_count="1",
        )
        for n in range(3)
    ]
    run_import(cases=rows)
    before = list(Case.objects.order_by("id").values())
    events_before = list(CaseEvent.objects.order_by("id").values())

    report = run_import(cases=rows)

    assert report["cases"] == {"rows": 3, "created": 0, "updated": 0, "unchanged": 3}
    assert report["events"] == {
        "rows": 0,
        "histories": 0,
        "created": 0,
        "deleted": 0,
        "unchanged": 0,
    }
    assert list(Case.objects.order_by("id").values()) == before  # updated_at included
    assert list(CaseEvent.objects.order_by("id").values()) == events_before


def test_a_changed_row_updates_its_case_and_its_synthetic_history(org):
    run_import(cases=[case_row(external_id="C-1"), case_row(external_id="C-2")])
    case = Case.objects.get(external_id="C-1")
    # A reported event at the resolution time: the synthetic `resolved` must not duplicate it.
    services.case_event_record(
        case=case, event_type="assigned", occurred_at=T0 + H, assignee=org.rep_a1
    )
    services.case_event_record(case=case, event_type="resolved", occurred_at=T0 + 2 * H)

    report = run_import(
        cases=[
            case_row(
                external_id="C-1",
                status="resolved",
                assignee="rep_a1",
                assigned_at=iso(T0 + H),
                resolved_at=iso(T0 + 2 * H),
                subject="Now with a subject",
            ),
            case_row(external_id="C-2"),
        ]
    )

    assert report["cases"] == {"rows": 2, "created": 0, "updated": 1, "unchanged": 1}
    case.refresh_from_db()
    assert (case.status, case.resolved_by_id, case.first_resolved_at) == (
        "resolved",
        org.rep_a1.pk,
        T0 + 2 * H,
    )
    assert [(e[0], e[1], e[6]) for e in events_of(case)] == [
        ("created", T0, True),
        ("assigned", T0 + H, False),
        ("resolved", T0 + 2 * H, False),
    ]


def test_dry_run_reports_the_counts_and_saves_nothing(org):
    report = run_import(cases=[case_row(assignee="newbie")], create_missing=True, dry_run=True)
    assert report["dry_run"] is True
    assert report["cases"]["created"] == 1
    assert report["created_missing"]["representatives"] == ["newbie"]
    assert not Case.objects.exists()
    assert not get_user_model().objects.filter(username="newbie").exists()


# --- errors: all of them, by file, line and field; nothing stored ---------------------------


def test_bad_rows_are_reported_by_line_and_field_and_nothing_is_imported(org):
    CategoryFactory(slug="legacy", active=False)
    errors = import_errors(
        cases=[
            case_row(external_id="OK-1"),
            case_row(external_id="BAD-2", opened_at="2026-03-02T09:00:00"),
            case_row(external_id="BAD-3", channel="fax", priority="asap"),
            case_row(
                external_id="BAD-4",
                status="resolved",
                assignee="rep_a1",
                resolved_at=iso(T0 - H),
            ),
            case_row(external_id="BAD-5", category="legacy"),
            case_row(external_id="BAD-6", agent_response_count="-1", requester_email="nope"),
            case_row(external_id="OK-1"),
        ]
    )
    assert errors == [
        {
            "file": "cases",
            "line": 3,
            "field": "opened_at",
            "message": "Timestamp has no time zone; add an offset such as 'Z' or '+02:00'.",
        },
        {
            "file": "cases",
            "line": 4,
            "field": "channel",
            "message": "'fax' is not a valid choice; use one of email, phone, chat, web_form, "
            "social, in_app, ivr.",
        },
        {
            "file": "cases",
            "line": 4,
            "field": "priority",
            "message": "'asap' is not a valid choice; use one of low, normal, high, urgent.",
        },
        {
            "file": "cases",
            "line": 5,
            "field": "resolved_at",
            "message": "resolved_at is before opened_at.",
        },
        {
            "file": "cases",
            "line": 6,
            "field": "category",
            "message": "Category 'legacy' is inactive and takes no new cases.",
        },
        {
            "file": "cases",
            "line": 7,
            "field": "agent_response_count",
            "message": "Must be between 0 and 100000.",
        },
        {
            "file": "cases",
            "line": 7,
            "field": "requester_email",
            "message": "'nope' is not a valid e-mail address.",
        },
        {
            "file": "cases",
            "line": 8,
            "field": "external_id",
            "message": "Duplicate of line 2: same source and external_id.",
        },
    ]
    assert not Case.objects.exists()
    assert not CaseEvent.objects.exists()


def test_an_inactive_category_is_fine_for_a_case_that_already_has_it(org):
    legacy = CategoryFactory(slug="legacy")
    CaseFactory(external_id="OLD", source="api", category=legacy)
    legacy.active = False
    legacy.save()
    report = run_import(cases=[case_row(external_id="OLD", category="legacy", subject="new")])
    assert report["cases"]["updated"] == 1


def test_unknown_names_are_refused_by_default(org):
    errors = import_errors(
        cases=[case_row(assignee="ghost", account="ACC-X", category="nope", team="Zulu")],
        events=[
            {
                "case_external_id": "C-1",
                "event_type": "agent_response",
                "occurred_at": iso(T0 + H),
                "actor": "ghost2",
            }
        ],
    )
    hint = "; create it first or import with create_missing (--create-missing)."
    assert errors == [
        {
            "file": "cases",
            "line": 2,
            "field": "category",
            "message": "Unknown category 'nope'" + hint,
        },
        {
            "file": "cases",
            "line": 2,
            "field": "account",
            "message": "Unknown account 'ACC-X'" + hint,
        },
        {"file": "cases", "line": 2, "field": "team", "message": "Unknown team 'Zulu'" + hint},
        {
            "file": "cases",
            "line": 2,
            "field": "assignee",
            "message": "Unknown representative 'ghost'" + hint,
        },
        {
            "file": "events",
            "line": 2,
            "field": "actor",
            "message": "Unknown representative 'ghost2'" + hint,
        },
    ]
    assert not Team.objects.filter(name="Zulu").exists()


def test_create_missing_creates_what_the_files_name(org):
    report = run_import(
        cases=[
            case_row(
                external_id="C-1",
                assignee="ghost",
                account="ACC-X",
                category="new-cat",
                team="Zulu",
            ),
            case_row(external_id="C-2", assignee="lonely", status="open"),
        ],
        events=[
            {
                "case_external_id": "C-2",
                "event_type": "assigned",
                "occurred_at": iso(T0 + H),
                "actor": "boss",
                "assignee": "lonely",
            },
        ],
        create_missing=True,
    )
    assert report["created_missing"] == {
        "teams": ["Imported", "Zulu"],
        "representatives": ["boss", "ghost", "lonely"],
        "accounts": ["ACC-X"],
        "categories": ["new-cat"],
    }
    ghost = Representative.objects.select_related("user", "team").get(user__username="ghost")
    assert (ghost.team.name, ghost.role, ghost.active, ghost.display_name) == (
        "Zulu",
        "rep",
        True,
        "ghost",
    )
    assert not ghost.user.has_usable_password()
    assert Representative.objects.get(user__username="lonely").team.name == "Imported"
    category = Category.objects.get(slug="new-cat")
    assert (category.name, category.active) == ("new-cat", True)
    assert Team.objects.get(name="Zulu").timezone == "UTC"
    case = Case.objects.get(external_id="C-1")
    assert (case.account.name, case.team.name, case.assignee_id) == ("ACC-X", "Zulu", ghost.pk)


def test_create_missing_gives_an_existing_user_a_rep_profile(org):
    user = get_user_model().objects.create_user(username="olduser")
    run_import(cases=[case_row(assignee="olduser", team="Alpha")], create_missing=True)
    assert Representative.objects.get(user=user).team == org.team_a


def test_errors_are_capped_at_1000_with_the_total(org):
    with pytest.raises(CaseImportError) as caught:
        run_import(cases=[case_row(external_id=f"C-{n}", channel="fax") for n in range(1200)])
    assert len(caught.value.extra["errors"]) == 1000
    assert caught.value.extra["error_count"] == 1200
    assert caught.value.message == "1200 errors in the import; nothing was imported."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty; its first line must be the header."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "The file is not UTF-8 text"),
        (
            b"external_id,opend_at,channel,category\nC-1,x,email,billing\n",
            "Line 1 must be the header of the cases CSV file: unknown column(s) 'opend_at'; "
            "missing required column(s) opened_at.",
        ),
        (b'external_id,opened_at,channel,category\n"C-1"x,,,\n', "Not a valid CSV file (line 2)"),
    ],
)
def test_a_file_that_is_not_a_cases_csv_is_named(org, content, message):
    with pytest.raises(ApplicationError) as caught:
        case_import(cases=io.BytesIO(content))
    assert caught.value.code == "validation_error"
    assert list(caught.value.extra["fields"]) == ["cases"]
    assert caught.value.extra["fields"]["cases"][0].startswith(message)


def test_a_row_with_the_wrong_number_of_cells_is_a_row_error(org):
    content = b"external_id,opened_at,channel,category\nC-1,2026-03-02T09:00:00Z,email\n"
    with pytest.raises(CaseImportError) as caught:
        case_import(cases=io.BytesIO(content))
    assert caught.value.extra["errors"] == [
        {
            "file": "cases",
            "line": 2,
            "field": None,
            "message": "The row has 3 cells; the header has 4.",
        }
    ]


def test_utf8_with_a_byte_order_mark_and_quoted_newlines_keep_line_numbers(org):
    content = (
        "\ufeffexternal_id,opened_at,channel,category,subject\n"
        'C-1,2026-03-02T09:00:00Z,email,billing,"two\nlines"\n'
        "C-2,2026-03-02T09:00:00,email,billing,Ünïcödé\n"
    ).encode()
    with pytest.raises(CaseImportError) as caught:
        case_import(cases=io.BytesIO(content))
    assert [(e["line"], e["field"]) for e in caught.value.extra["errors"]] == [(4, "opened_at")]


def test_the_import_makes_the_same_number_of_queries_for_2_or_200_rows(org):
    def count(n: int, prefix: str) -> int:
        rows = [
            case_row(
                external_id=f"{prefix}-{i}",
                status="open",
                assignee="rep_a1",
                first_response_at=iso(T0 + H),
                agent_response_count="1",
            )
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            run_import(cases=rows)
        return len(queries)

    assert count(2, "A") == count(200, "B")


# --- events file ---------------------------------------------------------------------------

HISTORY = [
    # (event_type, hours after T0, actor, assignee, to_status)
    ("assigned", 0.5, "mgr_a", "rep_a1", ""),
    ("agent_response", 1, "rep_a1", "", ""),
    ("status_changed", 1.5, "rep_a1", "", "pending"),
    ("customer_response", 3, "", "", ""),
    ("resolved", 4, "rep_a1", "", ""),
    ("reopened", 20, "", "", ""),
    ("assigned", 21, "mgr_a", "rep_a2", ""),
    ("agent_response", 22, "rep_a2", "", ""),
    ("resolved", 23, "", "", ""),
    ("closed", 100, "", "", ""),
]


def event_rows(external_id: str, history=HISTORY) -> list[dict]:
    return [
        {
            "case_external_id": external_id,
            "event_type": event_type,
            "occurred_at": iso(T0 + timedelta(hours=hours)),
            "actor": actor,
            "assignee": assignee,
            "to_status": to_status,
        }
        for event_type, hours, actor, assignee, to_status in history
    ]


def test_an_events_file_rebuilds_the_fields_the_live_api_keeps(org):
    reps = {r.user.username: r for r in Representative.objects.select_related("user")}
    live, _ = services.case_create(
        external_id="LIVE", category=org.category, channel="email", opened_at=T0
    )
    for event_type, hours, actor, assignee, to_status in HISTORY:
        services.case_event_record(
            case=live,
            event_type=event_type,
            occurred_at=T0 + timedelta(hours=hours),
            actor=reps.get(actor),
            assignee=reps.get(assignee),
            to_status=to_status,
        )
    # Shuffled on purpose: the import sorts by time.
    rows = event_rows("IMPORTED")
    report = run_import(cases=[case_row(external_id="IMPORTED")], events=rows[5:] + rows[:5])

    assert report["cases"] == {"rows": 1, "created": 1, "updated": 0, "unchanged": 0}
    assert report["events"] == {
        "rows": 10,
        "histories": 1,
        "created": 11,
        "deleted": 0,
        "unchanged": 0,
    }
    live.refresh_from_db()
    imported = Case.objects.get(external_id="IMPORTED")
    assert CaseState.of(imported) == CaseState.of(live)
    assert CaseState.of(imported).as_fields() == {
        "status": "closed",
        "opened_at": T0,
        "assignee_id": org.rep_a2.pk,
        "team_id": org.team_a.pk,
        "resolved_by_id": org.rep_a2.pk,
        "first_responder_id": org.rep_a1.pk,
        "assigned_at": T0 + 21 * H,
        "first_response_at": T0 + H,
        "first_resolved_at": T0 + 4 * H,
        "resolved_at": T0 + 23 * H,
        "closed_at": T0 + 100 * H,
        "last_customer_activity_at": T0 + 3 * H,
        "agent_response_count": 2,
        "reopened_count": 1,
    }
    assert events_of(imported) == events_of(live)


def test_the_fold_wins_over_the_cases_file_snapshot_and_reimport_is_unchanged(org):
    cases = [case_row(external_id="C-1", status="new")]  # the snapshot says new
    events = event_rows("C-1", HISTORY[:5])
    run_import(cases=cases, events=events)
    case = Case.objects.get(external_id="C-1")
    assert (case.status, case.assignee_id, case.agent_response_count) == (
        "resolved",
        org.rep_a1.pk,
        1,
    )
    assert not case.events.filter(synthetic=True).exists()

    report = run_import(cases=cases, events=events)

    assert report["cases"] == {"rows": 1, "created": 0, "updated": 0, "unchanged": 1}
    assert report["events"] == {
        "rows": 5,
        "histories": 1,
        "created": 0,
        "deleted": 0,
        "unchanged": 6,
    }


def test_an_events_file_replaces_the_history_of_a_stored_case(org):
    stored, _ = services.case_snapshot_upsert(
        source="api",
        external_id="OLD",
        data={
            "category": org.category,
            "channel": "email",
            "status": "resolved",
            "opened_at": T0,
            "resolved_at": T0 + 9 * H,
            "assignee": org.rep_b1,
        },
    )
    report = run_import(events=event_rows("OLD", HISTORY[:3]))

    assert report["cases"] == {"rows": 0, "created": 0, "updated": 1, "unchanged": 0}
    # The synthetic history goes (3 events); the file's, after a non-synthetic `created`, comes.
    assert report["events"] == {
        "rows": 3,
        "histories": 1,
        "created": 4,
        "deleted": 3,
        "unchanged": 0,
    }
    stored.refresh_from_db()
    assert (stored.status, stored.assignee_id, stored.resolved_at, stored.first_resolved_at) == (
        "pending",
        org.rep_a1.pk,
        None,
        None,
    )
    assert [(e[0], e[6]) for e in events_of(stored)] == [
        ("created", False),
        ("assigned", False),
        ("agent_response", False),
        ("status_changed", False),
    ]


def test_a_transition_the_fold_refuses_is_a_row_error(org):
    events = event_rows("C-1", [("agent_response", 1, "rep_a1", "", ""), ("closed", 2, "", "", "")])
    errors = import_errors(cases=[case_row(external_id="C-1")], events=events)
    assert errors == [
        {
            "file": "events",
            "line": 3,
            "field": "event_type",
            "message": "Only a resolved case can be closed.",
        }
    ]
    assert not Case.objects.exists()


def test_events_file_row_errors(org):
    CaseFactory(source="api", external_id="STORED", opened_at=T0)
    errors = import_errors(
        events=[
            {
                "case_external_id": "NOPE",
                "event_type": "agent_response",
                "occurred_at": iso(T0 + H),
            },
            {
                "case_external_id": "STORED",
                "event_type": "agent_response",
                "occurred_at": iso(T0 + H),
                "assignee": "rep_a1",
            },
            {
                "case_external_id": "STORED",
                "event_type": "status_changed",
                "occurred_at": iso(T0 + H),
            },
            {
                "case_external_id": "STORED",
                "event_type": "resolved",
                "occurred_at": iso(T0 + H),
                "to_status": "open",
            },
            {"case_external_id": "STORED", "event_type": "teleported", "occurred_at": iso(NOW + H)},
            {
                "case_external_id": "STORED",
                "event_type": "customer_response",
                "occurred_at": iso(T0 - H),
            },
        ]
    )
    assert errors == [
        {
            "file": "events",
            "line": 2,
            "field": "case_external_id",
            "message": "No case 'NOPE' with source 'api' in the cases file or the database.",
        },
        {
            "file": "events",
            "line": 3,
            "field": "assignee",
            "message": "Only assigned events name an assignee.",
        },
        {
            "file": "events",
            "line": 4,
            "field": "to_status",
            "message": "Required for status_changed events.",
        },
        {
            "file": "events",
            "line": 5,
            "field": "to_status",
            "message": "Only status_changed events take to_status.",
        },
        {
            "file": "events",
            "line": 6,
            "field": "event_type",
            "message": "'teleported' is not a valid choice; use one of created, assigned, "
            "agent_response, customer_response, status_changed, reopened, resolved, closed.",
        },
        {
            "file": "events",
            "line": 6,
            "field": "occurred_at",
            "message": "Timestamp is in the future.",
        },
    ]


def test_an_event_before_the_case_opened_is_a_fold_error(org):
    CaseFactory(source="api", external_id="STORED", opened_at=T0)
    errors = import_errors(
        events=[
            {
                "case_external_id": "STORED",
                "event_type": "customer_response",
                "occurred_at": iso(T0 - H),
            }
        ]
    )
    assert errors == [
        {
            "file": "events",
            "line": 2,
            "field": "event_type",
            "message": "An event cannot happen before the case was opened.",
        }
    ]


def test_a_repeated_event_is_one_event_and_a_conflicting_repeat_is_an_error(org):
    twice = event_rows("C-1", [("agent_response", 1, "rep_a1", "", "")] * 2)
    run_import(cases=[case_row()], events=twice)
    assert Case.objects.get().agent_response_count == 1

    conflicting = event_rows(
        "C-1", [("agent_response", 1, "rep_a1", "", ""), ("agent_response", 1, "rep_a2", "", "")]
    )
    errors = import_errors(cases=[case_row()], events=conflicting)
    assert errors == [
        {
            "file": "events",
            "line": 3,
            "field": "event_type",
            "message": "Line 2 has the same event type and time with other details.",
        }
    ]


def test_a_created_row_must_be_at_opened_at_and_gives_the_creator(org):
    rows = event_rows(
        "C-1", [("created", 0, "mgr_a", "", ""), ("agent_response", 1, "rep_a1", "", "")]
    )
    run_import(cases=[case_row()], events=rows)
    created = Case.objects.get().events.get(event_type="created")
    assert (created.actor_id, created.synthetic) == (org.manager_a.pk, False)

    errors = import_errors(
        cases=[case_row()], events=event_rows("C-1", [("created", 1, "", "", "")])
    )
    assert errors == [
        {
            "file": "events",
            "line": 2,
            "field": "occurred_at",
            "message": "A case is created at its opened_at (2026-03-02T09:00:00+00:00).",
        }
    ]


# --- the synthetic history shortcut ---------------------------------------------------------


def test_synthetic_history_equals_synthetic_events_for_every_shape(org):
    history = SyntheticHistory()
    for assignee in (None, org.rep_a1):
        for assigned in (None, T0 + H):
            for responded in (None, T0 + 2 * H):
                for resolved in (None, T0 + 3 * H):
                    for closed in (None, T0 + 4 * H):
                        values = {
                            "opened_at": T0,
                            "assignee_id": assignee.pk if assignee else None,
                            "assigned_at": assigned,
                            "first_response_at": responded,
                            "resolved_at": resolved,
                            "resolved_by_id": org.rep_a2.pk if resolved else None,
                            "closed_at": closed,
                        }
                        expected = [
                            (
                                77,
                                e.event_type,
                                e.occurred_at,
                                e.actor_id,
                                e.assignee_id,
                                e.from_status,
                                e.to_status,
                                e.synthetic,
                            )
                            for e in synthetic_events(Case(id=77, **values))
                        ]
                        assert [tuple(row) for row in history.rows(77, values)] == expected


# --- the command and the docs ---------------------------------------------------------------


def write(tmp_path: Path, name: str, rows: list[dict]) -> str:
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows).getvalue())
    return str(path)


def test_command_prints_a_summary(org, tmp_path):
    cases = write(tmp_path, "cases.csv", [case_row(assignee="newbie")])
    out = io.StringIO()
    call_command("import_cases", "--cases", cases, "--create-missing", stdout=out)
    assert out.getvalue().splitlines() == [
        f"{cases}: 1 rows.",
        "Cases: 1 created, 0 updated, 0 unchanged.",
        "Events: 2 created, 0 deleted, 0 unchanged.",  # created, assigned
        "Created: teams Imported; representatives newbie.",
    ]


def test_command_prints_every_error_and_fails(org, tmp_path):
    cases = write(
        tmp_path,
        "cases.csv",
        [case_row(channel="fax"), case_row(external_id="C-2", assignee="ghost")],
    )
    err = io.StringIO()
    message = "2 errors in the import; nothing was imported."
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_cases", "--cases", cases, stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"{cases}:2: channel: 'fax' is not a valid choice")
    assert lines[1].startswith(f"{cases}:3: assignee: Unknown representative 'ghost'")
    assert not Case.objects.exists()


def test_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="--cases: cannot open"):
        call_command("import_cases", "--cases", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match=re.escape("Give --cases, --events or both.")):
        call_command("import_cases")


def _manage(*args: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", "import_cases", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_command_exit_status(tmp_path):
    bad = write(tmp_path, "bad.csv", [case_row(channel="fax")])
    good = write(tmp_path, "good.csv", [case_row(category="other", team="T")])

    failed = _manage("--cases", bad)
    assert failed.returncode == 1
    assert f"{bad}:2: channel:" in failed.stderr

    # A dry run, so the subprocess (outside this test's transaction) leaves nothing behind.
    ok = _manage("--cases", good, "--create-missing", "--dry-run")
    assert ok.returncode == 0, ok.stderr
    assert "Dry run: nothing was saved." in ok.stdout


def test_docs_describe_every_column():
    text = (Path(settings.BASE_DIR) / "docs" / "import.md").read_text()
    for column in (*CASES_COLUMNS, *EVENTS_COLUMNS):
        assert f"| `{column.name}` |" in text, column.name


def test_a_write_the_database_refuses_is_reported_and_nothing_is_imported(org, monkeypatch):
    def refuse(*args, **kwargs):
        raise psycopg.errors.UniqueViolation("duplicate key value")

    monkeypatch.setattr(store, "events_insert", refuse)
    with pytest.raises(ApplicationError) as caught:
        run_import(cases=[case_row(assignee="newbie")], create_missing=True)
    assert caught.value.code == "import_rejected"
    assert caught.value.message == (
        "The database refused the import; nothing was imported: duplicate key value"
    )
    assert not Case.objects.exists()
    assert not Representative.objects.filter(user__username="newbie").exists()
