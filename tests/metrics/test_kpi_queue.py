"""The prioritized queue against a hand-computed set of open cases (NOW = 10 March 12:00 UTC).

Score = priority (urgent 30, high 20, normal 10, low 0) + waiting (35 × h/48, capped; 0
when pending) + age (15 × days/14, capped) + effort (20 × (responses + 2 × reopens)/8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent
from metrics.kpis.queue import (
    AGE_FULL_DAYS,
    AGE_WEIGHT,
    EFFORT_FULL,
    EFFORT_WEIGHT,
    PRIORITY_POINTS,
    REOPEN_EFFORT,
    WAITING_FULL_HOURS,
    WAITING_WEIGHT,
    kpi_queue,
)
from metrics.types import KpiFilter
from tests.metrics.builders import BERLIN, NOW, at, folded_cases, queue_case_set

pytestmark = pytest.mark.django_db

T = CaseEvent.Type


def scope(**slice_):
    return KpiFilter(start=NOW, end=NOW, tz=ZoneInfo("UTC"), **slice_)


@pytest.fixture
def queue_cases(org):
    return queue_case_set(org)


def listed(page):
    return [(row.external_id, row.score) for row in page.rows]


def test_team_queue_in_score_order(queue_cases, django_assert_num_queries):
    org = queue_cases
    with django_assert_num_queries(1):
        page = kpi_queue(f=scope(team_ids=(org.team_a.pk,)), now=NOW)
    assert page.total == 6
    assert listed(page) == [
        ("q4", 60.0),
        ("q2", 33.21),
        ("q3", 32.14),
        ("q1", 31.55),
        ("q7", 14.64),
        ("q8", 10.0),
    ]


def test_components_explain_the_score(queue_cases):
    org = queue_cases
    rows = {r.external_id: r for r in kpi_queue(f=scope(team_ids=(org.team_a.pk,)), now=NOW).rows}
    q2 = rows["q2"].components
    assert (q2["priority"].raw, q2["priority"].points) == ("normal", 10.0)
    assert (q2["waiting"].raw, q2["waiting"].points) == (24.0, 17.5)
    assert (q2["age"].raw, q2["age"].points) == (3.0, 3.21)
    assert (q2["effort"].raw, q2["effort"].points) == (1, 2.5)
    assert rows["q2"].waiting_since == at("2026-03-09T12:00")
    q3 = rows["q3"]
    assert q3.status == "pending"
    assert (q3.components["waiting"].raw, q3.components["waiting"].points) == (216.0, 0.0)
    q4 = rows["q4"]
    assert (q4.agent_responses, q4.reopens, q4.components["effort"].raw) == (2, 1, 4)
    assert q4.components["age"].points == 15.0 and q4.components["waiting"].points == 35.0
    assert rows["q7"].assignee_id is None and rows["q7"].waiting_since == at("2026-03-10T06:00")


def test_rep_admin_and_paging(queue_cases, django_assert_num_queries):
    org = queue_cases
    mine = kpi_queue(f=scope(rep_ids=(org.rep_a1.pk,)), now=NOW)
    assert [r.external_id for r in mine.rows] == ["q2", "q3", "q1", "q8"]
    everyone = kpi_queue(f=scope(), now=NOW)
    assert [r.external_id for r in everyone.rows] == [
        "q4",
        "q2",
        "q3",
        "q1",
        "q6",
        "q7",
        "q8",
    ]
    page = kpi_queue(f=scope(), now=NOW, limit=2, offset=2)
    assert [r.external_id for r in page.rows] == ["q3", "q1"] and page.total == 7
    with django_assert_num_queries(2):  # past the end: one more count for the total
        beyond = kpi_queue(f=scope(), now=NOW, limit=2, offset=50)
    assert beyond.rows == [] and beyond.total == 7
    other = kpi_queue(f=scope(team_ids=(org.team_b.pk,)), now=NOW)
    assert [r.external_id for r in other.rows] == ["q6"]
    urgent = kpi_queue(f=scope(priorities=("urgent",)), now=NOW)
    assert [r.external_id for r in urgent.rows] == ["q1", "q6"]


def test_empty_queue(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = kpi_queue(f=scope(team_ids=(org.team_a.pk,)), now=NOW)
    assert page.total == 0 and page.rows == []


def test_equal_scores_go_to_the_longer_wait_then_the_lower_id(org):
    a1 = org.rep_a1
    cases = folded_cases(
        org,
        [
            ("t1", "2026-03-10T10:00", a1, None, []),
            ("t2", "2026-03-10T10:00", a1, None, []),
        ],
    )
    rows = kpi_queue(f=scope(rep_ids=(a1.pk,)), now=NOW).rows
    assert rows[0].score == rows[1].score
    assert [r.case_id for r in rows] == sorted(c.pk for c in cases.values())


def test_waiting_hours_are_elapsed_time_across_dst(org):
    # 29 March 2026 01:30 CET → 04:30 CEST is 2 hours of real time (3 on the wall clock).
    folded_cases(org, [("dst", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), org.rep_a1, None, [])])
    now = datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    f = KpiFilter(start=now, end=now, tz=BERLIN, rep_ids=(org.rep_a1.pk,))
    (row,) = kpi_queue(f=f, now=now).rows
    assert row.components["waiting"].raw == 2.0
    assert row.components["age"].raw == pytest.approx(2 / 24, abs=0.005)


# --- property test: the SQL against a plain-Python reference ----------------------------------

BASE = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the Berlin DST switch is a day later


def _reference(cases, now, rep_id, limit, offset):
    rows = []
    for c in cases:
        if c.status not in ("new", "open", "pending") or c.opened_at > now:
            continue
        if rep_id is not None and c.assignee_id != rep_id:
            continue
        since = c.last_customer_activity_at or c.opened_at
        waiting_h = max(0, (now - since).total_seconds() / 3600)
        age_h = max(0, (now - c.opened_at).total_seconds() / 3600)
        effort = c.agent_response_count + REOPEN_EFFORT * c.reopened_count
        score = (
            float(PRIORITY_POINTS[c.priority])
            + (
                0.0
                if c.status == "pending"
                else WAITING_WEIGHT * min(1, waiting_h / WAITING_FULL_HOURS)
            )
            + AGE_WEIGHT * min(1, age_h / (24.0 * AGE_FULL_DAYS))
            + EFFORT_WEIGHT * min(1, effort / EFFORT_FULL)
        )
        rows.append((-score, since, c.pk, score))
    rows.sort()
    return len(rows), [(pk, score) for _, _, pk, score in rows[offset : offset + limit]]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(["new", "open", "pending", "resolved"]),
            st.sampled_from(list(PRIORITY_POINTS)),
            st.integers(0, 30 * 24 * 60),  # opened, minutes after BASE
            st.one_of(st.none(), st.integers(0, 5 * 24 * 60)),  # customer wrote, minutes later
            st.integers(0, 10),  # agent responses
            st.integers(0, 3),  # reopens
            st.sampled_from(["a1", "a2", None]),
        ),
        max_size=25,
    ),
    now_minutes=st.integers(0, 40 * 24 * 60),
    only_rep=st.booleans(),
    limit=st.integers(1, 10),
    offset=st.integers(0, 12),
)
def test_matches_python_reference(org, specs, now_minutes, only_rep, limit, offset):
    Case.objects.all().delete()
    reps = {"a1": org.rep_a1, "a2": org.rep_a2, None: None}
    rows = []
    for n, (status, priority, opened_m, wrote_m, responses, reopens, rep) in enumerate(specs):
        opened = BASE + timedelta(minutes=opened_m)
        resolved = status == "resolved"
        rows.append(
            Case(
                external_id=f"pq{n}",
                category=org.category,
                channel="chat",
                status=status,
                priority=priority,
                opened_at=opened,
                team_id=org.team_a.pk,
                assignee=reps[rep],
                last_customer_activity_at=opened + timedelta(minutes=wrote_m)
                if wrote_m is not None
                else None,
                agent_response_count=responses,
                first_response_at=opened + timedelta(minutes=1) if responses else None,
                reopened_count=reopens,
                resolved_at=opened + timedelta(hours=1) if resolved else None,
                first_resolved_at=opened + timedelta(hours=1) if resolved or reopens else None,
            )
        )
    stored = Case.objects.bulk_create(rows)
    now = BASE + timedelta(minutes=now_minutes)
    rep_id = org.rep_a1.pk if only_rep else None
    f = KpiFilter(
        start=now,
        end=now,
        tz=BERLIN,
        team_ids=(org.team_a.pk,),
        rep_ids=(rep_id,) if rep_id else None,
    )
    page = kpi_queue(f=f, now=now, limit=limit, offset=offset)
    total, expected = _reference(stored, now, rep_id, limit, offset)
    assert page.total == total
    assert [r.case_id for r in page.rows] == [pk for pk, _ in expected]
    for row, (_, score) in zip(page.rows, expected, strict=True):
        assert row.score == pytest.approx(score, abs=0.005)
        parts = sum(part.points for part in row.components.values())
        assert parts == pytest.approx(row.score, abs=0.02)  # components add up (to rounding)
