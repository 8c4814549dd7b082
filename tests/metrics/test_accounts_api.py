"""The account endpoints: envelope, figures, pages, CSV, role scoping, drill-down, errors."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from cases.models import Account
from tests.metrics.builders import NOW, account_cases

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/accounts/"
PERIOD = {"from": "2026-02-10T12:00:00Z", "to": "2026-03-10T12:00:00Z"}


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def accounts(org):
    return account_cases(org)


def detail_url(external_id: str) -> str:
    return f"{URL}{Account.objects.get(external_id=external_id).pk}/"


def test_manager_list_envelope_and_rows(accounts, client_for):
    org = accounts
    response = client_for(org.manager_a).get(URL, PERIOD)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "accounts"
    assert body["definition_version"] == "accounts@1"
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert data["period"] == {
        "from": "2026-02-10T12:00:00+00:00",
        "to": "2026-03-10T12:00:00+00:00",
        "previous_from": "2026-01-13T12:00:00+00:00",
        "previous_to": "2026-02-10T12:00:00+00:00",
    }
    assert (data["count"], data["limit"], data["offset"], data["ordering"]) == (3, 50, 0, "-risk")
    assert [(r["external_id"], r["risk"]["score"]) for r in data["rows"]] == [
        ("acme", 46.7),
        ("beta", 28.7),
        ("gamma", 21.6),
    ]
    assert data["turnover"] == {
        "n": 4,
        "churned": 1,
        "rate": {
            "value": 0.25,
            "low": pytest.approx(0.0456, abs=1e-3),
            "high": pytest.approx(0.6994, abs=1e-3),
        },
        "new_accounts": 0,
    }
    assert [f["name"] for f in data["risk_model"]] == [
        "volume_trend",
        "volume_vs_value",
        "csat",
        "detractors",
        "reopens",
        "open_backlog",
    ]
    beta = data["rows"][1]
    assert {k: v for k, v in beta.items() if not k.endswith("url") and k != "risk"} == {
        "key": {"account": Account.objects.get(external_id="beta").pk},
        "external_id": "beta",
        "name": "Beta",
        "segment": "smb",
        "annual_value": 10000.0,
        "status": "active",
        "churned_at": None,
        "n": 2,
        "cases": {"period": 2, "previous": 0, "change": None},
        "open_now": 1,
        "reopened": {
            "n": 2,
            "count": 0,
            "rate": {"value": 0.0, "low": 0.0, "high": pytest.approx(0.6576, abs=1e-3)},
        },
        "csat": {
            "n": 1,
            "mean": None,
            "low": None,
            "high": None,
            "insufficient_data": True,
            "detractors": 0,
            "detractor_rate": {"value": 0.0, "low": 0.0, "high": pytest.approx(0.7935, abs=1e-3)},
        },
        "cases_per_10k_value": 2.0,
    }
    trend = beta["risk"]["factors"][0]
    assert trend == {
        "name": "volume_trend",
        "weight": 20,
        "raw": None,
        "adjusted": 2.0,
        "zero_at": 1.0,
        "full_at": 2.5,
        "points": 13.3,
        "n": 2,
    }


def test_detail(accounts, client_for):
    org = accounts
    response = client_for(org.manager_a).get(detail_url("acme"), {**PERIOD, "min_n": 4})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "account"
    data = body["data"]
    assert (data["external_id"], data["n"], data["open_now"]) == ("acme", 6, 2)
    assert data["csat"]["mean"] == 3.5 and data["csat"]["insufficient_data"] is False
    assert data["risk"]["score"] == 46.7
    assert data["peers"]["accounts"] == 3
    # A churned account is still shown on its own page.
    gone = client_for(org.manager_a).get(detail_url("gone"), PERIOD).json()["data"]
    assert gone["status"] == "churned" and gone["churned_at"] == "2026-03-01T00:00:00+00:00"


def test_default_period_is_the_last_90_days(accounts, client_for):
    body = client_for(accounts.manager_a).get(URL).json()
    # 90 calendar days ending today in the team's calendar (Berlin, UTC+1 in winter).
    assert body["period"]["from"] == "2025-12-10T23:00:00+00:00"
    assert body["data"]["period"]["to"] == "2026-03-10T12:00:00+00:00"  # clipped to now
    shorter = client_for(accounts.manager_a).get(URL, {"last_days": 30}).json()
    assert shorter["period"]["from"] == "2026-02-08T23:00:00+00:00"


def test_pages_filters_and_ordering(accounts, client_for):
    client = client_for(accounts.manager_a)

    def names(**params):
        rows = client.get(URL, {**PERIOD, **params}).json()["data"]["rows"]
        return [r["external_id"] for r in rows]

    assert names(page=2, page_size=1) == ["beta"]
    assert names(limit=1, offset=2) == ["gamma"]
    assert names(min_risk=25) == ["acme", "beta"]
    assert names(ordering="name") == ["acme", "beta", "gamma"]
    assert sorted(names(include_churned="true")) == ["acme", "beta", "gamma", "gone"]
    assert names(segment="smb") == ["beta", "gamma"]


def test_rep_sees_accounts_of_their_own_cases(accounts, client_for):
    org = accounts
    body = client_for(org.rep_a2).get(URL, PERIOD).json()
    assert body["filters"]["rep"] == [org.rep_a2.pk]
    assert {r["external_id"]: r["n"] for r in body["data"]["rows"]} == {"acme": 1, "beta": 2}
    assert client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk}).status_code == 404
    assert client_for(org.rep_a2).get(detail_url("gamma")).status_code == 404  # no case of theirs


def test_manager_scope(accounts, client_for):
    org = accounts
    response = client_for(org.manager_b).get(URL, {"team": org.team_a.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client_for(org.manager_a).get(detail_url("delta")).status_code == 404  # team B only
    rows = client_for(org.manager_b).get(URL, PERIOD).json()["data"]["rows"]
    assert [r["external_id"] for r in rows] == ["delta"]


def test_admin_sees_every_account(accounts, client_for):
    org = accounts
    data = client_for(org.admin).get(URL, PERIOD).json()["data"]
    assert data["count"] == 6
    assert data["turnover"]["n"] == 6 and data["turnover"]["new_accounts"] == 1
    delta = client_for(org.admin).get(detail_url("delta"), PERIOD).json()["data"]
    assert delta["risk"]["score"] == 49.3
    missing = client_for(org.admin).get(f"{URL}999999/")
    assert missing.status_code == 404


def test_csv(accounts, client_for):
    response = client_for(accounts.manager_a).get(URL, {**PERIOD, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["external_id"] for r in rows] == ["acme", "beta", "gamma"]
    assert rows[0]["risk.score"] == "46.7" and rows[0]["risk.reopens.points"] == "13.8"
    detail = client_for(accounts.manager_a).get(detail_url("acme"), {**PERIOD, "format": "csv"})
    (row,) = csv.DictReader(io.StringIO(detail.content.decode()))
    assert row["external_id"] == "acme" and row["risk.open_backlog.points"] == "7.5"


def test_drilldown_links_list_the_cases_behind_each_figure(accounts, client_for):
    client = client_for(accounts.manager_a)
    for row in client.get(URL, PERIOD).json()["data"]["rows"]:
        for link, expected in (
            ("cases_url", row["cases"]["period"]),
            ("previous_cases_url", row["cases"]["previous"]),
            ("open_cases_url", row["open_now"]),
            ("reopened_cases_url", row["reopened"]["count"]),
        ):
            listed = client.get(row[link] + "&page_size=500").json()["results"]
            assert len(listed) == expected, (row["external_id"], link)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"page_size": 1000}, "page_size"),
        ({"limit": 5, "page_size": 5}, "page_size"),
        ({"offset": 1, "page": 2}, "page"),
        ({"offset": -1}, "offset"),
        ({"min_risk": 101}, "min_risk"),
        ({"ordering": "luck"}, "ordering"),
        ({"include_churned": "perhaps"}, "include_churned"),
        ({"segment": "gold"}, "segment"),
        ({"min_n": 0}, "min_n"),
        ({"last_days": 400}, "last_days"),
    ],
)
def test_bad_parameters_name_the_field(accounts, client_for, params, field):
    response = client_for(accounts.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
