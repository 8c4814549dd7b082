"""The duration rollup (metrics.rollups.durations): its bucket scheme's error bound, the SQL
and Python bucket forms agreeing, the installed functions matching the module, and the
figures after a category target change."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings

from cases.models import Case, Category
from metrics.kpis.times import kpi_resolution_time, rollup_periods
from metrics.rollups import durations
from metrics.types import KpiFilter

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def percentile_cont(values, q):
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def counts_of(values):
    counts: dict[int, int] = {}
    for v in values:
        counts[durations.bucket_of(v)] = counts.get(durations.bucket_of(v), 0) + 1
    return list(counts.items())


def test_the_bucket_scheme_worst_case_error_is_at_most_two_percent():
    # Any duration's stand-in value is within this of it (exact buckets: 0).
    assert durations.max_relative_error() <= 0.02
    # The last bucket ends beyond any duration the case table can hold (13 years).
    assert durations.bucket_bounds(durations.BUCKETS - 1)[1] > 13 * 365 * 86400


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_of_synthetic_distributions_are_within_the_bound(seed):
    rng = random.Random(seed)
    bound = durations.max_relative_error()
    samples = {
        "lognormal": [int(rng.lognormvariate(9, 2)) for _ in range(5000)],
        "two_modes": [
            rng.choice([rng.randint(0, 90), rng.randint(80_000, 700_000)]) for _ in range(3000)
        ],
        # The adversary: every value at the low end of its bucket (the widest gap to the
        # stand-in), and few values, so the interpolation spans buckets.
        "bucket_edges": [
            math.ceil(durations.bucket_bounds(rng.randint(64, 380))[0]) for _ in range(7)
        ],
    }
    for values in samples.values():
        counts = counts_of(values)
        for q in (0.5, 0.9):
            exact = percentile_cont(values, q)
            estimate = durations.percentile(counts, q)
            assert estimate is not None
            assert abs(estimate - exact) <= bound * exact + 1e-9


def test_percentile_of_nothing_and_of_small_values():
    assert durations.percentile([], 0.5) is None
    assert durations.percentile([(3, 0)], 0.5) is None
    # Below 64 s every second has its bucket: exact.
    assert durations.percentile(counts_of([1, 2, 10, 40]), 0.5) == 6.0


@pytest.mark.django_db
def test_sql_and_python_buckets_agree():
    values = sorted(
        {0, 1, 63, 64, 65, 66, 67, 10**9, 10**10}
        | {int(durations.bucket_bounds(i)[0]) + d for i in range(64, 464, 7) for d in (-1, 0, 1)}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d, {durations.bucket_sql('d')} FROM unnest(%s::bigint[]) AS t(d)", [values]
        )
        got = dict(cursor.fetchall())
    assert got == {v: durations.bucket_of(v) for v in values}


@pytest.mark.django_db
def test_installed_functions_match_the_module():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)",
            [list(durations.function_bodies())],
        )
        installed = dict(cursor.fetchall())
    assert installed == durations.function_bodies()


def test_rollup_periods_split_months_days_and_edges():
    start = datetime(2026, 1, 30, 23, tzinfo=UTC)
    end = datetime(2026, 4, 2, 22, tzinfo=UTC)
    lo, hi, months, days = rollup_periods(start, end)
    assert (lo, hi) == (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC))
    assert months == [datetime(2026, 2, 1).date(), datetime(2026, 3, 1).date()]
    assert days == [datetime(2026, 1, 31).date(), datetime(2026, 4, 1).date()]
    # No whole UTC day inside: everything from the edges.
    assert rollup_periods(start, start + timedelta(hours=20)) == (
        start + timedelta(hours=20),
        start + timedelta(hours=20),
        [],
        [],
    )


@pytest.mark.django_db
def test_a_target_change_moves_the_sla_figures(org):
    billing = org.category
    other = Category.objects.create(name="Other", slug="other", target_resolution_hours=None)
    for i, (hours, category) in enumerate([(2, billing), (30, billing), (5, other), (50, other)]):
        opened = BASE + timedelta(days=i)
        Case.objects.create(
            external_id=f"t{i}",
            category=category,
            channel="email",
            team=org.team_a,
            opened_at=opened,
            status="resolved",
            resolved_at=opened + timedelta(hours=hours),
            resolution_seconds=hours * 3600,
            resolution_business_seconds=hours * 3600,
        )
    f = KpiFilter(start=BASE - timedelta(days=2), end=BASE + timedelta(days=40), tz=UTC)

    def sla():
        figure = kpi_resolution_time(f=f, now=BASE).overall.sla
        with override_settings(SUPPORTMETRICS_ROLLUPS=False):
            assert kpi_resolution_time(f=f, now=BASE).overall.sla == figure
        return figure.attainment.count, figure.attainment.n, figure.no_target

    billing.target_resolution_hours = 24
    billing.save()
    assert sla() == (1, 2, 2)
    Category.objects.filter(pk=other.pk).update(target_resolution_hours=6)
    assert sla() == (2, 4, 0)
    Category.objects.filter(pk__in=[billing.pk, other.pk]).update(target_resolution_hours=1)
    assert sla() == (0, 4, 0)
    Category.objects.filter(pk=billing.pk).update(target_resolution_hours=None)
    assert sla() == (0, 2, 2)
    assert durations.durations_check() is None


@pytest.mark.django_db
def test_the_rebuild_job_restores_the_table(org):
    from metrics import tasks
    from metrics.kpis.times import percentile_error

    for i in range(30):
        opened = BASE + timedelta(hours=7 * i)
        Case.objects.create(
            external_id=f"j{i}",
            category=org.category,
            channel="email",
            team=org.team_a if i % 2 else None,
            opened_at=opened,
            status="resolved",
            resolved_at=opened + timedelta(seconds=97 * i**2),
            resolution_seconds=97 * i**2,
            resolution_business_seconds=50 * i,
        )
    f = KpiFilter(start=BASE, end=BASE + timedelta(days=30), tz=UTC)
    before = kpi_resolution_time(f=f, now=BASE).overall
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {durations.TABLE}")  # as if written with triggers off
    assert durations.durations_check() is not None
    counts = tasks.rollups_rebuild()
    assert counts[durations.TABLE] > 0
    assert durations.durations_check() is None
    assert kpi_resolution_time(f=f, now=BASE).overall == before
    errors = percentile_error(f, "resolution")
    assert all(e is not None and e <= durations.max_relative_error() for e in errors.values())
