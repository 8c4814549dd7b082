"""The bulk API decides a batch's surveys at once (cases.services.survey_batch); the outcome is
the one-by-one service's, rule by rule and in order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from cases.models import Case, CaseStatus, OutboundEmail, SurveyInvitation, SurveyOptOut
from cases.requesters import requester_hash
from cases.services.survey_batch import Resolution, survey_invitations_create_for_resolutions
from cases.services.surveys import survey_invitation_create_for_resolution, survey_opt_out_account
from tests.conftest import NOW
from tests.factories import AccountFactory
from tests.surveys.conftest import ADDRESS

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def resolved(open_case, *, at=NOW - H, reopened_count=0, **fields) -> Case:
    """A case made resolved without the lifecycle (which would decide its survey itself)."""
    case = open_case(opened_at=NOW - timedelta(days=5), **fields)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.RESOLVED,
        resolved_at=at,
        first_resolved_at=at,
        resolved_by=case.assignee,
        reopened_count=reopened_count,
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def cases(org, open_case, account, clock):
    """One case per rule, in an order where earlier decisions matter to later ones."""
    other = AccountFactory(external_id="ACC-OTHER")
    survey_opt_out_account(account=other)
    SurveyOptOut.objects.create(requester_hash=requester_hash("opted.out@example.org"))
    surveyed_before = resolved(open_case, requester_email="busy@example.org")
    SurveyInvitation.objects.create(
        case=surveyed_before,
        resolution_number=1,
        representative=org.rep_a1,
        resolved_at=NOW - timedelta(days=3),
        requester_hash=requester_hash("busy@example.org"),
        status="sent",
        sent_at=NOW - timedelta(days=3),
        expires_at=NOW + timedelta(days=27),
    )
    invited = resolved(open_case, requester_email="invited@example.org")
    SurveyInvitation.objects.create(
        case=invited,
        resolution_number=1,
        representative=org.rep_a1,
        resolved_at=NOW - H,
        requester_hash=requester_hash("invited@example.org"),
        status="pending",
        expires_at=NOW + timedelta(days=30),
    )
    return [
        resolved(open_case, requester_email=""),  # no_email
        resolved(open_case, account=other),  # account_opted_out
        resolved(open_case, requester_email="Opted.Out@example.org"),  # requester_opted_out
        resolved(open_case, requester_email="busy@example.org"),  # recently_surveyed
        resolved(open_case, at=NOW - 73 * H, requester_email="old@example.org"),  # stale
        resolved(open_case, requester_email=ADDRESS),  # sent
        resolved(open_case, requester_email=ADDRESS.upper()),  # recently: the one just before
        invited,  # has its invitation: nothing new
        resolved(open_case, requester_email="again@example.org", reopened_count=1),  # number 2
        open_case(requester_email="open@example.org"),  # not resolved: nothing
        resolved(open_case, account=None, requester_email="new@example.org"),  # sent
    ]


def outcome() -> list[tuple]:
    return [
        (
            i.case.external_id,
            i.resolution_number,
            i.representative_id,
            i.resolved_at,
            i.requester_hash,
            i.status,
            i.suppression,
            i.expires_at,
            OutboundEmail.objects.filter(invitation=i, kind="survey_invitation").count(),
        )
        for i in SurveyInvitation.objects.select_related("case").order_by("case_id", "id")
    ]


def test_a_batch_decides_as_the_service_does_one_by_one(org, cases):
    with transaction.atomic():
        for case in cases:
            survey_invitation_create_for_resolution(case=case, now=NOW)
        one_by_one = outcome()
        transaction.set_rollback(True)
    before = outcome()

    created = survey_invitations_create_for_resolutions(
        resolutions=[
            Resolution(
                case_id=c.pk,
                status=c.status,
                resolved_at=c.resolved_at,
                reopened_count=c.reopened_count,
                resolved_by_id=c.resolved_by_id,
                account_id=c.account_id,
                requester_email=c.requester_email,
            )
            for c in cases
        ],
        now=NOW,
    )
    assert outcome() == one_by_one
    # (case, resolution number, status, suppression, emails), in case order; the first two
    # invitations were there before.
    assert [(row[0], row[1], *row[5:7], row[8]) for row in one_by_one] == [
        (before[0][0], 1, "sent", "", 0),
        (before[1][0], 1, "pending", "", 0),
        (cases[0].external_id, 1, "suppressed", "no_email", 0),
        (cases[1].external_id, 1, "suppressed", "account_opted_out", 0),
        (cases[2].external_id, 1, "suppressed", "requester_opted_out", 0),
        (cases[3].external_id, 1, "suppressed", "recently_surveyed", 0),
        (cases[4].external_id, 1, "suppressed", "stale_resolution", 0),
        (cases[5].external_id, 1, "pending", "", 1),
        (cases[6].external_id, 1, "suppressed", "recently_surveyed", 0),
        (cases[8].external_id, 2, "pending", "", 1),
        (cases[10].external_id, 1, "pending", "", 1),
    ]
    assert created == 9


def test_a_second_batch_of_the_same_resolutions_creates_nothing(org, cases):
    resolutions = [
        Resolution(
            case_id=c.pk,
            status=c.status,
            resolved_at=c.resolved_at,
            reopened_count=c.reopened_count,
            resolved_by_id=c.resolved_by_id,
            account_id=c.account_id,
            requester_email=c.requester_email,
        )
        for c in cases
    ]
    assert survey_invitations_create_for_resolutions(resolutions=resolutions, now=NOW) == 9
    first = outcome()
    assert survey_invitations_create_for_resolutions(resolutions=resolutions, now=NOW) == 0
    assert outcome() == first
