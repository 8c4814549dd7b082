"""Invitations: created with the resolution (same transaction), one per resolution, owned by
the resolving rep, and each suppression rule on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from cases import services
from cases.models import CaseEvent, OutboundEmail, SurveyInvitation, SurveyOptOut
from cases.requesters import requester_hash
from cases.services.surveys import (
    survey_answer_record,
    survey_invitation_create_for_resolution,
    survey_opt_out_account,
)
from tests.conftest import NOW
from tests.surveys.conftest import ADDRESS, emails_of, invitation_of, resolve

pytestmark = pytest.mark.django_db

PENDING, SUPPRESSED = SurveyInvitation.Status.PENDING, SurveyInvitation.Status.SUPPRESSED


def test_resolving_creates_a_pending_invitation_in_the_same_transaction(
    org, open_case, django_capture_on_commit_callbacks
):
    case = open_case()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        resolve(case, by=org.rep_a1)
        # Visible inside the resolving transaction, before anything commits.
        invitation = invitation_of(case)
        assert emails_of(invitation) == [
            ("survey_invitation", f"survey_invitation:{invitation.pk}")
        ]
        assert callbacks == []  # delivery waits for the commit
    assert len(callbacks) == 1  # one dispatch, registered for after the commit
    assert (invitation.status, invitation.suppression) == (PENDING, "")
    assert invitation.resolution_number == 1
    assert invitation.representative == org.rep_a1
    assert invitation.resolved_at == NOW - timedelta(hours=1)
    assert invitation.requester_hash == requester_hash(ADDRESS)
    assert invitation.expires_at == NOW + timedelta(days=30)
    assert invitation.sent_at is None


def test_a_rolled_back_resolution_leaves_no_invitation_and_sends_nothing(
    org, open_case, django_capture_on_commit_callbacks, mailoutbox
):
    case = open_case()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        resolve(case, by=org.rep_a1)
        assert SurveyInvitation.objects.filter(case=case).count() == 1
        raise RuntimeError("the request failed after resolving")
    assert callbacks == []
    assert SurveyInvitation.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert mailoutbox == []
    case.refresh_from_db()
    assert case.status == "open"


def test_one_invitation_per_resolution(org, resolved_case):
    first = invitation_of(resolved_case)
    again = survey_invitation_create_for_resolution(case=resolved_case)
    assert again == first
    assert SurveyInvitation.objects.count() == 1
    assert OutboundEmail.objects.count() == 1


def test_an_open_case_gets_no_invitation(org, open_case):
    assert survey_invitation_create_for_resolution(case=open_case()) is None
    assert SurveyInvitation.objects.count() == 0


def test_reopen_and_resolve_again_is_a_new_survey_owned_by_the_new_resolver(
    org, resolved_case, clock
):
    case = resolved_case
    services.case_event_record(
        case=case, event_type=CaseEvent.Type.REOPENED, occurred_at=NOW - timedelta(minutes=50)
    )
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.ASSIGNED,
        occurred_at=NOW - timedelta(minutes=40),
        assignee=org.rep_a2,
    )
    case = resolve(case, by=org.rep_a2, at=NOW - timedelta(minutes=30))
    first, second = invitation_of(case, 1), invitation_of(case, 2)
    assert (first.representative, second.representative) == (org.rep_a1, org.rep_a2)
    assert second.resolved_at == NOW - timedelta(minutes=30)
    # Within the requester cooldown, yet not suppressed: the cooldown counts other cases.
    assert (second.status, second.suppression) == (PENDING, "")
    assert emails_of(second) == [("survey_invitation", f"survey_invitation:{second.pk}")]


def test_the_answer_stays_with_the_resolver_after_reassignment(org, resolved_case):
    case = resolved_case
    services.case_event_record(
        case=case, event_type=CaseEvent.Type.REOPENED, occurred_at=NOW - timedelta(minutes=50)
    )
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.ASSIGNED,
        occurred_at=NOW - timedelta(minutes=40),
        assignee=org.rep_b1,
    )
    response = survey_answer_record(
        invitation=invitation_of(case), csat=4, nps=None, effort=None, comment=""
    )
    assert response.representative == org.rep_a1
    assert response.resolution_number == 1
    case.refresh_from_db()
    assert case.assignee == org.rep_b1


# --- suppression, one rule per test -------------------------------------------------------


def test_no_requester_email_is_suppressed(org, open_case):
    case = resolve(open_case(requester_email=""), by=org.rep_a1)
    invitation = invitation_of(case)
    assert (invitation.status, invitation.suppression) == (SUPPRESSED, "no_email")
    assert invitation.requester_hash == ""
    assert OutboundEmail.objects.count() == 0


def test_account_opted_out_is_suppressed(org, open_case, account):
    survey_opt_out_account(account=account)
    invitation = invitation_of(resolve(open_case(), by=org.rep_a1))
    assert (invitation.status, invitation.suppression) == (SUPPRESSED, "account_opted_out")
    assert OutboundEmail.objects.count() == 0


def test_requester_opted_out_is_suppressed_whatever_the_address_case(org, open_case):
    SurveyOptOut.objects.create(requester_hash=requester_hash(ADDRESS))
    case = resolve(open_case(requester_email=ADDRESS.upper()), by=org.rep_a1)
    invitation = invitation_of(case)
    assert (invitation.status, invitation.suppression) == (SUPPRESSED, "requester_opted_out")
    assert OutboundEmail.objects.count() == 0


def test_requester_surveyed_about_another_case_within_the_cooldown_is_suppressed(
    org, open_case, clock
):
    first = invitation_of(resolve(open_case(), by=org.rep_a1))
    SurveyInvitation.objects.filter(pk=first.pk).update(
        status="sent", sent_at=NOW - timedelta(days=13, hours=23)
    )
    invitation = invitation_of(resolve(open_case(), by=org.rep_a2))
    assert (invitation.status, invitation.suppression) == (SUPPRESSED, "recently_surveyed")
    assert OutboundEmail.objects.filter(invitation=invitation).count() == 0


def test_a_survey_still_waiting_to_be_sent_counts_for_the_cooldown(org, open_case):
    first = invitation_of(resolve(open_case(), by=org.rep_a1))
    assert (first.status, first.sent_at) == (PENDING, None)
    invitation = invitation_of(resolve(open_case(), by=org.rep_a2))
    assert (invitation.status, invitation.suppression) == (SUPPRESSED, "recently_surveyed")


def test_after_the_cooldown_the_requester_is_asked_again(org, open_case, settings):
    settings.SURVEY_REQUESTER_COOLDOWN_DAYS = 14
    first = invitation_of(resolve(open_case(), by=org.rep_a1))
    SurveyInvitation.objects.filter(pk=first.pk).update(
        status="sent", sent_at=NOW - timedelta(days=14, seconds=1)
    )
    invitation = invitation_of(resolve(open_case(), by=org.rep_a2))
    assert (invitation.status, invitation.suppression) == (PENDING, "")


def test_a_suppressed_survey_does_not_count_for_the_cooldown(org, open_case, account):
    survey_opt_out_account(account=account)
    invitation_of(resolve(open_case(), by=org.rep_a1))  # suppressed: account opted out
    invitation = invitation_of(resolve(open_case(account=None), by=org.rep_a2))
    assert (invitation.status, invitation.suppression) == (PENDING, "")


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(hours=72), (PENDING, "")),
        (timedelta(hours=72, seconds=1), (SUPPRESSED, "stale_resolution")),
    ],
)
def test_a_resolution_older_than_the_limit_is_suppressed(org, open_case, age, expected):
    case = resolve(open_case(opened_at=NOW - timedelta(days=5)), by=org.rep_a1, at=NOW - age)
    invitation = invitation_of(case)
    assert (invitation.status, invitation.suppression) == expected
    assert OutboundEmail.objects.filter(invitation=invitation).count() == (
        0 if expected[0] == SUPPRESSED else 1
    )
