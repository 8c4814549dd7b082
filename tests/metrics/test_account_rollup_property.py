"""The account summary and risk from metrics_rollup_account_month against the case tables,
on random data and random writes.

Each example stores random accounts' cases (team Alpha in Europe/Berlin, Bravo in
America/New_York, or none) with resolve/reopen histories — some reopenings later than
``now`` — and survey answers, then runs random writes through single and bulk
statements: a case moved to another team or account, a moved opening time, reopenings
added (also in the future), events moved and deleted, a case reopened by its count alone,
answers added, changed and deleted, cases deleted. Then the rollup must equal a rebuild,
and the list, one account's detail and the turnover must be the same JSON with the
rollups on and off (``SUPPORTMETRICS_ROLLUPS``), for a random zone, window (local
midnights, whole hours, minutes), ``now`` (before, inside or after the window) and slice;
the rollup must have been read exactly when the slice allows it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from cases.models import Account, Case, CaseEvent, SurveyResponse
from metrics.apis.base import plain
from metrics.kpis import accounts
from metrics.rollups.accounts import account_rollup_check
from metrics.types import KpiFilter

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # across the EU and US spring DST changes
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
MINUTES = 50 * 24 * 60
ACCOUNTS = 4

cases_strategy = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MINUTES),  # opened, minutes after BASE
        st.integers(min_value=0, max_value=ACCOUNTS),  # account (ACCOUNTS: none)
        st.integers(min_value=0, max_value=2),  # team: Alpha, Bravo, none
        st.lists(st.integers(min_value=1, max_value=8 * 24 * 60), max_size=4),  # event gaps
        st.lists(st.integers(min_value=1, max_value=5), max_size=2),  # CSAT of resolutions
    ),
    min_size=1,
    max_size=25,
)
writes_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("team"), st.integers(0, 24), st.integers(0, 2)),
        st.tuples(st.just("bulk_team"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("account"), st.integers(0, 24), st.integers(0, ACCOUNTS)),
        st.tuples(st.just("move"), st.integers(0, 24), st.integers(-3000, 3000)),
        st.tuples(st.just("reopen_event"), st.integers(0, 24), st.integers(1, 90 * 24 * 60)),
        st.tuples(st.just("move_events"), st.integers(0, 24), st.integers(-900, 900)),
        st.tuples(st.just("delete_event"), st.integers(0, 24)),
        st.tuples(st.just("delete_reopenings"), st.integers(0, 24)),
        st.tuples(st.just("reopen_count"), st.integers(0, 24)),
        st.tuples(st.just("answer"), st.integers(0, 24), st.integers(1, 5), st.integers(0, 9000)),
        st.tuples(st.just("rescore"), st.integers(0, 24), st.integers(1, 5)),
        st.tuples(st.just("delete_answer"), st.integers(0, 24)),
        st.tuples(st.just("delete_case"), st.integers(0, 24)),
    ),
    max_size=8,
)


def _store(org, specs) -> list[int]:
    accounts_ = Account.objects.bulk_create(
        Account(external_id=f"acc{i}", name=f"Account {i}", annual_value=1000 * (i + 1))
        for i in range(ACCOUNTS)
    )
    Account.objects.update(created_at=BASE - timedelta(days=400))
    teams = [org.team_a, org.team_b, None]
    rows, histories = [], []
    for n, (opened, account, team, gaps, csats) in enumerate(specs):
        opened_at = BASE + timedelta(minutes=opened)
        times, at = [], opened_at
        for gap in gaps:
            at += timedelta(minutes=gap)
            times.append(at)
        resolved = len(times) % 2 == 1
        rows.append(
            Case(
                external_id=f"x{n}",
                account=accounts_[account] if account < ACCOUNTS else None,
                category=org.category,
                channel="email",
                team=teams[team],
                status="resolved" if resolved else ("open" if times else "new"),
                opened_at=opened_at,
                first_resolved_at=times[0] if times else None,
                resolved_at=times[-1] if resolved else None,
                reopened_count=len(times) // 2,
            )
        )
        histories.append((times, csats))
    stored = Case.objects.bulk_create(rows)
    events, answers = [], []
    for case, (times, csats) in zip(stored, histories, strict=True):
        events += [
            CaseEvent(case=case, event_type="resolved" if k % 2 == 0 else "reopened", occurred_at=t)
            for k, t in enumerate(times)
        ]
        answers += [
            SurveyResponse(
                case=case, resolution_number=k + 1, csat=score, responded_at=t + timedelta(hours=2)
            )
            for k, (score, t) in enumerate(zip(csats, times[::2], strict=False))
        ]
    CaseEvent.objects.bulk_create(events)
    SurveyResponse.objects.bulk_create(answers)
    return [c.pk for c in stored]


def _write(org, ids, write) -> None:
    teams = [org.team_a, org.team_b, None]
    kind, *args = write
    case_id = ids[args[0] % len(ids)]
    cases = Case.objects.filter(pk=case_id)
    case = cases.first()
    if kind == "bulk_team":
        Case.objects.filter(team=teams[args[0]]).update(team=teams[args[1]])
    elif case is None:
        return
    elif kind == "team":
        cases.update(team=teams[args[1]])
    elif kind == "account":
        account = Account.objects.filter(external_id=f"acc{args[1]}").first()
        cases.update(account=account)
    elif kind == "move":
        later = [m for m in (case.first_resolved_at, case.resolved_at) if m is not None]
        cases.update(opened_at=min([case.opened_at + timedelta(minutes=args[1]), *later]))
    elif kind == "reopen_event":
        at = case.opened_at + timedelta(minutes=args[1])
        if not CaseEvent.objects.filter(case=case, event_type="reopened", occurred_at=at):
            CaseEvent.objects.create(case=case, event_type="reopened", occurred_at=at)
            cases.update(reopened_count=case.reopened_count + 1)
    elif kind == "move_events":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_caseevent SET occurred_at = occurred_at + %s WHERE case_id = %s",
                [timedelta(minutes=args[1]), case_id],
            )
    elif kind == "delete_event":
        first = CaseEvent.objects.filter(case_id=case_id).order_by("occurred_at").first()
        if first is not None:
            first.delete()
    elif kind == "delete_reopenings":  # one statement, the case's count kept
        CaseEvent.objects.filter(case_id=case_id, event_type="reopened").delete()
    elif kind == "reopen_count":  # the count alone (a snapshot without its events)
        cases.update(reopened_count=case.reopened_count + 1)
    elif kind == "answer":
        last = SurveyResponse.objects.filter(case=case).order_by("-resolution_number").first()
        number = last.resolution_number + 1 if last is not None else 1
        SurveyResponse.objects.create(
            case=case,
            resolution_number=number,
            csat=args[1],
            responded_at=case.opened_at + timedelta(minutes=args[2]),
        )
    elif kind == "rescore":
        SurveyResponse.objects.filter(case=case).update(csat=args[1])
    elif kind == "delete_answer":
        first = SurveyResponse.objects.filter(case=case).order_by("id").first()
        if first is not None:
            first.delete()
    elif kind == "delete_case":
        cases.delete()


def _filter(org, zone, first_day, length, shape, slice_name) -> KpiFilter:
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first_day)).astimezone(tz).date()
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    if shape == "hours":
        start, end = start + timedelta(hours=5), end - timedelta(hours=2)
    elif shape == "minutes":
        start, end = start + timedelta(minutes=20), end + timedelta(minutes=47)
    slice_ = {
        "all": {},
        "team": {"team_ids": (org.team_a.pk,)},
        "teams": {"team_ids": (org.team_a.pk, org.team_b.pk)},
        "rep": {"rep_ids": (org.rep_a1.pk,)},
        "segment": {"segments": ("smb",)},
    }[slice_name]
    return KpiFilter(start=start, end=end, tz=tz, **slice_)


def _answers(f: KpiFilter, now: datetime, account_id: int | None) -> dict[str, tuple[bytes, bool]]:
    calls = {
        "list": lambda: accounts.kpi_account_risk(f=f, now=now, limit=None, include_churned=True),
        "page": lambda: accounts.kpi_account_risk(f=f, now=now, limit=2, offset=1, min_n=2),
        "detail": lambda: accounts.kpi_account_risk(
            f=f, now=now, account_id=account_id, include_churned=True, limit=1
        ),
        "turnover": lambda: accounts.kpi_account_turnover(f=f, now=now),
    }
    out = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as queries:
            answer = JSONRenderer().render(plain(call()))
        used = any("metrics_rollup_account" in q["sql"] for q in queries.captured_queries)
        out[name] = (answer, used)
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=cases_strategy,
    writes=writes_strategy,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=45),
    length=st.integers(min_value=1, max_value=30),
    shape=st.sampled_from(["days", "hours", "minutes"]),
    slice_name=st.sampled_from(["all", "all", "team", "team", "teams", "rep", "segment"]),
    now_offset=st.integers(min_value=-20 * 24 * 60, max_value=40 * 24 * 60),
    account=st.integers(min_value=0, max_value=ACCOUNTS - 1),
)
def test_account_figures_from_the_rollup_equal_the_case_tables(
    org, specs, writes, zone, first_day, length, shape, slice_name, now_offset, account
):
    Case.objects.all().delete()
    Account.objects.all().delete()
    ids = _store(org, specs)
    for write in writes:
        _write(org, ids, write)
    assert account_rollup_check() == (0, 0)

    f = _filter(org, zone, first_day, length, shape, slice_name)
    # now: anywhere from inside the window to weeks after it, on the minute.
    now = f.end + timedelta(minutes=now_offset)
    account_id = Account.objects.get(external_id=f"acc{account}").pk
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        from_rollup = _answers(f, now, account_id)
    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
        from_cases = _answers(f, now, account_id)
    for name, (answer, used) in from_rollup.items():
        assert answer == from_cases[name][0], name
        assert not from_cases[name][1], name
        if name != "turnover":
            assert used == (slice_name != "rep"), name


def _dense(org) -> None:
    """Every 37 minutes for 12 days a case (accounts, teams in turn), most resolved, every
    third reopened (some only after BASE + 9 days, a ``now`` below), each resolution
    answered 1–5 a few hours later: every boundary's partial day holds cases, answers
    and reopenings."""
    accounts_ = Account.objects.bulk_create(
        Account(external_id=f"acc{i}", name=f"Account {i}", annual_value=1000 * (i + 1))
        for i in range(ACCOUNTS)
    )
    Account.objects.update(created_at=BASE - timedelta(days=400))
    teams = [org.team_a, org.team_b, None]
    rows, plans = [], []
    for n in range(12 * 24 * 60 // 37):
        opened = BASE + timedelta(minutes=37 * n)
        resolved_at = opened + timedelta(minutes=90 + 13 * (n % 50))
        reopened_at = resolved_at + timedelta(hours=5 + n % 70) if n % 3 == 0 else None
        rows.append(
            Case(
                external_id=f"d{n}",
                account=accounts_[n % ACCOUNTS] if n % 11 else None,
                category=org.category,
                channel="email",
                team=teams[n % 3],
                status="open" if reopened_at else "resolved",
                opened_at=opened,
                first_resolved_at=resolved_at,
                resolved_at=None if reopened_at else resolved_at,
                reopened_count=1 if reopened_at else 0,
            )
        )
        plans.append((resolved_at, reopened_at, 1 + n % 5))
    stored = Case.objects.bulk_create(rows)
    events, answers = [], []
    for case, (resolved_at, reopened_at, score) in zip(stored, plans, strict=True):
        events.append(CaseEvent(case=case, event_type="resolved", occurred_at=resolved_at))
        if reopened_at:
            events.append(CaseEvent(case=case, event_type="reopened", occurred_at=reopened_at))
        answers.append(
            SurveyResponse(case=case, resolution_number=1, csat=score, responded_at=resolved_at)
        )
    CaseEvent.objects.bulk_create(events)
    SurveyResponse.objects.bulk_create(answers)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "UTC", "Asia/Kolkata"])
def test_dense_boundaries_equal_the_case_tables(org, zone):
    """Deterministic and dense where the random test is sparse: partial days at every
    boundary on both sides of their midnight, reopenings after ``now``, answers near the
    edges; windows of 1–6 days in three shapes, ``now`` inside and after them."""
    _dense(org)
    # A few writes after the bulk load, through the triggers' other paths.
    ids = list(Case.objects.order_by("id").values_list("pk", flat=True))
    for write in [
        ("team", 5, 1),
        ("account", 7, 2),
        ("move", 9, -700),
        ("reopen_event", 12, 3000),
        ("delete_reopenings", 15),
        ("rescore", 18, 1),
        ("delete_case", 21),
        ("bulk_team", 2, 0),
    ]:
        _write(org, ids, write)
    assert account_rollup_check() == (0, 0)
    account_id = Account.objects.get(external_id="acc1").pk
    checked = 0
    for first_day, length in ((3, 1), (4, 3), (2, 6)):
        for shape in ("days", "hours", "minutes"):
            for slice_name in ("all", "team"):
                f = _filter(org, zone, first_day, length, shape, slice_name)
                for now in (f.end - timedelta(hours=7, minutes=13), f.end + timedelta(hours=30)):
                    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
                        from_rollup = _answers(f, now, account_id)
                    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
                        from_cases = _answers(f, now, account_id)
                    for name, (answer, used) in from_rollup.items():
                        assert answer == from_cases[name][0], (name, first_day, shape, now)
                        assert used or name == "turnover"
                    checked += 1
    assert checked == 36
