"""The survey JSON API: no auth, no CSRF, the same rules and error codes as the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from cases.models import SurveyInvitation, SurveyResponse
from cases.survey_links import survey_token
from tests.conftest import NOW
from tests.surveys.conftest import invitation_of

pytestmark = pytest.mark.django_db

INVALID = {"message": "This survey link is not valid.", "code": "survey_link_invalid", "extra": {}}
EXPIRED = {"message": "This survey link has expired.", "code": "survey_link_expired", "extra": {}}
ANSWERED = {
    "message": "This survey has already been answered.",
    "code": "survey_already_answered",
    "extra": {},
}


@pytest.fixture
def url(resolved_case):
    return f"/api/v1/surveys/{survey_token(invitation_of(resolved_case))}/"


@pytest.fixture
def api():
    return APIClient(enforce_csrf_checks=True)


def test_get_shows_only_what_the_customer_needs(api, url):
    response = api.get(url)
    assert response.status_code == 200
    assert response.json() == {
        "subject": "Invoice shows the wrong VAT",
        "resolved_at": "2026-04-01T08:00:00Z",
        "questions": [
            {
                "name": "csat",
                "text": "How satisfied are you with the support you received?",
                "min": 1,
                "max": 5,
                "min_label": "Very dissatisfied",
                "max_label": "Very satisfied",
                "required": True,
            },
            {
                "name": "nps",
                "text": "How likely are you to recommend us to a friend or colleague?",
                "min": 0,
                "max": 10,
                "min_label": "Not at all likely",
                "max_label": "Extremely likely",
                "required": False,
            },
            {
                "name": "effort",
                "text": "How easy was it to get your issue resolved?",
                "min": 1,
                "max": 7,
                "min_label": "Very easy",
                "max_label": "Very difficult",
                "required": False,
            },
        ],
        "comment_max_length": 5000,
    }
    assert SurveyResponse.objects.count() == 0


def test_post_records_the_answer_for_the_resolver(api, url, org, resolved_case):
    response = api.post(url, {"csat": 2, "nps": 6, "effort": 5, "comment": "Took ages."})
    assert response.status_code == 201
    assert response.json() == {
        "csat": 2,
        "nps": 6,
        "effort": 5,
        "comment": "Took ages.",
        "responded_at": "2026-04-01T09:00:00Z",
    }
    answer = SurveyResponse.objects.get()
    assert (answer.case, answer.representative, answer.resolution_number) == (
        resolved_case,
        org.rep_a1,
        1,
    )
    invitation = invitation_of(resolved_case)
    assert (invitation.status, invitation.answered_at) == ("answered", NOW)


def test_post_with_only_the_required_score(api, url):
    response = api.post(url, {"csat": 5})
    assert response.status_code == 201
    assert response.json() == {
        "csat": 5,
        "nps": None,
        "effort": None,
        "comment": "",
        "responded_at": "2026-04-01T09:00:00Z",
    }


def test_a_logged_in_browser_session_needs_no_csrf_token(api, url, org):
    api.force_login(org.admin)
    assert api.post(url, {"csat": 4}).status_code == 201


def test_answering_twice_is_gone_and_stores_one_answer(api, url):
    assert api.post(url, {"csat": 4}).status_code == 201
    again = api.post(url, {"csat": 1})
    assert (again.status_code, again.json()) == (410, ANSWERED)
    also_bad = api.post(url, {"csat": 99})  # gone comes before validation
    assert (also_bad.status_code, also_bad.json()) == (410, ANSWERED)
    got = api.get(url)
    assert (got.status_code, got.json()) == (410, ANSWERED)
    assert list(SurveyResponse.objects.values_list("csat", flat=True)) == [4]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"csat": 6}, "csat", "Ensure this value is less than or equal to 5."),
        ({"csat": 0}, "csat", "Ensure this value is greater than or equal to 1."),
        ({"nps": 3}, "csat", "This field is required."),
        ({"csat": "high"}, "csat", "A valid integer is required."),
        ({"csat": True}, "csat", "A valid integer is required."),
        ({"csat": 5, "nps": -1}, "nps", "Ensure this value is greater than or equal to 0."),
        ({"csat": 5, "nps": 11}, "nps", "Ensure this value is less than or equal to 10."),
        ({"csat": 5, "effort": 0}, "effort", "Ensure this value is greater than or equal to 1."),
        ({"csat": 5, "effort": 8}, "effort", "Ensure this value is less than or equal to 7."),
        (
            {"csat": 5, "comment": "x" * 5001},
            "comment",
            "Ensure this field has no more than 5000 characters.",
        ),
    ],
)
def test_out_of_range_answers_are_refused_with_the_field(api, url, body, field, reason):
    response = api.post(url, body)
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {reason}",
        "code": "validation_error",
        "extra": {"fields": {field: [reason]}},
    }
    assert SurveyResponse.objects.count() == 0
    assert SurveyInvitation.objects.get().status == "pending"


def test_a_tampered_token_is_not_found(api, url):
    token = url.split("/")[-2]
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", token.split(":")[0]):
        for method in (api.get, api.post):
            response = method(f"/api/v1/surveys/{bad}/", {"csat": 5})
            assert (response.status_code, response.json()) == (404, INVALID)
    assert SurveyResponse.objects.count() == 0


def test_an_expired_token_is_gone(api, url, clock):
    clock.shift(timedelta(days=30))
    for method in (api.get, api.post):
        response = method(url, {"csat": 5})
        assert (response.status_code, response.json()) == (410, EXPIRED)
    assert SurveyResponse.objects.count() == 0


def test_the_schema_describes_the_survey_endpoint(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    path = response.json()["paths"]["/api/v1/surveys/{token}/"]
    assert path["get"]["operationId"] == "survey_retrieve"
    assert path["post"]["operationId"] == "survey_answer"
    # 413/415: the body limit and the parsers answer before the view (supportmetrics/schema.py);
    # 429: the per-IP survey rate limit (supportmetrics/ratelimit.py)
    assert set(path["post"]["responses"]) == {"201", "400", "404", "410", "413", "415", "429"}
    assert set(path["get"]["responses"]) == {"200", "404", "410", "429"}
    assert path["post"]["security"] == [{}]  # no credentials: the signed token is the key
