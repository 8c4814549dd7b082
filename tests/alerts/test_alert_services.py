"""Detractor alerts: which answers raise one, who is mailed, and the workflow's transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import DetractorAlert, OutboundEmail, Representative, SurveyInvitation
from cases.services.alerts import (
    detractor_alert_close,
    detractor_alert_contact,
    detractor_alert_create_for_response,
)
from cases.services.surveys import survey_answer_record
from supportmetrics.exceptions import ApplicationError
from tests.conftest import NOW
from tests.factories import (
    T0,
    CaseFactory,
    ManagerFactory,
    RepresentativeFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

ANSWERED = T0 + timedelta(days=1)


def answer(org, *, csat, nps=None, effort=None, comment="", rep=None):
    """A survey answer on a resolved case of ``rep`` (default rep_a1), attributed to them."""
    rep = rep or org.rep_a1
    case = CaseFactory(resolved=True, assignee=rep, category=org.category, subject="Refund")
    return SurveyResponseFactory(
        case=case,
        representative=rep,
        csat=csat,
        nps=nps,
        effort=effort,
        comment=comment,
        responded_at=ANSWERED,
    )


# --- which answers raise an alert ----------------------------------------------------------


@pytest.mark.parametrize(
    "csat, nps, raises",
    [
        (1, None, True),
        (2, None, True),
        (2, 10, True),  # CSAT alone decides
        (3, 6, True),  # NPS 6 is a detractor (Bain: 0–6)
        (5, 0, True),
        (3, 7, False),  # a passive, and CSAT neutral
        (5, None, False),
        (3, None, False),  # no NPS answer is not a detractor
        (4, 9, False),
    ],
)
def test_which_answers_raise_an_alert(org, csat, nps, raises):
    response = answer(org, csat=csat, nps=nps)
    alert = detractor_alert_create_for_response(response=response)
    if not raises:
        assert alert is None
        assert DetractorAlert.objects.count() == 0
        assert OutboundEmail.objects.count() == 0
        return
    assert DetractorAlert.objects.get() == alert
    assert (alert.status, alert.case_id, alert.team_id, alert.representative_id) == (
        "open",
        response.case_id,
        org.team_a.pk,
        org.rep_a1.pk,
    )
    assert alert.created_at == ANSWERED
    assert (alert.contacted_at, alert.closed_at, alert.note) == (None, None, "")


def test_the_alert_belongs_to_the_answers_rep_even_after_reassignment(org):
    response = answer(org, csat=1)
    case = response.case
    case.assignee = org.rep_a2  # reassigned after the resolution was answered
    case.save(update_fields=["assignee"])
    alert = detractor_alert_create_for_response(response=response)
    assert alert.representative_id == org.rep_a1.pk


def test_a_second_call_for_the_same_answer_returns_the_alert_and_queues_nothing(org):
    response = answer(org, csat=1)
    first = detractor_alert_create_for_response(response=response)
    again = detractor_alert_create_for_response(response=response)
    assert again.pk == first.pk
    assert DetractorAlert.objects.count() == 1
    assert OutboundEmail.objects.count() == 1  # manager_a only


# --- who is told ---------------------------------------------------------------------------


@pytest.fixture
def team_a_staff(org):
    """Team A beyond the org fixture: a second manager, and managers who must not be mailed."""
    second = ManagerFactory(team=org.team_a, user__username="mgr_a2")
    ManagerFactory(team=org.team_a, user__username="mgr_a_left", active=False)
    ManagerFactory(team=org.team_a, user__username="mgr_a_locked", user__is_active=False)
    ManagerFactory(team=org.team_a, user__username="mgr_a_no_mail", user__email="")
    RepresentativeFactory(team=org.team_a, user__username="rep_a3")
    return second


def test_one_email_per_active_manager_of_the_team_with_an_address(
    org, team_a_staff, django_capture_on_commit_callbacks
):
    response = answer(org, csat=2, nps=3, effort=6, comment="Nobody called back.")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        alert = detractor_alert_create_for_response(response=response)
    emails = OutboundEmail.objects.order_by("recipient_id")
    assert [(e.kind, e.dedupe_key, e.alert_id, e.recipient_id) for e in emails] == [
        ("detractor_alert", f"detractor_alert:{alert.pk}:{manager.pk}", alert.pk, manager.pk)
        for manager in (org.manager_a, team_a_staff)
    ]
    # After commit each is delivered (eager Celery, in-memory mail): one mail per manager,
    # none to the inactive, locked-out or address-less managers, to reps or to team B.
    assert len(callbacks) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["mgr_a2@example.com", "mgr_a@example.com"]
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in mail.outbox)
    assert [e.status for e in emails] == ["sent", "sent"]


def test_no_mail_leaves_before_the_answer_commits(org, django_capture_on_commit_callbacks):
    response = answer(org, csat=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        detractor_alert_create_for_response(response=response)
    # The dispatch waits for a commit that has not happened: a pending row, no mail yet.
    assert len(callbacks) == 1
    assert OutboundEmail.objects.get().status == "pending"
    assert mail.outbox == []


def test_a_rolled_back_answer_leaves_no_alert_and_no_email(org, django_capture_on_commit_callbacks):
    response = answer(org, csat=1)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        detractor_alert_create_for_response(response=response)
        raise RuntimeError("the answer's transaction fails later")
    assert callbacks == []
    assert (DetractorAlert.objects.count(), OutboundEmail.objects.count()) == (0, 0)
    assert mail.outbox == []


def test_managers_of_another_team_are_not_told(org):
    response = answer(org, csat=1, rep=org.rep_b1)
    alert = detractor_alert_create_for_response(response=response)
    assert alert.team_id == org.team_b.pk
    assert list(OutboundEmail.objects.values_list("recipient_id", flat=True)) == [org.manager_b.pk]


def test_an_alert_on_a_case_no_team_owns_mails_nobody(org):
    response = answer(org, csat=1)
    response.case.team = None
    response.case.save(update_fields=["team"])
    alert = detractor_alert_create_for_response(response=response)
    assert (alert.team_id, alert.status) == (None, "open")
    assert OutboundEmail.objects.count() == 0


def test_a_rep_promoted_to_manager_is_told_as_a_manager(org):
    org.rep_a2.role = Representative.Role.MANAGER
    org.rep_a2.save(update_fields=["role"])
    alert = detractor_alert_create_for_response(response=answer(org, csat=1))
    assert sorted(e.recipient_id for e in alert.emails.all()) == sorted(
        [org.manager_a.pk, org.rep_a2.pk]
    )


# --- the workflow --------------------------------------------------------------------------


@pytest.fixture
def alert(org):
    return detractor_alert_create_for_response(response=answer(org, csat=1))


def test_contact_then_close_records_who_and_when(org, alert):
    contacted_at = ANSWERED + timedelta(hours=3)
    contacted = detractor_alert_contact(
        alert=alert, user=org.manager_a.user, note="Called, offered a refund.", now=contacted_at
    )
    stored = DetractorAlert.objects.get(pk=alert.pk)
    assert (stored.status, stored.contacted_at, stored.contacted_by_id, stored.note) == (
        "contacted",
        contacted_at,
        org.manager_a.user.pk,
        "Called, offered a refund.",
    )
    assert contacted.status == "contacted"

    closed_at = contacted_at + timedelta(days=2)
    detractor_alert_close(
        alert=alert,
        user=org.admin,
        outcome="recovered",
        note="  Refund accepted; happy again. ",
        now=closed_at,
    )
    stored.refresh_from_db()
    assert (stored.status, stored.closed_at, stored.closed_by_id) == (
        "recovered",
        closed_at,
        org.admin.pk,
    )
    # Both notes are kept, one paragraph each; the contact fields are untouched.
    assert stored.note == "Called, offered a refund.\n\nRefund accepted; happy again."
    assert (stored.contacted_at, stored.contacted_by_id) == (contacted_at, org.manager_a.user.pk)


def test_not_recovered_is_an_outcome_too(org, alert):
    detractor_alert_contact(alert=alert, user=org.manager_a.user, now=ANSWERED + timedelta(hours=1))
    detractor_alert_close(
        alert=alert,
        user=org.manager_a.user,
        outcome="not_recovered",
        now=ANSWERED + timedelta(hours=2),
    )
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("not_recovered", "")


def transition_error(from_status, to_status):
    return {
        "message": f"A detractor alert that is {from_status} cannot become {to_status}.",
        "code": "invalid_alert_transition",
        "extra": {"from_status": from_status, "to_status": to_status},
    }


def error_of(excinfo):
    error = excinfo.value
    return {"message": error.message, "code": error.code, "extra": error.extra}


def test_an_open_alert_cannot_be_closed(org, alert):
    with pytest.raises(ApplicationError) as excinfo:
        detractor_alert_close(alert=alert, user=org.manager_a.user, outcome="recovered")
    assert excinfo.value.status_code == 409
    assert error_of(excinfo) == transition_error("open", "recovered")
    alert.refresh_from_db()
    assert (alert.status, alert.closed_at) == ("open", None)


def test_contacting_twice_is_refused_and_keeps_the_first_contact(org, alert):
    first = ANSWERED + timedelta(hours=1)
    detractor_alert_contact(alert=alert, user=org.manager_a.user, now=first)
    with pytest.raises(ApplicationError) as excinfo:
        detractor_alert_contact(
            alert=alert, user=org.admin, now=first + timedelta(hours=1)
        )  # the caller's copy still says "open": the locked row decides
    assert excinfo.value.status_code == 409
    assert error_of(excinfo) == transition_error("contacted", "contacted")
    alert.refresh_from_db()
    assert (alert.contacted_at, alert.contacted_by_id) == (first, org.manager_a.user.pk)


@pytest.mark.parametrize("outcome", ["recovered", "not_recovered"])
def test_a_closed_alert_stays_closed(org, alert, outcome):
    detractor_alert_contact(alert=alert, user=org.manager_a.user, now=ANSWERED + timedelta(hours=1))
    detractor_alert_close(
        alert=alert, user=org.manager_a.user, outcome=outcome, now=ANSWERED + timedelta(hours=2)
    )
    for attempt in (
        lambda: detractor_alert_contact(alert=alert, user=org.manager_a.user),
        lambda: detractor_alert_close(alert=alert, user=org.manager_a.user, outcome="recovered"),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            attempt()
        assert excinfo.value.code == "invalid_alert_transition"
        assert excinfo.value.extra["from_status"] == outcome
    alert.refresh_from_db()
    assert alert.status == outcome


def test_an_unknown_outcome_is_a_validation_error(org, alert):
    detractor_alert_contact(alert=alert, user=org.manager_a.user, now=ANSWERED + timedelta(hours=1))
    with pytest.raises(ApplicationError) as excinfo:
        detractor_alert_close(alert=alert, user=org.manager_a.user, outcome="contacted")
    assert excinfo.value.status_code == 400
    assert error_of(excinfo) == {
        "message": "outcome: 'contacted' is not an outcome; use recovered or not_recovered.",
        "code": "validation_error",
        "extra": {"fields": {"outcome": ["Use recovered or not_recovered."]}},
    }
    alert.refresh_from_db()
    assert alert.status == "contacted"


def test_a_contact_before_the_answer_is_refused_by_full_clean(org, alert):
    with pytest.raises(ValidationError):
        detractor_alert_contact(
            alert=alert, user=org.manager_a.user, now=ANSWERED - timedelta(minutes=1)
        )
    alert.refresh_from_db()
    assert (alert.status, alert.contacted_at) == ("open", None)


def test_an_outcome_before_the_contact_is_refused(org, alert):
    contacted_at = ANSWERED + timedelta(hours=5)
    detractor_alert_contact(alert=alert, user=org.manager_a.user, now=contacted_at)
    with pytest.raises(ApplicationError) as excinfo:
        detractor_alert_close(
            alert=alert,
            user=org.manager_a.user,
            outcome="recovered",
            now=contacted_at - timedelta(seconds=1),
        )
    assert excinfo.value.code == "validation_error"
    alert.refresh_from_db()
    assert alert.status == "contacted"


def test_the_contact_locks_the_row(org, alert):
    """SELECT … FOR UPDATE on the alert: concurrent contacts serialise on the row."""
    with CaptureQueriesContext(connection) as queries:
        detractor_alert_contact(alert=alert, user=org.manager_a.user, now=ANSWERED)
    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert 'FROM "cases_detractoralert"' in locking[0]


# --- end to end, through the survey --------------------------------------------------------


def test_a_score_of_1_through_the_survey_raises_an_alert_and_mails_the_manager(
    org, clock, django_capture_on_commit_callbacks
):
    case, _ = services.case_create(
        external_id="E2E-1",
        category=org.category,
        channel="email",
        opened_at=NOW - timedelta(hours=3),
        assignee=org.rep_a1,
        requester_email="kim@customer.example",
        subject="Locked out",
    )
    services.case_event_record(
        case=case, event_type="resolved", occurred_at=NOW - timedelta(hours=1), actor=org.rep_a1
    )
    invitation = SurveyInvitation.objects.get(case=case)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = survey_answer_record(
            invitation=invitation, csat=1, nps=None, effort=None, comment="Took ages.", now=NOW
        )
    alert = DetractorAlert.objects.get()
    assert (alert.response_id, alert.team_id, alert.representative_id, alert.created_at) == (
        response.pk,
        org.team_a.pk,
        org.rep_a1.pk,
        NOW,
    )
    [message] = mail.outbox
    assert message.to == ["mgr_a@example.com"]
    assert message.subject == "Detractor alert (CSAT 1/5) on case E2E-1: Locked out"
    assert "Took ages." in message.body
