"""Stored metric snapshots: only what is too slow to compute on every request."""

from __future__ import annotations

from django.db import models

from cases.models import Account


class AccountRiskSnapshot(models.Model):
    """Each active account's risk score as of the last nightly refresh, with its factors.

    Replaced as a whole, in one transaction, by ``metrics.services.account_risk_snapshot_refresh``
    (readers see the previous night's table or the new one, never a mix). The score and its
    factors are exactly what ``kpi_account_risk`` returns for the period ending at
    ``computed_at``.
    """

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="risk_snapshot")
    computed_at = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    score = models.FloatField()
    # [{"name", "weight", "raw", "adjusted", "zero_at", "full_at", "points", "n"}, ...]
    factors = models.JSONField()
    cases = models.PositiveIntegerField()
    open_now = models.PositiveIntegerField()
    definition_version = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["-score", "account_id"]
        indexes = [models.Index(fields=["-score"], name="account_risk_snapshot_score")]

    def __str__(self) -> str:
        return f"risk {self.score:.0f} for account {self.account_id} at {self.computed_at}"
