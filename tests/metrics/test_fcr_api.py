"""The FCR endpoint: envelope, CSV, scoping, bad input, drill-down."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests.metrics.builders import NOW, resolution_cases

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/fcr/"
WEEK = {"from": "2026-03-02", "to": "2026-03-08"}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cases(org):
    return resolution_cases(org)


def test_envelope(cases, client_for):
    org = cases
    response = client_for(org.manager_a).get(URL, {**WEEK, "group_by": "rep", "min_n": 2})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["metric"], body["definition_version"]) == ("fcr", "fcr@1")
    assert body["period"]["timezone"] == "Europe/Berlin"
    data = body["data"]
    assert (data["min_n"], data["group_by"]) == (2, "rep")
    # Worked out in test_kpi_fcr.py: FCR 3 / 5 (r3 zero-touch), reopened 1 / 6.
    overall = data["overall"]
    assert overall["n"] == 6
    assert {k: overall["fcr"][k] for k in ("n", "count", "value", "insufficient_data")} == {
        "n": 5,
        "count": 3,
        "value": 0.6,
        "insufficient_data": False,
    }
    assert (overall["reopen_rate"]["count"], overall["reopen_rate"]["n"]) == (1, 6)
    assert overall["zero_touch"]["n"] == 1
    # FCR's own cases need a case-list filter on "at least one response": no link yet.
    assert "agent_responses_min=1" in overall["fcr"]["cases_url"]
    a1, a2 = data["rows"]
    assert a1["key"] == {"rep": org.rep_a1.pk, "name": "Rep_A1"}
    assert (a1["fcr"]["value"], a1["reopen_rate"]["value"]) == (0.75, 0.25)
    assert a2["key"] == {"rep": org.rep_a2.pk, "name": "Rep_A2"}
    assert (a2["fcr"]["n"], a2["fcr"]["value"], a2["fcr"]["insufficient_data"]) == (1, None, True)


def test_csv(cases, client_for):
    response = client_for(cases.manager_a).get(
        URL, {**WEEK, "group_by": "channel", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [
        (r["channel"], r["n"], r["fcr.count"], r["fcr.n"], r["reopen_rate.count"]) for r in rows
    ] == [("chat", "1", "0", "1", "0"), ("email", "5", "3", "4", "1")]


def test_scoping(cases, client_for):
    org = cases
    own = client_for(org.rep_a1).get(URL, WEEK).json()
    # A1 resolved r1, r2, r5, r7.
    assert own["filters"]["rep"] == [org.rep_a1.pk]
    assert (own["data"]["overall"]["n"], own["data"]["overall"]["fcr"]["count"]) == (4, 3)
    assert client_for(org.rep_a1).get(URL, {"rep": org.rep_a2.pk}).status_code == 404
    assert client_for(org.manager_b).get(URL, {"team": org.team_a.pk}).status_code == 404
    assert client_for(org.manager_b).get(URL, {"rep": org.rep_a2.pk}).status_code == 404
    everyone = client_for(org.admin).get(URL, {**WEEK, "group_by": "team"}).json()["data"]
    assert [(r["key"]["name"], r["n"]) for r in everyone["rows"]] == [("Alpha", 6), ("Bravo", 1)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "day"}, "group_by"),  # FCR is not a calendar series
        ({"min_n": -1}, "min_n"),
        ({"from": "2026-03-02"}, "to"),
        ({"channel": "fax"}, "channel"),
    ],
)
def test_bad_parameters_name_the_field(org, client_for, params, field):
    response = client_for(org.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]


def test_drilldown_lists_exactly_the_cases_behind_each_figure(cases, client_for):
    client = client_for(cases.manager_a)

    def listed(url):
        return client.get(url + "&page_size=500").json()["results"]

    for group_by in ("rep", "category", "channel"):
        data = client.get(URL, {**WEEK, "group_by": group_by}).json()["data"]
        for figure in [data["overall"], *data["rows"]]:
            assert len(listed(figure["cases_url"])) == figure["n"]
            reopened = listed(figure["reopen_rate"]["cases_url"])
            assert len(reopened) == figure["reopen_rate"]["count"]
            zero_touch = listed(figure["zero_touch"]["cases_url"])
            assert len(zero_touch) == figure["zero_touch"]["n"]
            assert all(c["agent_response_count"] == 0 for c in zero_touch)
            one_touch = listed(figure["fcr"]["cases_url"])
            assert len(one_touch) == figure["fcr"]["count"]
            assert all(c["agent_response_count"] == 1 for c in one_touch)
