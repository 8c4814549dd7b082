"""The loop after a resolution: survey invitations, opt-outs, detractor alerts, and the outbox.

Nothing here stores a customer's email address: invitations and opt-outs carry a keyed hash
of it (``cases.requesters.requester_hash``) and the address is read from the case only when
the mail is built.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models.core import Account, Case, Representative, SurveyResponse, Team


class SurveyInvitation(models.Model):
    """One survey per resolution of a case: created in the transaction that resolves it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (not sent yet)"
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        SUPPRESSED = "suppressed", "Suppressed"
        FAILED = "failed", "Delivery failed"

    class Suppression(models.TextChoices):
        NONE = "", "Not suppressed"
        NO_EMAIL = "no_email", "The case has no requester email"
        REQUESTER_OPTED_OUT = "requester_opted_out", "The requester opted out"
        ACCOUNT_OPTED_OUT = "account_opted_out", "The account opted out"
        RECENTLY_SURVEYED = "recently_surveyed", "The requester was surveyed recently"
        STALE_RESOLUTION = "stale_resolution", "The resolution is too old to ask about"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="survey_invitations")
    resolution_number = models.PositiveIntegerField()
    # The rep who resolved this resolution: the answer is theirs even after reassignment.
    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField()
    requester_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    suppression = models.CharField(
        max_length=24, choices=Suppression.choices, blank=True, default=Suppression.NONE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "resolution_number"], name="survey_invitation_one_per_resolution"
            ),
            models.CheckConstraint(
                condition=Q(status="suppressed", suppression__gt="")
                | (~Q(status="suppressed") & Q(suppression="")),
                name="survey_invitation_suppression_iff_suppressed",
            ),
            models.CheckConstraint(
                condition=~Q(status="answered") | Q(answered_at__isnull=False),
                name="survey_invitation_answered_has_time",
            ),
        ]
        indexes = [
            # The per-requester cooldown looks up the latest invitation sent to a requester.
            models.Index(
                fields=["requester_hash", "-sent_at"],
                name="survey_invitation_requester",
                condition=Q(sent_at__isnull=False),
            ),
            models.Index(fields=["status", "sent_at"], name="survey_invitation_status"),
        ]

    def __str__(self) -> str:
        return f"survey for case {self.case_id} #{self.resolution_number} ({self.status})"


class SurveyOptOut(models.Model):
    """A requester (by keyed hash, from the unsubscribe link) or a whole account (by an admin)."""

    requester_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="survey_opt_out"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requester_hash__isnull=False, account__isnull=True)
                | Q(requester_hash__isnull=True, account__isnull=False),
                name="survey_opt_out_requester_xor_account",
            )
        ]

    def __str__(self) -> str:
        return f"opt-out of account {self.account_id}" if self.account_id else "requester opt-out"


class DetractorAlert(models.Model):
    """A poor answer (CSAT ≤ 2 or NPS ≤ 6) the team should follow up: closing the loop."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONTACTED = "contacted", "Customer contacted"
        RECOVERED = "recovered", "Recovered"
        NOT_RECOVERED = "not_recovered", "Not recovered"

    response = models.OneToOneField(
        SurveyResponse, on_delete=models.CASCADE, related_name="detractor_alert"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="detractor_alerts")
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    contacted_at = models.DateTimeField(null=True, blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", contacted_at__isnull=True)
                | (~Q(status="open") & Q(contacted_at__isnull=False)),
                name="detractor_alert_contacted_iff_past_open",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["recovered", "not_recovered"], closed_at__isnull=False)
                | Q(status__in=["open", "contacted"], closed_at__isnull=True),
                name="detractor_alert_closed_iff_outcome",
            ),
            models.CheckConstraint(
                condition=Q(contacted_at__isnull=True)
                | Q(contacted_at__gte=models.F("created_at")),
                name="detractor_alert_contacted_after_created",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status", "-created_at"], name="detractor_alert_team"),
            models.Index(fields=["created_at"], name="detractor_alert_created"),
        ]

    def __str__(self) -> str:
        return f"detractor alert on case {self.case_id} ({self.status})"


class OutboundEmail(models.Model):
    """The outbox: one row per email to send, written in the transaction that decides to send it.

    A Celery task delivers it after commit; the sweeper re-dispatches rows left pending (a
    broker outage, a lost message). Delivery claims the row with a conditional update, so a
    retried or duplicated task never mails twice. What exhausts its retries stays here as
    ``failed`` with the last error, for admins to see and retry.
    """

    class Kind(models.TextChoices):
        SURVEY_INVITATION = "survey_invitation", "Survey invitation"
        SURVEY_REMINDER = "survey_reminder", "Survey reminder"
        DETRACTOR_ALERT = "detractor_alert", "Detractor alert to a manager"
        COACHING_DIGEST = "coaching_digest", "Weekly coaching digest to a manager"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    # What makes this email unique, e.g. "survey_invitation:41", "coaching_digest:2026-11-16:7".
    dedupe_key = models.CharField(max_length=120, unique=True)
    invitation = models.ForeignKey(
        SurveyInvitation, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    alert = models.ForeignKey(
        DetractorAlert, on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    # Staff recipients (alerts, digests); a survey's recipient is its case's requester.
    recipient = models.ForeignKey(
        Representative, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    period_start = models.DateField(null=True, blank=True)
    # Staff emails whose content is a snapshot (the weekly digest) are rendered when enqueued;
    # survey and alert emails are rendered at send time from their rows, so these stay empty.
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="outbound_email_sent_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbound_email_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["status", "-created_at"], name="outbound_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key} ({self.status})"
