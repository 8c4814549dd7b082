"""Detractor recovery: time to first contact and recovery rate against a hand-computed set."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from metrics.kpis.recovery import kpi_detractor_recovery
from metrics.stats import wilson_interval
from metrics.types import KpiFilter
from tests.factories import CategoryFactory
from tests.metrics.recovery_alerts import END, NOW, START, D, H, alert, at, recovery_alerts

pytestmark = pytest.mark.django_db


def window(org=None, **overrides) -> KpiFilter:
    values = dict(start=START, end=END, tz=ZoneInfo("UTC"))
    if org is not None:
        values["team_ids"] = (org.team_a.pk,)
    values.update(overrides)
    return KpiFilter(**values)


@pytest.fixture
def alerts(org):
    return recovery_alerts(org)


def as_tuple(p):
    return (p.n, p.count, p.value, p.low, p.high, p.insufficient_data)


def wilson(successes, n):
    w = wilson_interval(successes, n)
    return (n, successes, w.value, w.low, w.high, False)


INSUFFICIENT_RATE = (None, None, None, True)


def time_tuple(t):
    return (t.n, t.mean, t.median, t.p90, t.insufficient_data)


def test_team_figures(alerts, django_assert_num_queries):
    org = alerts
    with django_assert_num_queries(1):  # overall, teams and reps: one statement
        result = kpi_detractor_recovery(f=window(org), now=NOW, min_n=1)
    overall = result.overall
    # Eight team A alerts in the window; six contacted by NOW (the last one only after NOW).
    assert (overall.alerts, overall.contacted, overall.closed, overall.recovered) == (8, 6, 4, 3)
    # Seconds to first contact: 1800, 3600, 7200, 10800, 14400, 36000.
    # mean 73800 / 6; median (7200 + 10800) / 2; p90 at rank 0.9·5 = 4.5: 14400 + ½·21600.
    assert time_tuple(overall.time_to_first_contact) == (6, 12300.0, 9000.0, 25200.0, False)
    # Closed by NOW: recovered, not recovered, recovered, recovered (the 30-min one closes later).
    assert as_tuple(overall.recovery_rate) == wilson(3, 4)
    assert [(t.key, t.label, t.figures.alerts) for t in result.teams] == [
        (org.team_a.pk, "Alpha", 8)
    ]
    assert result.teams[0].figures == overall


def test_rep_figures(alerts):
    org = alerts
    result = kpi_detractor_recovery(f=window(org), now=NOW, min_n=1)
    assert [(r.key, r.label) for r in result.reps] == [
        (org.rep_a1.pk, "Rep_A1"),
        (org.rep_a2.pk, "Rep_A2"),
        (None, None),  # answers attributed to nobody come last
    ]
    a1, a2, nobody = (r.figures for r in result.reps)
    # rep_a1: 3600, 7200, 10800 → p90 at rank 1.8: 7200 + 0.8·3600.
    assert (a1.alerts, a1.contacted, a1.closed, a1.recovered) == (4, 3, 2, 1)
    assert time_tuple(a1.time_to_first_contact) == (
        3,
        7200.0,
        7200.0,
        pytest.approx(10080.0),
        False,
    )
    assert as_tuple(a1.recovery_rate) == wilson(1, 2)
    # rep_a2: 14400, 36000 → mean = median 25200; p90 at rank 0.9: 14400 + 0.9·21600.
    assert (a2.alerts, a2.contacted, a2.closed, a2.recovered) == (2, 2, 2, 2)
    assert time_tuple(a2.time_to_first_contact) == (
        2,
        25200.0,
        25200.0,
        pytest.approx(33840.0),
        False,
    )
    assert as_tuple(a2.recovery_rate) == wilson(2, 2)
    assert as_tuple(a2.recovery_rate)[2:5] == (1.0, pytest.approx(0.3423802), 1.0)
    # Nobody's: one contacted (1800 s), none closed by NOW: a rate of nothing is no rate.
    assert (nobody.alerts, nobody.contacted, nobody.closed) == (2, 1, 0)
    assert time_tuple(nobody.time_to_first_contact) == (1, 1800.0, 1800.0, 1800.0, False)
    assert as_tuple(nobody.recovery_rate) == (0, 0, *INSUFFICIENT_RATE)


def test_a_rep_below_the_minimum_sample_says_insufficient_data(alerts):
    org = alerts
    result = kpi_detractor_recovery(f=window(org), now=NOW, min_n=3)
    a1, a2, _ = (r.figures for r in result.reps)
    # rep_a1: 3 contacted (enough for the time), 2 closed (too few for the rate).
    assert time_tuple(a1.time_to_first_contact) == (
        3,
        7200.0,
        7200.0,
        pytest.approx(10080.0),
        False,
    )
    assert as_tuple(a1.recovery_rate) == (2, 1, *INSUFFICIENT_RATE)
    # rep_a2: 2 contacted: no time, counts still given.
    assert time_tuple(a2.time_to_first_contact) == (2, None, None, None, True)
    assert (a2.alerts, a2.contacted, a2.closed, a2.recovered) == (2, 2, 2, 2)
    # The team's figures are a group's: always shown.
    assert result.overall.time_to_first_contact.insufficient_data is False
    assert as_tuple(result.overall.recovery_rate) == wilson(3, 4)


def test_one_reps_view_applies_the_minimum_to_the_overall_figure(alerts):
    org = alerts
    result = kpi_detractor_recovery(f=window(rep_ids=(org.rep_a2.pk,)), now=NOW, min_n=3)
    assert [r.key for r in result.reps] == [org.rep_a2.pk]
    assert result.overall.alerts == 2
    assert time_tuple(result.overall.time_to_first_contact) == (2, None, None, None, True)
    assert as_tuple(result.overall.recovery_rate) == (2, 2, *INSUFFICIENT_RATE)


def test_all_teams_and_other_teams_excluded(alerts):
    org = alerts
    everyone = kpi_detractor_recovery(f=window(), now=NOW, min_n=1)
    assert [(t.label, t.figures.alerts, t.figures.recovered) for t in everyone.teams] == [
        ("Alpha", 8, 3),
        ("Bravo", 1, 1),
    ]
    assert everyone.overall.alerts == 9
    assert as_tuple(everyone.overall.recovery_rate) == wilson(4, 5)
    team_b = kpi_detractor_recovery(f=window(team_ids=(org.team_b.pk,)), now=NOW, min_n=1)
    assert [r.label for r in team_b.reps] == ["Rep_B1"]
    assert time_tuple(team_b.overall.time_to_first_contact) == (1, 18000.0, 18000.0, 18000.0, False)


def test_window_edges(alerts):
    org = alerts
    # A window of exactly the first instant's second holds only the alert created at START.
    first = kpi_detractor_recovery(f=window(org, end=START + timedelta(seconds=1)), now=NOW)
    assert (first.overall.alerts, first.overall.recovered) == (1, 1)
    # The window ending at END's next second takes the END alert too; the one a second before
    # START is only in a window that starts earlier.
    later = kpi_detractor_recovery(f=window(org, end=END + timedelta(seconds=1)), now=NOW)
    assert later.overall.alerts == 9
    earlier = kpi_detractor_recovery(f=window(org, start=START - timedelta(seconds=1)), now=NOW)
    assert earlier.overall.alerts == 9


def test_as_of_an_earlier_now(alerts):
    org = alerts
    # At 20 March 12:00, rep_a2's 15 March alert is contacted (after 10 h) and recovered (the
    # next day); the 20 March 10:00 one is raised but its contact (14:00) is still to come.
    then = at("2026-03-20T12:00")
    result = kpi_detractor_recovery(f=window(org, rep_ids=(org.rep_a2.pk,)), now=then, min_n=1)
    figures = result.overall
    assert (figures.alerts, figures.contacted, figures.closed, figures.recovered) == (2, 1, 1, 1)
    assert time_tuple(figures.time_to_first_contact) == (1, 36000.0, 36000.0, 36000.0, False)


def test_case_slices_apply(alerts):
    org = alerts
    shipping = CategoryFactory(slug="shipping", name="Shipping")
    closed = {"close": D, "outcome": "recovered"}
    alert(org, org.rep_a1, at("2026-03-06T10:00"), contact=H, category=shipping, **closed)
    only_shipping = kpi_detractor_recovery(
        f=window(org, category_ids=(shipping.pk,)), now=NOW, min_n=1
    )
    assert (only_shipping.overall.alerts, only_shipping.overall.recovered) == (1, 1)
    assert kpi_detractor_recovery(f=window(org, channels=("chat",)), now=NOW).overall.alerts == 0


def test_an_empty_window(alerts, django_assert_num_queries):
    org = alerts
    with django_assert_num_queries(1):
        january = window(org, start=at("2026-01-01T00:00"), end=at("2026-02-01T00:00"))
        result = kpi_detractor_recovery(f=january, now=NOW)
    assert (result.teams, result.reps) == ([], [])
    overall = result.overall
    assert (overall.alerts, overall.contacted, overall.closed, overall.recovered) == (0, 0, 0, 0)
    assert time_tuple(overall.time_to_first_contact) == (0, None, None, None, False)
    assert as_tuple(overall.recovery_rate) == (0, 0, None, None, None, False)
