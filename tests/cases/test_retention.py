"""Retention of personal data (cases.services.retention, docs/hardening.md).

The purge erases the requester's name, survey comments, alert notes and email texts of
cases resolved or closed before the cutoff, turns their addresses into keyed pseudonyms,
leaves newer cases alone, is idempotent, and changes no figure of any KPI.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Q

from cases.models import (
    Case,
    CaseAssignmentAuditEvent,
    DetractorAlert,
    OutboundEmail,
    SurveyInvitation,
    SurveyResponse,
)
from cases.requesters import requester_hash
from cases.services.retention import personal_data_purge
from metrics.kpis import (
    accounts,
    backlog,
    coaching,
    csat,
    fcr,
    frequency,
    load,
    queue,
    recovery,
    seasonality,
    times,
)
from metrics.types import KpiFilter

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
RETENTION_DAYS = 180
CUTOFF = NOW - timedelta(days=RETENTION_DAYS)
AGED = Q(status__in=["resolved", "closed"]) & (
    Q(closed_at__lt=CUTOFF) | Q(closed_at__isnull=True, resolved_at__lt=CUTOFF)
)


@pytest.fixture
def demo(db):
    call_command("seed_demo", cases=2000, seed=7, now=NOW, stdout=StringIO())
    # Personal free text where the demo leaves none: notes on every alert, email texts.
    DetractorAlert.objects.update(note="Called Mrs Example at home")
    emails = [
        OutboundEmail(
            kind=OutboundEmail.Kind.SURVEY_INVITATION,
            dedupe_key=f"test-survey:{invitation.pk}",
            invitation=invitation,
            body="Dear Mrs Example",
            status=OutboundEmail.Status.FAILED,
            last_error="550 mrs.example@example.org: no such user",
            next_attempt_at=NOW,
        )
        for invitation in SurveyInvitation.objects.all()
    ] + [
        OutboundEmail(
            kind=OutboundEmail.Kind.DETRACTOR_ALERT,
            dedupe_key=f"test-alert:{alert.pk}",
            alert=alert,
            subject="Detractor: Mrs Example",
            body="She said: never again",
            next_attempt_at=NOW,
        )
        for alert in DetractorAlert.objects.all()
    ]
    OutboundEmail.objects.bulk_create(emails)


def every_kpi(now: datetime) -> dict[str, Any]:
    """Every KPI function's answer for one fixed window (two years) and a team's slice."""
    utc = ZoneInfo("UTC")
    everything = KpiFilter(start=NOW - timedelta(days=730), end=NOW, tz=utc)
    team = Case.objects.exclude(team=None).values_list("team_id", flat=True).first()
    rep = Case.objects.exclude(resolved_by=None).values_list("resolved_by_id", flat=True).first()
    one_team = dataclasses.replace(everything, team_ids=(team,))
    answers: dict[str, Any] = {}
    for name, f in (("all", everything), ("team", one_team)):
        answers |= {
            f"{name} backlog": backlog.kpi_backlog(f=f, now=now),
            f"{name} backlog history": backlog.kpi_backlog_by_rep_history(f=f, now=now),
            f"{name} load": load.kpi_case_load(f=f, now=now, group_by="week"),
            f"{name} first response": times.kpi_first_response_time(f=f, now=now, group_by="rep"),
            f"{name} resolution": times.kpi_resolution_time(f=f, now=now, group_by="team"),
            f"{name} fcr": fcr.kpi_first_contact_resolution(f=f, now=now, group_by="rep"),
            f"{name} repeats": frequency.kpi_repeat_contacts(f=f, now=now, within_days=90),
            f"{name} patterns": seasonality.kpi_submission_patterns(f=f, now=now),
            f"{name} seasonality": seasonality.kpi_submission_seasonality(f=f, now=now),
            f"{name} forecast": seasonality.kpi_submission_forecast(f=f, now=now),
            f"{name} queue": queue.kpi_queue(f=f, now=now, limit=500),
            f"{name} accounts": accounts.kpi_account_risk(f=f, now=now, limit=None),
            f"{name} turnover": accounts.kpi_account_turnover(f=f, now=now),
            f"{name} csat": csat.kpi_csat_by_representative(f=f, now=now),
            f"{name} coaching": coaching.kpi_rep_coaching(f=f, now=now, rep_id=rep),
            f"{name} recovery": recovery.kpi_detractor_recovery(f=f, now=now),
        }
    return answers


def same_figures(a: Any, b: Any, renamed: dict[str, str] | None = None) -> bool:
    """Equal answers. Floats may differ in their last bits (1e-9 relative): the erasure
    rewrites rows, and a float sum in another row order rounds differently. A repeat
    requester's pseudonym is derived from the address, so an erased requester has a new
    one: the mapping old -> new must be one-to-one (the same requesters, the same counts)."""
    renamed = {} if renamed is None else renamed
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return False
        for f in dataclasses.fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if f.name == "pseudonym":
                if renamed.setdefault(x, y) != y or list(renamed.values()).count(y) != 1:
                    return False
            elif not same_figures(x, y, renamed):
                return False
        return True
    if isinstance(a, (list, tuple)):
        return (
            isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(same_figures(x, y, renamed) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_figures(a[k], b[k], renamed) for k in a)
        )
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9)
    return bool(a == b)


def test_same_figures_is_strict():
    point = Figure(1.0, "x")
    assert same_figures([point], [Figure(1.0 + 1e-12, "x")])
    assert not same_figures([point], [Figure(1.0001, "x")])
    assert not same_figures([point], [Figure(1.0, "y")])
    assert not same_figures([point], [])


@dataclasses.dataclass(frozen=True)
class Figure:
    value: float
    label: str


def test_the_purge_erases_old_personal_data_and_changes_no_figure(demo):
    aged_before = Case.objects.filter(AGED).count()
    newer = {
        pk: (email, name)
        for pk, email, name in Case.objects.exclude(AGED).values_list(
            "id", "requester_email", "requester_name"
        )
    }
    old_addresses = dict(Case.objects.filter(AGED).values_list("id", "requester_email"))
    assert aged_before > 200 and len(newer) > 200  # both sides of the cutoff are populated
    assert SurveyResponse.objects.filter(case__in=Case.objects.filter(AGED)).exclude(comment="")
    before = every_kpi(NOW)
    email_texts = dict(OutboundEmail.objects.values_list("id", "body"))
    audit_events = CaseAssignmentAuditEvent.objects.count()

    dry = personal_data_purge(now=NOW, older_than_days=RETENTION_DAYS, dry_run=True, batch_size=500)
    assert Case.objects.filter(AGED).exclude(requester_name="").count() == dry.names > 0
    report = personal_data_purge(now=NOW, older_than_days=RETENTION_DAYS, batch_size=500)
    assert {**report.as_dict(), "dry_run": True} == dry.as_dict()
    assert report.batches > 1

    after = every_kpi(NOW)
    assert after.keys() == before.keys()
    for name in before:
        assert same_figures(before[name], after[name]), name
    aged = Case.objects.filter(AGED)
    assert aged.exclude(requester_name="").count() == 0
    assert SurveyResponse.objects.filter(case__in=aged).exclude(comment="").count() == 0
    assert DetractorAlert.objects.filter(case__in=aged).exclude(note="").count() == 0
    aged_emails = OutboundEmail.objects.filter(
        Q(invitation__case__in=aged) | Q(alert__case__in=aged)
    )
    assert aged_emails.exists()
    assert report.outbound_emails == aged_emails.count()
    assert aged_emails.exclude(body="", html_body="", subject="", last_error="").count() == 0
    # Addresses: pseudonymized (the keyed requester hash), or kept while the same address
    # is on a newer case.
    kept = {email.lower() for email, _ in newer.values() if email}
    for pk, email in aged.values_list("id", "requester_email"):
        original = old_addresses[pk]
        if original and original.lower() not in kept:
            assert email == f"{requester_hash(original)}@erased.invalid"
        else:
            assert email == original
    assert report.addresses_pseudonymized > 0
    assert report.addresses_deferred == sum(
        1 for e in old_addresses.values() if e and e.lower() in kept
    )
    # Newer cases keep everything.
    assert {
        pk: (email, name)
        for pk, email, name in Case.objects.exclude(AGED).values_list(
            "id", "requester_email", "requester_name"
        )
    } == newer
    assert SurveyResponse.objects.exclude(case__in=aged).exclude(comment="").exists()
    assert DetractorAlert.objects.exclude(case__in=aged).exclude(note="").exists()
    newer_emails = OutboundEmail.objects.exclude(pk__in=aged_emails)
    assert newer_emails.exclude(body="").exists()
    assert dict(newer_emails.values_list("id", "body")) == {
        pk: email_texts[pk] for pk in newer_emails.values_list("id", flat=True)
    }

    # Idempotent: nothing left to erase.
    again = personal_data_purge(now=NOW, older_than_days=RETENTION_DAYS)
    assert (again.cases, again.survey_comments, again.alert_notes, again.outbound_emails) == (
        0,
        0,
        0,
        0,
    )
    # The case audit trail records assignments only: the purge wrote nothing there.
    assert CaseAssignmentAuditEvent.objects.count() == audit_events


def test_the_command_reports_counts_and_a_dry_run_erases_nothing(demo):
    out = StringIO()
    call_command("purge_personal_data", "--older-than-days", "180", "--dry-run", stdout=out)
    assert '"dry_run": true' in out.getvalue()
    assert Case.objects.filter(AGED).exclude(requester_name="").exists()


def test_nothing_to_purge(db):
    report = personal_data_purge(now=NOW, older_than_days=30)
    assert report.as_dict()["cases"] == 0 and report.batches == 0


def test_the_weekly_task_runs_the_purge_and_is_idempotent(org, time_machine):
    from cases.tasks import personal_data_purge as task
    from supportmetrics.celery import app
    from tests.factories import CaseFactory

    time_machine.move_to(NOW, tick=False)
    old = CaseFactory(
        resolved=True,
        opened_at=NOW - timedelta(days=900),
        requester_email="Old.Customer@Example.org",
        requester_name="Old Customer",
    )
    recent = CaseFactory(resolved=True, opened_at=NOW - timedelta(days=10))
    first = task.delay().get()
    second = task.delay().get()
    assert (first["cases"], first["addresses_pseudonymized"], first["names"]) == (1, 1, 1)
    assert (second["cases"], second["addresses_pseudonymized"]) == (0, 0)
    old.refresh_from_db()
    assert old.requester_email == f"{requester_hash('old.customer@example.org')}@erased.invalid"
    assert old.requester_name == ""
    assert Case.objects.get(pk=recent.pk).requester_name == recent.requester_name
    schedule = app.conf.beat_schedule["personal-data-purge"]
    assert schedule["task"] == "cases.tasks.personal_data_purge"
