"""Stored metric snapshots and rollups: only what is too slow to compute on every request."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from cases.models import Account, Category, Representative, Team


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


def hour_slots() -> list[int]:
    """An empty day: 25 cumulative hourly counts (metrics.rollups.spec)."""
    return [0] * 25


def _hours() -> ArrayField:
    return ArrayField(models.IntegerField(), size=25, default=hour_slots)


def _dimension(model: type[models.Model]) -> models.ForeignKey:
    # No foreign-key constraint and no index of its own: the rollups are kept by triggers
    # on the case tables, a row may outlive its team or category until the next rebuild,
    # and the table's unique key is the index its reads use.
    return models.ForeignKey(
        model,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


class RollupCategoryDay(models.Model):
    """Cases opened per UTC day × category, as 25 cumulative hourly counts.

    The seasonality of everything or of categories reads this, a tenth of the rows of
    ``RollupOpenedDay``. Kept by the same triggers.
    """

    day = models.DateField()
    category = _dimension(Category)
    opened = _hours()

    class Meta:
        db_table = "metrics_rollup_category_day"
        constraints = [
            models.UniqueConstraint(
                fields=["category", "day"], name="rollup_category_day_key", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["day"], name="rollup_category_day_day")]

    def __str__(self) -> str:
        return f"{self.day} category {self.category_id}: {self.opened[-1]} opened"


class RollupOpenedDay(models.Model):
    """Cases opened per UTC day × team × category, as 25 cumulative hourly counts.

    Kept current by database triggers on ``cases_case`` (metrics.rollups.ddl) and
    rebuilt by ``metrics.rollups.rollups_rebuild``; read by the seasonality KPIs.
    """

    day = models.DateField()
    team = _dimension(Team)
    category = _dimension(Category)
    opened = _hours()

    class Meta:
        db_table = "metrics_rollup_opened_day"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "category", "day"],
                name="rollup_opened_day_key",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["day"], name="rollup_opened_day_day")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} cat. {self.category_id}: {self.opened[-1]} opened"


class RollupBacklogDay(models.Model):
    """Per UTC day × team: cases opened, resolutions and reopenings, hourly cumulative.

    Events count under their case's current team. Read by the backlog trend.
    """

    day = models.DateField()
    team = _dimension(Team)
    opened = _hours()
    resolved = _hours()
    reopened = _hours()

    class Meta:
        db_table = "metrics_rollup_backlog_day"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "day"], name="rollup_backlog_day_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id}: {self.opened[-1]} opened"


class RollupRepDay(models.Model):
    """Per UTC day × assignee × team: the backlog flows of the rep's cases, and the
    resolutions the rep made (``resolved_by_rep``, by event actor), hourly cumulative.

    Unassigned cases and resolutions without an actor have no row. Read by the backlog
    against each rep's own history.
    """

    day = models.DateField()
    rep = _dimension(Representative)
    team = _dimension(Team)
    opened = _hours()
    resolved = _hours()
    reopened = _hours()
    resolved_by_rep = _hours()

    class Meta:
        db_table = "metrics_rollup_rep_day"
        constraints = [
            models.UniqueConstraint(
                fields=["rep", "team", "day"], name="rollup_rep_day_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} rep {self.rep_id} team {self.team_id}: {self.opened[-1]} opened"


class RollupResolvedDay(models.Model):
    """Per UTC day × team: the cases whose latest resolution (``resolved_at``) falls in each
    hour, with their first-contact counts, hourly cumulative.

    A case counts under its current team from its folded counts (responses, reopens), so
    a reopening or a late agent response moves it, as it moves the FCR of the case tables.
    Read by the first contact resolution KPI.
    """

    day = models.DateField()
    team = _dimension(Team)
    resolved_cases = _hours()
    zero_touch = _hours()
    touched = _hours()
    one_touch = _hours()
    reopened_cases = _hours()

    class Meta:
        db_table = "metrics_rollup_resolved_day"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "day"], name="rollup_resolved_day_key", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id}: {self.resolved_cases[-1]} resolved"


class RollupPendingFact(models.Model):
    """A change the triggers recorded and no transaction has folded into the rollups yet.

    Triggers only append here (no row is contended, so concurrent writers neither wait for
    each other nor deadlock); the writer that holds the fold lock moves the rows into the
    rollup tables. Readers add the rows still here (the ``*_live`` views), so the figures
    are exact whether or not a fact has been folded. ``at`` is the UTC hour, ``d`` the
    signed count of the facts of that hour and key.
    """

    measure = models.CharField(max_length=24)
    at = models.DateTimeField()
    d = models.IntegerField()
    team = _dimension(Team)
    category = _dimension(Category)
    rep = _dimension(Representative)

    class Meta:
        db_table = "metrics_rollup_pending"

    def __str__(self) -> str:
        return f"{self.d:+d} {self.measure} at {self.at:%Y-%m-%d %H}:00"
