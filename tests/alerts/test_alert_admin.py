"""The admin list of detractor alerts: filters work, nothing is editable there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.factories import T0, CaseFactory, DetractorAlertFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/cases/detractoralert/"


@pytest.fixture
def admin_client_for_org(org):
    client = Client()
    client.force_login(org.admin)
    return client


def make_alert(org, rep, external_id, **fields):
    case = CaseFactory(external_id=external_id, resolved=True, assignee=rep, category=org.category)
    response = SurveyResponseFactory(case=case, representative=rep, csat=1)
    return DetractorAlertFactory(response=response, **fields)


def test_the_list_filters_by_status_team_and_contact(org, admin_client_for_org):
    open_a = make_alert(org, org.rep_a1, "ADM-A")
    make_alert(
        org,
        org.rep_b1,
        "ADM-B",
        status="contacted",
        contacted_at=T0 + timedelta(days=2),
        contacted_by=org.manager_b.user,
    )
    page = admin_client_for_org.get(LIST)
    assert page.status_code == 200
    assert "ADM-A" in page.content.decode() and "ADM-B" in page.content.decode()
    for query, shown, hidden in [
        ("status__exact=open", "ADM-A", "ADM-B"),
        (f"team__id__exact={org.team_b.pk}", "ADM-B", "ADM-A"),
        ("contacted_at__isnull=True", "ADM-A", "ADM-B"),
    ]:
        body = admin_client_for_org.get(f"{LIST}?{query}").content.decode()
        assert shown in body and hidden not in body, query
    change = admin_client_for_org.get(f"{LIST}{open_a.pk}/change/")
    assert change.status_code == 200
    assert 'name="status"' not in change.content.decode()  # read-only: no form field
    assert admin_client_for_org.get(f"{LIST}add/").status_code == 403
