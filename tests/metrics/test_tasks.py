"""Scheduled metrics jobs: the nightly account risk refresh and the weekly coaching digest.

Each task runs twice and leaves the same state. The digest's figures are computed by hand
from the small dataset below (Wilson intervals and means worked out in the comments).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import override_settings

from cases.models import Account, CaseStatus, DetractorAlert, OutboundEmail
from metrics.digest import coaching_digest_build, week_monday_of
from metrics.kpis.accounts import kpi_account_risk
from metrics.models import AccountRiskSnapshot
from metrics.tasks import account_risk_snapshot_refresh, coaching_digest_enqueue
from metrics.types import KpiFilter
from tests.factories import (
    AccountFactory,
    CaseFactory,
    ManagerFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# A Monday, 06:00 UTC: when beat sends the digest. Its window: [2 March, 30 March) UTC.
DIGEST_NOW = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
RISK_NOW = datetime(2026, 3, 30, 2, 30, tzinfo=UTC)


def snapshot_state() -> list[tuple]:
    return list(
        AccountRiskSnapshot.objects.order_by("account_id").values_list(
            "account_id",
            "computed_at",
            "period_start",
            "period_end",
            "score",
            "factors",
            "cases",
            "open_now",
            "definition_version",
        )
    )


# --- nightly refresh --------------------------------------------------------------------------


def test_week_monday_is_the_utc_monday_of_the_week():
    assert week_monday_of(DIGEST_NOW) == date(2026, 3, 30)
    assert week_monday_of(datetime(2026, 4, 5, 23, 59, tzinfo=UTC)) == date(2026, 3, 30)
    # Late on Sunday in New York is already Monday in UTC.
    new_york = datetime(2026, 4, 5, 21, 0, tzinfo=ZoneInfo("America/New_York"))
    assert week_monday_of(new_york) == date(2026, 4, 6)


def test_nightly_refresh_stores_the_kpi_for_every_active_account_and_replaces_it(org, time_machine):
    time_machine.move_to(RISK_NOW - timedelta(days=200), tick=False)
    busy = AccountFactory(name="Busy")
    quiet = AccountFactory(name="Quiet")
    churned = AccountFactory(name="Gone")
    for days in (10, 20, 30):
        CaseFactory(account=busy, assignee=org.rep_a1, opened_at=RISK_NOW - timedelta(days=days))
    CaseFactory(
        account=busy,
        assignee=org.rep_a1,
        opened_at=RISK_NOW - timedelta(days=120),
        resolved=True,
    )
    CaseFactory(account=quiet, assignee=org.rep_a2, opened_at=RISK_NOW - timedelta(days=5))
    # A stale row from an earlier night, for an account that has churned since: replaced.
    AccountRiskSnapshot.objects.create(
        account=churned,
        computed_at=RISK_NOW - timedelta(days=1),
        period_start=RISK_NOW - timedelta(days=91),
        period_end=RISK_NOW - timedelta(days=1),
        score=99,
        factors=[],
        cases=9,
        open_now=9,
        definition_version=1,
    )
    Account.objects.filter(pk=churned.pk).update(
        status=Account.Status.CHURNED, churned_at=RISK_NOW - timedelta(hours=5)
    )

    time_machine.move_to(RISK_NOW, tick=False)
    assert account_risk_snapshot_refresh.apply().get() == 2
    first = snapshot_state()
    assert account_risk_snapshot_refresh.apply().get() == 2
    assert snapshot_state() == first

    expected = kpi_account_risk(
        f=KpiFilter(start=RISK_NOW - timedelta(days=90), end=RISK_NOW, tz=ZoneInfo("UTC")),
        now=RISK_NOW,
        limit=None,
    )
    assert [row.account_id for row in expected.rows] == sorted(
        [busy.pk, quiet.pk],
        key=lambda pk: -next(r.risk for r in expected.rows if r.account_id == pk),
    )
    assert first == sorted(
        (
            row.account_id,
            RISK_NOW,
            RISK_NOW - timedelta(days=90),
            RISK_NOW,
            row.risk,
            [asdict(factor) for factor in row.factors],
            row.cases,
            row.open_now,
            1,
        )
        for row in expected.rows
    )
    # Hand-checkable parts: three cases in the period for Busy (the fourth is older), all
    # open now; one for Quiet, open now.
    by_account = {row[0]: row for row in first}
    assert (by_account[busy.pk][6], by_account[busy.pk][7]) == (3, 3)
    assert (by_account[quiet.pk][6], by_account[quiet.pk][7]) == (1, 1)
    assert [f["name"] for f in by_account[busy.pk][5]] == [
        "volume_trend",
        "volume_vs_value",
        "csat",
        "detractors",
        "reopens",
        "open_backlog",
    ]
    assert by_account[busy.pk][4] == pytest.approx(sum(f["points"] for f in by_account[busy.pk][5]))


# --- weekly coaching digest ---------------------------------------------------------------


@pytest.fixture
def digest_data(org, time_machine):
    """Team Alpha (manager_a; reps a1, a2) and, to be left out of Alpha's digest, Bravo."""
    time_machine.move_to(DIGEST_NOW - timedelta(days=60), tick=False)
    a1, a2, b1 = org.rep_a1, org.rep_a2, org.rep_b1
    on_time = WINDOW_START + timedelta(days=1)  # cases opened 3 March, resolved 4 h later

    # CSAT (answered 4 March): a1 six 5s; a2 five 3s. Team: 6 of 11 satisfied.
    responses = []
    for _ in range(6):
        case = CaseFactory(assignee=a1, opened_at=on_time, resolved=True)
        responses.append(SurveyResponseFactory(case=case, representative=a1, csat=5, nps=9))
    for _ in range(5):
        case = CaseFactory(assignee=a2, opened_at=on_time, resolved=True)
        SurveyResponseFactory(case=case, representative=a2, csat=3)
    # One more resolved case: three replies and a reopen (not one-touch, reopened).
    CaseFactory(
        assignee=a1,
        opened_at=on_time,
        resolved=True,
        agent_response_count=3,
        reopened_count=1,
    )
    # Outside the window: resolved and answered in February.
    old = CaseFactory(assignee=a2, opened_at=WINDOW_START - timedelta(days=10), resolved=True)
    SurveyResponseFactory(case=old, representative=a2, csat=1)

    # Backlog now: under a day, 1–3 days and over 30 days old.
    for age in (timedelta(hours=2), timedelta(days=2), timedelta(days=40)):
        CaseFactory(assignee=a1, opened_at=DIGEST_NOW - age, status=CaseStatus.OPEN)

    # Alerts: a1 has one nobody contacted; a2's was contacted (not listed for it).
    DetractorAlert.objects.create(
        response=responses[0],
        case=responses[0].case,
        team=org.team_a,
        representative=a1,
        created_at=on_time + timedelta(days=1),
    )
    contacted = SurveyResponseFactory(
        case=CaseFactory(assignee=a2, opened_at=WINDOW_START - timedelta(days=20), resolved=True),
        representative=a2,
        csat=2,
        responded_at=WINDOW_START - timedelta(days=15),
    )
    DetractorAlert.objects.create(
        response=contacted,
        case=contacted.case,
        team=org.team_a,
        representative=a2,
        status=DetractorAlert.Status.CONTACTED,
        created_at=WINDOW_START - timedelta(days=15),
        contacted_at=WINDOW_START - timedelta(days=14),
    )

    # Bravo: a poor answer, an open case, an open alert — none of it in Alpha's digest.
    bravo_case = CaseFactory(assignee=b1, opened_at=on_time, resolved=True)
    bravo = SurveyResponseFactory(case=bravo_case, representative=b1, csat=1)
    CaseFactory(assignee=b1, opened_at=DIGEST_NOW - timedelta(days=1), status=CaseStatus.OPEN)
    DetractorAlert.objects.create(
        response=bravo,
        case=bravo_case,
        team=org.team_b,
        representative=b1,
        created_at=on_time + timedelta(days=1),
    )

    # Last night's risk scores (stored rows, set by hand).
    period_start = DIGEST_NOW - timedelta(days=90)
    risky = AccountFactory(name="Harbour Freight")
    bravo_only = AccountFactory(name="Bravo Only")
    calm = AccountFactory(name="Calm Co")
    dormant = AccountFactory(name="Dormant")
    CaseFactory(account=risky, assignee=a1, opened_at=DIGEST_NOW - timedelta(days=10))
    CaseFactory(account=bravo_only, assignee=b1, opened_at=DIGEST_NOW - timedelta(days=10))
    CaseFactory(account=calm, assignee=a2, opened_at=DIGEST_NOW - timedelta(days=10))
    CaseFactory(
        account=dormant,
        assignee=a2,
        opened_at=DIGEST_NOW - timedelta(days=120),
        resolved=True,
    )

    def factors(**points):
        return [
            {"name": name, "points": points.get(name, 0.0)}
            for name in (
                "volume_trend",
                "volume_vs_value",
                "csat",
                "detractors",
                "reopens",
                "open_backlog",
            )
        ]

    for account, score, its_factors in (
        (risky, 72.0, factors(open_backlog=20.0, csat=12.5, volume_trend=20.0, reopens=4.5)),
        (bravo_only, 80.0, factors(csat=20.0)),
        (calm, 39.9, factors(open_backlog=15.0)),
        (dormant, 60.0, factors(csat=20.0)),
    ):
        AccountRiskSnapshot.objects.create(
            account=account,
            computed_at=DIGEST_NOW - timedelta(hours=3, minutes=30),
            period_start=period_start,
            period_end=DIGEST_NOW - timedelta(hours=3, minutes=30),
            score=score,
            factors=its_factors,
            cases=4,
            open_now=2,
            definition_version=1,
        )
    time_machine.move_to(DIGEST_NOW, tick=False)
    return org, risky


