"""The duration rollup against the case tables, on random cases and random writes.

Each example stores random cases (team, category, first response and resolution after
random delays), then runs random writes: reassignment to another team (one case or in
bulk), a reopen (``resolved_at`` cleared), a new resolution, a new first response, a
moved resolution, deletes, and a change of a category's resolution target. After that the
rollup must equal a rebuild, and first response and resolution time of a random window
(any zone, whole days or not, everything or one team) must be the same with the rollup
on and off: counts, mean, the interval, the fixed histogram and the SLA exactly; the
median and p90 within the bucket scheme's bound of percentile_cont.
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

from cases.models import Case, Category
from metrics.kpis.times import kpi_duration
from metrics.rollups.durations import TABLE, durations_check, max_relative_error
from metrics.types import KpiFilter
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # spans the spring DST changes and a month end
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
MINUTES = 45 * 24 * 60
TARGETS = [None, 1, 4, 24, 72]

specs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=MINUTES),  # opened, minutes after BASE
        st.integers(min_value=0, max_value=2),  # team: A, B, none
        st.integers(min_value=0, max_value=2),  # category
        st.one_of(st.none(), st.integers(min_value=0, max_value=3 * 24 * 3600)),  # response s
        st.one_of(st.none(), st.integers(min_value=0, max_value=12 * 24 * 3600)),  # resolution s
    ),
    min_size=1,
    max_size=25,
)
writes = st.lists(
    st.one_of(
        st.tuples(st.just("reassign"), st.integers(0, 24), st.integers(0, 2)),
        st.tuples(st.just("bulk_reassign"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("recategorize"), st.integers(0, 24), st.integers(0, 2)),
        st.tuples(st.just("reopen"), st.integers(0, 24)),
        st.tuples(st.just("resolve"), st.integers(0, 24), st.integers(0, 20 * 24 * 3600)),
        st.tuples(st.just("respond"), st.integers(0, 24), st.integers(0, 5 * 24 * 3600)),
        st.tuples(st.just("delete"), st.integers(0, 24)),
        st.tuples(st.just("bulk_delete"), st.integers(0, 2)),
        st.tuples(st.just("target"), st.integers(0, 2), st.sampled_from(TARGETS)),
    ),
    max_size=8,
)


def _categories(org):
    cats = [org.category]
    for slug in ("dur-a", "dur-b"):
        cats.append(Category.objects.filter(slug=slug).first() or CategoryFactory(slug=slug))
    return cats


def _store(org, categories, cases_spec):
    teams = [org.team_a, org.team_b, None]
    rows = []
    for i, (opened_min, team, category, response, resolution) in enumerate(cases_spec):
        opened = BASE + timedelta(minutes=opened_min)
        fields: dict[str, object] = {"status": "open", "agent_response_count": 0}
        if response is not None:
            fields.update(
                first_response_at=opened + timedelta(seconds=response),
                first_response_seconds=response,
                first_response_business_seconds=response // 2,
                agent_response_count=1,
            )
        if resolution is not None:
            fields.update(
                status="resolved",
                resolved_at=opened + timedelta(seconds=resolution),
                resolution_seconds=resolution,
                resolution_business_seconds=resolution // 3,
            )
        rows.append(
            Case(
                external_id=f"d{i}",
                opened_at=opened,
                category=categories[category],
                channel="email",
                team=teams[team],
                **fields,
            )
        )
    return [c.pk for c in Case.objects.bulk_create(rows)]


def _write(org, categories, ids, write):
    teams = [org.team_a, org.team_b, None]
    kind, *args = write
    if kind == "bulk_reassign":
        Case.objects.filter(team=teams[args[0]]).update(team=teams[args[1]])
        return
    if kind == "bulk_delete":
        Case.objects.filter(team=teams[args[0]]).delete()
        return
    if kind == "target":
        Category.objects.filter(pk=categories[args[0]].pk).update(target_resolution_hours=args[1])
        return
    cases = Case.objects.filter(pk=ids[args[0] % len(ids)])
    case = cases.first()
    if case is None:
        return
    if kind == "reassign":
        cases.update(team=teams[args[1]])
    elif kind == "recategorize":
        cases.update(category=categories[args[1]])
    elif kind == "reopen" and case.resolved_at is not None:
        cases.update(
            status="open",
            resolved_at=None,
            resolution_seconds=None,
            resolution_business_seconds=None,
            reopened_count=case.reopened_count + 1,
        )
    elif kind == "resolve":
        cases.update(
            status="resolved",
            resolved_at=case.opened_at + timedelta(seconds=args[1]),
            resolution_seconds=args[1],
            resolution_business_seconds=args[1] // 3,
        )
    elif kind == "respond":
        cases.update(
            first_response_at=case.opened_at + timedelta(seconds=args[1]),
            first_response_seconds=args[1],
            first_response_business_seconds=args[1] // 2,
            agent_response_count=max(case.agent_response_count, 1),
        )
    elif kind == "delete":
        cases.delete()


def _filter(org, zone, first_day, length, shape, team):
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first_day)).astimezone(tz).date()
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    if shape == "minutes":
        start, end = start + timedelta(minutes=17), end - timedelta(minutes=41)
    return KpiFilter(start=start, end=end, tz=tz, team_ids=(org.team_a.pk,) if team else None)


def _assert_same(rolled, exact):
    bound = max_relative_error()
    for got, want in (
        (rolled.stats.median, exact.stats.median),
        (rolled.stats.p90, exact.stats.p90),
    ):
        assert (got is None) == (want is None)
        if want is not None:
            assert abs(got - want) <= bound * want + 1e-9
    assert (rolled.cases, rolled.stats.n, rolled.stats.mean) == (
        exact.cases,
        exact.stats.n,
        exact.stats.mean,
    )
    assert rolled.histogram == exact.histogram
    assert rolled.sla == exact.sla
    for got, want in ((rolled.mean_low, exact.mean_low), (rolled.mean_high, exact.mean_high)):
        # The same exact sums; only the last rounding of the square root may differ.
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9) if want is not None else got is None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cases_spec=specs,
    writes_spec=writes,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=40),
    length=st.integers(min_value=1, max_value=45),
    shape=st.sampled_from(["days", "days", "minutes"]),
    team=st.booleans(),
)
def test_the_rollup_answers_as_the_case_tables(
    org, cases_spec, writes_spec, zone, first_day, length, shape, team
):
    Case.objects.all().delete()
    categories = _categories(org)
    Category.objects.filter(pk__in=[c.pk for c in categories]).update(target_resolution_hours=24)
    ids = _store(org, categories, cases_spec)
    for write in writes_spec:
        _write(org, categories, ids, write)
    assert durations_check() is None

    f = _filter(org, zone, first_day, length, shape, team)
    for measure in ("first_response", "resolution"):
        with CaptureQueriesContext(connection) as queries:
            rolled = kpi_duration(f=f, now=BASE, measure=measure).overall
        assert any(TABLE in q["sql"] for q in queries.captured_queries)
        with (
            override_settings(SUPPORTMETRICS_ROLLUPS=False),
            CaptureQueriesContext(connection) as queries,
        ):
            exact = kpi_duration(f=f, now=BASE, measure=measure).overall
        assert not any(TABLE in q["sql"] for q in queries.captured_queries)
        _assert_same(rolled, exact)
