"""Each rep's backlog ratio against their own history, hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cases.models import CaseEvent
from metrics.kpis.backlog import kpi_backlog_by_rep_history
from metrics.types import KpiFilter
from tests.metrics.builders import make_case

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # Wednesday of the week starting 23 March


@pytest.fixture
def weekly_cases(org):
    rep = org.rep_a1
    n = 0

    def opened(day: str, resolved_day: str | None = None) -> None:
        nonlocal n
        n += 1
        events = [(CaseEvent.Type.RESOLVED, resolved_day)] if resolved_day else []
        make_case(org, f"w{n}", day, rep, events)

    # Week of 2 March: 5 opened, 4 resolved by the rep → 1 open at the end, ratio 1/4.
    for _ in range(4):
        opened("2026-03-02T09:00", "2026-03-05T09:00")
    opened("2026-03-03T09:00")
    # Week of 9 March: 4 opened, 4 resolved (including last week's straggler) → 1 open.
    for _ in range(3):
        opened("2026-03-09T09:00", "2026-03-11T09:00")
    opened("2026-03-10T09:00")
    # That straggler from 3 March is not resolved; so week 2 ends with 2 open, ratio 2/3.
    # Week of 16 March: 6 opened, 1 resolved → 7 open.
    opened("2026-03-16T09:00", "2026-03-17T09:00")
    for _ in range(5):
        opened("2026-03-16T10:00")
    # Week of 23 March (current): 1 more opened, none resolved → 8 open.
    opened("2026-03-23T09:00")
    return org


def test_ratio_weeks_and_flag(weekly_cases, django_assert_num_queries):
    org = weekly_cases
    f = KpiFilter(start=NOW, end=NOW, tz=ZoneInfo("UTC"), team_ids=(org.team_a.pk,))
    with django_assert_num_queries(1):
        trends = {t.rep: t for t in kpi_backlog_by_rep_history(f=f, now=NOW, history_weeks=2)}
    assert set(trends) == {org.rep_a1.pk, org.rep_a2.pk}  # active reps of the team, not managers

    mine = trends[org.rep_a1.pk]
    assert [(w.week, w.open_at_end, w.resolved) for w in mine.weeks] == [
        ("2026-03-02", 1, 4),
        ("2026-03-09", 2, 3),
        ("2026-03-16", 7, 1),
        ("2026-03-23", 8, 0),
    ]
    assert [w.ratio for w in mine.weeks] == [0.25, 2 / 3, 7.0, 8.0]
    assert mine.baseline_ratio == pytest.approx((0.25 + 2 / 3) / 2)
    assert mine.persistently_high is True
    assert mine.open_now == 8

    idle = trends[org.rep_a2.pk]
    assert [w.open_at_end for w in idle.weeks] == [0, 0, 0, 0]
    assert idle.persistently_high is False


def test_a_single_bad_week_is_not_flagged(weekly_cases):
    org = weekly_cases
    f = KpiFilter(start=NOW, end=NOW, tz=ZoneInfo("UTC"), rep_ids=(org.rep_a1.pk,))
    # A week earlier, only the week of 16 March was high: not "stays high".
    earlier = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
    (trend,) = kpi_backlog_by_rep_history(f=f, now=earlier, history_weeks=1)
    assert [w.week for w in trend.weeks] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert trend.persistently_high is False
