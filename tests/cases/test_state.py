"""The status machine (cases.state.apply_event): every event type from every status.

The table below is the one in docs/case-lifecycle.md; keep them in step.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, CaseStatus
from cases.state import CaseState, TransitionError, apply_event
from tests.factories import T0

H = timedelta(hours=1)
AT = T0 + 5 * H  # when the event under test happens: after everything in the base states
ALICE, BOB = 7, 8  # representative ids
TEAM_A, TEAM_B = 3, 4

NEW = CaseState(status=CaseStatus.NEW, opened_at=T0)
OPEN = replace(
    NEW,
    status=CaseStatus.OPEN,
    assignee_id=ALICE,
    team_id=TEAM_A,
    assigned_at=T0,
    first_response_at=T0 + H,
    first_responder_id=ALICE,
    agent_response_count=1,
)
PENDING = replace(OPEN, status=CaseStatus.PENDING)
RESOLVED = replace(
    OPEN,
    status=CaseStatus.RESOLVED,
    resolved_at=T0 + 2 * H,
    first_resolved_at=T0 + 2 * H,
    resolved_by_id=ALICE,
)
CLOSED = replace(RESOLVED, status=CaseStatus.CLOSED, closed_at=T0 + 3 * H)
STATES = {"new": NEW, "open": OPEN, "pending": PENDING, "resolved": RESOLVED, "closed": CLOSED}

# Each event as keyword arguments for apply_event (occurred_at is added by the test).
EVENTS = {
    "created": {"event_type": "created"},
    "assigned": {"event_type": "assigned", "assignee_id": BOB, "assignee_team_id": TEAM_B},
    "unassigned": {"event_type": "assigned", "assignee_id": None},
    "agent_response": {"event_type": "agent_response", "actor_id": BOB},
    "customer_response": {"event_type": "customer_response"},
    "status_changed→open": {"event_type": "status_changed", "to_status": "open"},
    "status_changed→pending": {"event_type": "status_changed", "to_status": "pending"},
    "status_changed→resolved": {"event_type": "status_changed", "to_status": "resolved"},
    "status_changed→closed": {"event_type": "status_changed", "to_status": "closed"},
    "status_changed→new": {"event_type": "status_changed", "to_status": "new"},
    "resolved": {"event_type": "resolved", "actor_id": BOB},
    "reopened": {"event_type": "reopened"},
    "closed": {"event_type": "closed"},
    "bogus": {"event_type": "bogus"},
}

# event → the resulting status, or the refusal code, from (new, open, pending, resolved, closed).
# "!" marks a refusal. Closed refuses every event with case_already_closed.
TABLE = {
    "created": ["!invalid_transition"] * 4,
    "assigned": ["open", "open", "pending", "!case_not_open"],
    "unassigned": ["new", "open", "pending", "!case_not_open"],
    "agent_response": ["open", "open", "pending", "!case_not_open"],
    "customer_response": ["new", "open", "open", "resolved"],
    "status_changed→open": ["open", "open", "open", "!case_not_open"],
    "status_changed→pending": ["pending", "pending", "pending", "!case_not_open"],
    "status_changed→resolved": ["!invalid_transition"] * 4,
    "status_changed→closed": ["!invalid_transition"] * 4,
    "status_changed→new": ["!invalid_transition"] * 4,
    "resolved": ["resolved", "resolved", "resolved", "!case_not_open"],
    "reopened": ["!case_not_resolved"] * 3 + ["open"],
    "closed": ["!case_not_resolved"] * 3 + ["closed"],
    "bogus": ["!invalid_event_type"] * 4,
}
CASES = [
    (event, status, outcome)
    for event, row in TABLE.items()
    for status, outcome in zip(
        ("new", "open", "pending", "resolved", "closed"),
        [*row, "!case_already_closed"],
        strict=True,
    )
]


@pytest.mark.parametrize(
    "event, status, outcome", CASES, ids=[f"{e}-from-{s}" for e, s, _ in CASES]
)
def test_transition_table(event, status, outcome):
    before = STATES[status]
    if outcome.startswith("!"):
        with pytest.raises(TransitionError) as excinfo:
            apply_event(before, occurred_at=AT, **EVENTS[event])
        assert excinfo.value.code == outcome[1:]
        assert excinfo.value.message
    else:
        after = apply_event(before, occurred_at=AT, **EVENTS[event])
        assert after.status == outcome
        assert_invariants(after)


def test_table_covers_every_event_type():
    from cases.models import CaseEvent

    covered = {kwargs["event_type"] for kwargs in EVENTS.values()}
    assert set(CaseEvent.Type.values) <= covered


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_no_event_before_the_case_opened(event):
    with pytest.raises(TransitionError) as excinfo:
        apply_event(OPEN, occurred_at=T0 - timedelta(seconds=1), **EVENTS[event])
    assert excinfo.value.code == "event_before_opened"


def test_an_event_at_the_opening_instant_is_fine():
    after = apply_event(NEW, event_type="agent_response", occurred_at=T0)
    assert after.first_response_at == T0


# --- the fields each allowed transition writes ---------------------------------------------


def test_agent_response_sets_first_response_once_and_counts_every_response():
    first = apply_event(NEW, event_type="agent_response", occurred_at=T0 + H, actor_id=ALICE)
    second = apply_event(first, event_type="agent_response", occurred_at=T0 + 2 * H, actor_id=BOB)
    assert (first.status, first.first_response_at, first.agent_response_count) == (
        "open",
        T0 + H,
        1,
    )
    assert (second.status, second.first_response_at, second.agent_response_count) == (
        "open",
        T0 + H,
        2,
    )
    assert (first.first_responder_id, second.first_responder_id) == (ALICE, ALICE)
    assert apply_event(PENDING, event_type="agent_response", occurred_at=AT) == replace(
        PENDING, agent_response_count=2
    )


def test_the_first_responder_is_the_actor_else_the_assignee():
    assigned = replace(NEW, status="open", assignee_id=ALICE, team_id=TEAM_A, assigned_at=T0)
    by_bob = apply_event(assigned, event_type="agent_response", occurred_at=AT, actor_id=BOB)
    no_actor = apply_event(assigned, event_type="agent_response", occurred_at=AT)
    nobody = apply_event(NEW, event_type="agent_response", occurred_at=AT)
    assert (by_bob.first_responder_id, no_actor.first_responder_id) == (BOB, ALICE)
    assert nobody.first_responder_id is None


def test_customer_response_records_activity_and_wakes_a_pending_case():
    assert apply_event(PENDING, event_type="customer_response", occurred_at=AT) == replace(
        PENDING, status="open", last_customer_activity_at=AT
    )
    # On a resolved case it only records the activity: reopening is an explicit event.
    assert apply_event(RESOLVED, event_type="customer_response", occurred_at=AT) == replace(
        RESOLVED, last_customer_activity_at=AT
    )
    assert apply_event(NEW, event_type="customer_response", occurred_at=AT) == replace(
        NEW, last_customer_activity_at=AT
    )


def test_assigning_takes_the_assignees_team_and_opens_a_new_case():
    after = apply_event(NEW, occurred_at=AT, **EVENTS["assigned"])
    assert after == replace(NEW, status="open", assignee_id=BOB, team_id=TEAM_B, assigned_at=AT)


def test_unassigning_keeps_the_team_and_clears_assigned_at():
    after = apply_event(OPEN, occurred_at=AT, **EVENTS["unassigned"])
    assert after == replace(OPEN, assignee_id=None, team_id=TEAM_A, assigned_at=None)
    # Unassigning a new case does not open it.
    assert apply_event(NEW, occurred_at=AT, **EVENTS["unassigned"]) == NEW


def test_status_changed_moves_between_open_and_pending_only():
    assert apply_event(OPEN, occurred_at=AT, **EVENTS["status_changed→pending"]) == PENDING
    assert apply_event(PENDING, occurred_at=AT, **EVENTS["status_changed→open"]) == OPEN


def test_resolving_records_resolution_and_resolver_is_the_actor():
    after = apply_event(OPEN, event_type="resolved", occurred_at=AT, actor_id=BOB)
    assert after == replace(
        OPEN, status="resolved", resolved_at=AT, first_resolved_at=AT, resolved_by_id=BOB
    )


def test_resolving_without_an_actor_credits_the_assignee():
    after = apply_event(OPEN, event_type="resolved", occurred_at=AT)
    assert after.resolved_by_id == ALICE
    unassigned = apply_event(NEW, event_type="resolved", occurred_at=AT)
    assert (unassigned.status, unassigned.resolved_by_id, unassigned.resolved_at) == (
        "resolved",
        None,
        AT,
    )


def test_reopening_counts_and_clears_the_resolution_but_keeps_first_resolved_at():
    after = apply_event(RESOLVED, event_type="reopened", occurred_at=AT)
    assert after == replace(
        RESOLVED,
        status="open",
        resolved_at=None,
        resolved_by_id=None,
        reopened_count=1,
        first_resolved_at=T0 + 2 * H,
    )


def test_resolving_again_moves_resolved_at_but_not_first_resolved_at():
    reopened = apply_event(RESOLVED, event_type="reopened", occurred_at=AT)
    again = apply_event(reopened, event_type="resolved", occurred_at=AT + H, actor_id=BOB)
    assert (again.first_resolved_at, again.resolved_at, again.resolved_by_id) == (
        T0 + 2 * H,
        AT + H,
        BOB,
    )
    assert again.reopened_count == 1


def test_closing_keeps_the_resolution():
    assert apply_event(RESOLVED, event_type="closed", occurred_at=AT) == replace(
        RESOLVED, status="closed", closed_at=AT
    )


def test_case_state_round_trips_through_a_model_instance():
    case = Case(**CLOSED.as_fields())
    assert CaseState.of(case) == CLOSED


# --- property: every valid sequence keeps what the database demands ------------------------


def assert_invariants(state: CaseState) -> None:
    """The CheckConstraints of cases.Case, restated over a CaseState."""
    resolved_or_closed = state.status in ("resolved", "closed")
    assert (state.resolved_at is not None) == resolved_or_closed
    assert (state.closed_at is not None) == (state.status == "closed")
    assert (state.first_response_at is not None) == (state.agent_response_count > 0)
    if state.first_responder_id is not None:
        assert state.first_response_at is not None
    for name in ("first_response_at", "first_resolved_at", "resolved_at", "closed_at"):
        value = getattr(state, name)
        assert value is None or value >= state.opened_at, name
    if state.resolved_at is not None:
        assert state.first_resolved_at is not None
        assert state.first_resolved_at <= state.resolved_at
    if state.closed_at is not None:
        assert state.closed_at >= state.resolved_at
    assert (state.assigned_at is None) == (state.assignee_id is None)
    assert state.reopened_count >= 0
    assert state.agent_response_count >= 0


event_kwargs = st.one_of(
    st.sampled_from(
        [
            {"event_type": "agent_response"},
            {"event_type": "customer_response"},
            {"event_type": "status_changed", "to_status": "open"},
            {"event_type": "status_changed", "to_status": "pending"},
            {"event_type": "resolved"},
            {"event_type": "reopened"},
            {"event_type": "closed"},
            {"event_type": "assigned", "assignee_id": None},
        ]
    ),
    st.builds(
        lambda rep, actor: {
            "event_type": "assigned",
            "assignee_id": rep,
            "assignee_team_id": rep // 10,
            "actor_id": actor,
        },
        st.integers(10, 39),
        st.none() | st.integers(10, 39),
    ),
    st.builds(lambda actor: {"event_type": "resolved", "actor_id": actor}, st.integers(10, 39)),
)
steps = st.lists(st.tuples(st.integers(0, 3 * 24 * 60), event_kwargs), max_size=40)


@settings(max_examples=300, deadline=None)
@given(steps=steps)
def test_valid_sequences_keep_the_database_invariants(steps):
    state = CaseState(status="new", opened_at=T0)
    at = T0
    applied = 0
    for minutes, kwargs in steps:
        at = at + timedelta(minutes=minutes)  # events arrive in order
        try:
            state = apply_event(state, occurred_at=at, **kwargs)
        except TransitionError as error:
            assert error.code in {"case_not_open", "case_not_resolved", "case_already_closed"}
            continue
        applied += 1
        assert_invariants(state)
        if kwargs["event_type"] == "resolved":
            assert state.resolved_by_id == (kwargs.get("actor_id") or state.assignee_id)
    assert state.opened_at == T0
    assert applied <= len(steps)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the checks only read
)
@given(steps=steps)
def test_valid_sequences_pass_the_real_check_constraints(steps):
    """The same property, judged by PostgreSQL evaluating the model's own CheckConstraints."""
    state = CaseState(status="new", opened_at=T0)
    at = T0
    seen = set()
    for minutes, kwargs in steps:
        at = at + timedelta(minutes=minutes)
        try:
            state = apply_event(state, occurred_at=at, **kwargs)
        except TransitionError:
            continue
        fields = state.as_fields()
        # No FK rows needed: the check constraints never look at the relations.
        fields.update(assignee_id=None, resolved_by_id=None, team_id=None, first_responder_id=None)
        key = tuple(sorted(fields.items()))
        if key in seen:
            continue
        seen.add(key)
        case = Case(source="api", external_id="x", channel="email", category_id=1, **fields)
        case.validate_constraints(exclude={"source", "external_id"})
