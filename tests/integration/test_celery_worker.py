"""A real Celery worker process, the machine's Redis and an SMTP server: "nothing lost".

Each test starts ``celery worker --pool=prefork --concurrency=1`` on a queue of its own,
pointed at the test database (committed rows: ``transaction=True``) and at an SMTP sink
(aiosmtpd) running in this process. The test process publishes to the same Redis queue.

- a case resolved through the API → exactly one survey email, and none more after the
  sweeper runs and after a duplicate message;
- the broker unreachable when the case is resolved → the API still answers 201, the email
  stays pending; with the broker back the sweeper dispatches it → exactly one email;
- the pool process killed while it is talking to the SMTP server → the worker's parent
  requeues the message (acks_late + reject_on_worker_lost), the redelivery (same task id)
  re-claims the row → exactly one email;
- the SMTP server down → retries with backoff → exactly one email once it is back.

Redis must be reachable (CI starts it): these tests fail, never skip, without it. Figures
(time to delivery, redelivery time) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import kombu.pools
import psutil
import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services
from cases.models import Case, OutboundEmail, SurveyInvitation
from cases.services.outbox import outbound_email_dispatch, outbox_sweep
from supportmetrics.celery import app as celery_app
from tests.factories import AccountFactory
from tests.integration.servers import stop_process_group

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
BROKER_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
REQUESTER = "pat.requester@example.org"
# Generous: the CI machine has two cores and runs two test processes.
WORKER_READY_TIMEOUT = 120
DELIVERY_TIMEOUT = 90


def figure(name: str, seconds: float) -> None:
    """A measured figure, printed for the closing note (``pytest -s`` shows it)."""
    print(f"\nFIGURE {name}: {seconds:.2f} s", flush=True)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; fail (not hang) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the SMTP sink --------------------------------------------------------------------------


class SinkHandler:
    """Records every accepted message; optionally holds the first RCPT until released, so a
    delivery is caught mid-send (before the server has accepted anything)."""

    def __init__(self, *, hold_first_rcpt: bool = False) -> None:
        self.hold_first_rcpt = hold_first_rcpt
        self.rcpt_count = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_count += 1
        if self.hold_first_rcpt and self.rcpt_count == 1:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(
                {
                    "message_id": parsed["Message-ID"],
                    "to": list(envelope.rcpt_tos),
                    "subject": parsed["Subject"],
                    "at": time.monotonic(),
                }
            )
        return "250 2.0.0 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


@contextlib.contextmanager
def smtp_sink(port: int, handler: SinkHandler) -> Iterator[SinkHandler]:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler
    finally:
        handler.release.set()
        controller.stop()


# --- the worker -----------------------------------------------------------------------------


def worker_database_url() -> str:
    """The database this test runs on (xdist suffix included), as a URL for the worker."""
    db = connection.settings_dict
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


class Worker:
    """A ``celery worker`` subprocess on its own queue; its log is kept for failures."""

    def __init__(self, *, queue: str, smtp_port: int, extra_env: dict[str, str]) -> None:
        self.queue = queue
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 — closed in stop()
            prefix=f"celery-{queue}-", suffix=".log", delete=False
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "supportmetrics.settings.base",
            "DATABASE_URL": worker_database_url(),
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_DEBUG": "0",
            "CELERY_BROKER_URL": BROKER_URL,
            "CELERY_QUEUE": queue,
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DJANGO_EMAIL_HOST": "127.0.0.1",
            "DJANGO_EMAIL_PORT": str(smtp_port),
            "DJANGO_EMAIL_TIMEOUT": "30",
            "DJANGO_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        command = [
            str(CELERY),
            "-A",
            "supportmetrics",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self) -> float:
        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.output()}")
            return " ready." in self.output()

        wait_for(ready, WORKER_READY_TIMEOUT, "the Celery worker to be ready")
        return time.monotonic() - self.started

    def pool_children(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL for this worker's process group (only what we started)."""
        stop_process_group(self.process)
        # Pool children that outlived their parent (they share its process group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def broker() -> redis.Redis:
    """The machine's Redis. Unreachable → the test fails: CI starts Redis."""
    client = redis.Redis.from_url(BROKER_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {BROKER_URL}: {error}")
    yield client
    client.close()


def _reset_publisher_pools() -> None:
    """Forget cached broker connections, producers, queues and routes of the app.

    kombu keeps its connection and producer pools in process-wide registries keyed by the
    broker URL: closing a pool without clearing the registry hands out a closed pool later.
    """
    kombu.pools.reset()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
        for cached in ("queues", "default_queue", "default_exchange", "router"):
            amqp.__dict__.pop(cached, None)
        amqp._rtable = None


@contextlib.contextmanager
def publishing_to(broker_url: str, queue: str) -> Iterator[None]:
    """This process's Celery app publishes to ``broker_url``/``queue`` instead of running
    tasks eagerly; restored afterwards."""
    conf = celery_app.conf
    saved = {
        "task_always_eager": conf.task_always_eager,
        "broker_url": conf.broker_url,
        "task_default_queue": conf.task_default_queue,
    }
    _reset_publisher_pools()
    conf.task_always_eager = False
    conf.broker_url = broker_url
    conf.task_default_queue = queue
    try:
        yield
    finally:
        _reset_publisher_pools()
        for key, value in saved.items():
            setattr(conf, key, value)


@pytest.fixture
def queue(broker) -> Iterator[str]:
    name = f"sm-test-{uuid.uuid4().hex[:10]}"
    yield name
    # After the worker stopped (it depends on this fixture): the queue and kombu's bindings.
    broker.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def start_worker(transactional_db, queue) -> Iterator[Callable[..., Worker]]:
    """``start_worker(smtp_port=..., **env)`` → a ready worker; always stopped afterwards."""
    workers: list[Worker] = []

    def start(*, smtp_port: int, **extra_env: str) -> Worker:
        worker = Worker(queue=queue, smtp_port=smtp_port, extra_env=extra_env)
        workers.append(worker)
        figure("worker start-up", worker.wait_ready())
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def resolvable_case(org) -> Callable[[], Case]:
    """``resolvable_case()`` → a case of rep_a1's, open, with a requester to survey."""
    account = AccountFactory(name="Northwind")
    numbers = iter(range(1, 100))

    def make() -> Case:
        case, _ = services.case_create(
            external_id=f"INT-{next(numbers)}",
            category=org.category,
            channel="email",
            opened_at=timezone.now() - timedelta(hours=3),
            account=account,
            requester_email=REQUESTER,
            requester_name="Pat Requester",
            subject="The export button does nothing",
            assignee=org.rep_a1,
        )
        return case

    return make


def resolve_through_the_api(org, case: Case) -> tuple[int, float]:
    """POST the resolution as rep_a1; (status code, seconds the request took)."""
    client = APIClient()
    client.force_authenticate(org.rep_a1.user)
    started = time.monotonic()
    response = client.post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "resolved", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    return response.status_code, time.monotonic() - started


def survey_email_of(case: Case) -> OutboundEmail:
    invitation = SurveyInvitation.objects.get(case=case, resolution_number=1)
    return OutboundEmail.objects.get(invitation=invitation, kind="survey_invitation")


def assert_one_survey_email(sink: SinkHandler, email_row: OutboundEmail) -> None:
    assert sink.count() == 1, sink.messages
    message = sink.messages[0]
    assert message["message_id"] == f"<outbound-{email_row.pk}@supportmetrics>"
    assert message["to"] == [REQUESTER]
    email_row.refresh_from_db()
    assert email_row.status == OutboundEmail.Status.SENT
    assert SurveyInvitation.objects.get(pk=email_row.invitation_id).status == "sent"


def sweep_as_if_later() -> Any:
    """Run the sweeper as it would run once OUTBOX_SWEEP_AFTER_SECONDS have passed."""
    return outbox_sweep(
        now=timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 1)
    )


