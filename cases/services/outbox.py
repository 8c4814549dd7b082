"""The outbox: emails are rows written in the caller's transaction, delivered after commit.

Why an outbox: resolving a case must not depend on the broker or the mail server being up,
and a mail decided in a transaction that rolls back must never go out. So the decision is a
row (``OutboundEmail``) committed with the change that caused it; a Celery task delivers it
after commit; a sweeper re-dispatches what the broker lost or never got. Delivery claims the
row with a conditional UPDATE, so duplicated or redelivered messages never mail twice — with
one window left: the SMTP server accepted the mail and the worker died before writing
``sent``. A redelivery of the same message then re-sends it with the same Message-ID
(``<outbound-{id}@supportmetrics>``), which lets receivers drop the duplicate.

No customer address ever enters a task argument or a log line here: tasks carry the row id,
logs carry the id and the kind.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cases.models import DetractorAlert, OutboundEmail, Representative, SurveyInvitation
from supportmetrics.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# A first attempt due further ahead than this is left to the sweeper instead of an ETA message.
MAX_ETA = timedelta(minutes=15)


def outbound_email_backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """Delay before attempt ``attempts + 1``: exponential with full jitter, capped.

    Full jitter (a uniform draw in ``[0, min(cap, base·2^(attempts-1))]``) spreads the
    retries of many emails that failed together (one SMTP outage) instead of having them hit
    the recovered server in waves.
    """
    base = float(settings.OUTBOX_BACKOFF_BASE_SECONDS)
    cap = float(settings.OUTBOX_BACKOFF_MAX_SECONDS)
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return (rng or random).uniform(0, ceiling)


@transaction.atomic
def outbound_email_enqueue(
    *,
    kind: str,
    dedupe_key: str,
    invitation: SurveyInvitation | None = None,
    alert: DetractorAlert | None = None,
    recipient: Representative | None = None,
    period_start: date | None = None,
    subject: str = "",
    body: str = "",
    html_body: str = "",
    due_at: datetime | None = None,
) -> OutboundEmail:
    """Write one email to the outbox inside the caller's transaction; deliver it after commit.

    Idempotent on ``dedupe_key``: a second call with the same key returns the existing row and
    dispatches nothing new, so a re-run job (a retried beat task, a re-resolved snapshot) never
    queues a second mail. If the caller's transaction rolls back, the row and its dispatch go
    with it. ``due_at`` (default now) is when the first attempt may happen.
    """
    if kind not in OutboundEmail.Kind.values:
        raise ApplicationError(
            f"Unknown email kind {kind!r}.",
            code="validation_error",
            extra={"fields": {"kind": [f"Must be one of {', '.join(OutboundEmail.Kind.values)}."]}},
        )
    if not dedupe_key:
        raise ApplicationError(
            "An outbound email needs a dedupe key.",
            code="validation_error",
            extra={"fields": {"dedupe_key": ["This field is required."]}},
        )
    now = timezone.now()
    email, created = OutboundEmail.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "kind": kind,
            "invitation": invitation,
            "alert": alert,
            "recipient": recipient,
            "period_start": period_start,
            "subject": subject,
            "body": body,
            "html_body": html_body,
            "next_attempt_at": due_at or now,
        },
    )
    if created:
        email_id = email.pk
        if due_at is None or due_at <= now:
            transaction.on_commit(lambda: outbound_email_dispatch(email_id))
        elif due_at - now <= MAX_ETA:
            transaction.on_commit(lambda: outbound_email_dispatch(email_id, eta=due_at))
        # Later than that: the sweeper dispatches it once due, rather than a message held
        # in a worker's memory for hours (and redelivered after the visibility timeout).
    return email


def outbound_email_dispatch(email_id: int, *, eta: datetime | None = None) -> bool:
    """Publish the delivery task for one row; return whether it was published.

    Never raises: a broker outage (or, in eager mode, an error of the task run in-process)
    is logged without addresses and leaves the row pending, for the sweeper to re-dispatch.
    The caller — typically an after-commit hook of a request that resolved a case — must
    not fail because mail could not be queued.
    """
    try:
        from cases.tasks import outbound_email_deliver

        options = {"eta": eta} if eta is not None else {}
        outbound_email_deliver.apply_async(args=[email_id], **options)
    except Exception as exc:  # any publish failure is recovered by the sweeper
        logger.warning(
            "outbox: email %s not dispatched (%s: %s); left pending for the sweeper",
            email_id,
            type(exc).__name__,
            scrub_addresses(str(exc)),
        )
        return False
    return True


def outbound_email_claim(*, email_id: int, task_id: str, now: datetime) -> OutboundEmail | None:
    """Claim a row for one delivery attempt by a conditional UPDATE; None if not claimable.

    Claimable: pending, or sending and claimed by this very task id (the broker redelivered
    the message of a worker that died mid-task). A sent or failed row, or one another task is
    sending, is left alone — this is what makes a duplicated message a no-op.
    """
    claimed = (
        OutboundEmail.objects.filter(pk=email_id)
        .filter(
            Q(status=OutboundEmail.Status.PENDING)
            | Q(status=OutboundEmail.Status.SENDING, claimed_by=task_id)
        )
        .update(status=OutboundEmail.Status.SENDING, claimed_by=task_id, claimed_at=now)
    )
    if not claimed:
        return None
    return OutboundEmail.objects.select_related(
        "invitation", "invitation__case", "alert", "recipient", "recipient__user"
    ).get(pk=email_id)


@transaction.atomic
def outbound_email_mark_sent(*, email_id: int, now: datetime) -> bool:
    """Record a delivered email, and what it means for its invitation, in one transaction.

    Runs after the SMTP server accepted the mail, so it records the truth whatever the row's
    state: even a row a sweeper took back meanwhile was, in fact, sent.
    """
    updated = (
        OutboundEmail.objects.filter(pk=email_id)
        .exclude(status=OutboundEmail.Status.SENT)
        .update(status=OutboundEmail.Status.SENT, sent_at=now, last_error="")
    )
    if not updated:
        return False
    email = OutboundEmail.objects.only("kind", "invitation_id").get(pk=email_id)
    if email.invitation_id is None:
        return True
    invitations = SurveyInvitation.objects.filter(pk=email.invitation_id)
    if email.kind == OutboundEmail.Kind.SURVEY_INVITATION:
        invitations.filter(
            status__in=[SurveyInvitation.Status.PENDING, SurveyInvitation.Status.FAILED]
        ).update(status=SurveyInvitation.Status.SENT, sent_at=now)
    elif email.kind == OutboundEmail.Kind.SURVEY_REMINDER:
        invitations.filter(reminded_at__isnull=True).update(reminded_at=now)
    return True


@dataclass(frozen=True)
class DeliveryFailure:
    """What a failed attempt left behind: the row's new status and, if pending, the delay."""

    status: str
    attempts: int
    retry_in_seconds: float | None


