"""The case-load endpoint: envelope, CSV, scoping, bad input."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests.metrics.builders import NOW, load_history

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/load/"
WEEK = {"from": "2026-03-02", "to": "2026-03-08"}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def load_cases(org):
    return load_history(org)


def test_envelope(load_cases, client_for):
    org = load_cases
    response = client_for(org.manager_a).get(URL, {**WEEK, "min_n": 5})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["metric"], body["definition_version"]) == ("load", "load@1")
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert (data["min_n"], data["group_by"]) == (5, None)
    # Worked out in test_kpi_load.py.
    a1 = data["rows"][1]
    assert a1["key"] == {"rep": org.rep_a1.pk, "name": "Rep_A1"}
    assert a1["in_spread"] is True
    assert a1["resolved"] == {
        "n": 4,
        "team_n": 5,
        "share": 0.8,
        "share_low": pytest.approx(0.37553462976252533),
        "share_high": pytest.approx(0.9637758913675698),
        "equal_share": pytest.approx(1 / 3),
        "insufficient_data": False,
    }
    assert a1["series"] == []
    assert a1["cases_url"] is None  # needs event-based case-list filters (see docs)
    manager = data["rows"][0]
    assert (manager["key"]["name"], manager["in_spread"], manager["resolved"]["share"]) == (
        "Mgr_A",
        False,
        None,
    )
    assert [r["key"]["name"] for r in data["rows"]] == ["Mgr_A", "Rep_A1", "Rep_A2", "Rep_A3"]
    assert data["teams"] == [
        {
            "key": {"team": org.team_a.pk, "name": "Alpha"},
            "reps": 3,
            "equal_share": pytest.approx(1 / 3),
            "taken_on": {"n": 7, "gini": pytest.approx(8 / 21)},
            "resolved": {"n": 5, "gini": pytest.approx(8 / 15)},
        }
    ]


def test_series(load_cases, client_for):
    data = client_for(load_cases.manager_a).get(URL, {**WEEK, "group_by": "week"}).json()["data"]
    assert data["group_by"] == "week"
    assert [(r["key"]["name"], r["series"]) for r in data["rows"]] == [
        ("Mgr_A", [{"period": "2026-03-02", "taken_on": 0, "resolved": 1}]),
        ("Rep_A1", [{"period": "2026-03-02", "taken_on": 3, "resolved": 4}]),
        ("Rep_A2", [{"period": "2026-03-02", "taken_on": 4, "resolved": 1}]),
        ("Rep_A3", [{"period": "2026-03-02", "taken_on": 0, "resolved": 0}]),
    ]


def test_csv(load_cases, client_for):
    client = client_for(load_cases.manager_a)
    response = client.get(URL, {**WEEK, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["name"], r["taken_on.n"], r["taken_on.team_n"], r["resolved.n"]) for r in rows] == [
        ("Mgr_A", "0", "", "1"),
        ("Rep_A1", "3", "7", "4"),
        ("Rep_A2", "4", "7", "1"),
        ("Rep_A3", "0", "7", "0"),
    ]
    assert "series" not in rows[0]
    # With a series: one line per rep and period.
    response = client.get(URL, {**WEEK, "group_by": "day", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4 * 7
    assert [(r["period"], r["taken_on"], r["resolved"]) for r in rows if r["name"] == "Rep_A2"][
        :3
    ] == [("2026-03-02", "0", "0"), ("2026-03-03", "2", "1"), ("2026-03-04", "0", "0")]


def test_scoping(load_cases, client_for):
    org = load_cases
    own = client_for(org.rep_a2).get(URL, {**WEEK, "min_n": 5}).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    # Only their own row; their share is of the whole team's total.
    assert [
        (r["key"]["name"], r["taken_on"]["n"], r["taken_on"]["team_n"]) for r in own["data"]["rows"]
    ] == [("Rep_A2", 4, 7)]
    assert client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk}).status_code == 404
    assert client_for(org.manager_b).get(URL, {"team": org.team_a.pk}).status_code == 404
    other = client_for(org.manager_b).get(URL, WEEK).json()["data"]
    assert [r["key"]["name"] for r in other["rows"]] == ["Rep_B1"]
    everyone = client_for(org.admin).get(URL, WEEK).json()["data"]
    assert [t["key"]["name"] for t in everyone["teams"]] == ["Alpha", "Bravo"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "rep"}, "group_by"),  # rows are always per rep; group_by adds a series
        ({"min_n": 0}, "min_n"),
        ({"team": "alpha"}, "team"),
        ({"last_days": 0}, "last_days"),
    ],
)
def test_bad_parameters_name_the_field(org, client_for, params, field):
    response = client_for(org.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
