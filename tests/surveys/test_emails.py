"""The survey emails as delivered: links, unsubscribe header, the address only as the
recipient; the reminder, once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from cases.emails import render_outbound_email
from cases.models import OutboundEmail, SurveyInvitation, SurveyOptOut
from cases.requesters import requester_hash
from cases.services.surveys import (
    survey_answer_record,
    survey_opt_out_account,
    survey_reminders_enqueue,
)
from tests.conftest import NOW
from tests.surveys.conftest import ADDRESS, BASE, invitation_of, resolve, token_in

pytestmark = pytest.mark.django_db


def test_resolving_sends_one_invitation_with_links_and_unsubscribe_headers(delivered):
    _, invitation, message, token = delivered
    survey, unsubscribe = f"{BASE}/s/{token}/", f"{BASE}/s/{token}/unsubscribe/"
    assert message.to == [ADDRESS]
    assert (message.cc, message.bcc, message.reply_to) == ([], [], [])
    assert message.subject == "How did we do? Your request “Invoice shows the wrong VAT”"
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email = OutboundEmail.objects.get(invitation=invitation)
    assert message.extra_headers["Message-ID"] == f"<outbound-{email.pk}@supportmetrics>"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    for body in (message.body, html):
        assert survey in body
        assert unsubscribe in body
        assert "Invoice shows the wrong VAT" in body
    assert f'href="{survey}?csat=5"' in html
    # The address is the recipient and nothing else: not in the subject, bodies or headers.
    rendered = message.message().as_string()
    assert rendered.count(ADDRESS) == 1
    assert f"To: {ADDRESS}" in rendered
    invitation.refresh_from_db()
    assert (invitation.status, invitation.sent_at) == ("sent", NOW)
    assert (email.status, email.sent_at) == ("sent", NOW)


def test_the_email_link_opens_the_survey(delivered, client):
    *_, token = delivered
    response = client.get(f"/s/{token}/")
    assert response.status_code == 200
    assert "How did we do?" in response.content.decode()


def test_the_address_is_read_when_rendering(org, resolved_case, public_base):
    resolved_case.requester_email = "new.address@example.org"
    resolved_case.save(update_fields=["requester_email"])
    email = OutboundEmail.objects.get(invitation__case=resolved_case)
    assert render_outbound_email(email).to == ["new.address@example.org"]


def test_no_address_in_task_arguments_or_logs(
    org,
    open_case,
    public_base,
    django_capture_on_commit_callbacks,
    mailoutbox,
    caplog,
    monkeypatch,
):
    from cases.tasks import outbound_email_deliver

    published = []
    original = outbound_email_deliver.apply_async

    def spy(*args, **kwargs):
        published.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(outbound_email_deliver, "apply_async", spy)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        case = resolve(open_case(), by=org.rep_a1)
    email = OutboundEmail.objects.get(invitation__case=case)
    assert published == [((), {"args": [email.pk]})]
    assert len(mailoutbox) == 1
    assert ADDRESS not in caplog.text
    assert ADDRESS.split("@")[0] not in caplog.text


def test_an_opt_out_after_queueing_is_honoured_at_send_time(
    org, open_case, public_base, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case = resolve(open_case(), by=org.rep_a1)
    SurveyOptOut.objects.create(requester_hash=requester_hash(ADDRESS))
    for callback in callbacks:
        callback()
    assert mailoutbox == []
    email = OutboundEmail.objects.get(invitation__case=case)
    assert email.status == "failed"
    assert "opted out" in email.last_error
    assert ADDRESS not in email.last_error


# --- the reminder -------------------------------------------------------------------------


def test_one_reminder_after_the_configured_days(
    delivered, clock, django_capture_on_commit_callbacks, mailoutbox
):
    _, invitation, _, first_token = delivered
    clock.shift(timedelta(days=3) - timedelta(seconds=1))
    assert survey_reminders_enqueue(now=NOW + timedelta(days=3) - timedelta(seconds=1)) == 0
    clock.shift(timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_enqueue(now=NOW + timedelta(days=3)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_enqueue(now=NOW + timedelta(days=3)) == 0
    clock.shift(timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_enqueue(now=NOW + timedelta(days=4)) == 0
    assert len(mailoutbox) == 2
    reminder = mailoutbox[1]
    assert reminder.subject == "Reminder: how did we do? Your request “Invoice shows the wrong VAT”"
    assert reminder.to == [ADDRESS]
    assert "List-Unsubscribe" in reminder.extra_headers
    assert token_in(reminder) != first_token  # a fresh signature, same invitation
    invitation.refresh_from_db()
    assert invitation.reminded_at == NOW + timedelta(days=3)
    assert list(
        OutboundEmail.objects.filter(invitation=invitation).values_list("kind", "dedupe_key")
    ) == [
        ("survey_reminder", f"survey_reminder:{invitation.pk}"),
        ("survey_invitation", f"survey_invitation:{invitation.pk}"),
    ]


def _sent_days_ago(invitation: SurveyInvitation, days: int) -> None:
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        status="sent", sent_at=NOW - timedelta(days=days)
    )


def test_no_reminder_for_an_answered_survey(resolved_case):
    invitation = invitation_of(resolved_case)
    _sent_days_ago(invitation, 4)
    survey_answer_record(invitation=invitation, csat=5, nps=None, effort=None, comment="")
    assert survey_reminders_enqueue(now=NOW) == 0


def test_no_reminder_after_the_requester_opted_out(resolved_case):
    _sent_days_ago(invitation_of(resolved_case), 4)
    SurveyOptOut.objects.create(requester_hash=requester_hash(ADDRESS))
    assert survey_reminders_enqueue(now=NOW) == 0


def test_no_reminder_after_the_account_opted_out(resolved_case, account):
    _sent_days_ago(invitation_of(resolved_case), 4)
    survey_opt_out_account(account=account)
    assert survey_reminders_enqueue(now=NOW) == 0


def test_no_reminder_for_an_expired_survey(resolved_case):
    invitation = invitation_of(resolved_case)
    _sent_days_ago(invitation, 4)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(expires_at=NOW)
    assert survey_reminders_enqueue(now=NOW) == 0


def test_no_reminder_for_a_survey_never_sent(resolved_case):
    invitation = invitation_of(resolved_case)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(created_at=NOW - timedelta(days=4))
    assert invitation.status == "pending"
    assert survey_reminders_enqueue(now=NOW) == 0


def test_a_reminder_is_due_for_a_sent_unanswered_survey(resolved_case):
    """The positive case the five tests above differ from by one condition each."""
    invitation = invitation_of(resolved_case)
    _sent_days_ago(invitation, 4)
    assert survey_reminders_enqueue(now=NOW) == 1
    assert OutboundEmail.objects.filter(invitation=invitation, kind="survey_reminder").count() == 1


@pytest.mark.parametrize(
    ("case_subject", "email_subject"),
    [
        ("", "How did we do?"),
        ("Login\nfails", "How did we do? Your request “Login fails”"),
        ("x" * 100, f"How did we do? Your request “{'x' * 79}…”"),
    ],
)
def test_the_subject_line_is_one_short_line(
    org, open_case, public_base, case_subject, email_subject
):
    case = resolve(open_case(subject=case_subject), by=org.rep_a1)
    email = OutboundEmail.objects.get(invitation__case=case)
    assert render_outbound_email(email).subject == email_subject
