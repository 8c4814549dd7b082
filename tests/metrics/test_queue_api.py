"""The queue endpoint: envelope, role scoping, no requester data, CSV, errors."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from cases.models import Case
from tests.metrics.builders import NOW, queue_case_set

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/queue/"


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def queue_cases(org):
    queue_case_set(org)
    # Personal data that must never reach the queue.
    Case.objects.update(
        requester_email="pat@customer.example", requester_name="Pat Doe", subject="Pat's invoice"
    )
    return org


def test_rep_gets_their_own_queue(queue_cases, client_for):
    org = queue_cases
    response = client_for(org.rep_a1).get(URL)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["metric"] == "queue"
    assert body["definition_version"] == "queue@1"
    assert body["filters"]["rep"] == [org.rep_a1.pk]
    data = body["data"]
    assert (data["count"], data["n"], data["limit"], data["offset"]) == (4, 4, 50, 0)
    assert [(r["external_id"], r["score"]) for r in data["rows"]] == [
        ("q2", 33.21),
        ("q3", 32.14),
        ("q1", 31.55),
        ("q8", 10.0),
    ]
    q2 = data["rows"][0]
    case = Case.objects.get(external_id="q2")
    assert q2 == {
        "key": {"case": case.pk},
        "case_url": f"/api/v1/cases/{case.pk}/",
        "source": "api",
        "external_id": "q2",
        "status": "open",
        "priority": "normal",
        "channel": "email",
        "category_id": org.category.pk,
        "team_id": org.team_a.pk,
        "assignee_id": org.rep_a1.pk,
        "account_id": None,
        "opened_at": "2026-03-07T12:00:00+00:00",
        "waiting_since": "2026-03-09T12:00:00+00:00",
        "agent_responses": 1,
        "reopens": 0,
        "score": 33.21,
        "components": {
            "priority": {"raw": "normal", "unit": "priority", "points": 10.0},
            "waiting": {"raw": 24.0, "unit": "hours", "points": 17.5},
            "age": {"raw": 3.0, "unit": "days", "points": 3.21},
            "effort": {"raw": 1, "unit": "responses + 2 × reopens", "points": 2.5},
        },
    }
    assert "pat" not in response.content.decode().lower()


def test_rep_asking_for_someone_else_gets_404(queue_cases, client_for):
    org = queue_cases
    assert client_for(org.rep_a1).get(URL, {"rep": org.rep_a2.pk}).status_code == 404


def test_manager_gets_the_team_or_one_rep(queue_cases, client_for):
    org = queue_cases
    client = client_for(org.manager_a)
    team = client.get(URL).json()["data"]
    assert [r["external_id"] for r in team["rows"]] == ["q4", "q2", "q3", "q1", "q7", "q8"]
    one = client.get(URL, {"rep": org.rep_a2.pk}).json()["data"]
    assert [r["external_id"] for r in one["rows"]] == ["q4"]
    other = client.get(URL, {"rep": org.rep_b1.pk})
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"
    assert client_for(org.manager_b).get(URL, {"team": org.team_a.pk}).status_code == 404


def test_admin_gets_everything_paged(queue_cases, client_for):
    client = client_for(queue_cases.admin)
    data = client.get(URL, {"limit": 2, "offset": 4}).json()["data"]
    assert data["count"] == 7
    assert [r["external_id"] for r in data["rows"]] == ["q6", "q7"]


def test_csv(queue_cases, client_for):
    response = client_for(queue_cases.manager_a).get(URL, {"format": "csv", "limit": 2})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["external_id"] for r in rows] == ["q4", "q2"]
    assert rows[0]["waiting.points"] == "35.0" and rows[0]["effort.raw"] == "4"
    assert "pat" not in response.content.decode().lower()


def test_drilldown_lists_the_queue(queue_cases, client_for):
    client = client_for(queue_cases.manager_a)
    data = client.get(URL).json()["data"]
    listed = client.get(data["cases_url"] + "&page_size=500").json()["results"]
    assert sorted(c["external_id"] for c in listed) == sorted(
        r["external_id"] for r in data["rows"]
    )
    one = client.get(data["rows"][0]["case_url"])
    assert one.status_code == 200 and one.json()["external_id"] == "q4"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"basis": "business"}, "basis"),
        ({"priority": "whenever"}, "priority"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_parameters_name_the_field(queue_cases, client_for, params, field):
    response = client_for(queue_cases.admin).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["extra"]["fields"]