ALPHA_BODY = """Hello Mgr_A,

this is Alpha's coaching digest for the week of 30 March 2026.
Rates cover the four weeks 2 Mar – 29 Mar 2026 (UTC); the backlog is as of now.

BACKLOG
Open now: 5
  under 1 day: 1
  1–3 days: 1
  3–7 days: 0
  7–30 days: 2
  over 30 days: 1

FIRST CONTACT RESOLUTION (12 cases resolved)
FCR: 92% (95% CI 65–99%, n=12)
Reopen rate: 8% (95% CI 1–35%, n=12)

CSAT (11 answers)
Satisfied (4–5 of 5): 55% (95% CI 28–79%, n=11)
Mean rating: 4.09 (95% CI 3.47–4.71, n=11)

REPS NEEDING ATTENTION
- Rep_A1: 1 detractor alert not contacted yet
- Rep_A2: satisfied share 0% (95% CI 0–43%, n=5) is below the team's 55% even at the top \
of its interval
(A rep is listed when their satisfied share stays below the team's even at the top of its \
95% interval — only with at least 5 answers — or when they have detractor alerts nobody has \
contacted yet. Alphabetical, not a ranking.)

ACCOUNTS NEEDING ATTENTION
- Harbour Freight: risk 72/100 (many cases open now, more contacts than the period before); \
4 cases in 90 days, 2 open

Open alerts: http://testserver.example/api/v1/alerts/?status=open&team={team}
CSAT by rep: http://testserver.example/api/v1/metrics/csat/?from=2026-03-02&to=2026-03-29&team={team}
Accounts: http://testserver.example/api/v1/metrics/accounts/?team={team}
"""


