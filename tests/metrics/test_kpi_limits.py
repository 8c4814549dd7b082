"""What bounds a KPI request: the period (at most 366 days) and the statement timeout
(metrics/timeouts.py), past which the API answers 503 kpi_timeout and the dashboard a 503
page, with the connection fit for the next request."""

from __future__ import annotations

import pytest
from django.db import connection

from metrics.kpis import backlog
from metrics.timeouts import KpiTimeout

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/backlog/"
TIMEOUT_BODY = {
    "message": KpiTimeout.default_detail,
    "code": "kpi_timeout",
    "extra": {"retry_after": 30},
}


def session_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return str(cursor.fetchone()[0])


@pytest.fixture
def slow_backlog(monkeypatch):
    """The backlog KPI, made to run one statement of 2 s before its real work."""
    real = backlog.kpi_backlog

    def slow(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")
        return real(**kwargs)

    monkeypatch.setattr(backlog, "kpi_backlog", slow)


# --- the period -------------------------------------------------------------------------


def test_a_period_of_366_days_is_served(org, client_for, clock):
    response = client_for(org.admin).get(URL, {"from": "2025-01-01", "to": "2026-01-01"})
    assert response.status_code == 200
    assert response.json()["period"]["from"] == "2025-01-01T00:00:00+00:00"
    assert response.json()["period"]["to"] == "2026-01-02T00:00:00+00:00"
    assert client_for(org.admin).get(URL, {"last_days": 366}).status_code == 200


def test_a_longer_period_is_refused(org, client_for, clock):
    admin = client_for(org.admin)
    response = admin.get(URL, {"from": "2025-01-01", "to": "2026-01-02"})
    assert response.status_code == 400
    message = "The period is longer than 366 days; ask for less."
    assert response.json() == {
        "message": f"from: {message}",
        "code": "validation_error",
        "extra": {"fields": {"from": [message]}},
    }
    too_many_days = admin.get(URL, {"last_days": 367})
    assert too_many_days.status_code == 400
    assert too_many_days.json()["extra"]["fields"] == {
        "last_days": ["Ensure this value is less than or equal to 366."]
    }


def test_the_dashboard_refuses_a_longer_period_too(org, clock):
    from django.test import Client

    client = Client()
    client.force_login(org.admin)
    page = client.get("/dashboard/overview/", {"from": "2025-01-01", "to": "2026-01-02"})
    assert page.status_code == 400
    assert "The period is longer than 366 days" in page.content.decode()


# --- the statement timeout --------------------------------------------------------------


def test_a_kpi_past_its_statement_timeout_answers_503(org, client_for, settings, slow_backlog):
    settings.KPI_STATEMENT_TIMEOUT_MS = 200
    admin = client_for(org.admin)
    response = admin.get(URL)
    assert response.status_code == 503
    assert response.json() == TIMEOUT_BODY
    assert response["Retry-After"] == "30"
    # The connection is usable and the session's own timeout is back (none in tests).
    assert session_timeout() == "0"
    settings.KPI_STATEMENT_TIMEOUT_MS = 5_000
    assert admin.get(URL).status_code == 200


def test_csv_clients_get_the_503_too(org, client_for, settings, slow_backlog):
    settings.KPI_STATEMENT_TIMEOUT_MS = 200
    response = client_for(org.admin).get(URL, {"format": "csv"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.content.decode().splitlines() == [
        "message,code,extra.retry_after",
        f"{KpiTimeout.default_detail},kpi_timeout,30",
    ]


def test_a_kpi_within_its_timeout_is_served_and_leaves_the_session_as_it_was(
    org, client_for, settings
):
    settings.KPI_STATEMENT_TIMEOUT_MS = 5_000
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '7min'")  # e.g. the benchmark's own
    response = client_for(org.admin).get(URL)
    assert response.status_code == 200
    assert response.json()["metric"] == "backlog"
    assert session_timeout() == "7min"


def test_the_kpi_timeout_applies_inside_the_request(org, client_for, settings, monkeypatch):
    seen = []

    def spy(**kwargs):
        seen.append(session_timeout())
        return real(**kwargs)

    real = backlog.kpi_backlog
    monkeypatch.setattr(backlog, "kpi_backlog", spy)
    settings.KPI_STATEMENT_TIMEOUT_MS = 1234
    assert client_for(org.admin).get(URL).status_code == 200
    settings.KPI_STATEMENT_TIMEOUT_MS = 0  # off: the session's setting stays
    assert client_for(org.admin).get(URL).status_code == 200
    assert seen == ["1234ms", "0"]


@pytest.mark.django_db(transaction=True)
def test_after_a_timeout_in_autocommit_the_connection_serves_the_next_request(
    org, client_for, settings, slow_backlog
):
    """As in production (no test transaction around the request)."""
    settings.KPI_STATEMENT_TIMEOUT_MS = 200
    admin = client_for(org.admin)
    assert admin.get(URL).status_code == 503
    assert connection.get_autocommit() is True
    assert not connection.in_atomic_block
    assert session_timeout() == "0"
    assert admin.get("/api/v1/teams/").status_code == 200


def test_a_dashboard_page_past_the_timeout_is_a_503_page(org, settings, monkeypatch):
    from django.test import Client

    from dashboard import figures

    def slow(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(2)")

    monkeypatch.setattr(figures, "overview_panels", slow)
    settings.KPI_STATEMENT_TIMEOUT_MS = 200
    client = Client()
    client.force_login(org.admin)
    page = client.get("/dashboard/overview/")
    assert page.status_code == 503
    assert page["Retry-After"] == "30"
    assert "These figures took too long to compute." in page.content.decode()
    assert session_timeout() == "0"
    assert client.get("/dashboard/accounts/").status_code == 200


def test_other_database_errors_stay_errors(org, settings):
    """Only a cancelled statement becomes KpiTimeout."""
    from django.db import ProgrammingError

    from metrics.timeouts import kpi_statement_timeout

    settings.KPI_STATEMENT_TIMEOUT_MS = 1000
    with pytest.raises(ProgrammingError), kpi_statement_timeout(), connection.cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM cases_case")


def test_the_schema_documents_the_503_on_kpi_endpoints_only(org, client_for):
    schema = client_for(org.admin).get("/api/schema/", {"format": "json"}).json()
    kpi = schema["paths"]["/api/v1/metrics/backlog/"]["get"]["responses"]
    assert "kpi_timeout" in kpi["503"]["description"]
    assert "503" not in schema["paths"]["/api/v1/teams/"]["get"]["responses"]
