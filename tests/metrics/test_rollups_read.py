"""When a KPI reads the rollups, and that it reads the case tables otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.models import CaseEvent
from metrics.kpis.backlog import backlog_trend
from metrics.rollups.read import serves, zone_on_the_hour
from metrics.rollups.spec import BACKLOG_DAY, OPENED_DAY
from metrics.types import KpiFilter
from tests.metrics.builders import make_case

pytestmark = pytest.mark.django_db


def test_which_requests_the_rollups_answer():
    utc, kolkata = ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    f = KpiFilter(start=start, end=end, tz=utc)
    assert serves(f, BACKLOG_DAY, bounds=(start, end))
    assert serves(
        KpiFilter(start=start, end=end, tz=utc, team_ids=(1,)), BACKLOG_DAY, bounds=(start, end)
    )
    # Slices the table lacks.
    for other in ({"category_ids": (1,)}, {"rep_ids": (1,)}, {"channels": ("chat",)}):
        assert not serves(
            KpiFilter(start=start, end=end, tz=utc, **other), BACKLOG_DAY, bounds=(start, end)
        )
    assert serves(
        KpiFilter(start=start, end=end, tz=utc, category_ids=(1,)), OPENED_DAY, bounds=(start, end)
    )
    assert not serves(
        KpiFilter(start=start, end=end, tz=utc, segments=("smb",)), OPENED_DAY, bounds=(start, end)
    )
    # A boundary off the hour; a half-hour zone.
    assert not serves(f, BACKLOG_DAY, bounds=(start + timedelta(minutes=30), end))
    assert not serves(KpiFilter(start=start, end=end, tz=kolkata), BACKLOG_DAY, bounds=(start, end))
    assert zone_on_the_hour("Europe/Berlin", start, end)
    assert zone_on_the_hour("America/Sao_Paulo", datetime(2018, 1, 1, tzinfo=UTC), end)
    assert not zone_on_the_hour("Australia/Lord_Howe", start, end)  # 30-minute DST


def test_switched_off_the_kpi_reads_the_case_tables(org, settings, django_assert_num_queries):
    make_case(
        org, "a", "2026-03-02T09:30", org.rep_a1, [(CaseEvent.Type.RESOLVED, "2026-03-03T00:00")]
    )
    berlin = ZoneInfo("Europe/Berlin")
    f = KpiFilter(
        start=datetime(2026, 3, 1, tzinfo=berlin).astimezone(UTC),
        end=datetime(2026, 3, 5, tzinfo=berlin).astimezone(UTC),
        tz=berlin,
        team_ids=(org.team_a.pk,),
    )
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with django_assert_num_queries(1) as captured:
        from_rollups = backlog_trend(f=f, now=now)
    assert "metrics_rollup_backlog_day" in captured.captured_queries[0]["sql"]
    settings.SUPPORTMETRICS_ROLLUPS = False
    with django_assert_num_queries(1) as captured:
        from_cases = backlog_trend(f=f, now=now)
    assert "metrics_rollup" not in captured.captured_queries[0]["sql"]
    assert from_rollups == from_cases
    assert [(d.day, d.opened, d.resolved, d.open_at_end) for d in from_cases] == [
        ("2026-03-01", 0, 0, 0),
        ("2026-03-02", 1, 0, 1),
        ("2026-03-03", 0, 1, 0),
        ("2026-03-04", 0, 0, 0),
    ]
