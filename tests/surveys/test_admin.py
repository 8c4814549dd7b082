"""Admin: invitations and opt-outs are visible, read-only; accounts can be opted out."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import SurveyOptOut
from cases.services.surveys import survey_opt_out_requester
from tests.surveys.conftest import invitation_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(org):
    client = Client()
    client.force_login(org.admin)
    return client


def test_invitations_are_listed_read_only(admin_client_, resolved_case):
    invitation = invitation_of(resolved_case)
    listing = admin_client_.get("/admin/cases/surveyinvitation/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert str(resolved_case) in html
    assert "Pending (not sent yet)" in html
    assert admin_client_.get("/admin/cases/surveyinvitation/add/").status_code == 403
    detail = admin_client_.get(f"/admin/cases/surveyinvitation/{invitation.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # view only
    posted = admin_client_.post(
        f"/admin/cases/surveyinvitation/{invitation.pk}/change/", {"status": "answered"}
    )
    assert posted.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_account_action_opts_the_account_out_once(admin_client_, account):
    for _ in range(2):
        response = admin_client_.post(
            "/admin/cases/account/",
            {"action": "opt_out_of_surveys", "_selected_action": [account.pk]},
        )
        assert response.status_code == 302
    assert list(SurveyOptOut.objects.values_list("account", "requester_hash")) == [
        (account.pk, None)
    ]


def test_opt_outs_listed_and_only_account_ones_deletable(admin_client_, resolved_case, account):
    requester = survey_opt_out_requester(invitation=invitation_of(resolved_case))
    admin_client_.post(
        "/admin/cases/account/", {"action": "opt_out_of_surveys", "_selected_action": [account.pk]}
    )
    account_opt_out = SurveyOptOut.objects.get(account=account)
    listing = admin_client_.get("/admin/cases/surveyoptout/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "requester (unsubscribe link)" in html
    assert requester.requester_hash not in html
    delete = "/admin/cases/surveyoptout/{}/delete/"
    assert admin_client_.get(delete.format(requester.pk)).status_code == 403
    assert admin_client_.post(delete.format(account_opt_out.pk), {"post": "yes"}).status_code == 302
    assert list(SurveyOptOut.objects.values_list("pk", flat=True)) == [requester.pk]
