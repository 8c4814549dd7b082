"""First contact resolution and reopen rate against hand-computed figures, and against a
plain-Python reference on random case sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent
from metrics.kpis.fcr import kpi_first_contact_resolution
from metrics.stats import wilson_interval
from tests.metrics.builders import (
    BERLIN,
    NOW,
    local_days,
    make_case_with,
    march_week,
    resolution_cases,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(org):
    return resolution_cases(org)


def counts(figure):
    """(resolved, zero-touch, FCR count / n, reopened / n)."""
    return (
        figure.resolved,
        figure.zero_touch,
        (figure.fcr.count, figure.fcr.n),
        (figure.reopen_rate.count, figure.reopen_rate.n),
    )


def test_fcr_and_reopen_rate_overall(cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = kpi_first_contact_resolution(f=march_week(cases), now=NOW)
    # Resolved in the window (latest resolution), team A: r1, r2, r3, r4, r5, r7.
    # r3 has no agent response: zero-touch, outside FCR.
    # One response and never reopened: r1, r2, r5 → FCR 3 / 5. r4 took two responses; r7
    # took one but was reopened. r8 was reopened and is open: not resolved, not counted.
    # Reopened: r7 → 1 / 6 (zero-touch cases count for the reopen rate).
    overall = result.overall
    assert counts(overall) == (6, 1, (3, 5), (1, 6))
    assert overall.fcr.value == 0.6
    assert (overall.fcr.low, overall.fcr.high) == (wilson_interval(3, 5).low, 0.882379225767352)
    assert overall.reopen_rate.value == pytest.approx(1 / 6)
    assert not overall.fcr.insufficient_data
    assert result.rows == []


def test_per_rep_alphabetical_with_minimum_sample(cases, django_assert_num_queries):
    org = cases
    org.rep_a1.display_name = "Zoe"
    org.rep_a1.save()
    with django_assert_num_queries(1):
        result = kpi_first_contact_resolution(f=march_week(org), now=NOW, group_by="rep", min_n=2)
    assert [(row.key, row.label) for row in result.rows] == [
        (org.rep_a2.pk, "Rep_A2"),
        (org.rep_a1.pk, "Zoe"),
    ]
    a2, a1 = (row.figure for row in result.rows)
    # A1 resolved r1, r2, r5 (one touch) and r7 (reopened): FCR 3 / 4, reopened 1 / 4.
    assert counts(a1) == (4, 0, (3, 4), (1, 4))
    assert a1.fcr.value == 0.75
    # A2 resolved r3 (zero-touch) and r4 (two responses): FCR 0 of 1 — below min_n 2.
    assert counts(a2) == (2, 1, (0, 1), (0, 2))
    assert a2.fcr.insufficient_data and a2.fcr.value is None and a2.fcr.low is None
    assert a2.reopen_rate.value == 0.0 and not a2.reopen_rate.insufficient_data

    default = kpi_first_contact_resolution(f=march_week(org), now=NOW, group_by="rep")
    assert all(row.figure.fcr.insufficient_data for row in default.rows)  # min_n 10


def test_by_channel_and_category(cases):
    by_channel = kpi_first_contact_resolution(f=march_week(cases), now=NOW, group_by="channel")
    # chat: r4 (two responses). email: r1, r2, r3 (zero-touch), r5, r7 (reopened).
    assert [(row.key, counts(row.figure)) for row in by_channel.rows] == [
        ("chat", (1, 0, (0, 1), (0, 1))),
        ("email", (5, 1, (3, 4), (1, 5))),
    ]
    assert by_channel.rows[0].figure.fcr.value == 0.0  # groups other than reps: no min_n
    by_category = kpi_first_contact_resolution(f=march_week(cases), now=NOW, group_by="category")
    assert [(row.label, counts(row.figure)) for row in by_category.rows] == [
        ("Billing", (5, 0, (3, 5), (1, 5))),
        ("Misc", (1, 1, (0, 0), (0, 1))),
    ]
    misc = by_category.rows[1].figure.fcr
    assert (misc.value, misc.low, misc.high, misc.insufficient_data) == (None, None, None, False)


def test_window_edges_empty_window_and_other_team(cases):
    org = cases
    # r5 was resolved at the window's first instant: in this week, not in the one before.
    before = march_week(
        org,
        start=datetime(2026, 2, 23, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 2, tzinfo=BERLIN).astimezone(UTC),
    )
    assert counts(kpi_first_contact_resolution(f=before, now=NOW).overall) == (
        0,
        0,
        (0, 0),
        (0, 0),
    )
    # r6 was resolved at this week's end: it belongs to the next week (one response: FCR).
    after = march_week(
        org,
        start=datetime(2026, 3, 9, tzinfo=BERLIN).astimezone(UTC),
        end=datetime(2026, 3, 16, tzinfo=BERLIN).astimezone(UTC),
    )
    next_week = kpi_first_contact_resolution(f=after, now=NOW, group_by="rep")
    assert counts(next_week.overall) == (1, 0, (1, 1), (0, 1))
    assert next_week.overall.fcr.value == 1.0
    assert [row.label for row in next_week.rows] == ["Rep_A2"]
    empty = kpi_first_contact_resolution(f=before, now=NOW, group_by="rep")
    assert empty.overall.fcr.value is None and empty.rows == []
    # Team B: r9, one response, never reopened.
    team_b = kpi_first_contact_resolution(f=march_week(org, team_ids=(org.team_b.pk,)), now=NOW)
    assert counts(team_b.overall) == (1, 0, (1, 1), (0, 1))


def test_a_reopen_after_the_window_takes_the_case_out_of_it(org):
    # Resolved on Monday with one response; reopened the next week and still open: its
    # latest resolution is gone, so the week it was first resolved in no longer lists it.
    make_case_with(
        org,
        "late-reopen",
        "2026-03-02T08:00",
        org.rep_a1,
        [
            (CaseEvent.Type.AGENT_RESPONSE, "2026-03-02T09:00"),
            (CaseEvent.Type.RESOLVED, "2026-03-02T10:00"),
            (CaseEvent.Type.REOPENED, "2026-03-10T10:00"),
        ],
    )
    assert kpi_first_contact_resolution(f=march_week(org), now=NOW).overall.resolved == 0


# --- property: the SQL against a plain-Python reference ------------------------------------

BASE = datetime(2026, 3, 1, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "UTC"]

random_cases = st.lists(
    st.fixed_dictionaries(
        {
            "opened": st.integers(min_value=0, max_value=12 * 24 * 60),
            "resolution": st.none() | st.integers(min_value=0, max_value=6 * 24 * 60),
            "responses": st.integers(min_value=0, max_value=3),
            "reopens": st.integers(min_value=0, max_value=2),
            "resolver": st.sampled_from([0, 1, None]),
            "channel": st.sampled_from(["email", "chat", "phone"]),
        }
    ),
    min_size=3,
    max_size=30,
)


def reference(cases, f, key):
    groups = {}
    for case in cases:
        if case.resolved_at is not None and f.start <= case.resolved_at < f.end:
            groups.setdefault(key(case), []).append(case)
    return {
        group: (
            len(members),
            sum(1 for c in members if c.agent_response_count == 0),
            (
                sum(1 for c in members if c.agent_response_count == 1 and c.reopened_count == 0),
                sum(1 for c in members if c.agent_response_count >= 1),
            ),
            (sum(1 for c in members if c.reopened_count > 0), len(members)),
        )
        for group, members in groups.items()
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=random_cases,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(min_value=0, max_value=10),
    length=st.integers(min_value=1, max_value=10),
    group_by=st.sampled_from([None, "rep", "channel"]),
)
def test_fcr_matches_a_python_reference(org, specs, zone, first_day, length, group_by):
    Case.objects.all().delete()
    reps = [org.rep_a1, org.rep_a2]
    rows = []
    for index, spec in enumerate(specs):
        opened = BASE + timedelta(minutes=spec["opened"])
        responded = opened if spec["responses"] else None
        resolved = (
            opened + timedelta(minutes=spec["resolution"])
            if spec["resolution"] is not None
            else None
        )
        rows.append(
            Case(
                external_id=f"p{index}",
                opened_at=opened,
                category=org.category,
                channel=spec["channel"],
                team=org.team_a,
                status="resolved" if resolved else "open",
                first_response_at=responded,
                agent_response_count=spec["responses"],
                reopened_count=spec["reopens"],
                resolved_at=resolved,
                first_resolved_at=resolved,
                resolved_by=(
                    reps[spec["resolver"]] if resolved and spec["resolver"] is not None else None
                ),
            )
        )
    stored = Case.objects.bulk_create(rows)
    f = local_days(zone, BASE + timedelta(days=first_day), length, team_ids=(org.team_a.pk,))
    result = kpi_first_contact_resolution(f=f, now=BASE, group_by=group_by, min_n=1)

    overall = reference(stored, f, lambda c: None).get(None, (0, 0, (0, 0), (0, 0)))
    assert counts(result.overall) == overall
    fcr_count, fcr_n = overall[2]
    assert result.overall.fcr.value == (fcr_count / fcr_n if fcr_n else None)
    if group_by is None:
        assert result.rows == []
        return
    key = {"rep": lambda c: c.resolved_by_id, "channel": lambda c: c.channel}[group_by]
    assert {row.key: counts(row.figure) for row in result.rows} == reference(stored, f, key)
