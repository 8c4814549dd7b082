"""Building outbox emails: one renderer per kind, chosen here.

Survey and alert emails are rendered at send time from their rows (so a link or a name is
current and no address is stored twice); the weekly digest is a snapshot rendered when it was
enqueued and stored on the row. The recipient's address is looked up here, at render time,
and never travels in a task argument or a log line.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from cases.models import OutboundEmail


class OutboundEmailUndeliverable(Exception):
    """No retry can deliver this email (no recipient address, an unknown kind): fail it now."""


def outbound_email_message_id(email_id: int) -> str:
    """The Message-ID every delivery of one outbox row carries, so a duplicate is recognisable."""
    return f"<outbound-{email_id}@supportmetrics>"


def staff_recipient_address(email: OutboundEmail) -> str:
    """The staff recipient's current address (alerts, digests), or raise if there is none."""
    user = email.recipient.user if email.recipient_id is not None else None
    address = user.email if user is not None else ""
    if not address:
        raise OutboundEmailUndeliverable(f"Email {email.pk} has no recipient address.")
    return address


def _render_stored(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[staff_recipient_address(email)],
    )
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    return message


def render_outbound_email(email: OutboundEmail) -> EmailMultiAlternatives:
    """The message for one outbox row, with its stable Message-ID header.

    The survey and alert renderers are imported here, when needed, so this module stays
    importable on its own.
    """
    kind = email.kind
    if kind == OutboundEmail.Kind.SURVEY_INVITATION:
        from cases.emails.surveys import render_survey_invitation

        message = render_survey_invitation(email)
    elif kind == OutboundEmail.Kind.SURVEY_REMINDER:
        from cases.emails.surveys import render_survey_reminder

        message = render_survey_reminder(email)
    elif kind == OutboundEmail.Kind.DETRACTOR_ALERT:
        from cases.emails.alerts import render_detractor_alert

        message = render_detractor_alert(email)
    elif kind == OutboundEmail.Kind.COACHING_DIGEST:
        message = _render_stored(email)
    else:
        raise OutboundEmailUndeliverable(f"Email {email.pk} has an unknown kind {kind!r}.")
    message.extra_headers["Message-ID"] = outbound_email_message_id(email.pk)
    return message
