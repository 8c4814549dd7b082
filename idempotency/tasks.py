"""Celery tasks of the idempotency keys: the purge of expired records."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from idempotency.services import idempotency_records_purge as idempotency_records_purge_service


@shared_task(name="idempotency.tasks.idempotency_records_purge", acks_late=True)
def idempotency_records_purge() -> int:
    """Beat, hourly: delete keys past their replay period and dead claims; return how many.

    Idempotent: a second run finds nothing expired left to delete.
    """
    return idempotency_records_purge_service(now=timezone.now())
