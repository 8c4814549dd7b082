"""The CSAT KPI from its rollup against the case tables, on random data and random writes.

Each example stores random cases with assignment / resolve / reopen histories (actorless
resolutions included) and survey responses to random resolutions (some answered weeks
later), then runs random writes, each one statement or one small service-like sequence:
moving a case to another team (one case, or every case of a team at once), a reopen with a
second resolution and maybe a second response, a late response, an edited or deleted
response, a backdated assignment (which changes who an actorless resolution belongs to),
a deleted event and a deleted case. Then the facts and day sums must equal a rebuild, and
the KPI must give the same figures with the rollups on and off (floats within 1e-9
relative), for a random calendar zone (Berlin, New York, Kolkata, UTC), window and slice;
the rollup must have been read exactly when the request is one it answers.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseEvent, SurveyResponse
from metrics.kpis.csat import kpi_csat_by_representative
from metrics.rollups.csat import csat_rollup_check
from metrics.types import KpiFilter

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # across the US and EU spring DST changes
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
MINUTES = 30 * 24 * 60
RESOLVED, REOPENED, ASSIGNED = (
    CaseEvent.Type.RESOLVED,
    CaseEvent.Type.REOPENED,
    CaseEvent.Type.ASSIGNED,
)

answer = st.tuples(
    # Delay after the resolution (minutes): mostly within days, some weeks late.
    st.one_of(st.integers(1, 3 * 24 * 60), st.integers(1, 30 * 24 * 60)),
    st.integers(1, 5),  # csat
    st.one_of(st.none(), st.integers(0, 10)),  # nps
    st.one_of(st.none(), st.integers(1, 7)),  # effort
    st.integers(0, 3),  # representative: rep_a1, rep_a2, rep_b1, none
)
# Most resolutions answered (the figures need answers to compare), some not.
answers = st.one_of(answer, answer, answer, st.none())
histories = st.lists(
    st.tuples(
        st.integers(0, MINUTES),  # opened, minutes after BASE
        st.integers(0, 2),  # team: A, B, none
        st.integers(0, 3),  # assignee: rep_a1, rep_a2, rep_b1, none
        st.lists(  # alternating resolve / reopen: gap (minutes), actor (3 = none), answer
            st.tuples(st.integers(1, 4 * 24 * 60), st.integers(0, 3), answers),
            min_size=1,
            max_size=4,
        ),
        st.one_of(st.none(), st.tuples(st.integers(1, 3000), st.integers(0, 3))),  # assigned
    ),
    min_size=3,
    max_size=15,
)
writes = st.lists(
    st.one_of(
        st.tuples(st.just("team"), st.integers(0, 14), st.integers(0, 2)),
        st.tuples(st.just("bulk_team"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("reopen_resolve"), st.integers(0, 14), st.integers(1, 5000), answers),
        st.tuples(st.just("respond"), st.integers(0, 14), answers),
        st.tuples(st.just("edit_response"), st.integers(0, 14), st.integers(-3000, 3000)),
        st.tuples(st.just("delete_response"), st.integers(0, 14)),
        st.tuples(st.just("assign"), st.integers(0, 14), st.integers(-3000, 3000)),
        st.tuples(st.just("delete_event"), st.integers(0, 14)),
        st.tuples(st.just("delete_case"), st.integers(0, 14)),
    ),
    max_size=8,
)


def _reps(org):
    return [org.rep_a1, org.rep_a2, org.rep_b1, None]


def _response(case, number, resolved_at, answer, reps) -> SurveyResponse | None:
    if answer is None:
        return None
    delay, csat, nps, effort, rep = answer
    return SurveyResponse(
        case=case,
        resolution_number=number,
        representative=reps[rep],
        csat=csat,
        nps=nps,
        effort=effort,
        responded_at=resolved_at + timedelta(minutes=delay),
    )


def _store(org, spec) -> list[int]:
    reps, teams = _reps(org), [org.team_a, org.team_b, None]
    cases, events, responses = [], [], []
    for i, (opened, team, assignee, steps, _) in enumerate(spec):
        opened_at = BASE + timedelta(minutes=opened)
        moment, state = opened_at, {"status": "open"}
        for step, (gap, actor, _) in enumerate(steps):
            moment += timedelta(minutes=gap)
            if step % 2 == 0:
                # Resolved by the actor, else (actorless) by the assignee of the case.
                resolver = reps[actor] or reps[assignee]
                state = {"status": "resolved", "resolved_at": moment, "resolved_by": resolver}
            else:
                state = {"status": "open"}
        cases.append(
            Case(
                external_id=f"s{i}",
                category=org.category,
                channel="email",
                opened_at=opened_at,
                team=teams[team],
                assignee=reps[assignee],
                reopened_count=len(steps) // 2,
                **state,
            )
        )
    stored = Case.objects.bulk_create(cases)
    for case, (_opened, _, _, steps, assigned) in zip(stored, spec, strict=True):
        moment = case.opened_at
        if assigned is not None:
            at, rep = assigned
            events.append(
                CaseEvent(
                    case=case,
                    event_type=ASSIGNED,
                    occurred_at=case.opened_at + timedelta(minutes=at),
                    assignee=reps[rep],
                )
            )
        for step, (gap, actor, answer) in enumerate(steps):
            moment += timedelta(minutes=gap)
            kind = RESOLVED if step % 2 == 0 else REOPENED
            events.append(
                CaseEvent(case=case, event_type=kind, occurred_at=moment, actor=reps[actor])
            )
            if kind == RESOLVED:
                response = _response(case, step // 2 + 1, moment, answer, reps)
                if response is not None:
                    responses.append(response)
    CaseEvent.objects.bulk_create(events)
    SurveyResponse.objects.bulk_create(responses)
    return [c.pk for c in stored]


def _write(org, ids, write) -> None:
    reps, teams = _reps(org), [org.team_a, org.team_b, None]
    kind, *args = write
    if kind == "bulk_team":
        Case.objects.filter(team=teams[args[0]]).update(team=teams[args[1]])
        return
    case = Case.objects.filter(pk=ids[args[0] % len(ids)]).first()
    if case is None:
        return
    resolutions = CaseEvent.objects.filter(case=case, event_type=RESOLVED).count()
    if kind == "team":
        Case.objects.filter(pk=case.pk).update(team=teams[args[1]])
    elif kind == "reopen_resolve" and case.resolved_at is not None:
        reopened_at = case.resolved_at + timedelta(minutes=args[1])
        resolved_at = reopened_at + timedelta(minutes=args[1])
        CaseEvent.objects.create(case=case, event_type=REOPENED, occurred_at=reopened_at)
        Case.objects.filter(pk=case.pk).update(
            status="open",
            resolved_at=None,
            resolved_by=None,
            reopened_count=case.reopened_count + 1,
        )
        actor = reps[args[1] % 4]
        CaseEvent.objects.create(
            case=case, event_type=RESOLVED, occurred_at=resolved_at, actor=actor
        )
        Case.objects.filter(pk=case.pk).update(
            status="resolved", resolved_at=resolved_at, resolved_by=actor or case.assignee
        )
        response = _response(case, resolutions + 1, resolved_at, args[2], reps)
        if response is not None:
            response.save()
    elif kind == "respond" and resolutions:
        answered = set(
            SurveyResponse.objects.filter(case=case).values_list("resolution_number", flat=True)
        )
        number = next((n for n in range(1, resolutions + 1) if n not in answered), None)
        last = CaseEvent.objects.filter(case=case, event_type=RESOLVED).order_by("occurred_at")
        if number is not None:
            response = _response(case, number, last.last().occurred_at, args[1], reps)
            if response is not None:
                response.save()
    elif kind == "edit_response":
        SurveyResponse.objects.filter(case=case).update(
            csat=abs(args[1]) % 5 + 1,
            responded_at=BASE + timedelta(minutes=MINUTES // 2 + args[1] * 7),
        )
    elif kind == "delete_response":
        first = SurveyResponse.objects.filter(case=case).order_by("resolution_number").first()
        if first is not None:
            first.delete()
    elif kind == "assign":
        at = (case.resolved_at or case.opened_at) + timedelta(minutes=args[1])
        if at >= case.opened_at and not CaseEvent.objects.filter(
            case=case, event_type=ASSIGNED, occurred_at=at
        ):
            CaseEvent.objects.create(
                case=case, event_type=ASSIGNED, occurred_at=at, assignee=reps[args[1] % 4]
            )
    elif kind == "delete_event":
        first = (
            CaseEvent.objects.filter(case=case, event_type__in=[RESOLVED, ASSIGNED])
            .order_by("occurred_at")
            .first()
        )
        if first is not None:
            first.delete()
    elif kind == "delete_case":
        case.delete()


def _filter(org, zone, first_day, length, shape, slice_name) -> KpiFilter:
    tz = ZoneInfo(zone)
    day0 = (BASE + timedelta(days=first_day)).astimezone(tz).date()
    start = datetime.combine(day0, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day0 + timedelta(days=length), time(0), tzinfo=tz).astimezone(UTC)
    if shape == "hours":
        start, end = start + timedelta(hours=5), end - timedelta(hours=2)
    elif shape == "minutes":
        start, end = start + timedelta(minutes=20), end + timedelta(minutes=7)
    slice_ = {
        "all": {},
        "team": {"team_ids": (org.team_a.pk,)},
        "teams": {"team_ids": (org.team_a.pk, org.team_b.pk)},
        "rep": {"rep_ids": (org.rep_a1.pk,)},
        "category": {"category_ids": (org.category.pk,)},
    }[slice_name]
    return KpiFilter(start=start, end=end, tz=tz, **slice_)


def _close(a, b, path="") -> None:
    """Equal, floats within 1e-9 relative (the rollup's means and sds come from sums)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def _answer(f, group_by):
    with CaptureQueriesContext(connection) as queries:
        result = kpi_csat_by_representative(f=f, now=f.end, group_by=group_by, min_n=2)
    used = any("metrics_csat_fact" in q["sql"] for q in queries.captured_queries)
    return dataclasses.asdict(result), used


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    spec=histories,
    writes_spec=writes,
    zone=st.sampled_from(ZONES),
    first_day=st.integers(0, 30),
    length=st.one_of(st.integers(1, 3), st.integers(10, 45)),
    shape=st.sampled_from(["days", "days", "hours", "minutes"]),
    slice_name=st.sampled_from(["all", "all", "team", "teams", "rep", "category"]),
    group_by=st.sampled_from(["rep", "rep", "rep", "team", "month"]),
)
def test_csat_from_the_rollup_equals_the_case_tables(
    org, spec, writes_spec, zone, first_day, length, shape, slice_name, group_by
):
    Case.objects.all().delete()
    ids = _store(org, spec)
    for write in writes_spec:
        _write(org, ids, write)
    assert csat_rollup_check() == []

    f = _filter(org, zone, first_day, length, shape, slice_name)
    with override_settings(SUPPORTMETRICS_ROLLUPS=True):
        from_rollup, used = _answer(f, group_by)
    with override_settings(SUPPORTMETRICS_ROLLUPS=False):
        from_cases, used_off = _answer(f, group_by)
    _close(from_rollup, from_cases)
    assert not used_off
    assert used == (group_by == "rep" and slice_name != "category")
