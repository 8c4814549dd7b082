"""Claims, completion, release and purge of idempotency keys.

A request with a key runs in three steps (``idempotency.decorators.idempotent``):

1. ``idempotency_claim`` inserts the record in a short transaction of its own, so the claim is
   visible to every concurrent duplicate at once (``INSERT … ON CONFLICT DO NOTHING``: one
   insert wins, the others read the winner's row and answer from it);
2. the view runs in one transaction that first locks the record (``idempotency_lock``) and,
   at its end, stores the answer in it (``idempotency_complete``): the effects and the stored
   answer commit together, or neither does;
3. a failed request (5xx, or an error the API does not handle) releases the key
   (``idempotency_release``) so a retry can run.

A record in flight whose row is not locked and whose grace has passed belongs to a request
that died between steps 1 and 2: it is taken over. One whose row is locked belongs to a live
request, however long it runs: duplicates get ``idempotency_key_in_flight``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from idempotency.models import IdempotencyRecord
from supportmetrics.exceptions import ApplicationError

# How long the answer to a key is replayed.
REPLAY_FOR = timedelta(hours=24)
# How long a claim not yet locked by its request is kept from others (a killed worker).
IN_FLIGHT_GRACE = timedelta(seconds=60)
# What a client waits before retrying a key in flight (Retry-After, seconds).
RETRY_AFTER_SECONDS = 1
PURGE_BATCH = 5_000


@dataclass(frozen=True)
class Claim:
    """The right to run the request of a key: held by exactly one request at a time."""

    record_id: int
    token: uuid.UUID


@dataclass(frozen=True)
class RequestIdentity:
    owner_id: int
    key: str
    method: str
    path: str
    fingerprint: str


class KeyInFlight(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later.",
            code="idempotency_key_in_flight",
            status_code=409,
            extra={"retry_after": RETRY_AFTER_SECONDS},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class KeyReused(ApplicationError):
    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(
            "This Idempotency-Key was used for a different request (method, path or body).",
            code="idempotency_key_reused",
            status_code=422,
            extra={"method": record.method, "path": record.path},
        )


def idempotency_claim(*, request: RequestIdentity, now: datetime) -> Claim | IdempotencyRecord:
    """Claim the key for this request, or return the stored answer to replay.

    Raises ``KeyReused`` (422) when the key was used for another request, ``KeyInFlight``
    (409) while another request with it runs. Call it outside any transaction: the claim
    must commit before the request runs.
    """
    token = uuid.uuid4()
    for _ in range(3):  # a record purged between our insert and our read: insert again
        inserted = _insert(request=request, token=token, now=now)
        if inserted is not None:
            return Claim(record_id=inserted, token=token)
        outcome = _existing(request=request, token=token, now=now)
        if outcome is not None:
            return outcome
    raise KeyInFlight()


def _insert(*, request: RequestIdentity, token: uuid.UUID, now: datetime) -> int | None:
    table = IdempotencyRecord._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (owner_id, key, method, path, fingerprint, claim, state,
                                 body, headers, created_at, expires_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, '', '{{}}'::jsonb, %s, %s)
            ON CONFLICT (owner_id, key) DO NOTHING
            RETURNING id
            """,
            [
                request.owner_id,
                request.key,
                request.method,
                request.path,
                request.fingerprint,
                token,
                IdempotencyRecord.State.IN_FLIGHT,
                now,
                now + IN_FLIGHT_GRACE,
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _existing(
    *, request: RequestIdentity, token: uuid.UUID, now: datetime
) -> Claim | IdempotencyRecord | None:
    records = IdempotencyRecord.objects.filter(owner_id=request.owner_id, key=request.key)
    with transaction.atomic():
        # SKIP LOCKED: a row locked by a live request must not make duplicates wait.
        record = records.select_for_update(skip_locked=True).first()
        if record is None:
            held = records.first()
            if held is None:
                return None  # purged meanwhile
            _ensure_same_request(held, request)
            raise KeyInFlight()
        if record.expires_at <= now:
            # A finished key past its replay period, or the claim of a request that died
            # before locking it: the key is free again.
            record.method, record.path = request.method, request.path
            record.fingerprint, record.claim = request.fingerprint, token
            record.state = IdempotencyRecord.State.IN_FLIGHT
            record.status_code, record.body, record.headers = None, "", {}
            record.created_at, record.expires_at = now, now + IN_FLIGHT_GRACE
            record.save()
            return Claim(record_id=record.pk, token=token)
        _ensure_same_request(record, request)
        if record.state == IdempotencyRecord.State.IN_FLIGHT:
            raise KeyInFlight()
        return record


def _ensure_same_request(record: IdempotencyRecord, request: RequestIdentity) -> None:
    if (record.method, record.path, record.fingerprint) != (
        request.method,
        request.path,
        request.fingerprint,
    ):
        raise KeyReused(record)


def idempotency_lock(*, claim: Claim) -> None:
    """Lock the claimed record until the current transaction ends (call it inside one).

    Raises ``KeyInFlight`` if the claim was taken over meanwhile (this request took longer
    than the grace to get here), so two requests never run for one key.
    """
    locked = (
        IdempotencyRecord.objects.select_for_update()
        .filter(pk=claim.record_id, claim=claim.token, state=IdempotencyRecord.State.IN_FLIGHT)
        .values_list("pk", flat=True)
    )
    if not list(locked):
        raise KeyInFlight()


def idempotency_complete(
    *,
    claim: Claim,
    status_code: int,
    body: Any,
    headers: dict[str, str],
    now: datetime,
) -> None:
    """Store the answer of the claimed request, to replay until ``now + REPLAY_FOR``."""
    IdempotencyRecord.objects.filter(pk=claim.record_id, claim=claim.token).update(
        state=IdempotencyRecord.State.DONE,
        status_code=status_code,
        body=json.dumps(body, cls=DjangoJSONEncoder),
        headers=headers,
        expires_at=now + REPLAY_FOR,
    )


def idempotency_release(*, claim: Claim) -> None:
    """Forget a claim whose request failed, so that a retry with the key runs again."""
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            pk=claim.record_id, claim=claim.token, state=IdempotencyRecord.State.IN_FLIGHT
        ).delete()


def stored_body(record: IdempotencyRecord) -> Any:
    """The data of the stored answer, as the view returned it."""
    return json.loads(record.body) if record.body else None


def idempotency_records_purge(*, now: datetime) -> int:
    """Delete expired records; return how many. Rows locked by a running request are left.

    In batches, each its own transaction, so a large backlog never holds many locks long.
    """
    table = IdempotencyRecord._meta.db_table
    purged = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                DELETE FROM {table} WHERE id IN (
                    SELECT id FROM {table} WHERE expires_at <= %s
                    ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
                )
                """,
                [now, PURGE_BATCH],
            )
            deleted: int = cursor.rowcount
        purged += deleted
        if deleted < PURGE_BATCH:
            return purged
