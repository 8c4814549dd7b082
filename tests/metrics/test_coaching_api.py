"""The coaching endpoint: envelope, words, CSV, who may open whose page, bad parameters."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
import time_machine

from tests.metrics.builders import coaching_cases

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)  # this month April, last month March
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def url(rep):
    return f"/api/v1/metrics/reps/{rep.pk if hasattr(rep, 'pk') else rep}/coaching/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cases(org):
    return coaching_cases(org)


def test_manager_opens_a_rep_of_their_team(cases, client_for):
    org = cases
    response = client_for(org.manager_a).get(url(org.rep_a1), {**MARCH, "min_n": 3})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "coaching"
    assert body["definition_version"] == "coaching@1"
    assert body["filters"]["rep"] == [org.rep_a1.pk]
    assert body["period"]["timezone"] == "Europe/Berlin"
    data = body["data"]
    assert data["rep"] == {"id": org.rep_a1.pk, "label": "Rep_A1"}
    assert data["team"] == {"id": org.team_a.pk, "label": "Alpha"}
    assert (data["min_n"], data["this_month"], data["last_month"]) == (3, "2026-04", "2026-03")
    assert [f["figure"] for f in data["figures"]] == [
        "resolution_time",
        "first_response_time",
        "fcr",
        "reopen",
        "csat",
        "volume",
    ]
    fcr = data["figures"][2]
    # A1 2 of 4 against the team's 3 of 4; expected for A1's mix 0.75 (builders).
    assert fcr["unit"] == "share" and fcr["n"] == 4
    assert fcr["rep"]["value"] == 0.5 and fcr["team"]["value"] == 0.75
    assert fcr["vs_team"] == {
        "expected": 0.75,
        "unmatched_n": 0,
        "difference": -0.25,
        "z": pytest.approx(-0.7302967433402214),
        "meaningful": False,
        "statement": "First contact resolution rate: no meaningful difference from the team "
        "for the same mix of category, channel and priority (share 50% against 75% "
        "expected; n = 4 and 4).",
    }
    assert fcr["month_on_month"]["statement"] == (
        "First contact resolution rate: not enough data to compare this month with last "
        "(n = 1 and 4; at least 3 needed in each)."
    )
    assert data["summary"].startswith("No statistically meaningful difference")
    assert [(c["category_label"], c["rep_n"], c["team_n"]) for c in data["mix"]] == [
        ("Billing", 2, 2),
        ("Shipping", 2, 2),
    ]
    assert set(data["method"]) == {"team", "case_mix", "meaningful", "ranking"}
    assert "rank" not in json.dumps({k: v for k, v in data.items() if k != "method"})


def test_drilldown_lists_the_reps_resolved_cases(cases, client_for):
    org = cases
    client = client_for(org.manager_a)
    figures = client.get(url(org.rep_a1), MARCH).json()["data"]["figures"]
    resolution = figures[0]
    listed = client.get(resolution["cases_url"] + "&page_size=100").json()["results"]
    assert sorted(c["external_id"] for c in listed) == ["r1", "r2", "r3", "r4"]
    assert len(listed) == resolution["n"]
    for figure in figures:  # every figure links to exactly its n cases
        listed = client.get(figure["cases_url"] + "&page_size=100").json()["results"]
        assert len(listed) == figure["n"], figure["figure"]
    by_name = {f["figure"]: f for f in figures}
    assert f"first_responder={org.rep_a1.pk}" in by_name["first_response_time"]["cases_url"]
    assert "agent_responses_min=1" in by_name["fcr"]["cases_url"]
    assert f"survey_rep={org.rep_a1.pk}" in by_name["csat"]["cases_url"]


def test_a_rep_opens_only_their_own_page(cases, client_for):
    org = cases
    assert client_for(org.rep_a1).get(url(org.rep_a1), MARCH).status_code == 200
    other = client_for(org.rep_a1).get(url(org.rep_a2), MARCH)
    assert other.status_code == 404
    assert other.json() == {"message": "Not found.", "code": "not_found", "extra": {}}
    # A query parameter cannot widen it either: the URL's rep wins and is scoped.
    sneaky = client_for(org.rep_a1).get(url(org.rep_a2), {"rep": org.rep_a1.pk})
    assert sneaky.status_code == 404


def test_managers_open_their_team_only_and_admins_all(cases, client_for):
    org = cases
    assert client_for(org.manager_b).get(url(org.rep_a1)).status_code == 404
    assert client_for(org.manager_b).get(url(org.rep_b1)).status_code == 200
    assert client_for(org.manager_a).get(url(org.rep_b1)).status_code == 404
    admin = client_for(org.admin).get(url(org.rep_b1), MARCH)
    assert admin.status_code == 200
    assert admin.json()["period"]["timezone"] == "America/New_York"  # the rep's team's
    assert client_for(org.admin).get(url(999_999)).status_code == 404


def test_csv_has_one_row_per_figure(cases, client_for):
    org = cases
    response = client_for(org.manager_a).get(url(org.rep_a1), {**MARCH, "format": "csv"})
    assert response.status_code == 200
    assert 'filename="coaching.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["figure"] for r in rows][:2] == ["resolution_time", "first_response_time"]
    assert rows[0]["rep.n"] == "4" and rows[0]["rep.insufficient_data"] == "True"
    assert rows[0]["vs_team.statement"].startswith("Resolution time: not enough data")


@pytest.mark.parametrize(
    ("params", "field"),
    [({"min_n": 0}, "min_n"), ({"last_days": 400}, "last_days"), ({"basis": "lunar"}, "basis")],
)
def test_bad_parameters_name_the_field(cases, client_for, params, field):
    response = client_for(cases.admin).get(url(cases.rep_a1), params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
