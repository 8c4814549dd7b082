"""Account summary, risk and turnover against a hand-computed account set.

The set is tests.metrics.builders.account_cases; the period is [10 Feb 12:00, 10 Mar 12:00)
UTC, i.e. the 28 days ending at NOW, and the previous period [13 Jan 12:00, 10 Feb 12:00).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Account, Case, CaseEvent, SurveyResponse
from metrics.kpis.accounts import (
    CSAT_PSEUDO_RESPONSES,
    FACTORS,
    REOPEN_PSEUDO_CASES,
    VOLUME_SMOOTHING,
    kpi_account_risk,
    kpi_account_turnover,
)
from metrics.management.commands.evaluate_account_risk import (
    evaluate_account_risk,
    mann_whitney_auc,
)
from metrics.types import KpiFilter
from tests.metrics.builders import (
    BERLIN,
    NOW,
    account_cases,
    add_csat,
    at,
    folded_cases,
    make_account,
)

pytestmark = pytest.mark.django_db

START = at("2026-02-10T12:00")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def window(org=None, *, start=START, end=NOW, **slice_):
    return KpiFilter(start=start, end=end, tz=ZoneInfo("UTC"), **slice_)


def team_a(org, **kw):
    return window(team_ids=(org.team_a.pk,), **kw)


def by_name(page):
    return {row.external_id: row for row in page.rows}


def points(row):
    return {x.name: x.points for x in row.factors}


@pytest.fixture
def accounts(org):
    return account_cases(org)


def test_team_a_figures_per_account(accounts, django_assert_num_queries):
    org = accounts
    with django_assert_num_queries(1):
        page = kpi_account_risk(f=team_a(org), now=NOW)
    # Team A's accounts: acme, beta, gamma (+ gone, churned before NOW, so not listed).
    assert page.total == 3
    assert page.period_start == START and page.period_end == NOW
    assert page.previous_start == at("2026-01-13T12:00")
    rows = by_name(page)
    acme, beta, gamma = rows["acme"], rows["beta"], rows["gamma"]
    # acme: period a2 a3 a4 a5 a7 a8 (a7 at the first instant); previous a1 a6 (an hour
    # before the start). Open now: a3, and a4 reopened. Reopened: a2, a4.
    assert (acme.cases, acme.previous_cases, acme.open_now, acme.reopened) == (6, 2, 2, 2)
    # Answers in the period: a2 → 2, a5 → 5, a7 → 4, a6 → 3 (its case is from the previous
    # period, its answer is not); a1's answer came in the previous period.
    assert acme.csat.n == 4 and acme.csat.detractors == 1
    assert acme.csat.mean is None and acme.csat.insufficient_data  # 4 < min_n 10
    assert acme.cases_per_10k_value == pytest.approx(3.0)  # 6 × 10,000 / 20,000
    assert acme.reopen_rate.value == pytest.approx(2 / 6)
    assert (beta.cases, beta.previous_cases, beta.open_now, beta.reopened) == (2, 0, 1, 0)
    assert (beta.csat.n, beta.csat.detractors) == (1, 0)
    assert gamma.cases == 1 and gamma.cases_per_10k_value is None  # no annual value
    assert gamma.csat.n == 0 and gamma.csat.detractor_rate.value is None


def test_team_a_risk_points_hand_computed(accounts):
    page = kpi_account_risk(f=team_a(accounts), now=NOW)
    # Peers (acme, beta, gamma): CSAT mean (14 + 5) / 5 = 3.8; detractor share 1/5 = 0.2;
    # reopen rate 2 / 9; cases per 10k: acme 3.0, beta 2.0 (gamma has no value) → median 2.5.
    assert page.peers.accounts == 3
    assert page.peers.csat_mean == pytest.approx(3.8)
    assert page.peers.detractor_rate == pytest.approx(0.2)
    assert page.peers.reopen_rate == pytest.approx(2 / 9)
    assert page.peers.cases_per_10k_median == pytest.approx(2.5)
    rows = by_name(page)
    # acme: trend (6+2)/(2+2) = 2.0 → 20 × 1/1.5 = 13.3; value 3.0/2.5 = 1.2 → 10 × 0.2/3
    # = 0.7; CSAT (14 + 3×3.8)/7 = 3.629 → 20 × 0.371/1.5 = 5.0; detractors (1 + 0.6)/7 =
    # 0.2286 → 15 × 0.1286/0.3 = 6.4; reopens (2 + 5×2/9)/11 = 0.2828 → 15 × 0.2028/0.22
    # = 13.8; backlog 2/(6+2) = 0.25 → 20 × 0.15/0.4 = 7.5. Sum 46.7.
    assert points(rows["acme"]) == pytest.approx(
        {
            "volume_trend": 13.3,
            "volume_vs_value": 0.7,
            "csat": 5.0,
            "detractors": 6.4,
            "reopens": 13.8,
            "open_backlog": 7.5,
        }
    )
    assert rows["acme"].risk == pytest.approx(46.7)
    # beta: trend 4/2 → 13.3; value 0.8 → 0; CSAT (5 + 11.4)/4 = 4.1 → 0; detractors
    # 0.6/4 = 0.15 → 2.5; reopens (10/9)/7 = 0.1587 → 5.4; backlog 1/4 → 7.5. Sum 28.7.
    assert points(rows["beta"]) == pytest.approx(
        {
            "volume_trend": 13.3,
            "volume_vs_value": 0.0,
            "csat": 0.0,
            "detractors": 2.5,
            "reopens": 5.4,
            "open_backlog": 7.5,
        }
    )
    assert rows["beta"].risk == pytest.approx(28.7)
    # gamma: no answers, so CSAT and detractors sit at the peer level: 3.8 → 2.7, 0.2 → 5.0;
    # trend 3/2 → 6.7; reopens (10/9)/6 = 0.1852 → 7.2; no value → 0; nothing open. 21.6.
    assert rows["gamma"].risk == pytest.approx(21.6)
    assert [r.external_id for r in page.rows] == ["acme", "beta", "gamma"]  # riskiest first
    factor = next(x for x in rows["acme"].factors if x.name == "volume_trend")
    assert (factor.raw, factor.adjusted, factor.n, factor.weight) == (3.0, 2.0, 8, 20)
    assert sum(points(rows["acme"]).values()) == pytest.approx(rows["acme"].risk)


def test_admin_sees_every_account_and_team_b(accounts):
    page = kpi_account_risk(f=window(), now=NOW)
    # Every account created by NOW and active at NOW: not gone (churned), not later.
    assert sorted(by_name(page)) == ["acme", "beta", "delta", "fresh", "gamma", "quiet"]
    # Peers: answers 4 + 1 + 1 (CSAT sum 20, 2 detractors); cases 6+2+1+1, 2 reopened;
    # cases per 10k: 3.0, 2.0, 0.2 → median 2.0.
    assert page.peers.csat_mean == pytest.approx(20 / 6)
    assert page.peers.cases_per_10k_median == pytest.approx(2.0)
    delta = by_name(page)["delta"]
    assert (delta.cases, delta.previous_cases, delta.open_now, delta.csat.n) == (1, 1, 1, 1)
    # delta: trend 3/3 → 0; value 0.1 → 0; CSAT (1 + 10)/4 = 2.75 → 16.7; detractors
    # (1 + 1)/4 = 0.5 → 15; reopens (0 + 1)/6 → 5.9; backlog 1/3 → 11.7. Sum 49.3.
    assert points(delta) == pytest.approx(
        {
            "volume_trend": 0.0,
            "volume_vs_value": 0.0,
            "csat": 16.7,
            "detractors": 15.0,
            "reopens": 5.9,
            "open_backlog": 11.7,
        }
    )
    assert delta.risk == pytest.approx(49.3)
    quiet = by_name(page)["quiet"]
    assert (quiet.cases, quiet.open_now, quiet.csat.n) == (0, 0, 0)


def test_other_team_excluded_and_rep_scope(accounts):
    org = accounts
    team_b = by_name(kpi_account_risk(f=window(team_ids=(org.team_b.pk,)), now=NOW))
    assert sorted(team_b) == ["delta"]
    assert (team_b["delta"].cases, team_b["delta"].csat.n) == (1, 1)
    mine = by_name(kpi_account_risk(f=window(rep_ids=(org.rep_a2.pk,)), now=NOW))
    assert sorted(mine) == ["acme", "beta"]
    # Only rep A2's case a5 of acme: figures from the rep's own cases.
    assert (mine["acme"].cases, mine["acme"].open_now, mine["acme"].csat.n) == (1, 0, 1)


def test_back_test_moment_ignores_later_events(accounts):
    org = accounts
    now = at("2026-03-03T12:00")
    f = team_a(org, start=at("2026-02-03T12:00"), end=now)
    rows = by_name(kpi_account_risk(f=f, now=now))
    acme = rows["acme"]
    # Period a6 a7 a2 a3 a4 a8, previous a1. At 3 March noon a4 is resolved (reopened only
    # on 5 March) and a8 still open (resolved on 4 March): open a3, a8. Reopened: a2 only.
    assert (acme.cases, acme.previous_cases, acme.open_now, acme.reopened) == (6, 1, 2, 1)
    assert acme.csat.n == 3  # a6, a7, a2; a5's answer comes on 6 March
    assert (rows["beta"].cases, rows["beta"].open_now) == (1, 0)  # b2 does not exist yet
    assert "gone" not in rows  # churned on 1 March


def test_segment_min_risk_ordering_and_pages(accounts):
    org = accounts
    smb = kpi_account_risk(f=window(segments=("smb",)), now=NOW)
    assert sorted(by_name(smb)) == ["beta", "gamma", "quiet"]
    # The segment filter narrows the rows, not the peers: the scores stay the same.
    everyone = by_name(kpi_account_risk(f=window(), now=NOW))
    assert by_name(smb)["beta"].risk == everyone["beta"].risk
    risky = kpi_account_risk(f=team_a(org), now=NOW, min_risk=25)
    assert [r.external_id for r in risky.rows] == ["acme", "beta"] and risky.total == 2
    second = kpi_account_risk(f=team_a(org), now=NOW, limit=1, offset=1)
    assert [r.external_id for r in second.rows] == ["beta"] and second.total == 3
    past_end = kpi_account_risk(f=team_a(org), now=NOW, limit=5, offset=10)
    assert past_end.rows == [] and past_end.total == 3
    by_alpha = kpi_account_risk(f=team_a(org), now=NOW, ordering="name")
    assert [r.external_id for r in by_alpha.rows] == ["acme", "beta", "gamma"]
    with_churned = by_name(kpi_account_risk(f=team_a(org), now=NOW, include_churned=True))
    assert with_churned["gone"].status == "churned" and with_churned["gone"].cases == 1
    one = kpi_account_risk(
        f=team_a(org), now=NOW, account_id=Account.objects.get(external_id="beta").pk
    )
    assert [r.external_id for r in one.rows] == ["beta"] and one.rows[0].risk == pytest.approx(28.7)


def test_account_without_recent_activity_is_not_listed_but_can_be_opened(accounts):
    org = accounts
    old = make_account("old")
    folded_cases(
        org, [("o1", "2025-06-01T10:00", org.rep_a1, old, [("resolved", "2025-06-02T10:00")])]
    )
    assert "old" not in by_name(kpi_account_risk(f=team_a(org), now=NOW))
    alone = kpi_account_risk(f=team_a(org), now=NOW, account_id=old.pk)
    # No cases, no answers: the rate factors sit at the peer level — CSAT 3.8 → 2.7,
    # detractors 0.2 → 5.0, reopens 2/9 → 9.7 — and the rest score nothing: 17.4.
    assert [(r.external_id, r.cases, r.risk) for r in alone.rows] == [("old", 0, 17.4)]
    # Its peers are unchanged by it: (no cases, no answers) → the same peer figures.
    assert alone.peers.csat_mean == pytest.approx(3.8)
    assert (
        kpi_account_risk(f=window(team_ids=(org.team_b.pk,)), now=NOW, account_id=old.pk).rows == []
    )


def test_min_n_shows_the_mean_with_its_interval(accounts):
    acme = by_name(kpi_account_risk(f=team_a(accounts), now=NOW, min_n=4))["acme"]
    # Answers 2, 5, 4, 3: mean 3.5, sd 1.291 → ± 1.96 × 1.291 / 2 = ± 1.265.
    assert acme.csat.mean == pytest.approx(3.5)
    assert acme.csat.low == pytest.approx(3.5 - 1.959964 * statistics.stdev([2, 5, 4, 3]) / 2)
    assert acme.csat.insufficient_data is False


def test_empty_window(accounts):
    now = at("2025-06-01T00:00")
    page = kpi_account_risk(f=window(start=at("2025-05-01T00:00"), end=now), now=now)
    assert page.total == 6  # created on 1 Jan 2025, before this moment (gone churns later)
    assert {(r.cases, r.open_now, r.csat.n, r.risk) for r in page.rows} == {(0, 0, 0, 0.0)}
    assert page.peers.csat_mean is None and page.peers.cases_per_10k_median is None


def test_turnover(accounts, django_assert_num_queries):
    org = accounts
    with django_assert_num_queries(1):
        everyone = kpi_account_turnover(f=window(), now=NOW)
    # Active at 10 Feb 12:00: acme beta gamma delta quiet gone (fresh and later are newer).
    # Churned in the period: gone. fresh was created in the period.
    assert (everyone.n, everyone.churned, everyone.new_accounts) == (6, 1, 1)
    assert everyone.rate.value == pytest.approx(1 / 6)
    assert 0 < everyone.rate.low < 1 / 6 < everyone.rate.high
    team = kpi_account_turnover(f=team_a(org), now=NOW)
    assert (team.n, team.churned) == (4, 1)  # acme beta gamma gone
    after = kpi_account_turnover(f=window(start=at("2026-03-02T00:00")), now=NOW)
    assert (after.n, after.churned) == (6, 0)  # gone left before this period


def test_period_end_is_clipped_to_now(accounts):
    org = accounts
    late = kpi_account_risk(f=team_a(org, end=NOW + timedelta(days=5)), now=NOW)
    assert late.period_end == NOW and late.previous_start == at("2026-01-13T12:00")
    assert by_name(late)["acme"].cases == 6


# --- the back-test command -----------------------------------------------------------------


def test_mann_whitney_auc():
    assert mann_whitney_auc([3, 4], [1, 2]) == 1.0
    assert mann_whitney_auc([1, 2], [3, 4]) == 0.0
    assert mann_whitney_auc([2, 2], [2, 2]) == 0.5
    # pairs: (3>1, 3>2, 3<5) and (1=1, 1<2, 1<5): (2 + 0.5) / 6
    assert mann_whitney_auc([3, 1], [1, 2, 5]) == pytest.approx(2.5 / 6)
    assert mann_whitney_auc([], [1]) is None


def _separable_world(org, churners: int, stable: int):
    """Churners file a burst of cases with poor answers before leaving; stable accounts file
    one quiet, well-rated case a month. Every account is older than two periods."""
    base = datetime(2025, 6, 1, tzinfo=UTC)
    specs, answers = [], []
    for i in range(churners):
        churn = base + timedelta(days=150 + 10 * i)
        acc = make_account(f"churner{i}", churned=churn, created=base - timedelta(days=400))
        for k in range(6):
            opened = churn - timedelta(days=20 + 5 * k)
            specs.append((f"c{i}-{k}", opened, org.rep_a1, acc, [("resolved", opened + DAY)]))
            answers.append((f"c{i}-{k}", 1, opened + 2 * DAY))
    for j in range(stable):
        acc = make_account(f"stable{j}", created="2024-01-01T00:00")
        for m in range(12):
            opened = base + timedelta(days=30 * m + j)
            specs.append((f"s{j}-{m}", opened, org.rep_a2, acc, [("resolved", opened + HOUR)]))
            answers.append((f"s{j}-{m}", 5, opened + 2 * HOUR))
    cases = folded_cases(org, specs)
    for name, csat, when in answers:
        add_csat(cases[name], csat, when)


def test_back_test_on_a_separable_set_scores_auc_one(org):
    _separable_world(org, churners=2, stable=3)
    result = evaluate_account_risk(period_days=90, controls=2, seed=7)
    assert (result.churned, len(result.positives), len(result.negatives)) == (2, 2, 4)
    assert result.auc == 1.0
    assert min(a.risk for a in result.positives) > max(a.risk for a in result.negatives)
    out = StringIO()
    call_command("evaluate_account_risk", "--controls", "2", "--seed", "7", stdout=out)
    text = out.getvalue()
    assert "AUC: 1.000" in text and "scored churners: 2; controls: 4" in text


def test_back_test_skips_young_accounts_and_reports_no_auc_without_controls(org):
    acc = make_account("young", created="2026-01-01T00:00", churned="2026-03-01T00:00")
    folded_cases(org, [("y1", "2026-02-01T10:00", org.rep_a1, acc, [])])
    result = evaluate_account_risk(period_days=90)
    assert (result.churned, result.skipped_young, result.auc) == (1, 1, None)
    out = StringIO()
    call_command("evaluate_account_risk", stdout=out)
    assert "AUC: n/a" in out.getvalue()


# --- property test: the SQL against a plain-Python reference ----------------------------------

BASE = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)  # the Berlin DST switch (29 March) is in range


@dataclass
class RefCase:
    account: int
    opened: datetime
    team: str
    events: list[tuple[str, datetime]]
    answers: list[tuple[int, datetime]]


def _state_open(case: RefCase, now: datetime) -> bool:
    done = [t for t, when in case.events if when <= now]
    return case.opened <= now and done.count("reopened") >= done.count("resolved")


def _reference(accounts, cases, f, now, team):
    """The definitions of metrics/kpis/accounts.py, one account at a time."""
    period_end = max(min(f.end, now), f.start)
    prev_start = f.start - (period_end - f.start)
    mine = [c for c in cases if team is None or c.team == team]
    figures = {}
    for i, (value, churned) in enumerate(accounts):
        own = [c for c in mine if c.account == i]
        period = [c for c in own if f.start <= c.opened < period_end]
        answers = [s for c in own for s, when in c.answers if f.start <= when < period_end]
        active_in_scope = any(
            prev_start <= c.opened < period_end or _state_open(c, now) for c in own
        )
        if team is not None and not (active_in_scope or answers):
            continue
        figures[i] = {
            "active": churned is None or churned > now,
            "value": value,
            "cases": len(period),
            "previous": sum(prev_start <= c.opened < f.start for c in own),
            "open": sum(_state_open(c, now) for c in own),
            "reopened": sum(
                any(t == "reopened" and when <= now for t, when in c.events) for c in period
            ),
            "responses": len(answers),
            "csat_sum": sum(answers),
            "detractors": sum(s <= 2 for s in answers),
        }
    peers = [x for x in figures.values() if x["active"]]
    responses = sum(x["responses"] for x in peers)
    n_cases = sum(x["cases"] for x in peers)
    csat_mean = sum(x["csat_sum"] for x in peers) / responses if responses else None
    det_rate = sum(x["detractors"] for x in peers) / responses if responses else None
    reopen_rate = sum(x["reopened"] for x in peers) / n_cases if n_cases else None
    per_10k = [x["cases"] * 10000 / x["value"] for x in peers if x["cases"] and x["value"]]
    median = statistics.median(per_10k) if per_10k else None
    for x in figures.values():
        k, kr = CSAT_PSEUDO_RESPONSES, REOPEN_PSEUDO_CASES
        adjusted = {
            "volume_trend": (x["cases"] + VOLUME_SMOOTHING) / (x["previous"] + VOLUME_SMOOTHING),
            "volume_vs_value": (
                x["cases"] * 10000 / x["value"] / median if x["value"] and median else None
            ),
            "csat": (x["csat_sum"] + k * csat_mean) / (x["responses"] + k)
            if csat_mean is not None
            else None,
            "detractors": (x["detractors"] + k * det_rate) / (x["responses"] + k)
            if det_rate is not None
            else None,
            "reopens": (x["reopened"] + kr * reopen_rate) / (x["cases"] + kr)
            if reopen_rate is not None
            else None,
            "open_backlog": x["open"] / (x["cases"] + VOLUME_SMOOTHING),
        }
        x["points"] = {
            fd.name: 0.0
            if adjusted[fd.name] is None
            else fd.weight
            * min(1, max(0, (adjusted[fd.name] - fd.zero_at) / (fd.full_at - fd.zero_at)))
            for fd in FACTORS
        }
    return figures


case_strategy = st.tuples(
    st.integers(0, 3),  # account index (taken modulo the number of accounts)
    st.integers(0, 70 * 24),  # opened, hours after BASE
    st.sampled_from(["a", "b"]),  # team
    st.lists(st.integers(1, 200), max_size=4),  # hours between resolve / reopen events
    st.lists(st.one_of(st.none(), st.integers(1, 5)), max_size=3),  # answer per resolution
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    account_specs=st.lists(
        st.tuples(
            st.sampled_from([0, 5_000, 20_000, 100_000]),
            st.one_of(st.none(), st.integers(0, 80 * 24)),  # churned, hours after BASE
        ),
        min_size=1,
        max_size=4,
    ),
    case_specs=st.lists(case_strategy, max_size=20),
    now_hours=st.integers(0, 90 * 24),
    period_days=st.integers(1, 40),
    end_extra_hours=st.integers(0, 48),
    team=st.sampled_from([None, "a"]),
    include_churned=st.booleans(),
)
def test_matches_python_reference(
    org, account_specs, case_specs, now_hours, period_days, end_extra_hours, team, include_churned
):
    Case.objects.all().delete()
    Account.objects.all().delete()
    accounts = [
        (value, BASE + timedelta(hours=h) if h is not None else None) for value, h in account_specs
    ]
    stored = Account.objects.bulk_create(
        [
            Account(
                external_id=f"p{i}",
                name=f"P{i}",
                annual_value=value,
                status="churned" if churned else "active",
                churned_at=churned,
            )
            for i, (value, churned) in enumerate(accounts)
        ]
    )
    Account.objects.update(created_at=BASE - timedelta(days=400))
    reps = {"a": org.rep_a1, "b": org.rep_b1}
    ref_cases: list[RefCase] = []
    case_rows, event_rows, answer_rows = [], [], []
    for n, (acc, opened_h, team_key, gaps, csats) in enumerate(case_specs):
        opened = BASE + timedelta(hours=opened_h)
        times, when = [], opened
        for gap in gaps:
            when += timedelta(hours=gap)
            times.append(when)
        events = [("resolved" if k % 2 == 0 else "reopened", t) for k, t in enumerate(times)]
        resolutions = [t for kind, t in events if kind == "resolved"]
        answers = [
            (s, t + timedelta(hours=1)) for s, t in zip(csats, resolutions, strict=False) if s
        ]
        resolved_now = len(times) % 2 == 1
        rep = reps[team_key]
        case_rows.append(
            Case(
                external_id=f"pc{n}",
                account=stored[acc % len(stored)],
                category=org.category,
                channel="email",
                status="resolved" if resolved_now else ("open" if times else "new"),
                opened_at=opened,
                team_id=rep.team_id,
                assignee=rep,
                resolved_by=rep if resolved_now else None,
                first_resolved_at=times[0] if times else None,
                resolved_at=times[-1] if resolved_now else None,
                reopened_count=len(times) // 2,
            )
        )
        ref_cases.append(RefCase(acc % len(stored), opened, team_key, events, answers))
    created = Case.objects.bulk_create(case_rows)
    for case, ref in zip(created, ref_cases, strict=True):
        event_rows += [
            CaseEvent(case=case, event_type=kind, occurred_at=t) for kind, t in ref.events
        ]
        answer_rows += [
            SurveyResponse(case=case, resolution_number=k + 1, csat=s, responded_at=t)
            for k, (s, t) in enumerate(ref.answers)
        ]
    CaseEvent.objects.bulk_create(event_rows)
    SurveyResponse.objects.bulk_create(answer_rows)

    now = BASE + timedelta(hours=now_hours)
    f = KpiFilter(
        start=now - timedelta(days=period_days),
        end=now + timedelta(hours=end_extra_hours),
        tz=BERLIN,
        team_ids=(org.team_a.pk,) if team else None,
    )
    page = kpi_account_risk(f=f, now=now, limit=None, include_churned=include_churned)
    expected = _reference(accounts, ref_cases, f, now, team)
    listed = {i: x for i, x in expected.items() if x["active"] or include_churned}
    got = {int(r.external_id[1:]): r for r in page.rows}
    assert set(got) == set(listed) and page.total == len(listed)
    for i, x in listed.items():
        row = got[i]
        assert (row.cases, row.previous_cases, row.open_now, row.reopened) == (
            x["cases"],
            x["previous"],
            x["open"],
            x["reopened"],
        )
        assert (row.csat.n, row.csat.detractors) == (x["responses"], x["detractors"])
        for name, value in points(row).items():
            assert value == pytest.approx(x["points"][name], abs=0.05 + 1e-9), name
        assert row.risk == pytest.approx(sum(points(row).values()))
    risks = [r.risk for r in page.rows]
    assert risks == sorted(risks, reverse=True)


def test_one_account_scores_as_in_the_list(accounts):
    """Asking for one account (the detail endpoint) keeps its peers: the same score."""
    first = {r.external_id: r.risk for r in kpi_account_risk(f=team_a(accounts), now=NOW).rows}
    ids = list(Account.objects.values_list("pk", flat=True))
    random.Random(3).shuffle(ids)
    again = {
        r.external_id: r.risk
        for pk in ids
        for r in kpi_account_risk(f=team_a(accounts), now=NOW, account_id=pk).rows
    }
    assert again == first