@override_settings(SUPPORTMETRICS_MIN_SAMPLE=5, PUBLIC_BASE_URL="http://testserver.example")
def test_digest_figures_are_the_hand_computed_ones(digest_data):
    org, risky = digest_data
    digest = coaching_digest_build(
        manager=org.manager_a, week_monday=date(2026, 3, 30), now=DIGEST_NOW
    )
    assert (digest.start, digest.end) == (WINDOW_START, datetime(2026, 3, 30, tzinfo=UTC))
    # Open now: the three backlog cases, and Harbour Freight's and Calm Co's (10 days old).
    assert digest.open_now == 5
    assert digest.open_by_age == {"lt_1d": 1, "d1_3": 1, "d3_7": 0, "d7_30": 2, "gt_30d": 1}
    # Resolved in the window: 11 answered one-touch cases and one with 3 replies, reopened.
    # FCR 11/12: Wilson centre (p + z²/2n)/(1 + z²/n) = 1.07673/1.32013 = 0.81563, half
    # z·√(p(1−p)/n + z²/4n²)/(1 + z²/n) = 1.96·0.11417/1.32013 = 0.16951 → 0.646–0.985.
    assert digest.resolved == 12
    assert (digest.fcr.count, digest.fcr.n) == (11, 12)
    assert digest.fcr.low == pytest.approx(0.64611, abs=1e-4)
    assert digest.fcr.high == pytest.approx(0.98514, abs=1e-4)
    assert (digest.reopen_rate.count, digest.reopen_rate.n) == (1, 12)
    assert digest.reopen_rate.high == pytest.approx(0.35389, abs=1e-4)
    # CSAT: six 5s (a1) and five 3s (a2); February's 1 and Bravo's 1 are left out.
    # Satisfied 6/11 → 0.2801–0.7873. Mean 45/11 = 4.0909, sd 1.04447, ± 1.96·sd/√11 = 0.61724.
    assert digest.responses == 11
    assert (digest.satisfied.count, digest.satisfied.n) == (6, 11)
    assert digest.satisfied.low == pytest.approx(0.28009, abs=1e-4)
    assert digest.satisfied.high == pytest.approx(0.78729, abs=1e-4)
    assert digest.csat_mean.value == pytest.approx(45 / 11)
    assert digest.csat_mean.low == pytest.approx(4.09091 - 0.61724, abs=1e-4)
    # a2: 0/5 satisfied, Wilson high 2·(z²/2n)/(1 + z²/n) = 0.43448 < the team's 0.5455.
    # a1: 6/6 satisfied, but one alert nobody contacted. Alphabetical.
    assert [(r.name, len(r.reasons)) for r in digest.reps] == [("Rep_A1", 1), ("Rep_A2", 1)]
    assert digest.reps[1].reasons[0].startswith("satisfied share 0% (95% CI 0–43%, n=5)")
    # Accounts: Harbour Freight (72, an Alpha case this period). Not Bravo Only (Bravo's),
    # Calm Co (39.9 < 40) nor Dormant (its Alpha case is older than the risk period, closed).
    assert [(a.account_id, a.score) for a in digest.accounts] == [(risky.pk, 72.0)]
    assert digest.accounts[0].main_factors == (
        "many cases open now",
        "more contacts than the period before",
    )


