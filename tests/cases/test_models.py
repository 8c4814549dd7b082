"""Every database constraint of the case domain refuses a violating row and accepts a valid one.

Each violation is checked against the constraint's *name*, so a row refused for some other
reason (a NOT NULL, a different check) does not count as the constraint working.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases.models import (
    Account,
    Case,
    CaseEvent,
    CaseStatus,
    Category,
    SurveyResponse,
    Team,
    TeamClosure,
    validate_timezone,
)
from tests.factories import (
    T0,
    AccountFactory,
    CaseEventFactory,
    CaseFactory,
    CategoryFactory,
    SurveyResponseFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def refused(constraint: str, make) -> None:
    """``make()`` must fail with an IntegrityError naming ``constraint``; nothing is stored."""
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        make()
    assert constraint in str(excinfo.value)


# --- Account -------------------------------------------------------------------------------


def test_account_annual_value_non_negative():
    refused("account_annual_value_non_negative", lambda: AccountFactory(annual_value=-1))
    assert AccountFactory(annual_value=0).annual_value == 0
    assert Account.objects.count() == 1


@pytest.mark.parametrize(
    "status, churned_at",
    [(Account.Status.CHURNED, None), (Account.Status.ACTIVE, T0)],
    ids=["churned-without-date", "active-with-date"],
)
def test_account_churned_at_iff_churned_refuses(status, churned_at):
    refused(
        "account_churned_at_iff_churned",
        lambda: AccountFactory(status=status, churned_at=churned_at),
    )
    assert Account.objects.count() == 0


def test_account_churned_at_iff_churned_accepts_both_valid_shapes():
    AccountFactory(status=Account.Status.CHURNED, churned_at=T0)
    AccountFactory(status=Account.Status.ACTIVE, churned_at=None)
    assert Account.objects.count() == 2


def test_account_external_id_unique():
    AccountFactory(external_id="ACC-1")
    refused("external_id", lambda: AccountFactory(external_id="ACC-1"))


# --- Category ------------------------------------------------------------------------------


def test_category_not_its_own_parent():
    category = CategoryFactory()
    refused(
        "category_not_its_own_parent",
        lambda: Category.objects.filter(pk=category.pk).update(parent_id=category.pk),
    )
    child = CategoryFactory(parent=category)
    assert child.parent_id == category.pk


def test_category_target_hours_positive():
    # 0 passes PositiveIntegerField's own ">= 0" check, so only the named constraint can fire.
    refused("category_target_hours_positive", lambda: CategoryFactory(target_resolution_hours=0))
    assert CategoryFactory(target_resolution_hours=None).target_resolution_hours is None
    assert CategoryFactory(target_resolution_hours=1).target_resolution_hours == 1


def test_category_slug_unique():
    CategoryFactory(slug="billing")
    refused("slug", lambda: CategoryFactory(slug="billing"))


# --- Case ----------------------------------------------------------------------------------


def test_case_unique_source_external_id():
    CaseFactory(source="zendesk", external_id="1")
    CaseFactory(source="freshdesk", external_id="1")  # same id, other source: fine
    refused(
        "case_unique_source_external_id", lambda: CaseFactory(source="zendesk", external_id="1")
    )
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    "constraint, fields",
    [
        (
            "case_first_response_after_opened",
            {"agent_response_count": 1, "first_response_at": T0 - H},
        ),
        (
            "case_resolved_after_opened",
            {"status": CaseStatus.RESOLVED, "resolved_at": T0 - H},
        ),
        ("case_first_resolved_after_opened", {"first_resolved_at": T0 - H}),
        (
            "case_closed_after_opened",
            {"status": CaseStatus.CLOSED, "resolved_at": T0, "closed_at": T0 - H},
        ),
        ("case_resolved_at_matches_status", {"status": CaseStatus.OPEN, "resolved_at": T0 + H}),
        ("case_resolved_at_matches_status", {"status": CaseStatus.NEW, "resolved_at": T0 + H}),
        ("case_resolved_at_matches_status", {"status": CaseStatus.PENDING, "resolved_at": T0 + H}),
        ("case_resolved_at_matches_status", {"status": CaseStatus.RESOLVED}),
        (
            "case_resolved_at_matches_status",
            {"status": CaseStatus.CLOSED, "closed_at": T0 + H},
        ),
        (
            "case_closed_at_matches_status",
            {"status": CaseStatus.CLOSED, "resolved_at": T0 + H},
        ),
        (
            "case_closed_at_matches_status",
            {"status": CaseStatus.RESOLVED, "resolved_at": T0 + H, "closed_at": T0 + H},
        ),
        (
            "case_first_response_durations_non_negative",
            {"agent_response_count": 1, "first_response_at": T0 + H, "first_response_seconds": -1},
        ),
        (
            "case_first_response_durations_non_negative",
            {
                "agent_response_count": 1,
                "first_response_at": T0 + H,
                "first_response_seconds": 3600,
                "first_response_business_seconds": -1,
            },
        ),
        (
            "case_resolution_durations_non_negative",
            {"status": CaseStatus.RESOLVED, "resolved_at": T0 + H, "resolution_seconds": -1},
        ),
        (
            "case_resolution_durations_non_negative",
            {
                "status": CaseStatus.RESOLVED,
                "resolved_at": T0 + H,
                "resolution_seconds": 3600,
                "resolution_business_seconds": -5,
            },
        ),
        ("case_first_response_iff_responses", {"agent_response_count": 2}),
        ("case_first_response_iff_responses", {"first_response_at": T0 + H}),
    ],
    ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}" for k in v),
)
def test_case_check_constraints_refuse(constraint, fields):
    refused(constraint, lambda: CaseFactory(opened_at=T0, **fields))
    assert Case.objects.count() == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"status": CaseStatus.NEW},
        {"status": CaseStatus.OPEN, "agent_response_count": 1, "first_response_at": T0},
        {"status": CaseStatus.PENDING, "first_resolved_at": T0 + H, "reopened_count": 1},
        {"status": CaseStatus.RESOLVED, "resolved_at": T0, "first_resolved_at": T0},
        {"status": CaseStatus.CLOSED, "resolved_at": T0 + H, "closed_at": T0 + 2 * H},
        {
            # Durations: zero is fine, and a case no team owns has no business duration.
            "status": CaseStatus.RESOLVED,
            "agent_response_count": 1,
            "first_response_at": T0,
            "first_response_seconds": 0,
            "first_response_business_seconds": 0,
            "resolved_at": T0 + H,
            "resolution_seconds": 3600,
            "resolution_business_seconds": None,
        },
    ],
    ids=lambda f: f"{f['status']}-{len(f)}",
)
def test_case_valid_rows_pass_every_constraint(fields):
    case = CaseFactory(opened_at=T0, **fields)
    case.refresh_from_db()
    assert case.status == fields["status"]


def test_case_event_unique_occurrence():
    case = CaseFactory()
    CaseEventFactory(case=case, event_type=CaseEvent.Type.CUSTOMER_RESPONSE, occurred_at=T0 + H)
    # Another type at the same moment, or the same type a second later, is a different event.
    CaseEventFactory(case=case, event_type=CaseEvent.Type.AGENT_RESPONSE, occurred_at=T0 + H)
    CaseEventFactory(
        case=case,
        event_type=CaseEvent.Type.CUSTOMER_RESPONSE,
        occurred_at=T0 + H + timedelta(seconds=1),
    )
    refused(
        "case_event_unique_occurrence",
        lambda: CaseEventFactory(
            case=case, event_type=CaseEvent.Type.CUSTOMER_RESPONSE, occurred_at=T0 + H
        ),
    )
    assert case.events.count() == 3


# --- SurveyResponse ------------------------------------------------------------------------


def test_survey_response_one_per_resolution():
    first = SurveyResponseFactory(resolution_number=1)
    SurveyResponseFactory(case=first.case, resolution_number=2)
    refused(
        "survey_response_one_per_resolution",
        lambda: SurveyResponseFactory(case=first.case, resolution_number=1),
    )
    assert first.case.survey_responses.count() == 2


@pytest.mark.parametrize(
    "constraint, fields",
    [
        ("survey_csat_1_5", {"csat": 0}),
        ("survey_csat_1_5", {"csat": 6}),
        ("survey_nps_0_10", {"nps": 11}),
        ("survey_effort_1_7", {"effort": 0}),
        ("survey_effort_1_7", {"effort": 8}),
    ],
)
def test_survey_response_ranges_refuse(constraint, fields):
    case = CaseFactory(resolved=True)
    refused(constraint, lambda: SurveyResponseFactory(case=case, **fields))
    assert case.survey_responses.count() == 0


def test_survey_response_range_edges_pass():
    low = SurveyResponseFactory(csat=1, nps=0, effort=1)
    high = SurveyResponseFactory(csat=5, nps=10, effort=7)
    blank = SurveyResponseFactory(csat=3, nps=None, effort=None)
    stored = SurveyResponse.objects.order_by("id").values_list("csat", "nps", "effort")
    assert list(stored) == [(1, 0, 1), (5, 10, 7), (3, None, None)]
    assert [low.pk, high.pk, blank.pk] == sorted([low.pk, high.pk, blank.pk])


# --- Team timezone -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_validate_timezone_accepts_iana_names(name):
    assert validate_timezone(name) is None  # raises ValidationError for anything else
    team = Team(name=f"T {name}", timezone=name)
    team.full_clean()  # would raise on the timezone field
    assert team.timezone == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "CEST", "+02:00", "europe/berlin", ""])
def test_validate_timezone_refuses_other_names(name):
    with pytest.raises(ValidationError) as excinfo:
        Team(name="T", timezone=name).full_clean()
    assert "timezone" in excinfo.value.message_dict
    if name:
        with pytest.raises(ValidationError) as direct:
            validate_timezone(name)
        assert direct.value.code == "invalid_timezone"


def test_team_closure_unique_day():
    team = TeamFactory()
    TeamClosure.objects.create(team=team, date=T0.date(), reason="Offsite")
    TeamClosure.objects.create(team=TeamFactory(), date=T0.date())  # another team: fine
    TeamClosure.objects.create(team=team, date=(T0 + timedelta(days=1)).date())
    refused(
        "team_closure_unique_day",
        lambda: TeamClosure.objects.create(team=team, date=T0.date(), reason="Twice"),
    )
    assert team.closures.count() == 2


def test_team_name_unique():
    TeamFactory(name="Alpha")
    refused("name", lambda: TeamFactory(name="Alpha"))
