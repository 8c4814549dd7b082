"""What the API remembers of a request sent with an ``Idempotency-Key`` (docs/api.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """One key of one caller: claimed while its request runs, then the answer to replay.

    ``expires_at`` is when the key may be taken again: a short grace after the claim while
    the request is in flight (a worker killed before it locked the row leaves a claim no one
    holds), the replay period once it is done. The purge task deletes expired rows.
    """

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the request body.")
    # Which request holds the claim, so a request that lost it cannot complete someone else's.
    claim = models.UUIDField()
    state = models.CharField(max_length=16, choices=State.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer's data as JSON text (ASCII, escaped): jsonb cannot hold a \u0000 that an
    # error message may echo back from the request. Empty while in flight.
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires_at")]

    def __str__(self) -> str:
        return f"{self.owner_id}:{self.key} ({self.state})"
