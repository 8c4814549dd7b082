"""Backlog against a hand-computed case set (Europe/Berlin calendar)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from metrics.kpis.backlog import kpi_backlog
from metrics.types import KpiFilter
from tests.metrics.builders import BERLIN, NOW

pytestmark = pytest.mark.django_db


def team_a_filter(org, **overrides):
    values = dict(
        start=datetime(2026, 3, 1, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 11, tzinfo=BERLIN).astimezone(UTC),
        tz=BERLIN,
        team_ids=(org.team_a.pk,),
    )
    values.update(overrides)
    return KpiFilter(**values)


def test_open_now_by_age_bucket_and_rep(backlog_cases, django_assert_num_queries):
    org = backlog_cases
    with django_assert_num_queries(2):  # per group (overall = their sums), trend
        result = kpi_backlog(f=team_a_filter(org), now=NOW, group_by="rep")
    assert result.open_now == 4
    # c3 is 12.5 h old; c4 6 d 2 h; c2 8 d 2 h; c6 18 d.
    assert result.age == {"lt_1d": 1, "d1_3": 0, "d3_7": 1, "d7_30": 2, "gt_30d": 0}
    by_rep = {g.key: (g.n, g.age) for g in result.groups}
    assert by_rep == {
        org.rep_a1.pk: (3, {"lt_1d": 0, "d1_3": 0, "d3_7": 1, "d7_30": 2, "gt_30d": 0}),
        org.rep_a2.pk: (1, {"lt_1d": 1, "d1_3": 0, "d3_7": 0, "d7_30": 0, "gt_30d": 0}),
    }


def test_daily_trend_is_start_count_plus_running_deltas(backlog_cases):
    result = kpi_backlog(f=team_a_filter(backlog_cases), now=NOW, group_by=None)
    trend = [(d.day, d.open_at_end, d.opened, d.resolved, d.reopened) for d in result.trend]
    assert trend == [
        ("2026-03-01", 2, 1, 0, 0),  # c6 from before the window, c1 opens
        ("2026-03-02", 3, 1, 0, 0),
        ("2026-03-03", 2, 0, 1, 0),
        ("2026-03-04", 3, 1, 0, 0),
        ("2026-03-05", 2, 0, 1, 0),
        ("2026-03-06", 3, 0, 0, 1),
        ("2026-03-07", 3, 0, 0, 0),
        ("2026-03-08", 3, 0, 0, 0),
        ("2026-03-09", 3, 0, 0, 0),  # c3 opened 23:30 UTC = 00:30 on the 10th in Berlin
        ("2026-03-10", 4, 1, 0, 0),
    ]


def test_trend_in_utc_moves_the_late_case_to_the_ninth(backlog_cases):
    f = team_a_filter(
        backlog_cases,
        tz=ZoneInfo("UTC"),
        start=datetime(2026, 3, 9, tzinfo=UTC),
        end=datetime(2026, 3, 11, tzinfo=UTC),
    )
    trend = [(d.day, d.open_at_end, d.opened) for d in kpi_backlog(f=f, now=NOW).trend]
    assert trend == [("2026-03-09", 4, 1), ("2026-03-10", 4, 0)]


def test_empty_window_and_other_team(backlog_cases):
    org = backlog_cases
    f = team_a_filter(org, team_ids=(org.team_b.pk,))
    result = kpi_backlog(f=f, now=NOW)
    assert result.open_now == 1
    assert [d.open_at_end for d in result.trend][-1] == 1

    nobody = team_a_filter(org, category_ids=(999_999,))
    empty = kpi_backlog(f=nobody, now=NOW)
    assert empty.open_now == 0
    assert empty.groups == []
    assert {d.open_at_end for d in empty.trend} == {0}


def test_trend_stops_at_today(backlog_cases):
    f = team_a_filter(backlog_cases, end=datetime(2026, 3, 20, tzinfo=BERLIN).astimezone(UTC))
    assert kpi_backlog(f=f, now=NOW).trend[-1].day == "2026-03-10"
