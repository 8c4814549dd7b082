"""The detractor-alert email to a manager: the case, the rep, the scores and the comment,
with links to the alert and the case.

Rendered at send time from the alert's rows, so names and links are current; the address is
the manager's at that moment (``staff_recipient_address``). The customer's address is not in
the mail: the manager opens the case for it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from cases.emails import staff_recipient_address
from cases.models import DetractorAlert, OutboundEmail

SUBJECT_MAX = 150


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def _one_line(text: str) -> str:
    """Header-safe: a case subject may hold newlines, which a mail header must not."""
    return " ".join(text.split())


def detractor_alert_subject(alert: DetractorAlert) -> str:
    response, case = alert.response, alert.case
    scores = f"CSAT {response.csat}/5"
    if response.nps is not None:
        scores += f", NPS {response.nps}/10"
    subject = f"Detractor alert ({scores}) on case {case.external_id}"
    if case.subject:
        subject += f": {case.subject}"
    subject = _one_line(subject)
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def detractor_alert_context(alert: DetractorAlert, recipient_name: str) -> dict[str, Any]:
    case, response, rep = alert.case, alert.response, alert.representative
    return {
        "recipient_name": recipient_name,
        "alert": alert,
        "case": case,
        "response": response,
        "rep_name": rep.display_name if rep is not None else "",
        "team_name": alert.team.name if alert.team is not None else "",
        "alert_api_url": _absolute(reverse("cases:alert-detail", kwargs={"pk": alert.pk})),
        "alert_admin_url": _absolute(reverse("admin:cases_detractoralert_change", args=[alert.pk])),
        "case_api_url": _absolute(reverse("cases:case-detail", kwargs={"pk": case.pk})),
        "contact_api_url": _absolute(reverse("cases:alert-contact", kwargs={"alert_id": alert.pk})),
    }


def render_detractor_alert(email: OutboundEmail) -> EmailMultiAlternatives:
    """The alert email (plain text and HTML) for one outbox row of kind detractor_alert."""
    alert = DetractorAlert.objects.select_related("case", "response", "representative", "team").get(
        pk=email.alert_id
    )
    address = staff_recipient_address(email)
    context = detractor_alert_context(alert, email.recipient.display_name)  # type: ignore[union-attr]
    message = EmailMultiAlternatives(
        subject=detractor_alert_subject(alert),
        body=render_to_string("cases/email/alert.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    message.attach_alternative(render_to_string("cases/email/alert.html", context), "text/html")
    return message
