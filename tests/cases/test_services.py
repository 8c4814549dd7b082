"""Case services against the real database: idempotency, ordering, guards, and the event log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import services
from cases.models import Case, CaseEvent, CaseStatus
from supportmetrics.exceptions import ApplicationError
from tests.conftest import NOW
from tests.factories import T0, AccountFactory, CaseFactory, CategoryFactory, RepresentativeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

H = timedelta(hours=1)


def create(org, **overrides):
    kwargs = {
        "external_id": "EXT-1",
        "category": org.category,
        "channel": "email",
        "opened_at": T0,
        **overrides,
    }
    return services.case_create(**kwargs)


def events_of(case):
    return list(
        case.events.order_by("occurred_at", "id").values_list(
            "event_type", "occurred_at", "from_status", "to_status", "synthetic"
        )
    )


# --- case_create ---------------------------------------------------------------------------


def test_case_create_stores_a_new_case_and_its_created_event(org):
    case, created = create(org, subject="Printer on fire", requester_email="a@example.org")
    assert created is True
    case.refresh_from_db()
    assert (case.status, case.subject, case.requester_email, case.team_id, case.assignee_id) == (
        "new",
        "Printer on fire",
        "a@example.org",
        None,
        None,
    )
    assert events_of(case) == [("created", T0, "", "new", False)]


def test_case_create_is_idempotent_on_source_and_external_id(org):
    first, created_first = create(org, subject="first")
    again, created_again = create(org, subject="second", channel="phone")
    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.subject, again.channel) == ("first", "email")  # the second call changes nothing
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1
    # Another source with the same external id is another case.
    other, created_other = create(org, source="zendesk")
    assert created_other is True
    assert other.pk != first.pk


def test_case_create_with_an_assignee_opens_the_case_on_the_assignees_team(org):
    case, _ = create(org, assignee=org.rep_b1, actor=org.manager_b)
    assert (case.status, case.assignee_id, case.team_id, case.assigned_at) == (
        "open",
        org.rep_b1.pk,
        org.team_b.pk,
        T0,
    )
    assert events_of(case) == [
        ("created", T0, "", "new", False),
        ("assigned", T0, "new", "open", False),
    ]
    assigned = case.events.get(event_type="assigned")
    assert (assigned.actor_id, assigned.assignee_id) == (org.manager_b.pk, org.rep_b1.pk)


def test_case_create_refuses_an_inactive_category(org):
    old = CategoryFactory(slug="old", active=False)
    with pytest.raises(ApplicationError) as excinfo:
        create(org, category=old)
    assert (excinfo.value.code, excinfo.value.extra) == (
        "validation_error",
        {"fields": {"category": ["Category 'old' is inactive and takes no new cases."]}},
    )
    assert Case.objects.count() == 0


def test_case_create_refuses_a_future_opened_at_but_allows_clock_skew(org):
    with pytest.raises(ApplicationError) as excinfo:
        create(org, opened_at=NOW + timedelta(minutes=6))
    assert excinfo.value.extra == {"fields": {"opened_at": ["Timestamp is in the future."]}}
    assert Case.objects.count() == 0
    _, created = create(org, opened_at=NOW + timedelta(minutes=4))
    assert created is True


def test_case_create_with_an_inactive_assignee_stores_nothing(org):
    gone = RepresentativeFactory(team=org.team_a, active=False)
    with pytest.raises(ApplicationError) as excinfo:
        create(org, assignee=gone)
    assert excinfo.value.extra == {"fields": {"assignee": ["The representative is inactive."]}}
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


# --- case_event_record ---------------------------------------------------------------------


def record(case, event_type, at, **kwargs):
    return services.case_event_record(case=case, event_type=event_type, occurred_at=at, **kwargs)


def test_every_status_change_writes_an_event_and_the_fold_updates_the_case(org):
    case, _ = create(org, assignee=org.rep_a1)
    record(case, "agent_response", T0 + H, actor=org.rep_a1)
    record(case, "status_changed", T0 + 2 * H, to_status="pending", actor=org.rep_a1)
    record(case, "customer_response", T0 + 3 * H)
    record(case, "resolved", T0 + 4 * H, actor=org.rep_a2)
    record(case, "reopened", T0 + 5 * H)
    record(case, "resolved", T0 + 6 * H)
    record(case, "closed", T0 + 7 * H)
    assert events_of(case) == [
        ("created", T0, "", "new", False),
        ("assigned", T0, "new", "open", False),
        ("agent_response", T0 + H, "open", "open", False),
        ("status_changed", T0 + 2 * H, "open", "pending", False),
        ("customer_response", T0 + 3 * H, "pending", "open", False),
        ("resolved", T0 + 4 * H, "open", "resolved", False),
        ("reopened", T0 + 5 * H, "resolved", "open", False),
        ("resolved", T0 + 6 * H, "open", "resolved", False),
        ("closed", T0 + 7 * H, "resolved", "closed", False),
    ]
    case.refresh_from_db()
    assert {
        "status": case.status,
        "first_response_at": case.first_response_at,
        "agent_response_count": case.agent_response_count,
        "last_customer_activity_at": case.last_customer_activity_at,
        "first_resolved_at": case.first_resolved_at,
        "resolved_at": case.resolved_at,
        "resolved_by": case.resolved_by_id,
        "closed_at": case.closed_at,
        "reopened_count": case.reopened_count,
    } == {
        "status": "closed",
        "first_response_at": T0 + H,
        "agent_response_count": 1,
        "last_customer_activity_at": T0 + 3 * H,
        "first_resolved_at": T0 + 4 * H,
        "resolved_at": T0 + 6 * H,
        "resolved_by": org.rep_a1.pk,  # no actor on the second resolution: the assignee
        "closed_at": T0 + 7 * H,
        "reopened_count": 1,
    }


def test_the_same_event_twice_is_stored_once(org, clock):
    case, _ = create(org, assignee=org.rep_a1)
    event, created = record(case, "agent_response", T0 + H)
    case.refresh_from_db()
    updated_at = case.updated_at
    clock.shift(timedelta(minutes=1))
    again, created_again = record(case, "agent_response", T0 + H)
    assert (created, created_again, again.pk) == (True, False, event.pk)
    case.refresh_from_db()
    assert (case.agent_response_count, case.updated_at) == (1, updated_at)
    assert case.events.filter(event_type="agent_response").count() == 1


def test_an_event_older_than_the_latest_is_refused(org):
    case, _ = create(org, assignee=org.rep_a1)
    record(case, "agent_response", T0 + 2 * H)
    with pytest.raises(ApplicationError) as excinfo:
        record(case, "customer_response", T0 + H)
    assert excinfo.value.code == "event_out_of_order"
    assert excinfo.value.status_code == 400
    assert list(excinfo.value.extra["fields"]) == ["occurred_at"]
    assert case.events.count() == 3
    # An event at the same instant as the latest is in order.
    _, created = record(case, "customer_response", T0 + 2 * H)
    assert created is True


def test_a_future_event_is_refused(org):
    case, _ = create(org)
    with pytest.raises(ApplicationError) as excinfo:
        record(case, "agent_response", NOW + H)
    assert (excinfo.value.code, excinfo.value.extra) == (
        "validation_error",
        {"fields": {"occurred_at": ["Timestamp is in the future."]}},
    )
    assert case.events.count() == 1


def test_assigning_an_inactive_representative_is_refused(org):
    case, _ = create(org)
    gone = RepresentativeFactory(team=org.team_a, active=False)
    with pytest.raises(ApplicationError) as excinfo:
        record(case, "assigned", T0 + H, assignee=gone)
    assert excinfo.value.extra == {"fields": {"assignee": ["The representative is inactive."]}}
    case.refresh_from_db()
    assert (case.assignee_id, case.status, case.events.count()) == (None, "new", 1)


def test_a_refused_transition_is_a_409_with_the_state_machine_code(org):
    case, _ = create(org)
    with pytest.raises(ApplicationError) as excinfo:
        record(case, "reopened", T0 + H)
    assert (excinfo.value.code, excinfo.value.status_code) == ("case_not_resolved", 409)
    assert case.events.count() == 1


def test_a_closed_case_takes_no_events(org):
    case = CaseFactory(
        status=CaseStatus.CLOSED, resolved_at=T0 + H, closed_at=T0 + 2 * H, assignee=org.rep_a1
    )
    for event_type in ("customer_response", "reopened", "agent_response", "closed"):
        with pytest.raises(ApplicationError) as excinfo:
            record(case, event_type, T0 + 3 * H)
        assert (excinfo.value.code, excinfo.value.status_code) == ("case_already_closed", 409)
    assert case.events.count() == 0


def test_reassignment_moves_the_case_to_the_new_team_and_unassigning_keeps_it(org):
    case, _ = create(org, assignee=org.rep_a1)
    record(case, "assigned", T0 + H, assignee=org.rep_b1, actor=org.manager_a)
    case.refresh_from_db()
    assert (case.assignee_id, case.team_id, case.assigned_at) == (
        org.rep_b1.pk,
        org.team_b.pk,
        T0 + H,
    )
    record(case, "assigned", T0 + 2 * H, assignee=None)
    case.refresh_from_db()
    assert (case.assignee_id, case.team_id, case.assigned_at) == (None, org.team_b.pk, None)


# --- case_update ---------------------------------------------------------------------------


def test_case_update_edits_descriptive_fields(org, clock):
    case, _ = create(org)
    before = Case.objects.get(pk=case.pk).updated_at
    clock.shift(timedelta(minutes=1))
    account = AccountFactory()
    other = CategoryFactory(slug="shipping")
    services.case_update(
        case=case,
        data={"subject": "New", "priority": "high", "account": account, "category": other},
    )
    case.refresh_from_db()
    assert (case.subject, case.priority, case.account_id, case.category_id) == (
        "New",
        "high",
        account.pk,
        other.pk,
    )
    assert case.updated_at == before + timedelta(minutes=1)


@pytest.mark.parametrize(
    "field, value",
    [("status", "resolved"), ("assignee", None), ("opened_at", T0), ("resolved_at", T0)],
)
def test_case_update_refuses_non_editable_fields(org, field, value):
    case, _ = create(org)
    with pytest.raises(ApplicationError) as excinfo:
        services.case_update(case=case, data={field: value, "subject": "changed"})
    assert excinfo.value.extra == {
        "fields": {field: ["This field changes through case events, not by editing."]}
    }
    case.refresh_from_db()
    assert case.subject == ""


def test_case_update_refuses_a_new_inactive_category_but_keeps_a_current_one(org):
    old = CategoryFactory(slug="old")
    case, _ = create(org, category=old)
    old.active = False
    old.save()
    # Keeping the (now inactive) category is fine; moving a case into it is not.
    services.case_update(case=case, data={"category": old, "subject": "still old"})
    other, _ = create(org, external_id="EXT-2")
    with pytest.raises(ApplicationError) as excinfo:
        services.case_update(case=other, data={"category": old})
    assert excinfo.value.extra == {
        "fields": {"category": ["Category 'old' is inactive and takes no new cases."]}
    }
    other.refresh_from_db()
    assert other.category_id == org.category.pk


def test_case_update_without_a_change_does_not_write(org, clock):
    case, _ = create(org, subject="Same", priority="high")
    before = Case.objects.get(pk=case.pk).updated_at
    clock.shift(timedelta(minutes=1))
    services.case_update(
        case=case, data={"subject": "Same", "priority": "high", "category": org.category}
    )
    assert Case.objects.get(pk=case.pk).updated_at == before
    clock.shift(timedelta(minutes=1))
    services.case_update(case=case, data={"subject": "Other"})
    assert Case.objects.get(pk=case.pk).updated_at == before + timedelta(minutes=2)


def test_case_update_never_writes_an_event(org):
    case, _ = create(org)
    services.case_update(case=case, data={"priority": "urgent"})
    assert events_of(case) == [("created", T0, "", "new", False)]
