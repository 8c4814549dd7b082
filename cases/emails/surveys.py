"""The survey emails to the customer: the invitation and its one reminder.

Rendered at send time from the invitation: the address is the case's ``requester_email`` as
it is now (it appears only as the recipient, never in the body), and the link is signed
afresh (``cases.survey_links``). Every survey email carries an unsubscribe link and the
``List-Unsubscribe`` / ``List-Unsubscribe-Post`` headers (RFC 2369, RFC 8058 one-click), so
mail clients offer their own unsubscribe button, which POSTs to the same page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from cases.emails import OutboundEmailUndeliverable
from cases.models import OutboundEmail, SurveyInvitation, SurveyOptOut
from cases.requesters import requester_hash
from cases.services.surveys import CSAT_RANGE
from cases.survey_links import survey_token, survey_unsubscribe_url, survey_url

SUBJECT_TOPIC_MAX = 80
CSAT_LABELS = {
    1: "Very dissatisfied",
    2: "Dissatisfied",
    3: "Neutral",
    4: "Satisfied",
    5: "Very satisfied",
}


def _one_line(text: str) -> str:
    """Header-safe: a case subject may hold newlines, which a mail header must not."""
    return " ".join(text.split())


def _topic(subject: str) -> str:
    topic = _one_line(subject)
    return topic if len(topic) <= SUBJECT_TOPIC_MAX else topic[: SUBJECT_TOPIC_MAX - 1] + "…"


def _invitation(email: OutboundEmail) -> SurveyInvitation:
    invitation = (
        SurveyInvitation.objects.select_related("case").filter(pk=email.invitation_id).first()
    )
    if invitation is None:
        raise OutboundEmailUndeliverable(f"Email {email.pk} has no survey invitation.")
    return invitation


def _check_still_wanted(email: OutboundEmail, invitation: SurveyInvitation) -> str:
    """The requester's address now; refuse (visibly, as a failed email) a survey nobody may
    receive any more: no address left on the case, an opt-out since it was queued, or a
    reminder for a survey answered meanwhile."""
    case = invitation.case
    address = case.requester_email.strip()
    if not address:
        raise OutboundEmailUndeliverable(f"Email {email.pk}: the case has no requester address.")
    if SurveyOptOut.objects.filter(requester_hash=requester_hash(address)).exists() or (
        case.account_id and SurveyOptOut.objects.filter(account_id=case.account_id).exists()
    ):
        raise OutboundEmailUndeliverable(
            f"Email {email.pk}: the requester or account opted out after it was queued."
        )
    if (
        email.kind == OutboundEmail.Kind.SURVEY_REMINDER
        and invitation.status == SurveyInvitation.Status.ANSWERED
    ):
        raise OutboundEmailUndeliverable(f"Email {email.pk}: the survey was answered meanwhile.")
    return address


def _render(email: OutboundEmail, *, reminder: bool) -> EmailMultiAlternatives:
    invitation = _invitation(email)
    address = _check_still_wanted(email, invitation)
    case = invitation.case
    token = survey_token(invitation)
    link = survey_url(token)
    unsubscribe = survey_unsubscribe_url(token)
    context: dict[str, Any] = {
        "reminder": reminder,
        "name": case.requester_name,
        "subject": _one_line(case.subject),
        "resolved_at": invitation.resolved_at,
        "expires_at": invitation.expires_at,
        "survey_url": link,
        "unsubscribe_url": unsubscribe,
        "ratings": [
            (value, CSAT_LABELS[value], f"{link}?csat={value}")
            for value in range(CSAT_RANGE[0], CSAT_RANGE[1] + 1)
        ],
    }
    topic = _topic(case.subject)
    subject = "Reminder: how did we do?" if reminder else "How did we do?"
    if topic:
        subject += f" Your request “{topic}”"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("cases/email/survey.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # An automated message: auto-responders should not answer it (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("cases/email/survey.html", context), "text/html")
    return message


def render_survey_invitation(email: OutboundEmail) -> EmailMultiAlternatives:
    """The survey invitation (plain text and HTML) for one outbox row of its kind."""
    return _render(email, reminder=False)


def render_survey_reminder(email: OutboundEmail) -> EmailMultiAlternatives:
    """The one reminder of an unanswered survey: the same survey, a fresh link."""
    return _render(email, reminder=True)
