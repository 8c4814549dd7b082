"""The response-time and resolution-time endpoints: envelope, CSV, scoping, bad input,
drill-down."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests.metrics.builders import NOW, resolution_cases

pytestmark = pytest.mark.django_db

RESOLUTION = "/api/v1/metrics/resolution-time/"
RESPONSE = "/api/v1/metrics/response-time/"
WEEK = {"from": "2026-03-02", "to": "2026-03-08"}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cases(org):
    return resolution_cases(org)


def test_resolution_time_envelope(cases, client_for):
    org = cases
    response = client_for(org.manager_a).get(RESOLUTION, {**WEEK, "group_by": "rep", "min_n": 2})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "resolution_time"
    assert body["definition_version"] == "resolution_time@1"
    assert body["period"] == {
        "from": "2026-03-01T23:00:00+00:00",
        "to": "2026-03-08T23:00:00+00:00",
        "timezone": "Europe/Berlin",
    }
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert (data["unit"], data["basis"], data["min_n"], data["group_by"]) == (
        "seconds",
        "calendar",
        2,
        "rep",
    )
    assert [b["name"] for b in data["histogram_buckets"]] == [
        "lt_1h",
        "h1_4",
        "h4_8",
        "h8_24",
        "d1_3",
        "d3_7",
        "gte_7d",
    ]
    overall = data["overall"]
    # Worked out in test_kpi_times.py: r1, r2, r3, r4, r5, r7.
    assert {k: overall[k] for k in ("n", "cases", "mean", "median", "p90")} == {
        "n": 6,
        "cases": 6,
        "mean": 89700.0,
        "median": 37800.0,
        "p90": 226800.0,
    }
    assert overall["sla"] == {
        "n": 5,
        "count": 3,
        "value": 0.6,
        "low": pytest.approx(0.2307242812760128),
        "high": pytest.approx(0.882379225767352),
        "insufficient_data": False,
        "no_target": 1,
    }
    assert [(r["key"], r["n"], r["mean"]) for r in data["rows"]] == [
        ({"rep": org.rep_a1.pk, "name": "Rep_A1"}, 4, 126900.0),
        ({"rep": org.rep_a2.pk, "name": "Rep_A2"}, 2, 15300.0),
    ]
    assert data["rows"][1]["sla"]["insufficient_data"] is True  # one case with a target


def test_response_time_envelope(cases, client_for):
    body = client_for(cases.manager_a).get(RESPONSE, {**WEEK, "group_by": "day"}).json()
    assert body["metric"] == "response_time"
    assert body["definition_version"] == "response_time@1"
    data = body["data"]
    assert (data["overall"]["n"], data["overall"]["median"]) == (6, 3600.0)
    assert "sla" not in data["overall"]
    assert [(r["key"]["day"], r["n"]) for r in data["rows"]] == [
        ("2026-03-02", 3),
        ("2026-03-03", 1),
        ("2026-03-04", 0),
        ("2026-03-05", 1),
        ("2026-03-06", 0),
        ("2026-03-07", 0),
        ("2026-03-08", 1),
    ]
    assert "first_response_after=" in data["overall"]["cases_url"]


def test_minimum_sample_from_settings(cases, client_for, settings):
    settings.SUPPORTMETRICS_MIN_SAMPLE = 3
    data = client_for(cases.manager_a).get(RESPONSE, {**WEEK, "group_by": "rep"}).json()["data"]
    assert data["min_n"] == 3
    assert [(r["n"], r["insufficient_data"], r["mean"]) for r in data["rows"]] == [
        (3, False, 6600.0),
        (3, False, 17980.0),
    ]
    settings.SUPPORTMETRICS_MIN_SAMPLE = 4
    data = client_for(cases.manager_a).get(RESPONSE, {**WEEK, "group_by": "rep"}).json()["data"]
    assert [(r["n"], r["insufficient_data"], r["mean"]) for r in data["rows"]] == [
        (3, True, None),
        (3, True, None),
    ]


def test_business_basis(cases, client_for):
    data = client_for(cases.manager_a).get(RESOLUTION, {**WEEK, "basis": "business"}).json()
    assert data["filters"]["basis"] == "business"
    assert (data["data"]["overall"]["mean"], data["data"]["overall"]["sla"]["count"]) == (
        33900.0,
        4,
    )


def test_csv(cases, client_for):
    response = client_for(cases.manager_a).get(
        RESOLUTION, {**WEEK, "group_by": "category", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="resolution_time.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["name"], r["n"], r["sla.count"], r["sla.n"], r["histogram.d3_7"]) for r in rows] == [
        ("Billing", "5", "3", "5", "1"),
        ("Misc", "1", "0", "0", "0"),
    ]
    response = client_for(cases.manager_a).get(RESPONSE, {**WEEK, "format": "csv"})
    assert list(csv.DictReader(io.StringIO(response.content.decode()))) == []  # no groups


def test_a_rep_sees_their_own_figures_only(cases, client_for):
    org = cases
    own = client_for(org.rep_a2).get(RESOLUTION, {**WEEK, "group_by": "rep", "min_n": 1}).json()
    # A2 resolved r3 and r4: 1800 and 28800.
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert (own["data"]["overall"]["n"], own["data"]["overall"]["mean"]) == (2, 15300.0)
    assert [r["key"]["rep"] for r in own["data"]["rows"]] == [org.rep_a2.pk]
    # Response time is the first responder's: A2 answered r4, r6 and r8 first.
    response = client_for(org.rep_a2).get(RESPONSE, WEEK).json()
    assert response["data"]["overall"]["n"] == 3
    assert client_for(org.rep_a2).get(RESOLUTION, {"rep": org.rep_a1.pk}).status_code == 404


def test_managers_of_other_teams_get_404(cases, client_for):
    org = cases
    for params in ({"team": org.team_a.pk}, {"rep": org.rep_a1.pk}):
        response = client_for(org.manager_b).get(RESPONSE, params)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    # Their own team: r9 only.
    assert client_for(org.manager_b).get(RESOLUTION, WEEK).json()["data"]["overall"]["n"] == 1


@pytest.mark.parametrize("url", [RESOLUTION, RESPONSE])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "mood"}, "group_by"),
        ({"min_n": 0}, "min_n"),
        ({"min_n": "ten"}, "min_n"),
        ({"basis": "lunar"}, "basis"),
        ({"last_days": 400}, "last_days"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_parameters_name_the_field(org, client_for, url, params, field):
    response = client_for(org.admin).get(url, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]


def test_resolution_drilldown_lists_exactly_the_cases_behind_each_row(cases, client_for):
    client = client_for(cases.manager_a)
    for group_by in ("rep", "team", "category", "channel", "priority", "day", "week"):
        data = client.get(RESOLUTION, {**WEEK, "group_by": group_by}).json()["data"]
        for figure in [data["overall"], *data["rows"]]:
            listed = client.get(figure["cases_url"] + "&page_size=500").json()["results"]
            assert len(listed) == figure["cases"], (group_by, figure["cases_url"])


def test_response_drilldown_lists_exactly_the_cases_behind_each_row(cases, client_for):
    client = client_for(cases.manager_a)
    for group_by in (None, "rep", "team", "category", "channel", "priority", "day", "week"):
        params = {**WEEK, "group_by": group_by} if group_by else WEEK
        data = client.get(RESPONSE, params).json()["data"]
        for figure in [data["overall"], *data["rows"]]:
            if figure["cases_url"] is None:  # a group without a first responder / team
                continue
            listed = client.get(figure["cases_url"] + "&page_size=500").json()["results"]
            assert len(listed) == figure["cases"] == figure["n"], (group_by, figure["cases_url"])
        if group_by == "rep":
            assert all(r["cases_url"] for r in data["rows"] if r["key"]["rep"] is not None)
            for row in data["rows"]:
                assert f"first_responder={row['key']['rep']}" in row["cases_url"]


def test_response_drilldown_of_a_reps_own_view_uses_the_first_responder(cases, client_for):
    org = cases
    client = client_for(org.rep_a1)
    data = client.get(RESPONSE, WEEK).json()["data"]
    url = data["overall"]["cases_url"]
    assert f"first_responder={org.rep_a1.pk}" in url
    assert "&rep=" not in url
    admin = client_for(org.admin)
    listed = admin.get(url + "&page_size=500").json()["results"]
    assert len(listed) == data["overall"]["cases"]
