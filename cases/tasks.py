"""Celery tasks of the case domain: outbox delivery, the outbox sweeper, survey reminders.

Tasks take row ids only and call services; they are idempotent (delivery claims its row by a
conditional update), so they run with acks_late and reject_on_worker_lost (global settings):
a worker that dies mid-task gets its message redelivered, and the redelivery — same task id —
may take over the claim it left behind.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from typing import Any

from celery import Task, shared_task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from cases.emails import OutboundEmailUndeliverable, render_outbound_email
from cases.models import OutboundEmail
from cases.services.outbox import (
    outbound_email_claim,
    outbound_email_mark_failed,
    outbound_email_mark_sent,
    outbound_email_record_failure,
    scrub_addresses,
)
from cases.services.outbox import outbox_sweep as outbox_sweep_service

logger = logging.getLogger(__name__)

# Worth another attempt: the mail server or the network, not the email itself.
TRANSIENT_SEND_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPException,
    OSError,
    ConnectionError,
    SoftTimeLimitExceeded,
)


class DeliveryError(Exception):
    """A send error re-raised for Celery's retry log line without the recipient's address."""


def _outbound_email_deliver_failure(email_id: int | None, exc: BaseException) -> None:
    """Retries exhausted or an unexpected error (a rendering bug): the row becomes failed."""
    if email_id is None:
        return
    outbound_email_mark_failed(email_id=email_id, error=exc)


class OutboundEmailDeliverTask(Task):
    """Delivery with its failure hook: what cannot be delivered is visible, never silent."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        email_id = args[0] if args else kwargs.get("email_id")
        try:
            _outbound_email_deliver_failure(email_id, exc)
        except Exception:  # the hook must not mask the task's own error
            logger.exception("outbox: could not mark email %s failed", email_id)


@shared_task(
    bind=True,
    base=OutboundEmailDeliverTask,
    name="cases.tasks.outbound_email_deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.OUTBOX_MAX_ATTEMPTS,
)
def outbound_email_deliver(self: Task, email_id: int) -> str:
    """Send one outbox email at most once per claim: claim, render, send, mark sent.

    A row that is sent, failed or being sent by another task is skipped (a duplicate message
    is a no-op). An SMTP or network error puts the row back to pending with an exponential,
    jittered backoff and retries the task after that delay; once OUTBOX_MAX_ATTEMPTS is
    reached the row is failed. Run eagerly (no broker) there is no in-process retry loop:
    the row waits, pending, for the sweeper.
    """
    try:
        return _deliver(self, email_id)
    except Retry:
        raise
    except Exception as exc:
        # Run eagerly with errors propagating, Celery skips on_failure: call the hook here.
        if self.request.is_eager:
            _outbound_email_deliver_failure(email_id, exc)
        raise


def _deliver(self: Task, email_id: int) -> str:
    task_id = self.request.id or f"direct-{uuid.uuid4()}"
    email = outbound_email_claim(email_id=email_id, task_id=task_id, now=timezone.now())
    if email is None:
        logger.info("outbox: email %s not claimable (sent, failed or taken); skipped", email_id)
        return "skipped"
    try:
        message = render_outbound_email(email)
    except OutboundEmailUndeliverable as exc:
        outbound_email_record_failure(
            email_id=email_id, task_id=task_id, error=exc, now=timezone.now(), final=True
        )
        return OutboundEmail.Status.FAILED
    try:
        message.send()
    except TRANSIENT_SEND_ERRORS as exc:
        failure = outbound_email_record_failure(
            email_id=email_id, task_id=task_id, error=exc, now=timezone.now()
        )
        if failure is None or failure.status != OutboundEmail.Status.PENDING:
            return failure.status if failure else "skipped"
        if self.request.is_eager:
            return OutboundEmail.Status.PENDING
        error = DeliveryError(scrub_addresses(f"{type(exc).__name__}: {exc}"))
        try:
            raise self.retry(exc=error, countdown=failure.retry_in_seconds)
        except Retry:
            raise
        except DeliveryError:
            raise
        except Exception as publish_error:  # the broker went away: the sweeper takes over
            logger.warning(
                "outbox: retry of email %s not published (%s); left pending for the sweeper",
                email_id,
                type(publish_error).__name__,
            )
            return OutboundEmail.Status.PENDING
    outbound_email_mark_sent(email_id=email_id, now=timezone.now())
    logger.info("outbox: email %s (%s) sent", email_id, email.kind)
    return OutboundEmail.Status.SENT


@shared_task(name="cases.tasks.outbox_sweep", acks_late=True)
def outbox_sweep() -> dict[str, int]:
    """Beat, every minute: re-dispatch emails left pending, take back claims of dead workers."""
    result = outbox_sweep_service(now=timezone.now())
    return {
        "reclaimed": result.reclaimed,
        "failed": result.failed,
        "dispatched": result.dispatched,
        "not_dispatched": result.not_dispatched,
    }


@shared_task(name="cases.tasks.survey_reminders_enqueue", acks_late=True)
def survey_reminders_enqueue() -> int:
    """Beat, hourly: queue the one reminder of each unanswered survey that is due one."""
    from cases.services.surveys import survey_reminders_enqueue as enqueue_reminders

    return enqueue_reminders(now=timezone.now())


@shared_task(name="cases.tasks.personal_data_purge", acks_late=True)
def personal_data_purge() -> dict[str, object]:
    """Beat, weekly: erase the personal data of cases past PERSONAL_DATA_RETENTION_DAYS."""
    from cases.services.retention import personal_data_purge as purge

    return purge(now=timezone.now()).as_dict()
