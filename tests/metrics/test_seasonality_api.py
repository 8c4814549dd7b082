"""The seasonality endpoint: envelope, drill-down, role scoping, CSV tables, bad input."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests.metrics.builders import NOW, seasonal_cases

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/seasonality/"
MARCH = {"from": "2026-03-01", "to": "2026-03-10"}


@pytest.fixture
def seasonal(org):
    return seasonal_cases(org)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def by_slug(groups):
    return {g["slug"]: g for g in groups}


def test_manager_gets_the_team_patterns(seasonal, client_for):
    org = seasonal
    response = client_for(org.manager_a).get(URL, MARCH)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "submission_seasonality"
    assert body["definition_version"] == "submission_seasonality@1"
    assert body["period"]["timezone"] == "Europe/Berlin"
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert data["weekdays"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    heatmap = data["heatmap"]
    # One case in the period: Sunday 1 March 2026, 00:30 in Berlin.
    assert heatmap["key"] == {"category": None} and heatmap["n"] == 1
    assert heatmap["cells"][6][0] == 1 and sum(map(sum, heatmap["cells"])) == 1
    assert [(m["month"], m["n"], m["partial"]) for m in heatmap["months"]] == [("2026-03", 1, True)]
    assert data["rows"] == []  # no group_by

    seasonal_index = data["seasonal_index"]
    assert (seasonal_index["from"], seasonal_index["to"]) == (
        "2024-02-29T23:00:00+00:00",
        "2026-02-28T23:00:00+00:00",
    )
    billing = by_slug(seasonal_index["groups"])["billing"]
    assert billing["n"] == 36
    assert [y["label"] for y in billing["years"]] == ["2024-03..2025-02", "2025-03..2026-02"]
    assert billing["recurring_peaks"] == [
        {
            "month_of_year": 3,
            "years": ["2024-03..2025-02", "2025-03..2026-02"],
            "indexes": [3.0, 2.5],
        }
    ]
    forecast = data["forecast"]
    assert forecast["origin"] == "2026-03-09"
    assert forecast["history_weeks"] == 112
    group = by_slug(forecast["groups"])["billing"]
    assert len(group["forecast"]) == 8 and set(group["forecast"][0]) == {"week", "expected"}
    assert len(group["backtest"]["weeks"]) == 8


def test_group_by_category_and_three_years(seasonal, client_for):
    data = (
        client_for(seasonal.manager_a)
        .get(URL, {**MARCH, "group_by": "category", "years": 3})
        .json()["data"]
    )
    assert [(r["slug"], r["n"]) for r in data["rows"]] == [("billing", 1)]
    assert data["rows"][0]["key"] == {"category": seasonal.category.pk}
    # Three years of history (more than the 366-day period limit) ending with February 2026.
    assert data["seasonal_index"]["from"] == "2023-02-28T23:00:00+00:00"
    oldest = by_slug(data["seasonal_index"]["groups"])["billing"]["years"][0]
    assert oldest["partial"] is True and {m["index"] for m in oldest["months"]} == {None}


def test_drilldown_links_list_exactly_the_cases_behind_each_figure(seasonal, client_for):
    client = client_for(seasonal.manager_a)
    data = client.get(URL, {**MARCH, "group_by": "category"}).json()["data"]
    billing = by_slug(data["seasonal_index"]["groups"])["billing"]
    march_2025 = billing["years"][1]["months"][0]
    assert (march_2025["month"], march_2025["n"]) == ("2025-03", 5)
    weeks = by_slug(data["forecast"]["groups"])["billing"]["backtest"]["weeks"]
    figures = [data["heatmap"], *data["rows"], march_2025, billing["years"][0]["months"][0]]
    for figure in [*figures, *weeks]:
        listed = client.get(figure["cases_url"] + "&page_size=500").json()["results"]
        assert len(listed) == figure["n"], figure["cases_url"]
    assert sum(w["n"] for w in weeks) == 4  # three on 15 January, one at 00:30 on 1 March


def test_rep_sees_only_themselves(seasonal, client_for):
    org = seasonal
    own = client_for(org.rep_a2).get(URL, MARCH).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert own["data"]["heatmap"]["n"] == 0
    assert [g["n"] for g in own["data"]["seasonal_index"]["groups"]] == [0]
    assert client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk}).status_code == 404


def test_managers_see_their_own_team_only(seasonal, client_for):
    org = seasonal
    response = client_for(org.manager_b).get(URL, {"team": org.team_a.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    own = client_for(org.manager_b).get(URL, MARCH).json()["data"]
    assert [(g["slug"], g["n"]) for g in own["seasonal_index"]["groups"]] == [
        (None, 1),
        ("billing", 1),
    ]


def test_csv_tables(seasonal, client_for):
    client = client_for(seasonal.manager_a)

    def table(name=None):
        params = {**MARCH, "format": "csv", **({"table": name} if name else {})}
        response = client.get(URL, params)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        return list(csv.DictReader(io.StringIO(response.content.decode())))

    heat = table()
    assert len(heat) == 168
    assert [r for r in heat if r["n"] != "0"] == [
        {"category": "", "weekday": "sun", "hour": "0", "n": "1"}
    ]
    seasonal_rows = table("seasonal_index")
    march = [r for r in seasonal_rows if r["category"] == "billing" and r["month"] == "2025-03"]
    assert [(r["year"], r["n"], r["index"]) for r in march] == [("2025-03..2026-02", "5", "2.5")]
    forecast = table("forecast")
    assert {r["kind"] for r in forecast} == {"forecast", "backtest"}
    assert len([r for r in forecast if r["category"] == "billing"]) == 16
    assert len(table("months")) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"years": 0}, "years"),
        ({"years": 4}, "years"),
        ({"group_by": "rep"}, "group_by"),
        ({"table": "everything"}, "table"),
        ({"last_days": 400}, "last_days"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "from"),
    ],
)
def test_bad_parameters_name_the_field(seasonal, client_for, params, field):
    response = client_for(seasonal.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
