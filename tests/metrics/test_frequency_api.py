"""The repeat-contacts endpoint: envelope, personal data by role, scoping, CSV, bad input."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from metrics.kpis.frequency import requester_pseudonym
from tests.metrics.builders import NOW, repeat_contact_cases

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/repeat-contacts/"
MARCH = {"from": "2026-03-01", "to": "2026-03-10"}


@pytest.fixture
def repeat_cases(org):
    return repeat_contact_cases(org)


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_manager_gets_team_rates_and_pseudonymous_lists(repeat_cases, client_for):
    org = repeat_cases
    response = client_for(org.manager_a).get(URL, MARCH)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "repeat_contacts"
    assert body["definition_version"] == "repeat_contacts@1"
    assert body["period"]["timezone"] == "Europe/Berlin"
    assert body["filters"]["team"] == [org.team_a.pk]
    data = body["data"]
    assert data["within_days"] == 7 and data["min_n"] == 10
    account = data["rates"]["account"]
    assert (account["n"], account["identified"], account["repeats"]) == (10, 7, 4)
    assert account["value"] == pytest.approx(0.4)
    assert account["insufficient_data"] is False
    assert f"team={org.team_a.pk}" in account["cases_url"]
    assert data["rates"]["requester"]["repeats"] == 2

    assert data["accounts"]["total"] == 3
    first = data["accounts"]["rows"][0]
    assert first["key"] == {"account": "ACC1"}
    assert (first["name"], first["n"], first["repeats"]) == ("Acme", 3, 2)
    assert "account=ACC1" in first["cases_url"]

    requesters = data["requesters"]["rows"]
    assert [r["key"]["requester"] for r in requesters] == [
        requester_pseudonym("frank@x.example"),
        requester_pseudonym("alice@x.example"),
    ]
    assert requesters[1]["account"] == "ACC1"
    assert all("email" not in r for r in requesters)
    assert "x.example" not in response.content.decode()  # no address anywhere


def test_only_admins_get_requester_addresses(repeat_cases, role_client):
    admin = role_client("admin").get(URL, {**MARCH, "team": repeat_cases.team_a.pk}).json()
    assert [r["email"] for r in admin["data"]["requesters"]["rows"]] == [
        "frank@x.example",
        "alice@x.example",
    ]
    for role in ("integration", "manager", "rep"):
        body = role_client(role).get(URL, MARCH).content.decode()
        assert "@x.example" not in body, role


def test_account_drilldown_lists_exactly_the_accounts_cases(repeat_cases, client_for):
    client = client_for(repeat_cases.manager_a)
    data = client.get(URL, MARCH).json()["data"]
    for row in data["accounts"]["rows"]:
        listed = client.get(row["cases_url"] + "&page_size=500").json()["results"]
        assert len(listed) == row["n"]
        assert {c["account"] for c in listed} == {row["key"]["account"]}
    listed = client.get(data["rates"]["account"]["cases_url"] + "&page_size=500").json()
    assert len(listed["results"]) == data["rates"]["account"]["n"]


def test_rep_sees_only_themselves(repeat_cases, client_for):
    org = repeat_cases
    own = client_for(org.rep_a2).get(URL, MARCH).json()
    assert own["filters"]["rep"] == [org.rep_a2.pk]
    assert own["data"]["rates"]["account"]["n"] == 1
    assert own["data"]["rates"]["account"]["value"] is None  # 1 case < min_n
    assert own["data"]["rates"]["account"]["insufficient_data"] is True
    lowered = client_for(org.rep_a2).get(URL, {**MARCH, "min_n": 1}).json()
    assert lowered["data"]["rates"]["account"]["value"] == 1.0
    assert client_for(org.rep_a2).get(URL, {"rep": org.rep_a1.pk}).status_code == 404


def test_manager_of_another_team_gets_404(repeat_cases, client_for):
    org = repeat_cases
    response = client_for(org.manager_b).get(URL, {"team": org.team_a.pk})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    own = client_for(org.manager_b).get(URL, MARCH).json()["data"]
    assert (own["rates"]["account"]["n"], own["rates"]["account"]["repeats"]) == (2, 1)


def test_csv_tables(repeat_cases, client_for):
    client = client_for(repeat_cases.manager_a)
    response = client.get(URL, {**MARCH, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["account"], r["repeats"], r["categories"]) for r in rows] == [
        ("ACC1", "2", "billing"),
        ("ACC2", "1", "billing"),
        ("ACC3", "1", "billing"),
    ]
    requesters = client.get(URL, {**MARCH, "format": "csv", "table": "requesters"})
    text = requesters.content.decode()
    assert "x.example" not in text and "email" not in text.splitlines()[0]
    assert requester_pseudonym("frank@x.example") in text
    rates = client.get(URL, {**MARCH, "format": "csv", "table": "rates"}).content.decode()
    assert [r["basis"] for r in csv.DictReader(io.StringIO(rates))] == ["account", "requester"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"within_days": 0}, "within_days"),
        ({"within_days": 91}, "within_days"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"min_n": 0}, "min_n"),
        ({"table": "people"}, "table"),
        ({"last_days": 400}, "last_days"),
    ],
)
def test_bad_parameters_name_the_field(repeat_cases, client_for, params, field):
    response = client_for(repeat_cases.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
