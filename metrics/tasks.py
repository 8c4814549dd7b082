"""Scheduled metrics jobs (the beat schedule is in supportmetrics/celery.py).

All are idempotent: the refresh replaces the whole snapshot, the digest dedupes per manager
and week, the rollup rebuild recomputes every row. So they run with acks_late, and a
duplicate run is harmless.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from metrics import services
from metrics.rollups.every import compact_every_rollup, rebuild_every_rollup


@shared_task(name="metrics.tasks.account_risk_snapshot_refresh", acks_late=True)
def account_risk_snapshot_refresh() -> int:
    """Nightly: every active account's risk score into metrics.AccountRiskSnapshot."""
    return services.account_risk_snapshot_refresh(now=timezone.now())


@shared_task(name="metrics.tasks.coaching_digest_enqueue", acks_late=True)
def coaching_digest_enqueue() -> int:
    """Monday morning: queue the week's coaching digest for every active manager."""
    return services.coaching_digest_enqueue(now=timezone.now())


@shared_task(name="metrics.tasks.rollups_rebuild", acks_late=True)
def rollups_rebuild() -> dict[str, int]:
    """Weekly: recompute the rollup tables from the cases (the triggers keep them exact;
    this repairs anything written with the triggers disabled, e.g. by a raw restore), then
    compact them (the rebuild rewrites every row)."""
    counts = rebuild_every_rollup()
    compact_every_rollup()
    return counts