# --- the tests ------------------------------------------------------------------------------


def test_a_resolved_case_sends_exactly_one_survey_email(org, resolvable_case, start_worker, queue):
    port = free_port()
    with smtp_sink(port, SinkHandler()) as sink, publishing_to(BROKER_URL, queue):
        start_worker(smtp_port=port)
        case = resolvable_case()
        before = time.monotonic()
        status_code, request_seconds = resolve_through_the_api(org, case)
        assert status_code == 201
        wait_for(lambda: sink.count() >= 1, DELIVERY_TIMEOUT, "the survey email")
        figure("resolution request", request_seconds)
        figure(
            "resolution request sent → email at the SMTP server", sink.messages[0]["at"] - before
        )
        email_row = survey_email_of(case)
        assert_one_survey_email(sink, email_row)

        # A duplicate message (a sweeper racing the first one) and a sweep: nothing more.
        assert outbound_email_dispatch(email_row.pk) is True
        assert sweep_as_if_later().dispatched == 0
        time.sleep(5)
        assert_one_survey_email(sink, email_row)
        assert email_row.attempts == 0


def test_broker_down_at_resolution_then_back_sends_exactly_one_email(
    org, resolvable_case, start_worker, queue
):
    port = free_port()
    closed_broker = f"redis://127.0.0.1:{free_port()}/15"
    with smtp_sink(port, SinkHandler()) as sink:
        start_worker(smtp_port=port)
        case = resolvable_case()
        with publishing_to(closed_broker, queue):
            status_code, request_seconds = resolve_through_the_api(org, case)
        figure("resolution request with the broker down", request_seconds)
        assert status_code == 201
        case.refresh_from_db()
        assert case.status == "resolved"
        email_row = survey_email_of(case)
        assert (email_row.status, email_row.attempts) == (OutboundEmail.Status.PENDING, 0)
        time.sleep(3)
        assert sink.count() == 0

        with publishing_to(BROKER_URL, queue):
            back = time.monotonic()
            result = sweep_as_if_later()
            assert (result.dispatched, result.not_dispatched) == (1, 0)
            wait_for(lambda: sink.count() >= 1, DELIVERY_TIMEOUT, "the swept survey email")
            figure("broker back, sweep → email at the SMTP server", sink.messages[0]["at"] - back)
            assert sweep_as_if_later().dispatched == 0
            time.sleep(5)
        assert_one_survey_email(sink, email_row)


