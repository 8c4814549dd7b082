"""The alerts page: open detractor alerts in scope and their follow-up through the services."""

from __future__ import annotations

import pytest

from cases.models import DetractorAlert
from tests.conftest import NOW
from tests.dashboard.data import build_dashboard_data
from tests.dashboard.html import table, tiles

pytestmark = pytest.mark.django_db

ALERTS = "/dashboard/alerts/"
CAPTION = "Needing follow-up"


@pytest.fixture
def alert_data(org, clock, settings):
    settings.SUPPORTMETRICS_MIN_SAMPLE = 2
    data = build_dashboard_data(org, NOW, alerts=True)
    data.alert_a = DetractorAlert.objects.get(case=data.cases["a1-2"])
    data.alert_b = DetractorAlert.objects.get(case=data.cases["b1-1"])
    return data


def test_a_manager_sees_their_team_s_open_alerts(alert_data, page_client):
    html = page_client(alert_data.org.manager_a).get(ALERTS).content

    rows = table(html, CAPTION)
    assert rows[0] == ["Raised (UTC)", "Case", "Rep", "Answer", "Comment", "Status", "Recovery"]
    # a1-2 was resolved 9 days before NOW plus 6 h and answered a day later.
    assert rows[1:] == [
        [
            "2026-03-24 15:00",
            "a1-2",
            "Rep_A1",
            "CSAT 2/5, NPS 3/10",
            "Slow and unhelpful.",
            "Open",
            "Note on the contact with the customer of case a1-2 Mark contacted",
        ]
    ]
    found = tiles(html)
    assert found["recovery:Alerts raised"]["value"] == "1"
    assert found["recovery:Contacted"]["value"] == "0"


def test_contact_then_close_as_recovered(alert_data, page_client):
    org, alert = alert_data.org, alert_data.alert_a
    client = page_client(org.manager_a)

    response = client.post(
        f"/dashboard/alerts/{alert.pk}/contact/", {"note": "Called back.", "next": ALERTS}
    )
    assert response.status_code == 302 and response["Location"] == ALERTS
    alert.refresh_from_db()
    assert (alert.status, alert.contacted_at, alert.contacted_by) == (
        "contacted",
        NOW,
        org.manager_a.user,
    )
    page = client.get(ALERTS).content
    assert b"Case a1-2: customer contacted." in page
    assert table(page, CAPTION)[1][5] == (
        "Customer contacted contacted 2026-04-01 09:00 by mgr_a Note: Called back."
    )

    client.post(f"/dashboard/alerts/{alert.pk}/close/", {"outcome": "recovered", "note": "Happy."})
    alert.refresh_from_db()
    assert (alert.status, alert.closed_at, alert.closed_by) == (
        "recovered",
        NOW,
        org.manager_a.user,
    )
    assert alert.note == "Called back.\n\nHappy."
    page = client.get(ALERTS).content
    assert b"Case a1-2: closed as recovered." in page
    assert table(page, CAPTION)[1:] == [["No alerts here."]]
    closed = client.get(ALERTS, {"show": "closed"}).content
    assert table(closed, "Closed")[1][1] == "a1-2"
    assert table(closed, "Closed")[1][6] == "Closed"
    found = tiles(closed)
    assert found["recovery:Recovered"]["detail"] == "95% interval 20.7–100.0%; 1 of 1 closed"


def test_a_wrong_step_is_refused_and_changes_nothing(alert_data, page_client):
    alert = alert_data.alert_a
    client = page_client(alert_data.org.manager_a)

    client.post(f"/dashboard/alerts/{alert.pk}/close/", {"outcome": "recovered"})
    alert.refresh_from_db()
    assert alert.status == "open"
    assert b"A detractor alert that is open cannot become recovered." in client.get(ALERTS).content


def test_reps_read_their_own_alerts_and_may_not_act(alert_data, page_client):
    org, alert = alert_data.org, alert_data.alert_a
    own = page_client(org.rep_a1)

    html = own.get(ALERTS).content
    assert [row[1] for row in table(html, CAPTION)[1:]] == ["a1-2"]
    assert table(html, CAPTION)[1][6] == "Managers follow up"
    refused = own.post(f"/dashboard/alerts/{alert.pk}/contact/")
    assert refused.status_code == 403
    assert b"Managers and admins record the follow-up of an alert." in refused.content
    # The rep's coaching page lists it too.
    coaching = own.get(f"/dashboard/reps/{org.rep_a1.pk}/").content
    caption = "Open detractor alerts on this rep's cases"
    assert [row[1] for row in table(coaching, caption)[1:]] == ["a1-2"]

    other = page_client(org.rep_a2)
    assert table(other.get(ALERTS).content, CAPTION)[1:] == [["No alerts here."]]
    assert other.post(f"/dashboard/alerts/{alert.pk}/contact/").status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_another_team_s_manager_cannot_see_or_act(alert_data, page_client):
    org = alert_data.org
    client = page_client(org.manager_b)
    assert [row[1] for row in table(client.get(ALERTS).content, CAPTION)[1:]] == ["b1-1"]
    response = client.post(f"/dashboard/alerts/{alert_data.alert_a.pk}/contact/")
    assert response.status_code == 404
    assert client.get(f"/dashboard/alerts/{alert_data.alert_a.pk}/contact/").status_code == 405


def test_an_admin_narrows_alerts_by_team(alert_data, page_client):
    org = alert_data.org
    client = page_client(org.admin)
    everyone = table(client.get(ALERTS).content, CAPTION)
    assert sorted(row[1] for row in everyone[1:]) == ["a1-2", "b1-1"]
    bravo = table(client.get(ALERTS, {"team": org.team_b.pk}).content, CAPTION)
    assert [row[1] for row in bravo[1:]] == ["b1-1"]
