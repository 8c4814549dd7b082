"""Survey invitations for many resolutions at once (the bulk API's snapshots).

``survey_invitation_create_for_resolution`` decides one resolution with five or six queries;
a batch of 100 resolved snapshots would spend most of its time there. This makes the same
decisions, in the same order, for a whole batch with a fixed number of queries: the facts
the rules read are loaded for every resolution of the batch up front, and a decision that
changes a fact a later resolution reads (an invitation to be sent makes the requester
"recently surveyed") is applied before that resolution is decided. The rules and their
order are ``survey_suppression_reason``'s; tests/surveys/test_batch.py checks that both give
the same invitations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cases.models import CaseStatus, OutboundEmail, SurveyInvitation, SurveyOptOut
from cases.requesters import requester_hash
from cases.services.sql import execute_binary
from cases.services.surveys import _enqueue_email

Suppression = SurveyInvitation.Suppression
InvitationStatus = SurveyInvitation.Status
RESOLVED = (CaseStatus.RESOLVED, CaseStatus.CLOSED)
TABLE = SurveyInvitation._meta.db_table
OPT_OUTS = SurveyOptOut._meta.db_table


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the survey rules read of a resolved case."""

    case_id: int
    status: str
    resolved_at: datetime | None
    reopened_count: int
    resolved_by_id: int | None
    account_id: int | None
    requester_email: str


# No savepoint of its own: it runs inside the upsert's transaction and fails with it.
@transaction.atomic(savepoint=False)
def survey_invitations_create_for_resolutions(
    *, resolutions: Sequence[Resolution], now: datetime
) -> int:
    """``survey_invitation_create_for_resolution`` for each resolution, in order, in the
    caller's transaction; returns how many invitations were created.

    Same outcome as calling it once per resolution: one invitation per resolution (an
    existing one is left alone), the first suppression rule that applies kept as the reason,
    one ``survey_invitation`` email for each unsuppressed invitation. The same requester
    locks are taken (all of them, in a fixed order, so two batches cannot deadlock).
    """
    candidates = [r for r in resolutions if r.status in RESOLVED and r.resolved_at is not None]
    if not candidates:
        return 0
    hashes = {r.case_id: requester_hash(r.requester_email) for r in candidates}
    distinct = sorted({h for h in hashes.values() if h})
    if distinct:
        # unnest yields the (sorted) array in order: the locks are taken in that order.
        execute_binary(
            "SELECT pg_advisory_xact_lock(hashtextextended('survey-requester:' || h, 0)) "
            "FROM unnest(%b::text[]) AS t(h)",
            [distinct],
        )
    # Under those locks, every fact the rules read, in one statement.
    cutoff = now - timedelta(days=settings.SURVEY_REQUESTER_COOLDOWN_DAYS)
    existing: set[tuple[int, int]] = set()
    opted_accounts: set[int] = set()
    opted_requesters: set[str] = set()
    surveyed: dict[str, set[int]] = defaultdict(set)  # requester → cases surveyed recently
    for fact, case_id, number, email_hash in execute_binary(
        f"SELECT 'invited', case_id, resolution_number, NULL::text FROM {TABLE} "
        "WHERE case_id = ANY(%b::bigint[]) "
        f"UNION ALL SELECT 'account', account_id, NULL, NULL FROM {OPT_OUTS} "
        "WHERE account_id = ANY(%b::bigint[]) "
        f"UNION ALL SELECT 'requester', NULL, NULL, requester_hash FROM {OPT_OUTS} "
        "WHERE requester_hash = ANY(%b::text[]) "
        f"UNION ALL SELECT 'surveyed', case_id, NULL, requester_hash FROM {TABLE} "
        "WHERE requester_hash = ANY(%b::text[]) AND (sent_at >= %b OR (status = %b "
        "AND sent_at IS NULL AND created_at >= %b))",
        [
            [r.case_id for r in candidates],
            sorted({r.account_id for r in candidates if r.account_id}),
            distinct,
            distinct,
            cutoff,
            InvitationStatus.PENDING.value,
            cutoff,
        ],
    ):
        if fact == "invited":
            existing.add((case_id, number))
        elif fact == "account":
            opted_accounts.add(case_id)
        elif fact == "requester":
            opted_requesters.add(email_hash)
        else:
            surveyed[email_hash].add(case_id)
    candidates = [r for r in candidates if (r.case_id, r.reopened_count + 1) not in existing]
    if not candidates:
        return 0
    max_age = timedelta(hours=settings.SURVEY_MAX_RESOLUTION_AGE_HOURS)
    expires_at = now + timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)

    rows: list[tuple[Any, ...]] = []
    for r in candidates:
        email_hash = hashes[r.case_id]
        assert r.resolved_at is not None
        if not email_hash:
            reason = Suppression.NO_EMAIL
        elif r.account_id and r.account_id in opted_accounts:
            reason = Suppression.ACCOUNT_OPTED_OUT
        elif email_hash in opted_requesters:
            reason = Suppression.REQUESTER_OPTED_OUT
        elif surveyed[email_hash] - {r.case_id}:
            reason = Suppression.RECENTLY_SURVEYED
        elif now - r.resolved_at > max_age:
            reason = Suppression.STALE_RESOLUTION
        else:
            reason = Suppression.NONE
            surveyed[email_hash].add(r.case_id)  # pending from now on: counts for the next
        status = InvitationStatus.SUPPRESSED if reason else InvitationStatus.PENDING
        rows.append(
            (
                r.case_id,
                r.reopened_count + 1,
                r.resolved_by_id,
                r.resolved_at,
                email_hash,
                status.value,
                reason.value,
            )
        )
    # One statement, like bulk_create but without a model instance per row; the columns not
    # named take the values a new invitation has (auto_now_add, then the field defaults).
    created_at = timezone.now()
    inserted = execute_binary(
        f"INSERT INTO {TABLE} (case_id, resolution_number, representative_id, resolved_at, "
        "requester_hash, status, suppression, created_at, expires_at) "
        "SELECT c, n, r, t, h, s, p, %b, %b FROM unnest(%b::bigint[], %b::integer[], "
        "%b::bigint[], %b::timestamptz[], %b::text[], %b::text[], %b::text[]) "
        "WITH ORDINALITY AS v(c, n, r, t, h, s, p, i) ORDER BY i "
        "RETURNING id, case_id, resolution_number",
        [created_at, expires_at, *(list(column) for column in zip(*rows, strict=True))],
    )
    pks = {(case_id, number): pk for pk, case_id, number in inserted}
    for row in rows:
        if row[6]:
            continue  # suppressed: nothing to send
        invitation = SurveyInvitation.objects.get(pk=pks[row[0], row[1]])
        _enqueue_email(
            kind=OutboundEmail.Kind.SURVEY_INVITATION,
            dedupe_key=f"survey_invitation:{invitation.pk}",
            invitation=invitation,
        )
    return len(rows)
