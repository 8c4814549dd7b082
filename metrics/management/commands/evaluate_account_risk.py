"""``manage.py evaluate_account_risk``: does the account risk score separate churners?

A back-test on the current database. Each churned account is scored as of one day before
its ``churned_at`` (the KPI's ``now``; the period is the ``--period-days`` before it), with
the same moment's scores of a random sample of never-churned accounts as controls. The
score's ROC AUC is the Mann–Whitney probability that a churner outscores a control (ties
count one half). Only accounts created before the previous period began are used, so every
score sees two full periods of history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Account
from metrics.kpis.accounts import FACTORS, AccountFigures, kpi_account_risk
from metrics.types import KpiFilter

SCORED_BEFORE_CHURN = timedelta(days=1)


def mann_whitney_auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting one half."""
    n_pos, n_neg = len(positives), len(negatives)
    if not n_pos or not n_neg:
        return None
    labelled = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum_pos, i = 0.0, 0
    while i < len(labelled):  # average ranks over ties
        j = i
        while j < len(labelled) and labelled[j][0] == labelled[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2
        rank_sum_pos += mean_rank * sum(label for _, label in labelled[i:j])
        i = j
    u = rank_sum_pos - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


@dataclass
class RiskEvaluation:
    churned: int = 0
    skipped_young: int = 0
    positives: list[AccountFigures] = field(default_factory=list)
    negatives: list[AccountFigures] = field(default_factory=list)

    @property
    def auc(self) -> float | None:
        return mann_whitney_auc([a.risk for a in self.positives], [a.risk for a in self.negatives])

    def factor_auc(self, name: str) -> float | None:
        def points(a: AccountFigures) -> float:
            return next(x.points for x in a.factors if x.name == name)

        return mann_whitney_auc(
            [points(a) for a in self.positives], [points(a) for a in self.negatives]
        )


def evaluate_account_risk(
    *, period_days: int = 90, controls: int = 5, seed: int = 1
) -> RiskEvaluation:
    """Score every churned account one day before it churned, and ``controls`` never-churned
    accounts at the same moment (one KPI statement per moment, scoring all accounts)."""
    rng = random.Random(seed)
    period = timedelta(days=period_days)
    accounts = {a["id"]: a for a in Account.objects.values("id", "created_at", "churned_at")}
    result = RiskEvaluation()
    churners = sorted(
        (a for a in accounts.values() if a["churned_at"] is not None),
        key=lambda a: (a["churned_at"], a["id"]),
    )
    for churner in churners:  # one query per churned account, not per case
        result.churned += 1
        moment = churner["churned_at"] - SCORED_BEFORE_CHURN
        history_from = moment - 2 * period
        if churner["created_at"] > history_from:
            result.skipped_young += 1
            continue
        f = KpiFilter(start=moment - period, end=moment, tz=ZoneInfo("UTC"))
        page = kpi_account_risk(f=f, now=moment, limit=None)
        by_id = {row.account_id: row for row in page.rows}
        if churner["id"] not in by_id:
            continue
        result.positives.append(by_id[churner["id"]])
        eligible = sorted(
            i
            for i in by_id
            if accounts[i]["churned_at"] is None and accounts[i]["created_at"] <= history_from
        )
        for i in rng.sample(eligible, min(controls, len(eligible))):
            result.negatives.append(by_id[i])
    return result


class Command(BaseCommand):
    help = (
        "Back-test the account risk score: score each churned account one day before it "
        "churned and a sample of never-churned accounts at the same moments; print the ROC "
        "AUC (Mann–Whitney) with counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period-days", type=int, default=90, help="period (default 90)")
        parser.add_argument(
            "--controls", type=int, default=5, help="controls per churned account (default 5)"
        )
        parser.add_argument("--seed", type=int, default=1, help="sampling seed (default 1)")

    def handle(
        self, *args: Any, period_days: int, controls: int, seed: int, **options: Any
    ) -> None:
        if period_days < 1 or controls < 1:
            raise CommandError("--period-days and --controls must be at least 1.")
        started = datetime.now(UTC)
        ev = evaluate_account_risk(period_days=period_days, controls=controls, seed=seed)
        seconds = (datetime.now(UTC) - started).total_seconds()
        pos, neg = len(ev.positives), len(ev.negatives)
        self.stdout.write(
            f"churned accounts: {ev.churned} ({ev.skipped_young} too young for two periods "
            f"of history); scored churners: {pos}; controls: {neg} never-churned account-moments"
        )
        if ev.auc is None:
            self.stdout.write("AUC: n/a (need at least one churner and one control)")
            return
        self.stdout.write(f"AUC: {ev.auc:.3f} (period {period_days} days, seed {seed})")
        self.stdout.write(
            "mean score: churners "
            f"{sum(a.risk for a in ev.positives) / pos:.1f}, controls "
            f"{sum(a.risk for a in ev.negatives) / neg:.1f}"
        )
        for fd in FACTORS:
            self.stdout.write(f"  factor {fd.name}: AUC {ev.factor_auc(fd.name):.3f}")
        self.stdout.write(f"({seconds:.1f}s)")
