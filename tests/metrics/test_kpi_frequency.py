"""Repeat contacts against a hand-computed case set, and a plain-Python reference."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Account, Case, Category
from metrics.kpis.frequency import kpi_repeat_contacts, requester_pseudonym
from metrics.types import KpiFilter
from tests.metrics.builders import BERLIN, NOW, bulk_cases, repeat_contact_cases

pytestmark = pytest.mark.django_db

# The window: 1–10 March 2026 in Berlin = [28 Feb 23:00 UTC, 10 Mar 23:00 UTC).
START = datetime(2026, 3, 1, tzinfo=BERLIN).astimezone(UTC)
END = datetime(2026, 3, 11, tzinfo=BERLIN).astimezone(UTC)


def window(org, **overrides) -> KpiFilter:
    values = dict(start=START, end=END, tz=BERLIN, team_ids=(org.team_a.pk,))
    values.update(overrides)
    return KpiFilter(**values)


@pytest.fixture
def repeat_cases(org):
    """k1–k14, each case's role commented in tests/metrics/builders.py."""
    return repeat_contact_cases(org)


def test_rates_and_lists_hand_computed(repeat_cases, django_assert_num_queries):
    org = repeat_cases
    with django_assert_num_queries(1):  # the rates and the two lists
        result = kpi_repeat_contacts(f=window(org), now=NOW)

    # Team A's window: k2 k3 k4 k5 k6 k9 k10 k11 k12 k14 → n = 10.
    # Account-based: 7 carry an account; repeats k2 (k1), k3 (k2), k5 (k14), k9 (k8) = 4.
    rate = result.account_rate
    assert (rate.basis, rate.n, rate.identified, rate.repeats) == ("account", 10, 7, 4)
    assert rate.value == pytest.approx(0.4)
    assert rate.low == pytest.approx(0.16818, abs=1e-4)  # Wilson 95 % for 4/10
    assert rate.high == pytest.approx(0.68732, abs=1e-4)
    assert rate.insufficient_data is False
    # Requester-based: 9 carry an address (not k12); repeats k2 (alice) and k11 (frank) = 2.
    rate = result.requester_rate
    assert (rate.n, rate.identified, rate.repeats, rate.value) == (10, 9, 2, pytest.approx(0.2))

    # Most repeats first; ties by the account's cases in the window, then by name.
    assert [(a.external_id, a.n, a.repeats, a.categories) for a in result.accounts] == [
        ("ACC1", 3, 2, ["billing"]),  # k2 k3 k4
        ("ACC2", 3, 1, ["billing"]),  # k14 k5 k6
        ("ACC3", 1, 1, ["billing"]),  # k9
    ]
    assert result.accounts_total == 3
    assert [(r.pseudonym, r.account_external_id, r.n, r.repeats) for r in result.requesters] == [
        (requester_pseudonym("frank@x.example"), None, 2, 1),
        (requester_pseudonym("alice@x.example"), "ACC1", 1, 1),
    ]
    assert result.requesters_total == 2


def test_requesters_are_pseudonymous_unless_asked(repeat_cases):
    org = repeat_cases
    hidden = kpi_repeat_contacts(f=window(org), now=NOW).requesters
    assert {r.email for r in hidden} == {None}
    pseudonyms = {r.pseudonym for r in hidden}
    assert all(len(p) == 16 and "@" not in p and "alice" not in p for p in pseudonyms)
    shown = kpi_repeat_contacts(f=window(org), now=NOW, include_email=True).requesters
    assert [r.email for r in shown] == ["frank@x.example", "alice@x.example"]
    assert {r.pseudonym for r in shown} == pseudonyms  # stable
    assert requester_pseudonym(" Alice@X.example") == requester_pseudonym("alice@x.example")


def test_within_days_and_limit(repeat_cases):
    org = repeat_cases
    result = kpi_repeat_contacts(f=window(org), now=NOW, within_days=1, limit=1)
    # Within 24 h: only k9 (k8 a day earlier, inclusive) and k11 (same instant as k10).
    assert (result.account_rate.repeats, result.requester_rate.repeats) == (1, 1)
    assert [a.external_id for a in result.accounts] == ["ACC3"]
    assert result.accounts_total == 1

    capped = kpi_repeat_contacts(f=window(org), now=NOW, limit=1)
    assert [a.external_id for a in capped.accounts] == ["ACC1"]
    assert capped.accounts_total == 3
    assert len(capped.requesters) == 1 and capped.requesters_total == 2


