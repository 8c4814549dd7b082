"""Writes of the metrics app: the stored risk snapshot and the weekly coaching digest."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from cases.models import OutboundEmail, Representative
from cases.services.outbox import outbound_email_enqueue
from metrics.digest import coaching_digest_build, coaching_digest_render, week_monday_of
from metrics.kpis.accounts import DEFINITION_VERSION, kpi_account_risk
from metrics.models import AccountRiskSnapshot
from metrics.types import KpiFilter

logger = logging.getLogger(__name__)

# The risk model was set up and back-tested on 90-day periods (as the accounts endpoint).
RISK_PERIOD = timedelta(days=90)


@transaction.atomic
def account_risk_snapshot_refresh(*, now: datetime) -> int:
    """Recompute every active account's risk (period: the 90 days before ``now``) and replace
    the stored snapshot with it in one transaction; returns the number of accounts.

    Idempotent: the same ``now`` gives the same table. Scores are relative to all active
    accounts (the unsliced peers), as an admin sees them on the accounts endpoint.
    """
    f = KpiFilter(start=now - RISK_PERIOD, end=now, tz=ZoneInfo("UTC"))
    page = kpi_account_risk(f=f, now=now, limit=None)
    AccountRiskSnapshot.objects.all().delete()
    AccountRiskSnapshot.objects.bulk_create(
        AccountRiskSnapshot(
            account_id=row.account_id,
            computed_at=now,
            period_start=page.period_start,
            period_end=page.period_end,
            score=row.risk,
            factors=[asdict(factor) for factor in row.factors],
            cases=row.cases,
            open_now=row.open_now,
            definition_version=DEFINITION_VERSION,
        )
        for row in page.rows
    )
    return len(page.rows)


def coaching_digest_recipients() -> list[Representative]:
    """Active managers whose login is active and has an email address."""
    return list(
        Representative.objects.select_related("team", "user")
        .filter(role=Representative.Role.MANAGER, active=True, user__is_active=True)
        .exclude(user__email="")
        .order_by("id")
    )


def coaching_digest_enqueue(*, now: datetime) -> int:
    """Queue this week's coaching digest for every active manager with an email address.

    Rendered now (the email is a snapshot of the week) and stored on the outbox row; the
    dedupe key ``coaching_digest:{monday}:{manager id}`` makes a re-run in the same week a
    no-op. Each manager's digest commits on its own, so one failure does not hold the rest
    back. Returns how many digests were newly queued.
    """
    monday = week_monday_of(now)
    queued = 0
    for manager in coaching_digest_recipients():
        dedupe_key = f"coaching_digest:{monday.isoformat()}:{manager.pk}"
        if OutboundEmail.objects.filter(dedupe_key=dedupe_key).exists():
            continue
        digest = coaching_digest_build(manager=manager, week_monday=monday, now=now)
        subject, body, html_body = coaching_digest_render(digest)
        with transaction.atomic():
            outbound_email_enqueue(
                kind=OutboundEmail.Kind.COACHING_DIGEST,
                dedupe_key=dedupe_key,
                recipient=manager,
                period_start=monday,
                subject=subject,
                body=body,
                html_body=html_body,
            )
        queued += 1
    return queued
