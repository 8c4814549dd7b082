"""Case-list filters that KPI drill-down links rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import T0, CaseFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


def ids(client, query: str) -> set[str]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.json()
    return {c["external_id"] for c in response.json()["results"]}


@pytest.fixture
def cases(org):
    a1, a2 = org.rep_a1, org.rep_a2
    one = CaseFactory(
        external_id="one", category=org.category, assignee=a1, resolved=True, first_responder=a1
    )
    two = CaseFactory(
        external_id="two",
        category=org.category,
        assignee=a2,
        resolved=True,
        agent_response_count=3,
        first_responder=a2,
        first_response_at=T0 + timedelta(days=2),
        resolved_at=T0 + timedelta(days=3),
        first_resolved_at=T0 + timedelta(days=3),
    )
    CaseFactory(external_id="open", category=org.category, assignee=a1)
    SurveyResponseFactory(case=one, representative=a1, csat=5, responded_at=T0 + timedelta(days=1))
    SurveyResponseFactory(case=two, representative=a2, csat=1, responded_at=T0 + timedelta(days=4))
    return org


def test_first_response_filters(cases, client_for):
    client = client_for(cases.admin)
    assert ids(client, f"first_responder={cases.rep_a1.pk}") == {"one"}
    after = (T0 + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(client, f"first_response_after={after}") == {"two"}
    assert ids(client, f"first_response_before={after}") == {"one"}
    assert ids(client, "agent_responses_min=2") == {"two"}


def test_survey_filters_apply_to_one_and_the_same_answer(cases, client_for):
    client = client_for(cases.admin)
    assert ids(client, "csat_max=2") == {"two"}
    assert ids(client, f"survey_rep={cases.rep_a1.pk}") == {"one"}
    day2 = (T0 + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    assert ids(client, f"responded_after={day2}") == {"two"}
    assert ids(client, f"responded_before={day2}") == {"one"}
    # rep_a1's answer is a 5: no single answer is both rep_a1's and ≤ 2.
    assert ids(client, f"survey_rep={cases.rep_a1.pk}&csat_max=2") == set()


def test_bad_survey_filter_value_is_a_400(cases, client_for):
    response = client_for(cases.admin).get(URL, {"csat_max": "low"})
    assert response.status_code == 400
    assert "csat_max" in response.json()["extra"]["fields"]