def test_worker_killed_mid_send_redelivers_and_sends_exactly_one_email(
    org, resolvable_case, start_worker, queue
):
    port = free_port()
    handler = SinkHandler(hold_first_rcpt=True)
    with smtp_sink(port, handler) as sink, publishing_to(BROKER_URL, queue):
        worker = start_worker(smtp_port=port)
        case = resolvable_case()
        status_code, _ = resolve_through_the_api(org, case)
        assert status_code == 201
        wait_for(sink.held.is_set, DELIVERY_TIMEOUT, "the delivery to reach the SMTP server")
        email_row = survey_email_of(case)
        email_row.refresh_from_db()
        assert email_row.status == OutboundEmail.Status.SENDING
        first_claim = email_row.claimed_by

        children = worker.pool_children()
        assert len(children) == 1, children
        killed = time.monotonic()
        os.kill(children[0].pid, signal.SIGKILL)
        wait_for(lambda: sink.count() >= 1, DELIVERY_TIMEOUT, "the redelivered survey email")
        figure(
            "pool process killed → redelivered email at the SMTP server",
            sink.messages[0]["at"] - killed,
        )
        sink.release.set()
        time.sleep(5)
        assert_one_survey_email(sink, email_row)
        # The same message came back (same task id) and took over its own claim.
        assert email_row.claimed_by == first_claim
        assert email_row.attempts == 0
        log = worker.output()
        assert "WorkerLostError" in log or "exited prematurely" in log, log
        # A new pool process replaced the killed one.
        assert [c.pid for c in worker.pool_children()] != [children[0].pid]


def test_smtp_server_down_retries_with_backoff_then_sends_exactly_one_email(
    org, resolvable_case, start_worker, queue
):
    port = free_port()
    with publishing_to(BROKER_URL, queue):
        start_worker(
            smtp_port=port,
            OUTBOX_BACKOFF_BASE_SECONDS="1",
            OUTBOX_BACKOFF_MAX_SECONDS="2",
            OUTBOX_MAX_ATTEMPTS="50",
        )
        case = resolvable_case()
        status_code, _ = resolve_through_the_api(org, case)
        assert status_code == 201
        email_row = survey_email_of(case)

        def failed_twice() -> bool:
            email_row.refresh_from_db()
            return email_row.attempts >= 2

        wait_for(failed_twice, DELIVERY_TIMEOUT, "two failed attempts")
        assert email_row.status in (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING)
        assert email_row.last_error.startswith("ConnectionRefusedError")
        with smtp_sink(port, SinkHandler()) as sink:
            back = time.monotonic()
            wait_for(lambda: sink.count() >= 1, DELIVERY_TIMEOUT, "the retried survey email")
            figure("SMTP server back → retried email delivered", sink.messages[0]["at"] - back)
            time.sleep(5)
            assert_one_survey_email(sink, email_row)
        failures = email_row.attempts
        assert failures >= 2
        print(f"\nFIGURE failed attempts before the SMTP server came back: {failures}")
