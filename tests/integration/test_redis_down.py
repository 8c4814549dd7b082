"""Redis killed under the real server: the API keeps serving, the survey waits in the outbox.

A throwaway ``redis-server`` (tests/integration/servers.py; never the machine's) is both
the broker and the cache (``REDIS_URL``: the rate-limit counters) of gunicorn on the
production settings, and the broker of a real Celery worker. With Redis killed:

- resolving a case through the API answers 201 (publishing fails fast, the transaction
  that wrote the outbox row committed), and the survey email's row stays ``pending``;
- case reads and a KPI answer 200 (the rate limiter fails open);
- nothing reaches the SMTP server.

Redis started again, the outbox sweeper dispatches the row and the worker delivers exactly
one email; a second sweep sends nothing more. tests/integration/test_celery_worker.py has
the in-process variant (a closed broker port when the case is resolved).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from cases import services
from cases.models import Case, OutboundEmail
from tests.factories import AccountFactory
from tests.integration.servers import ThrowawayRedis, WebServer, call
from tests.integration.test_celery_worker import (
    DELIVERY_TIMEOUT,
    REQUESTER,
    SinkHandler,
    Worker,
    assert_one_survey_email,
    figure,
    free_port,
    publishing_to,
    smtp_sink,
    survey_email_of,
    sweep_as_if_later,
    wait_for,
    worker_database_url,
)

pytestmark = pytest.mark.django_db(transaction=True)


def open_case(org) -> Case:
    case, _ = services.case_create(
        external_id=f"REDIS-{uuid.uuid4().hex[:8]}",
        category=org.category,
        channel="email",
        opened_at=timezone.now() - timedelta(hours=3),
        account=AccountFactory(name="Northwind"),
        requester_email=REQUESTER,
        requester_name="Pat Requester",
        subject="The export button does nothing",
        assignee=org.rep_a1,
    )
    return case


def test_redis_down_api_serves_and_the_survey_waits_in_the_outbox(org):
    redis = ThrowawayRedis()
    redis.start()
    queue = f"sm-test-{uuid.uuid4().hex[:10]}"
    smtp_port = free_port()
    token = Token.objects.create(user=org.rep_a1.user).key
    case = open_case(org)
    worker = server = None
    try:
        with smtp_sink(smtp_port, SinkHandler()) as sink:
            worker = Worker(
                queue=queue, smtp_port=smtp_port, extra_env={"CELERY_BROKER_URL": redis.url}
            )
            figure("worker start-up", worker.wait_ready())
            server = WebServer(
                database_url=worker_database_url(),
                extra_env={
                    "CELERY_BROKER_URL": redis.url,
                    "CELERY_QUEUE": queue,
                    # The cache (rate-limit counters) on the same Redis: it dies too.
                    "REDIS_URL": redis.url,
                },
            )
            server.wait_ready()

            redis.kill()
            killed = time.monotonic()
            resolved = call(
                server.port,
                "POST",
                f"/api/v1/cases/{case.pk}/events/",
                token=token,
                payload={"event_type": "resolved", "occurred_at": timezone.now().isoformat()},
            )
            assert resolved.status == 201, (resolved.status, resolved.body, server.output())
            assert resolved.json()["event_type"] == "resolved"
            figure("resolution request with Redis down", resolved.seconds)
            today = datetime.now(UTC).date()
            for path in (
                f"/api/v1/cases/{case.pk}/",
                "/api/v1/cases/?page_size=5",
                f"/api/v1/metrics/fcr/?from={today - timedelta(days=7)}&to={today}",
            ):
                read = call(server.port, "GET", path, token=token)
                assert read.status == 200, (path, read.status, read.body)
                figure(f"GET {path.split('?')[0]} with Redis down", read.seconds)
            assert (
                call(server.port, "GET", f"/api/v1/cases/{case.pk}/", token=token).json()["status"]
                == "resolved"
            )

            # The rate limiter met the dead cache and let the requests through uncounted.
            assert "Rate limiting is off: the cache does not answer" in server.output()

            email_row = survey_email_of(case)
            assert (email_row.status, email_row.attempts) == (OutboundEmail.Status.PENDING, 0)
            time.sleep(3)
            assert sink.count() == 0
            email_row.refresh_from_db()
            assert email_row.status == OutboundEmail.Status.PENDING

            redis.start()  # the same port: the worker and the server reconnect on their own
            back = time.monotonic()
            with publishing_to(redis.url, queue):
                result = sweep_as_if_later()
                assert (result.dispatched, result.not_dispatched) == (1, 0)
                wait_for(lambda: sink.count() >= 1, DELIVERY_TIMEOUT, "the swept survey email")
                figure(
                    "Redis back, sweep → email at the SMTP server", sink.messages[0]["at"] - back
                )
                figure("Redis killed → survey email delivered", sink.messages[0]["at"] - killed)
                assert sweep_as_if_later().dispatched == 0
                time.sleep(5)
            assert_one_survey_email(sink, email_row)
            # And the API with Redis back: served as before.
            assert call(server.port, "GET", f"/api/v1/cases/{case.pk}/", token=token).status == 200
    finally:
        if server is not None:
            server.stop()
        if worker is not None:
            worker.stop()
        redis.kill()
