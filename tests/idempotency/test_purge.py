"""The purge of expired idempotency records: the service, the task, the beat schedule."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from idempotency import services, tasks
from idempotency.models import IdempotencyRecord
from supportmetrics.celery import app
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def record(owner, key: str, expires_in: timedelta, state: str = "done") -> IdempotencyRecord:
    now = timezone.now()
    return IdempotencyRecord.objects.create(
        owner=owner,
        key=key,
        method="POST",
        path="/api/v1/cases/",
        fingerprint="0" * 64,
        claim=uuid.uuid4(),
        state=state,
        status_code=201 if state == "done" else None,
        body='{"id": 1}' if state == "done" else "",
        created_at=now - timedelta(hours=1),
        expires_at=now + expires_in,
    )


def test_the_task_deletes_expired_records_only_and_a_second_run_finds_none():
    owner = UserFactory()
    record(owner, "expired", -timedelta(seconds=1))
    record(owner, "expires-now", timedelta(0))
    record(owner, "dead-claim", -timedelta(seconds=5), state="in_flight")
    kept = {
        record(owner, "fresh", timedelta(hours=23)).pk,
        record(owner, "running", timedelta(seconds=30), state="in_flight").pk,
    }
    assert tasks.idempotency_records_purge.delay().get() == 3
    assert set(IdempotencyRecord.objects.values_list("pk", flat=True)) == kept
    assert tasks.idempotency_records_purge.delay().get() == 0
    assert set(IdempotencyRecord.objects.values_list("pk", flat=True)) == kept


def test_the_purge_works_in_batches(monkeypatch):
    monkeypatch.setattr(services, "PURGE_BATCH", 2)
    owner = UserFactory()
    for index in range(5):
        record(owner, f"old-{index}", -timedelta(minutes=1))
    record(owner, "fresh", timedelta(hours=1))
    assert services.idempotency_records_purge(now=timezone.now()) == 5
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]


def test_a_deleted_user_takes_its_keys_along():
    owner = UserFactory()
    record(owner, "k", timedelta(hours=1))
    owner.delete()
    assert not IdempotencyRecord.objects.exists()


def test_the_purge_is_scheduled_hourly():
    entry = app.conf.beat_schedule["idempotency-records-purge"]
    assert entry["task"] == "idempotency.tasks.idempotency_records_purge"
    assert entry["task"] in app.tasks
    assert entry["schedule"].minute == {20}
    assert entry["schedule"].hour == set(range(24))