def _invitation_mark_failed(email: OutboundEmail) -> None:
    if email.kind == OutboundEmail.Kind.SURVEY_INVITATION and email.invitation_id is not None:
        SurveyInvitation.objects.filter(
            pk=email.invitation_id, status=SurveyInvitation.Status.PENDING
        ).update(status=SurveyInvitation.Status.FAILED)


_ADDRESS = re.compile(r"[^\s<>()\[\]{}'\",;:]+@[^\s<>()\[\]{}'\",;:]+")


def scrub_addresses(text: str) -> str:
    """Replace anything shaped like an email address: errors are shown in the admin and API.

    SMTP errors quote the refused recipients; a customer's address must not reach a log
    line or the outbox's ``last_error``.
    """
    return _ADDRESS.sub("<address>", text)


def _error_text(error: BaseException | str) -> str:
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return scrub_addresses(text)[:2000]


@transaction.atomic
def outbound_email_record_failure(
    *,
    email_id: int,
    task_id: str,
    error: BaseException | str,
    now: datetime,
    final: bool = False,
) -> DeliveryFailure | None:
    """Count a failed attempt: back to pending with a backoff, or failed once attempts run out.

    Only the task holding the claim may record its failure (None otherwise: another delivery
    owns the row now). ``final`` marks it failed at once (an error no retry will fix).
    """
    email = (
        OutboundEmail.objects.select_for_update()
        .filter(pk=email_id, status=OutboundEmail.Status.SENDING, claimed_by=task_id)
        .first()
    )
    if email is None:
        return None
    email.attempts += 1
    email.last_error = _error_text(error)
    email.claimed_by = ""
    email.claimed_at = None
    if final or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        email.status = OutboundEmail.Status.FAILED
        email.save(update_fields=["attempts", "last_error", "claimed_by", "claimed_at", "status"])
        _invitation_mark_failed(email)
        logger.error(
            "outbox: email %s (%s) failed after %s attempts", email.pk, email.kind, email.attempts
        )
        return DeliveryFailure(status=email.status, attempts=email.attempts, retry_in_seconds=None)
    delay = outbound_email_backoff_seconds(email.attempts)
    email.status = OutboundEmail.Status.PENDING
    email.next_attempt_at = now + timedelta(seconds=delay)
    email.save(
        update_fields=[
            "attempts",
            "last_error",
            "claimed_by",
            "claimed_at",
            "status",
            "next_attempt_at",
        ]
    )
    logger.warning(
        "outbox: email %s (%s) attempt %s failed; retry in %.0f s",
        email.pk,
        email.kind,
        email.attempts,
        delay,
    )
    return DeliveryFailure(status=email.status, attempts=email.attempts, retry_in_seconds=delay)


