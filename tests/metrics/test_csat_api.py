"""The CSAT endpoint: envelope, CSV, role scoping, bad parameters, drill-down."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cases.models import SurveyResponse
from metrics.stats import wilson_interval
from tests.metrics.builders import csat_surveys

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/csat/"
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # after every survey of the set
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def surveys(org):
    return csat_surveys(org)


def wilson(successes, n):
    w = wilson_interval(successes, n)
    return {
        "n": n,
        "count": successes,
        "value": w.value,
        "low": w.low,
        "high": w.high,
        "insufficient_data": False,
    }


INSUFFICIENT = {"value": None, "low": None, "high": None, "insufficient_data": True}


def test_manager_gets_their_team_per_rep(surveys, client_for):
    org = surveys
    response = client_for(org.manager_a).get(URL, {**MARCH, "min_n": 4})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "csat"
    assert body["definition_version"] == "csat@1"
    assert body["period"] == {
        "from": "2026-02-28T23:00:00+00:00",
        "to": "2026-03-31T22:00:00+00:00",
        "timezone": "Europe/Berlin",
    }
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert (data["group_by"], data["min_n"]) == ("rep", 4)
    a1, a2 = data["rows"]
    # rep_a1: answers 5, 4, 2, 5, 3; six March resolutions, five answered (see builders).
    satisfied = wilson(3, 5)
    assert a1 == {
        "key": {"rep": org.rep_a1.pk},
        "label": "Rep_A1",
        "n": 5,
        "responses": 5,
        "satisfied": satisfied,
        "csat_mean": {
            "n": 5,
            "value": pytest.approx(3.8),
            "low": pytest.approx(3.8 - 1.959963984540054 * (1.7**0.5) / 5**0.5),
            "high": pytest.approx(3.8 + 1.959963984540054 * (1.7**0.5) / 5**0.5),
            "insufficient_data": False,
        },
        "response_rate": wilson(5, 6),
        "nps": {"n": 3, "promoters": 1, "passives": 1, "detractors": 1, **INSUFFICIENT},
        "effort": {"n": 3, **INSUFFICIENT},
        "cases_url": (
            "/api/v1/cases/?responded_after=2026-02-28T23%3A00%3A00%2B00%3A00"
            "&responded_before=2026-03-31T22%3A00%3A00%2B00%3A00"
            f"&team={org.team_a.pk}&survey_rep={org.rep_a1.pk}"
        ),
    }
    # rep_a2 has three answers: below min_n = 4, "insufficient data", n still shown.
    assert (a2["label"], a2["n"]) == ("Rep_A2", 3)
    assert a2["satisfied"] == {"n": 3, "count": 2, **INSUFFICIENT}
    assert data["overall"]["n"] == 8
    assert data["overall"]["satisfied"] == wilson(5, 8)
    assert [(t["label"], [m["month"] for m in t["months"]]) for t in data["trend"]] == [
        ("Rep_A1", ["2026-03"]),
        ("Rep_A2", ["2026-03"]),
    ]
    assert "rank" not in response.content.decode()


def test_default_minimum_comes_from_the_setting(surveys, client_for, settings):
    settings.SUPPORTMETRICS_MIN_SAMPLE = 3
    data = client_for(surveys.manager_a).get(URL, MARCH).json()["data"]
    assert data["min_n"] == 3
    assert [r["satisfied"]["insufficient_data"] for r in data["rows"]] == [False, False]
    assert data["rows"][0]["nps"]["value"] == 0.0


def test_group_by_category_with_drilldown(surveys, client_for):
    org = surveys
    client = client_for(org.manager_a)
    data = client.get(URL, {**MARCH, "group_by": "category", "min_n": 1}).json()["data"]
    assert [(r["key"], r["label"], r["n"]) for r in data["rows"]] == [
        ({"category": org.category.pk}, "Billing", 7),
        ({"category": org.shipping.pk}, "Shipping", 1),
    ]
    # The link lists the cases answered in the window: seven answers on six cases (one
    # case, reopened and resolved again, answered twice).
    listed = client.get(data["rows"][0]["cases_url"] + "&page_size=100").json()["results"]
    assert sorted(c["external_id"] for c in listed) == answered_cases(
        case__category=org.category, case__team=org.team_a
    )


def test_rep_sees_only_themselves(surveys, client_for):
    org = surveys
    own = client_for(org.rep_a2).get(URL, {**MARCH, "min_n": 1}).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert [r["key"] for r in own["data"]["rows"]] == [{"rep": org.rep_a2.pk}]
    assert own["data"]["overall"]["n"] == 3
    other = client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk})
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"


def test_manager_of_another_team_gets_404_and_admin_sees_all(surveys, client_for):
    org = surveys
    response = client_for(org.manager_b).get(URL, {"team": org.team_a.pk})
    assert response.status_code == 404
    response = client_for(org.manager_b).get(URL, {"rep": org.rep_a1.pk})
    assert response.status_code == 404
    own = client_for(org.manager_b).get(URL, {**MARCH, "min_n": 1}).json()["data"]
    assert [r["label"] for r in own["rows"]] == ["Rep_B1"]
    everyone = client_for(org.admin).get(URL, {**MARCH, "group_by": "team", "min_n": 1})
    assert [(r["label"], r["n"]) for r in everyone.json()["data"]["rows"]] == [
        ("Alpha", 8),
        ("Bravo", 1),
    ]


def test_csv(surveys, client_for):
    org = surveys
    response = client_for(org.manager_a).get(URL, {**MARCH, "format": "csv", "min_n": 1})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="csat.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(int(r["rep"]), r["label"], int(r["n"])) for r in rows] == [
        (org.rep_a1.pk, "Rep_A1", 5),
        (org.rep_a2.pk, "Rep_A2", 3),
    ]
    assert float(rows[0]["satisfied.value"]) == pytest.approx(0.6)
    assert rows[1]["nps.insufficient_data"] == "True"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "mood"}, "group_by"),
        ({"group_by": "priority"}, "group_by"),
        ({"min_n": 0}, "min_n"),
        ({"min_n": "ten"}, "min_n"),
        ({"last_days": 400}, "last_days"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_parameters_name_the_field(org, client_for, params, field):
    response = client_for(org.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]


def answered_cases(**lookups):
    """The distinct cases with a March answer matching ``lookups``: what a link lists."""
    answers = SurveyResponse.objects.filter(
        responded_at__gte=datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=1),
        responded_at__lt=datetime(2026, 4, 1, tzinfo=UTC) - timedelta(hours=2),
        **lookups,
    )
    return sorted(set(answers.values_list("case__external_id", flat=True)))


@pytest.mark.parametrize("group_by", [None, "rep", "team", "category", "channel", "month"])
def test_drilldown_lists_exactly_the_answered_cases(surveys, client_for, group_by):
    org = surveys
    client = client_for(org.manager_a)  # team A, Europe/Berlin
    params = {**MARCH, "min_n": 1, **({"group_by": group_by} if group_by else {})}
    data = client.get(URL, params).json()["data"]
    for figure in [data["overall"], *data["rows"]]:
        if figure is not data["overall"] and None in figure["key"].values():
            assert figure["cases_url"] is None  # unattributed answers
            continue
        listed = client.get(figure["cases_url"] + "&page_size=500").json()["results"]
        # One case per answer, except a case answered twice in the window (listed once).
        assert len(listed) <= figure["n"], (group_by, figure["cases_url"])
        if group_by in (None, "rep"):
            rep = figure.get("key", {}).get("rep")
            expected = answered_cases(
                case__team=org.team_a, **({"representative_id": rep} if rep else {})
            )
            assert sorted(c["external_id"] for c in listed) == expected


def test_drilldown_of_one_rep_uses_the_answers_rep(surveys, client_for):
    org = surveys
    client = client_for(org.manager_a)
    data = client.get(URL, {**MARCH, "rep": org.rep_a1.pk, "min_n": 1}).json()["data"]
    url = data["overall"]["cases_url"]
    assert f"survey_rep={org.rep_a1.pk}" in url
    assert "&rep=" not in url
    listed = client.get(url + "&page_size=500").json()["results"]
    assert sorted(c["external_id"] for c in listed) == answered_cases(representative=org.rep_a1)
