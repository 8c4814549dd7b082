"""The outbox: enqueue in the caller's transaction, deliver at most once per claim, recover.

Celery runs eagerly here (tests settings); the real-worker behaviour (a broker, a killed
worker, an SMTP server that is down) is in tests/integration/test_celery_worker.py.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from kombu.exceptions import OperationalError

from cases.models import OutboundEmail, SurveyInvitation
from cases.services.outbox import (
    outbound_email_backoff_seconds,
    outbound_email_enqueue,
    outbound_email_mark_sent,
    outbound_email_record_failure,
    outbound_email_retry,
    outbox_sweep,
)
from cases.tasks import outbound_email_deliver
from cases.tasks import outbox_sweep as outbox_sweep_task
from tests.conftest import NOW
from tests.factories import CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def enqueue_digest(rep, key: str = "coaching_digest:2026-03-30:1", **extra) -> OutboundEmail:
    return outbound_email_enqueue(
        kind=OutboundEmail.Kind.COACHING_DIGEST,
        dedupe_key=key,
        recipient=rep,
        subject="Your team this week",
        body="Backlog: 3",
        html_body="<p>Backlog: 3</p>",
        **extra,
    )


def stored_digest(rep, key: str = "coaching_digest:2026-03-30:1", **fields) -> OutboundEmail:
    """A row as if enqueued earlier (no dispatch), for claim and sweeper tests."""
    values = {
        "kind": OutboundEmail.Kind.COACHING_DIGEST,
        "dedupe_key": key,
        "recipient": rep,
        "subject": "Your team this week",
        "body": "Backlog: 3",
        "next_attempt_at": NOW,
    }
    values.update(fields)
    return OutboundEmail.objects.create(**values)


def smtp_down(monkeypatch) -> list[int]:
    """Make every send fail as an SMTP server that hangs up would; returns the call log."""
    calls: list[int] = []

    def fail(self, messages):
        calls.append(len(messages))
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", fail)
    return calls


def broker_down(monkeypatch) -> list[int]:
    """Make publishing the delivery task fail as kombu does when Redis refuses connections."""
    calls: list[int] = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(outbound_email_deliver, "apply_async", refuse)
    return calls


# --- enqueue ------------------------------------------------------------------------------


def test_enqueue_delivers_one_email_after_commit(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email = enqueue_digest(org.manager_a)
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.sent_at == NOW
    assert email.attempts == 0
    assert email.next_attempt_at == NOW
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mgr_a@example.com"]
    assert message.subject == "Your team this week"
    assert message.body == "Backlog: 3"
    assert message.alternatives[0][0] == "<p>Backlog: 3</p>"
    assert message.extra_headers["Message-ID"] == f"<outbound-{email.pk}@supportmetrics>"
    assert message.message()["Message-ID"] == f"<outbound-{email.pk}@supportmetrics>"


def test_enqueue_in_a_rolled_back_transaction_sends_nothing(
    org, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        enqueue_digest(org.manager_a)
        raise Abort
    assert callbacks == []
    assert OutboundEmail.objects.count() == 0
    assert mail.outbox == []


def test_enqueue_twice_with_one_key_returns_the_row_and_sends_once(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = enqueue_digest(org.manager_a)
        second = enqueue_digest(org.manager_a)
    assert second.pk == first.pk
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True) as later:
        third = enqueue_digest(org.manager_a)
    assert third.pk == first.pk
    assert later == []
    assert OutboundEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_enqueue_due_later_waits_for_its_time(org, django_capture_on_commit_callbacks, monkeypatch):
    published: list[dict] = []
    monkeypatch.setattr(outbound_email_deliver, "apply_async", lambda **kw: published.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        soon = enqueue_digest(org.manager_a, key="k:soon", due_at=NOW + timedelta(minutes=10))
        late = enqueue_digest(org.manager_a, key="k:late", due_at=NOW + timedelta(hours=3))
    # Soon: an ETA message. Hours ahead: left to the sweeper (no message held for hours).
    assert published == [{"args": [soon.pk], "eta": NOW + timedelta(minutes=10)}]
    late.refresh_from_db()
    assert late.next_attempt_at == NOW + timedelta(hours=3)
    assert late.status == OutboundEmail.Status.PENDING


def test_enqueue_rejects_an_unknown_kind(org):
    from supportmetrics.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as error:
        outbound_email_enqueue(kind="newsletter", dedupe_key="x", recipient=org.manager_a)
    assert error.value.code == "validation_error"
    assert list(error.value.extra["fields"]) == ["kind"]


def test_broker_unreachable_at_dispatch_leaves_the_row_pending(
    org, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    calls = broker_down(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        email = enqueue_digest(org.manager_a)
    assert calls == [1]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert email.attempts == 0
    assert mail.outbox == []
    assert f"email {email.pk} not dispatched (OperationalError" in caplog.text
    assert "mgr_a@example.com" not in caplog.text


# --- delivery: the claim guard --------------------------------------------------------------


def test_a_second_delivery_of_a_sent_row_sends_nothing(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = enqueue_digest(org.manager_a)
    assert len(mail.outbox) == 1
    result = outbound_email_deliver.apply(args=[email.pk], task_id="another-message")
    assert result.get() == "skipped"
    result = outbound_email_deliver.apply(args=[email.pk])
    assert result.get() == "skipped"
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.sent_at) == (OutboundEmail.Status.SENT, NOW)


def test_a_redelivery_with_the_same_task_id_reclaims_its_sending_row(org):
    # A worker claimed the row and died mid-send; the broker redelivers its message.
    email = stored_digest(
        org.manager_a, status=OutboundEmail.Status.SENDING, claimed_by="task-1", claimed_at=NOW
    )
    assert outbound_email_deliver.apply(args=[email.pk], task_id="task-1").get() == "sent"
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1


def test_a_different_task_id_does_not_take_a_sending_row(org):
    email = stored_digest(
        org.manager_a, status=OutboundEmail.Status.SENDING, claimed_by="task-1", claimed_at=NOW
    )
    assert outbound_email_deliver.apply(args=[email.pk], task_id="task-2").get() == "skipped"
    email.refresh_from_db()
    assert (email.status, email.claimed_by) == (OutboundEmail.Status.SENDING, "task-1")
    assert mail.outbox == []


def test_a_failed_row_is_not_delivered(org):
    email = stored_digest(org.manager_a, status=OutboundEmail.Status.FAILED, attempts=8)
    assert outbound_email_deliver.apply(args=[email.pk]).get() == "skipped"
    assert mail.outbox == []


# --- delivery: failures ---------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered_from_zero():
    class Ceiling:
        def uniform(self, low, high):
            return (low, high)

    ceilings = [outbound_email_backoff_seconds(n, rng=Ceiling()) for n in range(1, 10)]
    assert ceilings == [
        (0, 30.0),
        (0, 60.0),
        (0, 120.0),
        (0, 240.0),
        (0, 480.0),
        (0, 960.0),
        (0, 1920.0),
        (0, 3600.0),
        (0, 3600.0),
    ]


@override_settings(OUTBOX_MAX_ATTEMPTS=3)
def test_smtp_errors_back_off_then_fail_visibly(org, role_client, monkeypatch):
    calls = smtp_down(monkeypatch)
    email = stored_digest(org.manager_a)

    # Eager: one attempt per run, no in-process retry loop; the sweeper comes back later.
    assert outbound_email_deliver.apply(args=[email.pk]).get() == "pending"
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.PENDING
    assert email.attempts == 1
    assert NOW <= email.next_attempt_at <= NOW + timedelta(seconds=30)
    assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert (email.claimed_by, email.claimed_at) == ("", None)

    assert outbound_email_deliver.apply(args=[email.pk]).get() == "pending"
    email.refresh_from_db()
    assert email.attempts == 2
    assert NOW <= email.next_attempt_at <= NOW + timedelta(seconds=60)

    assert outbound_email_deliver.apply(args=[email.pk]).get() == "failed"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, 3)
    assert calls == [1, 1, 1]
    assert mail.outbox == []

    # And nothing more happens to it: the sweeper leaves failed rows alone.
    assert outbox_sweep(now=NOW + timedelta(days=1)).dispatched == 0
    assert calls == [1, 1, 1]

    response = role_client("admin").get("/api/v1/outbox/?status=failed")
    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": email.pk,
                "kind": "coaching_digest",
                "dedupe_key": "coaching_digest:2026-03-30:1",
                "status": "failed",
                "attempts": 3,
                "last_error": "SMTPServerDisconnected: Connection unexpectedly closed",
                "next_attempt_at": email.next_attempt_at.isoformat().replace("+00:00", "Z"),
                "claimed_at": None,
                "sent_at": None,
                "created_at": "2026-04-01T09:00:00Z",
                "invitation": None,
                "alert": None,
                "recipient": org.manager_a.pk,
                "period_start": None,
                "subject": "Your team this week",
            }
        ],
    }


def test_error_texts_never_carry_an_address(org, monkeypatch):
    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({"mgr_a@example.com": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    email = stored_digest(org.manager_a)
    outbound_email_deliver.apply(args=[email.pk])
    email.refresh_from_db()
    assert email.last_error == ("SMTPRecipientsRefused: {'<address>': (550, b'no such user')}")


def test_a_rendering_error_marks_the_row_failed_through_the_failure_hook(org, monkeypatch):
    def broken(email):
        raise RuntimeError("template missing")

    monkeypatch.setattr("cases.tasks.render_outbound_email", broken)
    email = stored_digest(org.manager_a)
    with pytest.raises(RuntimeError):
        outbound_email_deliver.apply(args=[email.pk])
    email.refresh_from_db()
    assert (email.status, email.last_error) == (
        OutboundEmail.Status.FAILED,
        "RuntimeError: template missing",
    )


def test_a_recipient_without_an_address_fails_at_once(org):
    org.manager_a.user.email = ""
    org.manager_a.user.save()
    email = stored_digest(org.manager_a)
    assert outbound_email_deliver.apply(args=[email.pk]).get() == "failed"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.FAILED, 1)
    assert email.last_error == (
        f"OutboundEmailUndeliverable: Email {email.pk} has no recipient address."
    )


def test_only_the_claim_holder_records_a_failure(org):
    email = stored_digest(
        org.manager_a, status=OutboundEmail.Status.SENDING, claimed_by="task-1", claimed_at=NOW
    )
    assert (
        outbound_email_record_failure(email_id=email.pk, task_id="task-2", error="x", now=NOW)
        is None
    )
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundEmail.Status.SENDING, 0)


# --- invitations --------------------------------------------------------------------------


def make_invitation() -> SurveyInvitation:
    case = CaseFactory(resolved=True)
    return SurveyInvitation.objects.create(
        case=case,
        resolution_number=1,
        resolved_at=case.resolved_at,
        expires_at=NOW + timedelta(days=30),
    )


def test_mark_sent_records_the_invitation_and_the_reminder(org):
    invitation = make_invitation()
    first = OutboundEmail.objects.create(
        kind=OutboundEmail.Kind.SURVEY_INVITATION,
        dedupe_key=f"survey_invitation:{invitation.pk}",
        invitation=invitation,
        next_attempt_at=NOW,
    )
    reminder = OutboundEmail.objects.create(
        kind=OutboundEmail.Kind.SURVEY_REMINDER,
        dedupe_key=f"survey_reminder:{invitation.pk}",
        invitation=invitation,
        next_attempt_at=NOW,
    )
    assert outbound_email_mark_sent(email_id=first.pk, now=NOW) is True
    invitation.refresh_from_db()
    assert (invitation.status, invitation.sent_at, invitation.reminded_at) == ("sent", NOW, None)
    later = NOW + timedelta(days=3)
    assert outbound_email_mark_sent(email_id=reminder.pk, now=later) is True
    invitation.refresh_from_db()
    assert (invitation.status, invitation.sent_at, invitation.reminded_at) == ("sent", NOW, later)
    # Twice: nothing changes.
    assert outbound_email_mark_sent(email_id=first.pk, now=later) is False
    invitation.refresh_from_db()
    assert invitation.sent_at == NOW


@override_settings(OUTBOX_MAX_ATTEMPTS=1)
def test_a_failed_invitation_email_fails_its_invitation(org):
    invitation = make_invitation()
    email = OutboundEmail.objects.create(
        kind=OutboundEmail.Kind.SURVEY_INVITATION,
        dedupe_key=f"survey_invitation:{invitation.pk}",
        invitation=invitation,
        status=OutboundEmail.Status.SENDING,
        claimed_by="t",
        claimed_at=NOW,
        next_attempt_at=NOW,
    )
    failure = outbound_email_record_failure(
        email_id=email.pk, task_id="t", error=OSError("refused"), now=NOW
    )
    assert (failure.status, failure.attempts, failure.retry_in_seconds) == ("failed", 1, None)
    invitation.refresh_from_db()
    assert invitation.status == SurveyInvitation.Status.FAILED
    # Retry now gives both another chance.
    outbound_email_retry(email=email)
    email.refresh_from_db()
    invitation.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 0)
    assert invitation.status == SurveyInvitation.Status.PENDING


# --- the sweeper ----------------------------------------------------------------------------


def test_sweeper_redispatches_stale_pending_rows_only(org):
    stale = stored_digest(
        org.manager_a, key="k:stale", next_attempt_at=NOW - timedelta(seconds=121)
    )
    fresh = stored_digest(org.manager_a, key="k:fresh", next_attempt_at=NOW - timedelta(seconds=60))
    future = stored_digest(org.manager_a, key="k:future", next_attempt_at=NOW + timedelta(hours=1))
    assert outbox_sweep_task.apply().get() == {
        "reclaimed": 0,
        "failed": 0,
        "dispatched": 1,
        "not_dispatched": 0,
    }
    for email in (stale, fresh, future):
        email.refresh_from_db()
    assert [stale.status, fresh.status, future.status] == ["sent", "pending", "pending"]
    assert len(mail.outbox) == 1
    # Twice: the same state, nothing more sent.
    assert outbox_sweep_task.apply().get()["dispatched"] == 0
    assert len(mail.outbox) == 1


def test_sweeper_reclaims_stale_sending_rows(org):
    dead = stored_digest(
        org.manager_a,
        key="k:dead",
        status=OutboundEmail.Status.SENDING,
        claimed_by="dead-worker",
        claimed_at=NOW - timedelta(seconds=901),
    )
    busy = stored_digest(
        org.manager_a,
        key="k:busy",
        status=OutboundEmail.Status.SENDING,
        claimed_by="busy-worker",
        claimed_at=NOW - timedelta(seconds=100),
    )
    result = outbox_sweep(now=NOW)
    assert (result.reclaimed, result.dispatched) == (1, 1)
    dead.refresh_from_db()
    busy.refresh_from_db()
    assert (dead.status, dead.attempts) == ("sent", 1)
    assert (busy.status, busy.claimed_by) == ("sending", "busy-worker")
    assert len(mail.outbox) == 1


@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_a_row_that_keeps_killing_its_worker_ends_failed(org):
    email = stored_digest(
        org.manager_a,
        status=OutboundEmail.Status.SENDING,
        claimed_by="w",
        claimed_at=NOW - timedelta(hours=1),
        attempts=1,
    )
    result = outbox_sweep(now=NOW)
    assert (result.reclaimed, result.failed, result.dispatched) == (0, 1, 0)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 2)
    assert email.last_error == (
        "The worker delivering it stopped before finishing (claim expired)."
    )


def test_sweeper_with_the_broker_down_keeps_rows_pending(org, monkeypatch):
    broker_down(monkeypatch)
    email = stored_digest(org.manager_a, next_attempt_at=NOW - timedelta(minutes=5))
    result = outbox_sweep(now=NOW)
    assert (result.dispatched, result.not_dispatched) == (0, 1)
    email.refresh_from_db()
    assert (email.status, email.next_attempt_at) == ("pending", NOW - timedelta(minutes=5))


# --- the API ------------------------------------------------------------------------------


FORBIDDEN = {
    "message": "You do not have permission to perform this action.",
    "code": "permission_denied",
    "extra": {},
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("no_role", 403),
        ("rep", 403),
        ("manager", 403),
        ("integration", 403),
        ("admin", 200),
    ],
)
def test_outbox_api_is_for_admins_only(role_client, role, expected):
    response = role_client(role).get("/api/v1/outbox/")
    assert response.status_code == expected
    if expected == 403:
        assert response.json() == FORBIDDEN
    retry = role_client(role).post("/api/v1/outbox/1/retry/")
    assert retry.status_code == (404 if expected == 200 else expected)


def test_outbox_api_filters_and_never_shows_survey_content(org, role_client):
    invitation = make_invitation()
    survey = OutboundEmail.objects.create(
        kind=OutboundEmail.Kind.SURVEY_INVITATION,
        dedupe_key=f"survey_invitation:{invitation.pk}",
        invitation=invitation,
        subject="should never show",
        body="nor this",
        next_attempt_at=NOW,
    )
    digest = stored_digest(org.manager_a, status=OutboundEmail.Status.FAILED)
    client = role_client("admin")

    by_kind = client.get("/api/v1/outbox/?kind=survey_invitation").json()["results"]
    assert [row["id"] for row in by_kind] == [survey.pk]
    assert by_kind[0]["subject"] is None
    assert "body" not in by_kind[0]
    assert "html_body" not in by_kind[0]
    assert invitation.case.requester_email not in str(client.get("/api/v1/outbox/").json())

    both = client.get("/api/v1/outbox/?status=failed&status=pending").json()["results"]
    assert {row["id"] for row in both} == {survey.pk, digest.pk}
    assert client.get("/api/v1/outbox/?status=sent").json()["results"] == []

    bad = client.get("/api/v1/outbox/?status=lost")
    assert bad.status_code == 400
    assert bad.json() == {
        "message": 'status.0: "lost" is not a valid choice.',
        "code": "validation_error",
        "extra": {"fields": {"status.0": ['"lost" is not a valid choice.']}},
    }


def test_outbox_api_pages_with_a_cursor(org, role_client):
    ids = [stored_digest(org.manager_a, key=f"k:{n}").pk for n in range(3)]
    client = role_client("admin")
    first = client.get("/api/v1/outbox/?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [ids[2], ids[1]]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == [ids[0]]
    assert second["next"] is None


def test_retry_api_sends_a_failed_email_again(org, role_client, django_capture_on_commit_callbacks):
    email = stored_digest(org.manager_a, status=OutboundEmail.Status.FAILED, attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = role_client("admin").post(f"/api/v1/outbox/{email.pk}/retry/")
    assert response.status_code == 200
    body = response.json()
    # The answer shows the row as the retry left it; the delivery runs after the commit.
    assert (body["id"], body["status"], body["attempts"]) == (email.pk, "pending", 0)
    email.refresh_from_db()
    assert (email.status, email.sent_at) == (OutboundEmail.Status.SENT, NOW)
    assert len(mail.outbox) == 1


def test_retry_api_with_the_broker_down_still_answers(
    org, role_client, monkeypatch, django_capture_on_commit_callbacks
):
    calls = broker_down(monkeypatch)
    email = stored_digest(org.manager_a, status=OutboundEmail.Status.FAILED, attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = role_client("admin").post(f"/api/v1/outbox/{email.pk}/retry/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert calls == [1]
    assert mail.outbox == []


def test_retry_api_refuses_a_row_that_is_not_failed(org, role_client):
    email = stored_digest(org.manager_a, status=OutboundEmail.Status.SENT, sent_at=NOW)
    response = role_client("admin").post(f"/api/v1/outbox/{email.pk}/retry/")
    assert response.status_code == 409
    assert response.json() == {
        "message": "Only a failed email can be retried; this one is sent.",
        "code": "outbound_email_not_failed",
        "extra": {},
    }
    assert mail.outbox == []


# --- the admin ----------------------------------------------------------------------------


def test_admin_lists_the_outbox_and_retries_failed_rows(
    org, client, django_capture_on_commit_callbacks
):
    failed = stored_digest(org.manager_a, key="k:failed", status=OutboundEmail.Status.FAILED)
    sent = stored_digest(org.manager_a, key="k:sent", status=OutboundEmail.Status.SENT, sent_at=NOW)
    client.force_login(org.admin)
    listing = client.get("/admin/cases/outboundemail/?status__exact=failed")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/cases/outboundemail/",
            {"action": "retry_now", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "1 emails queued again.",
        "1 emails skipped: only failed ones are retried.",
    ]
    failed.refresh_from_db()
    assert failed.status == OutboundEmail.Status.SENT
    assert len(mail.outbox) == 1


def test_resolving_with_the_broker_down_still_answers_and_keeps_the_survey_pending(
    org, monkeypatch, client_for, django_capture_on_commit_callbacks, caplog
):
    from cases import services

    calls = broker_down(monkeypatch)
    case, _ = services.case_create(
        external_id="OUTAGE-1",
        category=org.category,
        channel="email",
        opened_at=NOW - timedelta(hours=5),
        requester_email="kim.requester@example.org",
        assignee=org.rep_a1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.rep_a1).post(
            f"/api/v1/cases/{case.pk}/events/",
            {"event_type": "resolved", "occurred_at": "2026-04-01T08:30:00Z"},
        )
    assert response.status_code == 201
    case.refresh_from_db()
    assert case.status == "resolved"
    email = OutboundEmail.objects.get(kind=OutboundEmail.Kind.SURVEY_INVITATION)
    assert (email.status, email.attempts, email.invitation.case_id) == ("pending", 0, case.pk)
    assert calls == [1]
    assert mail.outbox == []
    assert "kim.requester@example.org" not in caplog.text
    # The sweeper sends it once the broker is back (here: eager again) and it is overdue.
    monkeypatch.undo()
    assert outbox_sweep(now=NOW + timedelta(minutes=3)).dispatched == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert [m.to for m in mail.outbox] == [["kim.requester@example.org"]]


def test_the_reminder_beat_task_queues_and_sends_one_reminder_once(
    org, django_capture_on_commit_callbacks
):
    from cases.tasks import survey_reminders_enqueue

    invitation = make_invitation()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        status=SurveyInvitation.Status.SENT, sent_at=NOW - timedelta(days=4)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_enqueue.apply().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_reminders_enqueue.apply().get() == 0
    reminder = OutboundEmail.objects.get(kind=OutboundEmail.Kind.SURVEY_REMINDER)
    assert (reminder.dedupe_key, reminder.status) == (f"survey_reminder:{invitation.pk}", "sent")
    invitation.refresh_from_db()
    assert invitation.reminded_at == NOW
    assert [m.to for m in mail.outbox] == [[invitation.case.requester_email]]
    assert mail.outbox[0].extra_headers["Message-ID"] == f"<outbound-{reminder.pk}@supportmetrics>"
