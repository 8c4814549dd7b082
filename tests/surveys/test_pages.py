"""The customer's survey pages: GET shows, POST (with CSRF) records once; friendly errors with
the API's statuses; unsubscribe by page or by one-click POST."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from cases.models import SurveyInvitation, SurveyOptOut, SurveyResponse
from cases.requesters import requester_hash
from cases.survey_links import survey_token
from tests.conftest import NOW
from tests.surveys.conftest import ADDRESS, invitation_of, resolve

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHECKED = re.compile(r'id="(\w+-\d+)" name="\w+" value="\d+" checked')


@pytest.fixture
def token(resolved_case):
    return survey_token(invitation_of(resolved_case))


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def page(client, url, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.content.decode()


def post_answer(browser, token, data):
    _, html = page(browser, f"/s/{token}/")
    return browser.post(
        f"/s/{token}/", {**data, "csrfmiddlewaretoken": CSRF_INPUT.search(html).group(1)}
    )


def test_get_shows_an_accessible_form_and_records_nothing(browser, token, resolved_case):
    response, html = page(browser, f"/s/{token}/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "Invoice shows the wrong VAT" in html
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    # One fieldset with a legend per scale; every radio has its label.
    assert html.count("<fieldset") == 3
    assert html.count("<legend>") == 3
    for name, low, high in (("csat", 1, 5), ("nps", 0, 10), ("effort", 1, 7)):
        values = re.findall(rf'type="radio" id="{name}-(\d+)" name="{name}"', html)
        assert values == [str(v) for v in range(low, high + 1)]
        for value in values:
            assert f'<label for="{name}-{value}">' in html
    assert '<label class="block" for="comment">' in html
    assert CSRF_INPUT.search(html)
    assert not CHECKED.search(html)
    assert SurveyResponse.objects.count() == 0
    assert invitation_of(resolved_case).status == "pending"


def test_a_rating_from_the_email_is_ticked_not_recorded(browser, token):
    response, html = page(browser, f"/s/{token}/", data={"csat": "4"})
    assert response.status_code == 200
    assert 'id="csat-4" name="csat" value="4" checked' in html
    assert SurveyResponse.objects.count() == 0
    assert CHECKED.findall(html) == ["csat-4"]
    _, html = page(browser, f"/s/{token}/", data={"csat": "9"})
    assert not CHECKED.search(html)


def test_post_with_the_page_csrf_token_records_the_answer(browser, token, resolved_case, org):
    response = post_answer(
        browser, token, {"csat": "4", "nps": "9", "effort": "2", "comment": " Quick, thanks! "}
    )
    assert response.status_code == 200
    assert "Thank you!" in response.content.decode()
    answer = SurveyResponse.objects.get()
    assert (answer.case, answer.representative, answer.resolution_number) == (
        resolved_case,
        org.rep_a1,
        1,
    )
    assert (answer.csat, answer.nps, answer.effort, answer.comment) == (4, 9, 2, "Quick, thanks!")
    assert answer.responded_at == NOW
    invitation = invitation_of(resolved_case)
    assert (invitation.status, invitation.answered_at) == ("answered", NOW)


def test_optional_questions_may_stay_empty(browser, token):
    assert post_answer(browser, token, {"csat": "3"}).status_code == 200
    answer = SurveyResponse.objects.get()
    assert (answer.csat, answer.nps, answer.effort, answer.comment) == (3, None, None, "")


def test_post_without_the_csrf_token_is_refused(browser, token):
    page(browser, f"/s/{token}/")  # the cookie alone is not enough
    response = browser.post(f"/s/{token}/", {"csat": "5"})
    assert response.status_code == 403
    assert SurveyResponse.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"csat": "6"}, "csat", "Ensure this value is between 1 and 5."),
        ({"csat": "0"}, "csat", "Ensure this value is between 1 and 5."),
        ({}, "csat", "Please choose a rating from 1 to 5."),
        ({"csat": "5", "nps": "11"}, "nps", "Ensure this value is between 0 and 10."),
        ({"csat": "5", "effort": "0"}, "effort", "Ensure this value is between 1 and 7."),
        ({"csat": "5", "effort": "8"}, "effort", "Ensure this value is between 1 and 7."),
        ({"csat": "five"}, "csat", "Ensure this value is between 1 and 5."),
    ],
)
def test_out_of_range_answers_are_refused_with_the_field(browser, token, data, field, message):
    response = post_answer(browser, token, {"comment": "kept", **data})
    html = response.content.decode()
    assert response.status_code == 400
    assert f'<p class="error" id="{field}-error">{message}</p>' in html
    assert f'aria-describedby="{field}-hint {field}-error"' in html
    assert 'role="alert"' in html
    assert ">kept</textarea>" in html  # what the customer typed is not lost
    assert SurveyResponse.objects.count() == 0
    assert SurveyInvitation.objects.get().status == "pending"


def test_a_too_long_comment_is_refused(browser, token):
    response = post_answer(browser, token, {"csat": "5", "comment": "x" * 5001})
    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters (it has 5001)." in (
        response.content.decode()
    )
    assert SurveyResponse.objects.count() == 0


def test_answering_twice_is_gone_and_stores_one_answer(browser, token):
    _, form = page(browser, f"/s/{token}/")
    csrf = CSRF_INPUT.search(form).group(1)
    first = browser.post(f"/s/{token}/", {"csat": "5", "csrfmiddlewaretoken": csrf})
    assert first.status_code == 200
    again = browser.post(f"/s/{token}/", {"csat": "1", "csrfmiddlewaretoken": csrf})  # resent
    assert again.status_code == 410
    assert "You have already answered" in again.content.decode()
    response, html = page(browser, f"/s/{token}/")
    assert response.status_code == 410
    assert "You have already answered" in html
    response = Client().post(f"/s/{token}/", {"csat": "1"})  # no CSRF enforcement here
    assert response.status_code == 410
    assert "You have already answered" in response.content.decode()
    assert list(SurveyResponse.objects.values_list("csat", flat=True)) == [5]


def test_a_tampered_link_is_not_found(browser, token):
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense", token + "x"):
        response, html = page(browser, f"/s/{bad}/")
        assert response.status_code == 404
        assert "This link does not work" in html
    response = Client().post(f"/s/{token[:-2]}/", {"csat": "5"})
    assert response.status_code == 404
    assert SurveyResponse.objects.count() == 0


def test_a_link_of_a_suppressed_survey_is_not_found(org, open_case, browser):
    invitation = invitation_of(resolve(open_case(requester_email=""), by=org.rep_a1))
    response, html = page(browser, f"/s/{survey_token(invitation)}/")
    assert response.status_code == 404
    assert "This link does not work" in html


def test_an_expired_link_is_gone(browser, token, clock):
    clock.shift(timedelta(days=30, seconds=-1))
    assert page(browser, f"/s/{token}/")[0].status_code == 200  # the last moment
    clock.shift(timedelta(seconds=1))  # expires_at: invitation + SURVEY_LINK_MAX_AGE_DAYS
    response, html = page(browser, f"/s/{token}/")
    assert response.status_code == 410
    assert "This survey has closed" in html
    response = Client().post(f"/s/{token}/", {"csat": "5"})
    assert response.status_code == 410
    assert SurveyResponse.objects.count() == 0


def test_a_link_older_than_its_max_age_is_gone_whatever_the_invitation_says(
    browser, token, resolved_case, clock
):
    SurveyInvitation.objects.update(expires_at=NOW + timedelta(days=365))
    clock.shift(timedelta(days=30, seconds=1))  # the signature's max age: 30 days
    response, html = page(browser, f"/s/{token}/")
    assert response.status_code == 410
    assert "This survey has closed" in html


def test_a_fresh_link_does_not_outlive_the_survey(browser, resolved_case, clock):
    clock.shift(timedelta(days=29))  # a reminder's link, signed a day before the end
    token = survey_token(invitation_of(resolved_case))
    clock.shift(timedelta(days=1))
    response, html = page(browser, f"/s/{token}/")
    assert response.status_code == 410
    assert "This survey has closed" in html


# --- unsubscribe --------------------------------------------------------------------------


def test_unsubscribe_asks_first_then_opts_out_and_the_next_survey_is_suppressed(
    browser, token, org, open_case, clock
):
    response, html = page(browser, f"/s/{token}/unsubscribe/")
    assert response.status_code == 200
    assert "Stop survey emails?" in html
    assert SurveyOptOut.objects.count() == 0  # GET never opts out (mail scanners)
    response = browser.post(f"/s/{token}/unsubscribe/")
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert list(SurveyOptOut.objects.values_list("requester_hash", "account")) == [
        (requester_hash(ADDRESS), None)
    ]
    clock.shift(timedelta(days=20))  # past the cooldown: only the opt-out suppresses
    case = resolve(
        open_case(opened_at=NOW + timedelta(days=19)), by=org.rep_a2, at=NOW + timedelta(days=19)
    )
    invitation = invitation_of(case)
    assert (invitation.status, invitation.suppression) == ("suppressed", "requester_opted_out")


def test_one_click_unsubscribe_needs_no_csrf_token_and_works_on_old_links(browser, token, clock):
    clock.shift(timedelta(days=90))
    response = browser.post(
        f"/s/{token}/unsubscribe/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert SurveyOptOut.objects.filter(requester_hash=requester_hash(ADDRESS)).count() == 1
    assert browser.post(f"/s/{token}/unsubscribe/").status_code == 200  # twice: one opt-out
    assert SurveyOptOut.objects.count() == 1


def test_unsubscribe_with_a_tampered_link_is_not_found(browser, token):
    response = browser.post(f"/s/{token[:-3]}/unsubscribe/")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert SurveyOptOut.objects.count() == 0
