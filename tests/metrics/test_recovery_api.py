"""The detractor recovery endpoint: envelope, exact figures, scoping, CSV, drill-down links."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from metrics.stats import wilson_interval
from tests.metrics.recovery_alerts import NOW, recovery_alerts

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/recovery/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31", "tz": "UTC"}
WINDOW = (
    "created_after=2026-03-01T00%3A00%3A00%2B00%3A00"
    "&created_before=2026-04-01T00%3A00%3A00%2B00%3A00"
)


@pytest.fixture
def alerts(org):
    return recovery_alerts(org)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def rate(successes, n):
    w = wilson_interval(successes, n)
    return {
        "n": n,
        "count": successes,
        "value": w.value,
        "low": w.low,
        "high": w.high,
        "insufficient_data": False,
    }


def test_a_manager_gets_their_team(alerts, client_for):
    org = alerts
    response = client_for(org.manager_a).get(URL, {**MARCH, "min_n": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "recovery"
    assert body["definition_version"] == "recovery@1"
    assert body["period"] == {
        "from": "2026-03-01T00:00:00+00:00",
        "to": "2026-04-01T00:00:00+00:00",
        "timezone": "UTC",
    }
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert data["min_n"] == 1
    team = org.team_a.pk
    assert data["overall"] == {
        "n": 8,
        "alerts": 8,
        "contacted": 6,
        "closed": 4,
        "recovered": 3,
        "time_to_first_contact": {
            "n": 6,
            "mean": 12300.0,
            "median": 9000.0,
            "p90": 25200.0,
            "insufficient_data": False,
        },
        "recovery_rate": rate(3, 4),
        "alerts_url": f"/api/v1/alerts/?{WINDOW}&team={team}",
    }
    [alpha] = data["teams"]
    assert alpha == {
        "key": {"team": team},
        "label": "Alpha",
        **{k: v for k, v in data["overall"].items() if k != "alerts_url"},
        "alerts_url": f"/api/v1/alerts/?{WINDOW}&team={team}",
    }
    assert [(r["key"], r["label"], r["n"]) for r in data["reps"]] == [
        ({"rep": org.rep_a1.pk}, "Rep_A1", 4),
        ({"rep": org.rep_a2.pk}, "Rep_A2", 2),
        ({"rep": None}, None, 2),
    ]
    assert (
        data["reps"][0]["alerts_url"] == f"/api/v1/alerts/?{WINDOW}&team={team}&rep={org.rep_a1.pk}"
    )
    assert data["reps"][2]["alerts_url"] is None  # the alert list has no "no rep" filter
    assert "rank" not in response.content.decode()


def test_the_links_list_exactly_the_alerts_counted(alerts, client_for):
    org = alerts
    client = client_for(org.manager_a)
    data = client.get(URL, {**MARCH, "min_n": 1}).json()["data"]
    for figure in [data["overall"], *data["teams"], *data["reps"][:2]]:
        listed = client.get(figure["alerts_url"]).json()["results"]
        assert len(listed) == figure["n"], figure["alerts_url"]
        assert (
            sum(a["status"] == "recovered" and a["closed_at"] < "2026-04-10" for a in listed)
            == figure["recovered"]
        )


def test_a_rep_sees_only_themselves(alerts, client_for):
    org = alerts
    own = client_for(org.rep_a2).get(URL, {**MARCH, "min_n": 3}).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert [r["key"] for r in own["data"]["reps"]] == [{"rep": org.rep_a2.pk}]
    # Their own overall figure is one rep's: the minimum sample applies.
    overall = own["data"]["overall"]
    assert (overall["n"], overall["time_to_first_contact"]["insufficient_data"]) == (2, True)
    assert overall["recovery_rate"] == {
        "n": 2,
        "count": 2,
        "value": None,
        "low": None,
        "high": None,
        "insufficient_data": True,
    }
    other = client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk})
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


def test_another_teams_manager_gets_404_and_admins_see_all_teams(alerts, client_for):
    org = alerts
    response = client_for(org.manager_b).get(URL, {**MARCH, "team": org.team_a.pk})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    everyone = client_for(org.admin).get(URL, {**MARCH, "min_n": 1}).json()["data"]
    assert [(t["label"], t["n"]) for t in everyone["teams"]] == [("Alpha", 8), ("Bravo", 1)]
    assert everyone["overall"]["alerts_url"] == f"/api/v1/alerts/?{WINDOW}"


def test_a_case_slice_has_no_alert_link(alerts, client_for):
    org = alerts
    data = client_for(org.admin).get(URL, {**MARCH, "category": "billing"}).json()["data"]
    assert data["overall"]["n"] == 9
    assert data["overall"]["alerts_url"] is None


def test_csv(alerts, client_for):
    org = alerts
    response = client_for(org.manager_a).get(URL, {**MARCH, "format": "csv", "min_n": 1})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="recovery.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["group"], r["team"], r["rep"], r["label"], r["n"]) for r in rows] == [
        ("overall", "", "", "", "8"),
        ("team", str(org.team_a.pk), "", "Alpha", "8"),
        ("rep", "", str(org.rep_a1.pk), "Rep_A1", "4"),
        ("rep", "", str(org.rep_a2.pk), "Rep_A2", "2"),
        ("rep", "", "", "", "2"),
    ]
    assert rows[0]["time_to_first_contact.median"] == "9000.0"
    assert rows[0]["recovery_rate.value"] == "0.75"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"min_n": 0}, "min_n"), ({"min_n": "ten"}, "min_n"), ({"last_days": 400}, "last_days")],
)
def test_bad_parameters_name_the_field(org, client_for, params, field):
    response = client_for(org.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
