"""Who sees what on the dashboard: the API's roles and scopes, out of scope → 404."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.dashboard.html import table
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = ("/dashboard/overview/", "/dashboard/seasonality/", "/dashboard/accounts/")


def test_anonymous_visitors_are_sent_to_the_login_page(dashboard_data):
    response = Client().get("/dashboard/overview/?last_days=7")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/login/?next=/dashboard/overview/%3Flast_days%3D7"


def test_login_with_the_api_users_lands_on_the_role_s_start_page(dashboard_data):
    org = dashboard_data.org
    for who in (org.manager_a, org.rep_a1):
        who.user.set_password("pw-for-tests")
        who.user.save()
    manager = Client()
    response = manager.post(
        "/dashboard/login/", {"username": "mgr_a", "password": "pw-for-tests"}, follow=True
    )
    assert response.redirect_chain == [("/dashboard/", 302), ("/dashboard/overview/", 302)]
    assert response.status_code == 200

    rep = Client()
    response = rep.post(
        "/dashboard/login/", {"username": "rep_a1", "password": "pw-for-tests"}, follow=True
    )
    assert response.redirect_chain[-1] == (f"/dashboard/reps/{org.rep_a1.pk}/", 302)
    assert response.status_code == 200

    wrong = Client().post("/dashboard/login/", {"username": "rep_a1", "password": "nope"})
    assert wrong.status_code == 200
    assert b'class="form-error" role="alert"' in wrong.content


def test_a_user_without_a_role_gets_403(dashboard_data, page_client):
    client = page_client(UserFactory(username="no_role"))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 403
        assert b"Your login has no role here" in response.content


def test_an_inactive_rep_gets_403(dashboard_data, page_client):
    org = dashboard_data.org
    org.rep_a2.active = False
    org.rep_a2.save()
    assert page_client(org.rep_a2).get(f"/dashboard/reps/{org.rep_a2.pk}/").status_code == 403


def test_a_rep_reaches_only_their_own_page(dashboard_data, page_client):
    org = dashboard_data.org
    client = page_client(org.rep_a1)

    assert client.get("/dashboard/")["Location"] == f"/dashboard/reps/{org.rep_a1.pk}/"
    assert client.get(f"/dashboard/reps/{org.rep_a1.pk}/").status_code == 200
    for other in (org.rep_a2, org.rep_b1, org.manager_a):
        response = client.get(f"/dashboard/reps/{other.pk}/")
        assert response.status_code == 404
        assert b"There is nothing here that you may see." in response.content
    assert client.get("/dashboard/reps/999999/").status_code == 404
    assert client.get("/dashboard/overview/", {"team": org.team_b.pk}).status_code == 404


def test_a_rep_s_pages_hold_only_their_own_figures(dashboard_data, page_client):
    org = dashboard_data.org
    html = page_client(org.rep_a1).get("/dashboard/overview/").content

    assert [row[0] for row in table(html, "CSAT per rep (alphabetical)")[1:]] == ["Rep_A1"]
    assert [row[0] for row in table(html, "Case load per person (alphabetical)")[1:]] == ["Rep_A1"]
    assert table(html, "Open cases now by age")[1:] == [
        ["Under 1 day", "0"],
        ["1–3 days", "1"],  # a1-5
        ["3–7 days", "1"],  # a1-4
        ["7–30 days", "0"],
        ["Over 30 days", "0"],
    ]
    for page in PAGES:
        assert page_client(org.rep_a1).get(page).status_code == 200


def test_a_manager_sees_their_team_and_nobody_else(dashboard_data, page_client):
    org = dashboard_data.org
    client = page_client(org.manager_a)

    assert client.get(f"/dashboard/reps/{org.rep_a2.pk}/").status_code == 200
    assert client.get(f"/dashboard/reps/{org.rep_b1.pk}/").status_code == 404
    for page in PAGES:
        assert client.get(page, {"team": org.team_b.pk}).status_code == 404
        assert client.get(page, {"team": org.team_a.pk}).status_code == 200
    html = client.get("/dashboard/overview/").content
    assert [row[0] for row in table(html, "Spread within each team")[1:]] == ["Alpha"]
    # The team is fixed for a manager: shown, not offered as a choice.
    assert b'id="f-team"' not in html
    assert b"Alpha" in html


def test_an_admin_sees_every_team_and_may_narrow_to_one(dashboard_data, page_client):
    org = dashboard_data.org
    client = page_client(org.admin)

    assert client.get("/dashboard/").status_code == 302
    assert client.get(f"/dashboard/reps/{org.rep_b1.pk}/").status_code == 200
    html = client.get("/dashboard/overview/").content
    assert [row[0] for row in table(html, "Spread within each team")[1:]] == ["Alpha", "Bravo"]
    assert [row[0] for row in table(html, "CSAT per rep (alphabetical)")[1:]] == [
        "Rep_A1",
        "Rep_A2",
        "Rep_B1",
    ]
    bravo = client.get("/dashboard/overview/", {"team": org.team_b.pk}).content
    assert [row[0] for row in table(bravo, "Spread within each team")[1:]] == ["Bravo"]
    assert f'<option value="{org.team_b.pk}" selected>Bravo</option>'.encode() in bravo