@override_settings(SUPPORTMETRICS_MIN_SAMPLE=5, PUBLIC_BASE_URL="http://testserver.example")
def test_digest_task_queues_one_email_per_manager_once_a_week(
    digest_data, django_capture_on_commit_callbacks
):
    org, _ = digest_data
    ManagerFactory(team=org.team_a, user=UserFactory(username="no_mail", email=""))
    ManagerFactory(team=org.team_b, user__username="left", active=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert coaching_digest_enqueue.apply().get() == 2
    state = list(
        OutboundEmail.objects.order_by("dedupe_key").values_list(
            "dedupe_key", "kind", "recipient_id", "period_start", "status", "subject"
        )
    )
    assert state == [
        (
            f"coaching_digest:2026-03-30:{org.manager_a.pk}",
            "coaching_digest",
            org.manager_a.pk,
            date(2026, 3, 30),
            "sent",
            "Coaching digest for Alpha, week of 30 Mar 2026",
        ),
        (
            f"coaching_digest:2026-03-30:{org.manager_b.pk}",
            "coaching_digest",
            org.manager_b.pk,
            date(2026, 3, 30),
            "sent",
            "Coaching digest for Bravo, week of 30 Mar 2026",
        ),
    ]
    # Twice (beat fired again, or a later hour the same week): the same state, no mail.
    with django_capture_on_commit_callbacks(execute=True):
        assert coaching_digest_enqueue.apply().get() == 0
    assert (
        list(
            OutboundEmail.objects.order_by("dedupe_key").values_list(
                "dedupe_key", "kind", "recipient_id", "period_start", "status", "subject"
            )
        )
        == state
    )
    assert len(mail.outbox) == 2

    alpha = next(m for m in mail.outbox if m.to == ["mgr_a@example.com"])
    assert alpha.body == ALPHA_BODY.format(team=org.team_a.pk)
    html = alpha.alternatives[0][0]
    assert "<li>Rep_A2: satisfied share 0% (95% CI 0–43%, n=5) is below" in html
    assert "<li>Harbour Freight: risk 72/100" in html
    assert "Bravo Only" not in alpha.body
    bravo = next(m for m in mail.outbox if m.to == ["mgr_b@example.com"])
    assert "- Rep_B1: 1 detractor alert not contacted yet" in bravo.body
    assert "- Bravo Only: risk 80/100 (low CSAT)" in bravo.body
    assert "Harbour Freight" not in bravo.body
