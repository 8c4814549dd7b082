"""Detractor alerts with a hand-computed recovery answer (tests/metrics/test_kpi_recovery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import CaseFactory, DetractorAlertFactory, SurveyResponseFactory

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 10, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def alert(
    org, rep, created, *, contact=None, close=None, outcome=None, category=None, team_rep=None
):
    """An alert created at ``created`` on a case of ``team_rep or rep`` (rep None: an answer
    attributed to nobody), contacted ``contact`` later, closed ``close`` after that."""
    owner = team_rep or rep
    case = CaseFactory(
        resolved=True,
        assignee=owner,
        category=category or org.category,
        opened_at=created - 2 * D,
    )
    response = SurveyResponseFactory(case=case, representative=rep, csat=1, responded_at=created)
    manager = org.manager_a if owner.team_id == org.team_a.pk else org.manager_b
    fields = {"status": "open"}
    if contact is not None:
        fields.update(status="contacted", contacted_at=created + contact, contacted_by=manager.user)
    if close is not None:
        fields.update(status=outcome, closed_at=created + contact + close, closed_by=manager.user)
    return DetractorAlertFactory(response=response, **fields)


def recovery_alerts(org):
    """The hand-computed alert set of tests/metrics/test_kpi_recovery.py."""
    a1, a2 = org.rep_a1, org.rep_a2
    # rep_a1: contacted after 1 h (recovered), 3 h (not recovered), 2 h (still talking), never.
    alert(org, a1, START, contact=1 * H, close=D, outcome="recovered")  # the first instant
    alert(org, a1, at("2026-03-05T10:00"), contact=3 * H, close=2 * D, outcome="not_recovered")
    alert(org, a1, at("2026-03-10T10:00"), contact=2 * H)
    alert(org, a1, at("2026-03-12T10:00"))
    # rep_a2: 10 h and 4 h, both recovered.
    alert(org, a2, at("2026-03-15T10:00"), contact=10 * H, close=D, outcome="recovered")
    alert(org, a2, at("2026-03-20T10:00"), contact=4 * H, close=D, outcome="recovered")
    # Answers attributed to nobody, on team A's cases: contacted after 30 min and closed only
    # after NOW (so: contacted, not closed); contacted after NOW (so: not contacted yet).
    late = {"close": 20 * D, "outcome": "recovered", "team_rep": a1}
    alert(org, None, at("2026-03-25T10:00"), contact=H / 2, **late)
    alert(org, None, at("2026-03-30T10:00"), contact=12 * D, team_rep=a1)
    # Outside the window: the end instant belongs to the next one; a second before the start.
    alert(org, a1, END, contact=H, close=D, outcome="recovered")
    alert(org, a1, START - timedelta(seconds=1), contact=H, close=D, outcome="not_recovered")
    # Team B: 5 h, recovered.
    alert(org, org.rep_b1, at("2026-03-10T10:00"), contact=5 * H, close=D, outcome="recovered")
    return org
