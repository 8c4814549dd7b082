"""Detractor alerts: a poor survey answer raises an alert for the team's managers, who close
the loop with the customer (open → contacted → recovered / not recovered).

Who and when are recorded on each step; time to first contact and the recovery rate are
metrics (metrics/kpis/recovery.py, docs/metrics.md#detractor-recovery).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from cases.models import DetractorAlert, OutboundEmail, Representative, SurveyResponse
from cases.services.outbox import outbound_email_enqueue
from supportmetrics.exceptions import ApplicationError

# A detractor by either measure: CSAT 1–2 of 5, or NPS 0–6 of 10 (Bain's detractors).
DETRACTOR_CSAT_MAX = 2
DETRACTOR_NPS_MAX = 6

Status = DetractorAlert.Status


def is_detractor(*, csat: int, nps: int | None) -> bool:
    """CSAT ≤ 2 or NPS ≤ 6 (an unanswered NPS question does not make a detractor)."""
    return csat <= DETRACTOR_CSAT_MAX or (nps is not None and nps <= DETRACTOR_NPS_MAX)


def alert_recipients(*, alert: DetractorAlert) -> list[Representative]:
    """The managers told about an alert: active managers of the alert's team whose login is
    active and who have an email address. Reps (the one concerned included) are not mailed."""
    if alert.team_id is None:
        return []
    return list(
        Representative.objects.filter(
            team_id=alert.team_id,
            role=Representative.Role.MANAGER,
            active=True,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by("id")
    )


@transaction.atomic
def detractor_alert_create_for_response(*, response: SurveyResponse) -> DetractorAlert | None:
    """Raise the alert for a detractor answer and queue one email per manager of the team.

    Called in the transaction that records the answer, so the alert and its emails exist
    exactly when the answer does. The alert belongs to the case's team at that moment and to
    the answer's representative (the rep who resolved that resolution). Calling it again for
    the same answer returns the existing alert and queues nothing new (one alert per answer,
    emails deduplicated per alert and manager). Not a detractor: None.
    """
    if not is_detractor(csat=response.csat, nps=response.nps):
        return None
    existing = DetractorAlert.objects.filter(response=response).first()
    if existing is not None:
        return existing
    case = response.case
    alert = DetractorAlert(
        response=response,
        case=case,
        team_id=case.team_id,
        representative_id=response.representative_id,
        status=Status.OPEN,
        created_at=response.responded_at,
    )
    alert.full_clean()
    alert.save()
    for manager in alert_recipients(alert=alert):
        outbound_email_enqueue(
            kind=OutboundEmail.Kind.DETRACTOR_ALERT,
            dedupe_key=f"detractor_alert:{alert.id}:{manager.id}",
            alert=alert,
            recipient=manager,
        )
    return alert


def _transition_error(alert: DetractorAlert, to_status: str) -> ApplicationError:
    return ApplicationError(
        f"A detractor alert that is {alert.status} cannot become {to_status}.",
        code="invalid_alert_transition",
        status_code=409,
        extra={"from_status": alert.status, "to_status": to_status},
    )


def _with_note(existing: str, note: str) -> str:
    """Notes accumulate (the contact note, then the outcome note), one paragraph each."""
    note = note.strip()
    return f"{existing}\n\n{note}" if existing and note else existing or note


@transaction.atomic
def detractor_alert_contact(
    *,
    alert: DetractorAlert,
    user: AbstractBaseUser,
    note: str = "",
    now: datetime | None = None,
) -> DetractorAlert:
    """Record the first contact with the customer (open → contacted): who and when.

    The row is locked first, so two managers clicking at once give one contact and one 409
    ``invalid_alert_transition``, never two contact times.
    """
    locked = DetractorAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.status != Status.OPEN:
        raise _transition_error(locked, Status.CONTACTED)
    locked.status = Status.CONTACTED
    locked.contacted_at = now or timezone.now()
    locked.contacted_by = user
    locked.note = _with_note(locked.note, note)
    locked.full_clean()
    locked.save(update_fields=["status", "contacted_at", "contacted_by", "note"])
    return locked


@transaction.atomic
def detractor_alert_close(
    *,
    alert: DetractorAlert,
    user: AbstractBaseUser,
    outcome: str,
    note: str = "",
    now: datetime | None = None,
) -> DetractorAlert:
    """Record the outcome after contact (contacted → recovered / not_recovered): who, when.

    Only a contacted alert closes: recovery is judged after talking to the customer, and
    that keeps time to first contact defined for every closed alert. Locks the row.
    """
    if outcome not in (Status.RECOVERED, Status.NOT_RECOVERED):
        raise ApplicationError(
            f"outcome: {outcome!r} is not an outcome; use recovered or not_recovered.",
            code="validation_error",
            extra={"fields": {"outcome": ["Use recovered or not_recovered."]}},
        )
    locked = DetractorAlert.objects.select_for_update().get(pk=alert.pk)
    if locked.status != Status.CONTACTED:
        raise _transition_error(locked, outcome)
    closed_at = now or timezone.now()
    if closed_at < locked.contacted_at:  # type: ignore[operator]
        raise ApplicationError(
            "closed_at: the outcome cannot be recorded before the contact.",
            code="validation_error",
            extra={"fields": {"closed_at": ["Before the contact time."]}},
        )
    locked.status = outcome
    locked.closed_at = closed_at
    locked.closed_by = user
    locked.note = _with_note(locked.note, note)
    locked.full_clean()
    locked.save(update_fields=["status", "closed_at", "closed_by", "note"])
    return locked
