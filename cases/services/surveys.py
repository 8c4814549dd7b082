"""The post-resolution survey: invitations (with their suppression rules), answers, reminders
and opt-outs. The flow and the rules are documented in docs/surveys.md.

Emails are never sent from here: each one is an outbox row (``cases.services.outbox``)
written in the caller's transaction and delivered after commit, so a resolution that rolls
back mails nobody and a broker outage loses nothing. The requester is identified by a keyed
hash of their address (``cases.requesters.requester_hash``); the address itself stays on the
case and is read only when the email is rendered.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from cases.models import (
    Account,
    Case,
    CaseStatus,
    OutboundEmail,
    SurveyInvitation,
    SurveyOptOut,
    SurveyResponse,
)
from cases.requesters import requester_hash
from supportmetrics.exceptions import ApplicationError

Suppression = SurveyInvitation.Suppression
InvitationStatus = SurveyInvitation.Status

# The scales the survey asks on; docs/surveys.md and the survey page show the same ranges.
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
EFFORT_RANGE = (1, 7)
COMMENT_MAX_LENGTH = 5000


def _enqueue_email(**kwargs: Any) -> OutboundEmail:
    # Imported here, not at module level: the outbox module imports the Celery tasks, which
    # import the case services, and the lifecycle services import this module.
    from cases.services.outbox import outbound_email_enqueue

    return outbound_email_enqueue(**kwargs)


def _lock_requester(email_hash: str) -> None:
    """Serialize survey decisions per requester until the transaction ends, so two cases of
    the same requester resolved at the same moment cannot both pass the cooldown check."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"survey-requester:{email_hash}"],
        )


def _recently_surveyed(*, case: Case, email_hash: str, now: datetime) -> bool:
    """Whether this requester was sent (or is about to be sent) a survey about another case
    within the cooldown. A new resolution of the *same* case is not counted: the issue asks
    for a survey per resolution, and the reopened work may be another rep's."""
    cutoff = now - timedelta(days=settings.SURVEY_REQUESTER_COOLDOWN_DAYS)
    others = SurveyInvitation.objects.filter(requester_hash=email_hash).exclude(case=case)
    return (
        others.filter(sent_at__gte=cutoff).exists()
        or others.filter(
            status=InvitationStatus.PENDING, sent_at__isnull=True, created_at__gte=cutoff
        ).exists()
    )


def survey_suppression_reason(*, case: Case, email_hash: str, now: datetime) -> str:
    """The first suppression rule the resolution of ``case`` meets, or '' to send the survey.

    In order: no requester email, the account opted out, the requester opted out, the
    requester was surveyed about another case within SURVEY_REQUESTER_COOLDOWN_DAYS, the
    resolution is older than SURVEY_MAX_RESOLUTION_AGE_HOURS (a back-fill: asking about it
    now would surprise the customer and skew the rep's figures).
    """
    if not email_hash:
        return Suppression.NO_EMAIL
    if case.account_id and SurveyOptOut.objects.filter(account_id=case.account_id).exists():
        return Suppression.ACCOUNT_OPTED_OUT
    if SurveyOptOut.objects.filter(requester_hash=email_hash).exists():
        return Suppression.REQUESTER_OPTED_OUT
    if _recently_surveyed(case=case, email_hash=email_hash, now=now):
        return Suppression.RECENTLY_SURVEYED
    assert case.resolved_at is not None
    if now - case.resolved_at > timedelta(hours=settings.SURVEY_MAX_RESOLUTION_AGE_HOURS):
        return Suppression.STALE_RESOLUTION
    return Suppression.NONE