@transaction.atomic
def outbound_email_mark_failed(*, email_id: int, error: BaseException | str) -> bool:
    """Mark a row failed whatever claimed it: the task's retries are exhausted or it crashed.

    Used by the task's failure hook. A sent row stays sent.
    """
    email = (
        OutboundEmail.objects.select_for_update()
        .filter(
            pk=email_id, status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]
        )
        .first()
    )
    if email is None:
        return False
    email.status = OutboundEmail.Status.FAILED
    email.last_error = _error_text(error)
    email.claimed_by = ""
    email.claimed_at = None
    email.save(update_fields=["status", "last_error", "claimed_by", "claimed_at"])
    _invitation_mark_failed(email)
    logger.error("outbox: email %s (%s) marked failed", email.pk, email.kind)
    return True


@transaction.atomic
def outbound_email_retry(*, email: OutboundEmail) -> OutboundEmail:
    """Give a failed email a fresh set of attempts (admin "retry now"), dispatched after commit.

    Only failed rows: retrying a pending or sending row would only race its own delivery, and
    a sent one would mail twice.
    """
    locked = OutboundEmail.objects.select_for_update().get(pk=email.pk)
    if locked.status != OutboundEmail.Status.FAILED:
        raise ApplicationError(
            f"Only a failed email can be retried; this one is {locked.status}.",
            code="outbound_email_not_failed",
            status_code=409,
        )
    locked.status = OutboundEmail.Status.PENDING
    locked.attempts = 0
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["status", "attempts", "next_attempt_at"])
    if locked.invitation_id is not None and locked.kind == OutboundEmail.Kind.SURVEY_INVITATION:
        SurveyInvitation.objects.filter(
            pk=locked.invitation_id, status=SurveyInvitation.Status.FAILED
        ).update(status=SurveyInvitation.Status.PENDING)
    email_id = locked.pk
    transaction.on_commit(lambda: outbound_email_dispatch(email_id))
    return locked


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did, for the task's log line and the tests."""

    reclaimed: int
    failed: int
    dispatched: int
    not_dispatched: int


def outbox_sweep(*, now: datetime | None = None) -> SweepResult:
    """Recover what the broker or a dead worker lost; safe to run concurrently and repeatedly.

    1. ``sending`` rows whose claim is older than OUTBOX_CLAIM_TIMEOUT_SECONDS belong to a
       worker that died without its message coming back: back to pending (counting the
       attempt, so a mail that kills its worker every time ends up failed, not looping).
    2. ``pending`` rows due more than OUTBOX_SWEEP_AFTER_SECONDS ago (their message was never
       published, or was lost) are dispatched again; a published row's due time moves to now,
       so a slow queue is not flooded with one extra message per sweep.
    """
    now = now or timezone.now()
    claim_cutoff = now - timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS)
    reclaimed = failed = 0
    with transaction.atomic():
        stale = list(
            OutboundEmail.objects.select_for_update(skip_locked=True).filter(
                status=OutboundEmail.Status.SENDING, claimed_at__lt=claim_cutoff
            )
        )
        for email in stale:
            email.attempts += 1
            email.last_error = "The worker delivering it stopped before finishing (claim expired)."
            email.claimed_by = ""
            email.claimed_at = None
            if email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
                _invitation_mark_failed(email)
                failed += 1
            else:
                email.status = OutboundEmail.Status.PENDING
                email.next_attempt_at = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
                reclaimed += 1
            email.save(
                update_fields=[
                    "attempts",
                    "last_error",
                    "claimed_by",
                    "claimed_at",
                    "status",
                    "next_attempt_at",
                ]
            )

    due_cutoff = now - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    due_ids = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.PENDING, next_attempt_at__lte=due_cutoff
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:1000]
    )
    dispatched = not_dispatched = 0
    for email_id in due_ids:
        if outbound_email_dispatch(email_id):
            dispatched += 1
            OutboundEmail.objects.filter(
                pk=email_id,
                status=OutboundEmail.Status.PENDING,
                next_attempt_at__lte=due_cutoff,
            ).update(next_attempt_at=now)
        else:
            not_dispatched += 1
    if reclaimed or failed or dispatched or not_dispatched:
        logger.info(
            "outbox sweep: %s reclaimed, %s failed, %s dispatched, %s not dispatched",
            reclaimed,
            failed,
            dispatched,
            not_dispatched,
        )
    return SweepResult(
        reclaimed=reclaimed, failed=failed, dispatched=dispatched, not_dispatched=not_dispatched
    )