def test_other_team_rep_slice_and_empty_window(repeat_cases, django_assert_num_queries):
    org = repeat_cases
    # Team B's window: k7 (repeats k6 of team A, both ways) and k8 (first) → 1/2 and 1/2.
    team_b = kpi_repeat_contacts(f=window(org, team_ids=(org.team_b.pk,)), now=NOW, min_n=1)
    assert (team_b.account_rate.n, team_b.account_rate.repeats) == (2, 1)
    assert (team_b.requester_rate.n, team_b.requester_rate.repeats) == (2, 1)
    assert [a.external_id for a in team_b.accounts] == ["ACC2"]

    # rep_a2 has k9 only: below min_n the rate is withheld, the counts are not.
    rep = kpi_repeat_contacts(f=window(org, team_ids=None, rep_ids=(org.rep_a2.pk,)), now=NOW)
    rate = rep.account_rate
    assert (rate.n, rate.repeats, rate.value, rate.low, rate.insufficient_data) == (
        1,
        1,
        None,
        None,
        True,
    )

    nobody = window(org, category_ids=(999_999,))
    with django_assert_num_queries(1):
        empty = kpi_repeat_contacts(f=nobody, now=NOW)
    assert (empty.account_rate.n, empty.account_rate.repeats, empty.account_rate.value) == (
        0,
        0,
        None,
    )
    assert (empty.accounts, empty.requesters, empty.accounts_total) == ([], [], 0)


def test_rewrite_edge_cases(org):
    """Edge cases of lag(): insertion order is not time order, a same-instant case of another
    category or slice, blank addresses never match each other, the look-back reaches exactly
    N days before the window's first instant and no further."""
    from tests.factories import AccountFactory, CategoryFactory

    acc = AccountFactory(external_id="EDGE", name="Edge")
    shipping = CategoryFactory(slug="shipping")
    a1, b1 = org.rep_a1, org.rep_b1

    def case(opened, *, account=acc, email="", category=None, rep=a1):
        return {
            "opened_at": opened,
            "account": account,
            "requester_email": email,
            "category": category or org.category,
            "assignee": rep,
            "team_id": rep.team_id,
        }

    seven_days = timedelta(days=7)
    later, earlier, other_cat, blank1, blank2, _edge, _past_edge, team_b = bulk_cases(
        [
            # Stored first (lower id) but opened an hour after the next one: it is the repeat.
            case(START + timedelta(days=3, hours=1), email="ann@x.example"),
            case(START + timedelta(days=3), email="ANN@x.example"),
            # Same instant as `earlier`, another category, same account and address: first.
            case(START + timedelta(days=3), email="ann@x.example", category=shipping),
            # Two cases without account or address, same instant and category: no repeat.
            case(START + timedelta(days=5), account=None),
            case(START + timedelta(days=5), account=None),
            # Exactly 7 days before the window's first counted case: still a repeat of it.
            case(START - seven_days, account=None, email="ben@x.example"),
            # 7 days and 1 second before the next case: too early.
            case(
                START + timedelta(days=1) - seven_days - timedelta(seconds=1), email="cy@x.example"
            ),
            # Team B, inside the window: the earlier case of a team-A case, never counted.
            case(START + timedelta(days=8), email="dee@x.example", rep=b1),
        ]
    )
    bulk_cases(
        [
            case(START, account=None, email="ben@x.example"),  # repeat of `edge` (requester)
            case(START + timedelta(days=1), account=None, email="cy@x.example"),  # not
            case(START + timedelta(days=8, minutes=1), account=None, email="dee@x.example"),
        ]
    )
    result = kpi_repeat_contacts(f=window(org), now=NOW, limit=500, min_n=1)
    # Team A's window: later, earlier, other_cat, blank1, blank2 and the three above = 8,
    # of which the first three carry the account. Account repeat: `later` only (`earlier`,
    # stored after it, is the first; `past_edge` is 9 days before `earlier`).
    assert (result.account_rate.n, result.account_rate.identified) == (8, 3)
    assert result.account_rate.repeats == 1
    assert [(a.external_id, a.n, a.repeats, a.categories) for a in result.accounts] == [
        ("EDGE", 3, 1, ["billing"])
    ]
    # Requester repeats: `later` (ann, case-insensitive), ben (exactly 7 days), dee (team B's
    # earlier case); not cy (7 days + 1 s), not the blank pair, not the shipping case.
    assert (result.requester_rate.identified, result.requester_rate.repeats) == (6, 3)
    assert {r.pseudonym: (r.n, r.repeats) for r in result.requesters} == {
        requester_pseudonym("ann@x.example"): (3, 1),
        requester_pseudonym("ben@x.example"): (1, 1),
        requester_pseudonym("dee@x.example"): (1, 1),
    }
    # The premises: ids against time order, and the same-instant pairs.
    assert later.id < earlier.id and other_cat.opened_at == earlier.opened_at
    assert blank1.opened_at == blank2.opened_at and team_b.team_id == org.team_b.pk