@transaction.atomic
def survey_invitation_create_for_resolution(
    *, case: Case, now: datetime | None = None
) -> SurveyInvitation | None:
    """Create the survey invitation of the case's current resolution, in the caller's
    transaction (the resolution and its invitation commit or roll back together).

    The resolution number is ``reopened_count + 1``; the invitation belongs to
    ``case.resolved_by``, so the answer stays that rep's after any reassignment. At most one
    invitation per resolution: a second call returns the existing one and enqueues nothing.
    A suppressed invitation is kept, with its reason, and sends nothing; otherwise one
    ``survey_invitation`` email is enqueued. Returns None when the case is not resolved.
    """
    now = now or timezone.now()
    if case.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED) or case.resolved_at is None:
        return None
    number = case.reopened_count + 1
    existing = SurveyInvitation.objects.filter(case=case, resolution_number=number).first()
    if existing is not None:
        return existing
    email_hash = requester_hash(case.requester_email)
    if email_hash:
        _lock_requester(email_hash)
    suppression = survey_suppression_reason(case=case, email_hash=email_hash, now=now)
    invitation = SurveyInvitation.objects.create(
        case=case,
        resolution_number=number,
        representative_id=case.resolved_by_id,
        resolved_at=case.resolved_at,
        requester_hash=email_hash,
        status=InvitationStatus.SUPPRESSED if suppression else InvitationStatus.PENDING,
        suppression=suppression,
        expires_at=now + timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS),
    )
    if not suppression:
        _enqueue_email(
            kind=OutboundEmail.Kind.SURVEY_INVITATION,
            dedupe_key=f"survey_invitation:{invitation.pk}",
            invitation=invitation,
        )
    return invitation


def _score_error(value: object, low: int, high: int, *, required: bool) -> str | None:
    if value is None:
        return "This field is required." if required else None
    if isinstance(value, bool) or not isinstance(value, int):
        return "A whole number is required."
    if not low <= value <= high:
        return f"Ensure this value is between {low} and {high}."
    return None


def survey_answer_errors(
    *, csat: object, nps: object, effort: object, comment: object
) -> dict[str, list[str]]:
    """Every out-of-range or malformed field of an answer, as ``{field: [reason]}``."""
    errors: dict[str, list[str]] = {}
    for field, value, (low, high), required in (
        ("csat", csat, CSAT_RANGE, True),
        ("nps", nps, NPS_RANGE, False),
        ("effort", effort, EFFORT_RANGE, False),
    ):
        reason = _score_error(value, low, high, required=required)
        if reason:
            errors[field] = [reason]
    if not isinstance(comment, str):
        errors["comment"] = ["A text is required."]
    elif len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = [f"Ensure this field has no more than {COMMENT_MAX_LENGTH} characters."]
    return errors


def _already_answered() -> ApplicationError:
    return ApplicationError(
        "This survey has already been answered. Thank you!",
        code="survey_already_answered",
        status_code=410,
    )


@transaction.atomic
def survey_answer_record(
    *,
    invitation: SurveyInvitation,
    csat: int,
    nps: int | None,
    effort: int | None,
    comment: str,
    now: datetime | None = None,
) -> SurveyResponse:
    """Store the customer's answer to one invitation, once, and raise a detractor alert when
    it is a poor one — all in one transaction under a lock on the invitation.

    The answer belongs to the invitation's rep (who resolved that resolution) and resolution
    number. Refused: answered already (410 ``survey_already_answered``), past the
    invitation's expiry (410 ``survey_link_expired``), a suppressed invitation, which no link
    was ever sent for (404 ``survey_link_invalid``), out-of-range scores (400
    ``validation_error`` naming each field; nothing stored).
    """
    now = now or timezone.now()
    invitation = (
        SurveyInvitation.objects.select_for_update().select_related("case").get(pk=invitation.pk)
    )
    if invitation.status == InvitationStatus.ANSWERED:
        raise _already_answered()
    if invitation.status == InvitationStatus.SUPPRESSED:
        raise ApplicationError(
            "This survey link is not valid.", code="survey_link_invalid", status_code=404
        )
    if invitation.expires_at <= now:
        raise ApplicationError(
            "This survey link has expired.", code="survey_link_expired", status_code=410
        )
    errors = survey_answer_errors(csat=csat, nps=nps, effort=effort, comment=comment)
    if errors:
        field, reasons = next(iter(errors.items()))
        raise ApplicationError(
            f"{field}: {reasons[0]}", code="validation_error", extra={"fields": errors}
        )
    if SurveyResponse.objects.filter(
        case_id=invitation.case_id, resolution_number=invitation.resolution_number
    ).exists():
        raise _already_answered()  # an answer stored another way (e.g. demo data)

    response = SurveyResponse(
        case=invitation.case,
        representative_id=invitation.representative_id,
        resolution_number=invitation.resolution_number,
        csat=csat,
        nps=nps,
        effort=effort,
        comment=comment.strip(),
        responded_at=now,
    )
    response.full_clean(validate_unique=False, validate_constraints=False)
    response.save()
    invitation.status = InvitationStatus.ANSWERED
    invitation.answered_at = now
    invitation.save(update_fields=["status", "answered_at"])

    from cases.services.alerts import detractor_alert_create_for_response

    detractor_alert_create_for_response(response=response)
    return response


