"""ETag on case reads, If-Match on case updates (428 without, 412 when stale)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.etags import case_etag
from cases.models import Case, CaseEvent, CaseStatus
from tests.factories import CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def case(org) -> Case:
    return CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN, category=org.category)


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.pk}/"


def test_the_detail_carries_a_strong_etag_of_the_stored_case(org, client_for, case):
    response = client_for(org.rep_a1).get(url(case))
    assert response.status_code == 200
    etag = response["ETag"]
    assert etag == case_etag(Case.objects.get(pk=case.pk))
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert len(etag) == 34
    assert client_for(org.admin).get(url(case))["ETag"] == etag  # the case's, not the reader's


def test_an_update_without_if_match_answers_428(org, client_for, case):
    response = client_for(org.rep_a1).patch(url(case), {"subject": "x"}, format="json")
    assert response.status_code == 428
    assert response.json() == {
        "message": "This update needs an If-Match header with the ETag you last read.",
        "code": "precondition_required",
        "extra": {},
    }
    case.refresh_from_db()
    assert case.subject == ""


def test_put_without_if_match_answers_428_too(org, client_for, case):
    response = client_for(org.rep_a1).put(url(case), {"subject": "x"}, format="json")
    assert response.status_code == 428


def test_a_matching_if_match_updates_and_answers_the_new_etag(org, client_for, case, clock):
    client = client_for(org.rep_a1)
    etag = client.get(url(case))["ETag"]
    clock.shift(timedelta(minutes=1))
    response = client.patch(url(case), {"subject": "Edited"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response.json()["subject"] == "Edited"
    new = response["ETag"]
    assert new != etag
    assert new == case_etag(Case.objects.get(pk=case.pk)) == client.get(url(case))["ETag"]


def test_a_stale_if_match_answers_412_with_the_current_etag(org, client_for, case, clock):
    client = client_for(org.rep_a1)
    read = client.get(url(case))["ETag"]
    clock.shift(timedelta(minutes=1))
    first = client.patch(url(case), {"subject": "Mine"}, format="json", HTTP_IF_MATCH=read)
    assert first.status_code == 200
    stale = client.patch(url(case), {"subject": "Theirs"}, format="json", HTTP_IF_MATCH=read)
    assert stale.status_code == 412
    current = case_etag(Case.objects.get(pk=case.pk))
    assert stale["ETag"] == current == first["ETag"]
    assert stale.json() == {
        "message": "The case changed since you read it; read it again and redo your change.",
        "code": "precondition_failed",
        "extra": {"etag": current},
    }
    case.refresh_from_db()
    assert case.subject == "Mine"


def test_an_event_changes_the_etag(org, client_for, case, clock):
    client = client_for(org.rep_a1)
    read = client.get(url(case))["ETag"]
    clock.shift(timedelta(minutes=1))
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.AGENT_RESPONSE,
        occurred_at=timezone.now(),
        actor=org.rep_a1,
    )
    response = client.patch(url(case), {"subject": "x"}, format="json", HTTP_IF_MATCH=read)
    assert response.status_code == 412


def test_a_patch_that_changes_nothing_keeps_the_etag(org, client_for, case):
    client = client_for(org.rep_a1)
    etag = client.get(url(case))["ETag"]
    response = client.patch(url(case), {"subject": ""}, format="json", HTTP_IF_MATCH=etag)
    assert (response.status_code, response["ETag"]) == (200, etag)


@pytest.mark.parametrize(
    "header, status_code",
    [
        ("*", 200),
        ('"nope", {current}', 200),
        ("W/{current}", 412),  # weak tags never match a strong comparison
        ('"nope"', 412),
        ("{current_unquoted}", 412),
    ],
)
def test_if_match_lists_star_and_weak_tags(org, client_for, case, header, status_code):
    client = client_for(org.rep_a1)
    current = client.get(url(case))["ETag"]
    value = header.format(current=current, current_unquoted=current.strip('"'))
    response = client.patch(url(case), {"subject": "x"}, format="json", HTTP_IF_MATCH=value)
    assert response.status_code == status_code, response.content


def test_the_scope_is_checked_before_the_precondition(org, client_for, case):
    response = client_for(org.rep_b1).patch(url(case), {"subject": "x"}, format="json")
    assert response.status_code == 404


def test_a_created_case_answers_its_etag(org, client_for):
    response = client_for(org.manager_a).post(
        "/api/v1/cases/",
        {
            "external_id": "E-1",
            "category": "billing",
            "channel": "chat",
            "opened_at": "2026-03-30T09:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response["ETag"] == case_etag(Case.objects.get(external_id="E-1"))