# ---------------------------------------------------------------------------------------
# Property: the SQL (lag over partitions) against "any earlier case within N days".

BASE = datetime(2026, 3, 20, tzinfo=UTC)  # spans the EU DST change (29 March)
EMAILS = ["", "x@e.example", "X@E.example", "y@e.example"]

case_sets = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=24),  # opened: whole days (ties, exactly N days)
        st.sampled_from([0, 0, 1, -1]),  # ± a minute: just inside or outside N days
        st.sampled_from([None, 0, 1]),  # account
        st.sampled_from(EMAILS),
        st.integers(min_value=0, max_value=1),  # category
        st.sampled_from([True, True, True, False]),  # team A (mostly)?
    ),
    min_size=6,
    max_size=30,
)


def reference(cases, f: KpiFilter, within: timedelta, team_id: int):
    """Plain Python: every window case of the slice, repeat if ANY earlier case matches."""
    ordered = sorted(cases, key=lambda c: (c.opened_at, c.id))

    def repeat(case, key) -> bool:
        mine = key(case)
        return mine is not None and any(
            key(other) == mine
            and other.category_id == case.category_id
            and (other.opened_at, other.id) < (case.opened_at, case.id)
            and case.opened_at - other.opened_at <= within
            for other in ordered
        )

    def account(c):
        return c.account_id

    def requester(c):
        return c.requester_email.lower() or None

    current = [
        c
        for c in ordered
        if f.start <= c.opened_at < f.end and (team_id is None or c.team_id == team_id)
    ]
    lists = {}
    for name, key in (("account", account), ("requester", requester)):
        groups: dict = {}
        for c in current:
            if key(c) is not None:
                groups.setdefault(key(c), []).append(c)
        lists[name] = {
            k: (len(g), sum(repeat(c, key) for c in g), g[-1].account_id)
            for k, g in groups.items()
            if any(repeat(c, key) for c in g)
        }
    rates = {
        name: (
            len(current),
            sum(key(c) is not None for c in current),
            sum(repeat(c, key) for c in current),
        )
        for name, key in (("account", account), ("requester", requester))
    }
    return rates, lists


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=case_sets,
    first=st.integers(min_value=1, max_value=6),  # days before it: look-back cases
    length=st.integers(min_value=8, max_value=20),
    within_days=st.integers(min_value=1, max_value=5),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "UTC"]),
)
def test_matches_any_earlier_case_reference(org, specs, first, length, within_days, zone):
    Case.objects.all().delete()
    accounts = [
        Account.objects.get_or_create(external_id=f"P{i}", defaults={"name": f"P{i}"})[0]
        for i in range(2)
    ]
    categories = [
        org.category,
        Category.objects.get_or_create(slug="other", defaults={"name": "Other"})[0],
    ]
    teams = {True: org.rep_a1, False: org.rep_b1}
    stored = bulk_cases(
        [
            {
                "opened_at": BASE + timedelta(days=day, minutes=minute),
                "account": accounts[acc] if acc is not None else None,
                "requester_email": email,
                "category": categories[cat],
                "assignee": teams[team_a],
                "team_id": teams[team_a].team_id,
            }
            for day, minute, acc, email, cat, team_a in specs
        ]
    )
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first)).astimezone(tz).date()
    f = KpiFilter(
        start=datetime.combine(day0, datetime.min.time(), tzinfo=tz).astimezone(UTC),
        end=datetime.combine(
            day0 + timedelta(days=length), datetime.min.time(), tzinfo=tz
        ).astimezone(UTC),
        tz=tz,
        team_ids=(org.team_a.pk,),
    )
    # Sliced (team A: the partitions of its window cases) and unsliced (every partition).
    for team_id in (org.team_a.pk, None):
        check_against_reference(
            stored, replace(f, team_ids=(team_id,) if team_id else None), within_days, team_id
        )


def check_against_reference(stored, f: KpiFilter, within_days: int, team_id: int | None):
    result = kpi_repeat_contacts(f=f, now=NOW, within_days=within_days, limit=500, min_n=1)
    rates, lists = reference(stored, f, timedelta(days=within_days), team_id)

    for rate in (result.account_rate, result.requester_rate):
        assert (rate.n, rate.identified, rate.repeats) == rates[rate.basis]
    assert {a.account_id: (a.n, a.repeats, a.account_id) for a in result.accounts} == lists[
        "account"
    ]
    assert {r.pseudonym: (r.n, r.repeats, r.account_id) for r in result.requesters} == {
        requester_pseudonym(k): v for k, v in lists["requester"].items()
    }
    assert [a.repeats for a in result.accounts] == sorted(
        (a.repeats for a in result.accounts), reverse=True
    )
