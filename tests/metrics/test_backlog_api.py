"""The backlog endpoints: envelope, role scoping, CSV."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests.metrics.builders import NOW

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/backlog/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_manager_gets_their_team_in_the_team_calendar(backlog_cases, client_for):
    org = backlog_cases
    response = client_for(org.manager_a).get(URL, {"from": "2026-03-01", "to": "2026-03-10"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "backlog"
    assert body["definition_version"] == "backlog@1"
    assert body["period"] == {
        "from": "2026-02-28T23:00:00+00:00",
        "to": "2026-03-10T23:00:00+00:00",
        "timezone": "Europe/Berlin",
    }
    assert body["filters"]["team"] == [org.team_a.pk]
    assert body["data"]["open_now"]["n"] == 4
    assert [d["open_at_end"] for d in body["data"]["trend"]] == [2, 3, 2, 3, 2, 3, 3, 3, 3, 4]
    assert {r["key"]["rep"]: r["n"] for r in body["data"]["rows"]} == {
        org.rep_a1.pk: 3,
        org.rep_a2.pk: 1,
    }
    link = body["data"]["rows"][0]["cases_url"]
    assert link.startswith("/api/v1/cases/?") and f"team={org.team_a.pk}" in link


def test_manager_asking_for_another_team_gets_404(backlog_cases, client_for):
    org = backlog_cases
    response = client_for(org.manager_a).get(URL, {"team": org.team_b.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_rep_sees_only_themselves(backlog_cases, client_for):
    org = backlog_cases
    own = client_for(org.rep_a2).get(URL, {"from": "2026-03-01", "to": "2026-03-10"}).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert own["data"]["open_now"]["n"] == 1
    other = client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk})
    assert other.status_code == 404


def test_admin_sees_every_team(backlog_cases, client_for):
    body = client_for(backlog_cases.admin).get(URL, {"group_by": "team"}).json()
    assert body["data"]["open_now"]["n"] == 5
    assert sorted(r["n"] for r in body["data"]["rows"]) == [1, 4]


def test_csv(backlog_cases, client_for):
    org = backlog_cases
    response = client_for(org.manager_a).get(URL, {"format": "csv", "last_days": 7})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {int(r["rep"]): int(r["n"]) for r in rows} == {org.rep_a1.pk: 3, org.rep_a2.pk: 1}
    assert "age.d7_30" in rows[0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"last_days": 400}, "last_days"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01"}, "to"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"channel": "fax"}, "channel"),
        ({"group_by": "mood"}, "group_by"),
        ({"from": "2026-03-01T10:00:00", "to": "2026-03-02"}, "from"),
    ],
)
def test_bad_parameters_name_the_field(backlog_cases, client_for, params, field):
    response = client_for(backlog_cases.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]


def test_drilldown_links_list_exactly_the_cases_behind_each_figure(backlog_cases, client_for):
    client = client_for(backlog_cases.manager_a)
    data = client.get(URL, {"last_days": 7}).json()["data"]
    for figure in [data["open_now"], *data["rows"]]:
        listed = client.get(figure["cases_url"] + "&page_size=500").json()["results"]
        assert len(listed) == figure["n"]
        assert {c["status"] for c in listed} <= {"new", "open", "pending"}
