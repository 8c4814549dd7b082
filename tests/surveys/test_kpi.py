"""The loop end to end: an answer moves the resolving rep's CSAT; a poor one raises an alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from cases import services
from cases.models import CaseEvent, DetractorAlert
from cases.survey_links import survey_token
from metrics.stats import wilson_interval
from tests.conftest import NOW
from tests.surveys.conftest import invitation_of, resolve

pytestmark = pytest.mark.django_db

CSAT = "/api/v1/metrics/csat/"
WINDOW = {"from": "2026-03-25", "to": "2026-04-01", "min_n": 1}


def rep_row(client, rep):
    body = client.get(CSAT, WINDOW).json()
    assert body["metric"] == "csat", body
    return next((row for row in body["data"]["rows"] if row["key"] == {"rep": rep.pk}), None)


def proportion(count, n):
    w = wilson_interval(count, n)
    return {
        "n": n,
        "count": count,
        "value": w.value,
        "low": w.low,
        "high": w.high,
        "insufficient_data": False,
    }


def test_answers_move_the_resolvers_csat_as_hand_computed(
    org, open_case, delivered, client_for, mailoutbox
):
    *_, token = delivered
    # A second case rep_a1 resolved, then reassigned to rep_a2: its answer is still rep_a1's.
    second = resolve(open_case(requester_email="bo@example.org"), by=org.rep_a1)
    services.case_event_record(
        case=second, event_type=CaseEvent.Type.REOPENED, occurred_at=NOW - timedelta(minutes=30)
    )
    services.case_event_record(
        case=second,
        event_type=CaseEvent.Type.ASSIGNED,
        occurred_at=NOW - timedelta(minutes=20),
        assignee=org.rep_a2,
    )
    second_token = survey_token(invitation_of(second))
    manager = client_for(org.manager_a)
    before = rep_row(manager, org.rep_a1)
    assert before["n"] == 0
    assert before["response_rate"] == proportion(0, 2)

    public = APIClient()
    assert public.post(f"/api/v1/surveys/{token}/", {"csat": 5}).status_code == 201
    assert public.post(f"/api/v1/surveys/{second_token}/", {"csat": 2}).status_code == 201

    after = rep_row(manager, org.rep_a1)
    # Two answers, 5 and 2: one satisfied (4–5) of two; mean 3.5, sd √4.5 ≈ 2.1213.
    assert after["n"] == 2
    assert after["satisfied"] == proportion(1, 2)
    assert after["csat_mean"]["value"] == pytest.approx(3.5)
    half = 1.959963984540054 * 4.5**0.5 / 2**0.5
    assert after["csat_mean"]["low"] == pytest.approx(max(1.0, 3.5 - half))
    assert after["csat_mean"]["high"] == pytest.approx(min(5.0, 3.5 + half))
    assert after["response_rate"] == proportion(2, 2)
    assert rep_row(manager, org.rep_a2) is None  # the new assignee gets no answer


def test_a_score_of_one_raises_a_detractor_alert_for_the_resolver(org, delivered):
    case, _, _, token = delivered
    response = APIClient().post(
        f"/api/v1/surveys/{token}/", {"csat": 1, "comment": "Nobody listened."}
    )
    assert response.status_code == 201
    alert = DetractorAlert.objects.get()
    assert (alert.case, alert.representative, alert.team, alert.status) == (
        case,
        org.rep_a1,
        org.team_a,
        "open",
    )
    assert alert.response.comment == "Nobody listened."


def test_a_good_score_raises_no_alert(delivered):
    *_, token = delivered
    assert APIClient().post(f"/api/v1/surveys/{token}/", {"csat": 4, "nps": 9}).status_code == 201
    assert DetractorAlert.objects.count() == 0