def survey_reminder_candidates(*, now: datetime) -> QuerySet[SurveyInvitation]:
    """Invitations due a reminder: sent at least SURVEY_REMINDER_AFTER_DAYS ago, unanswered,
    not expired, never reminded (no reminder email yet), and neither the requester nor the
    account opted out since."""
    cutoff = now - timedelta(days=settings.SURVEY_REMINDER_AFTER_DAYS)
    reminder = OutboundEmail.objects.filter(
        invitation=OuterRef("pk"), kind=OutboundEmail.Kind.SURVEY_REMINDER
    )
    requester_opted_out = SurveyOptOut.objects.filter(requester_hash=OuterRef("requester_hash"))
    account_opted_out = SurveyOptOut.objects.filter(account_id=OuterRef("case__account_id"))
    return (
        SurveyInvitation.objects.filter(
            status=InvitationStatus.SENT,
            sent_at__lte=cutoff,
            answered_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now,
        )
        .exclude(Exists(reminder))
        .exclude(Exists(requester_opted_out))
        .exclude(Exists(account_opted_out))
        .order_by("sent_at", "pk")
    )


@transaction.atomic
def survey_reminders_enqueue(*, now: datetime) -> int:
    """Enqueue one reminder per invitation due one (see ``survey_reminder_candidates``);
    returns how many were enqueued. Idempotent: the dedupe key ``survey_reminder:{id}`` and
    the "no reminder email yet" rule make a second run enqueue nothing."""
    # Lock the invitations only, not the cases the account rule joins (that would hold up
    # case events); a concurrent run skips what this one holds.
    invitations = list(
        survey_reminder_candidates(now=now).select_for_update(skip_locked=True, of=("self",))
    )
    for invitation in invitations:
        _enqueue_email(
            kind=OutboundEmail.Kind.SURVEY_REMINDER,
            dedupe_key=f"survey_reminder:{invitation.pk}",
            invitation=invitation,
        )
    return len(invitations)


@transaction.atomic
def survey_opt_out_requester(*, invitation: SurveyInvitation) -> SurveyOptOut:
    """Opt the invitation's requester out of every future survey (the unsubscribe link).

    Keyed by the requester hash, so it covers all their cases and stores no address.
    Opting out twice is one opt-out.
    """
    if not invitation.requester_hash:
        raise ApplicationError(
            "This survey has no requester to unsubscribe.",
            code="survey_link_invalid",
            status_code=404,
        )
    opt_out, _ = SurveyOptOut.objects.get_or_create(requester_hash=invitation.requester_hash)
    return opt_out


@transaction.atomic
def survey_opt_out_account(*, account: Account) -> SurveyOptOut:
    """Opt a whole account out of surveys (an admin action, e.g. on the customer's request).
    Opting out twice is one opt-out."""
    opt_out, _ = SurveyOptOut.objects.get_or_create(account=account)
    return opt_out
