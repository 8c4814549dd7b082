"""A database that cannot be reached answers 503 with Retry-After, never 500.

Here the failure is raised where the view reads (the exceptions psycopg raises, wrapped by
Django as they are in production); tests/integration/test_database_restart.py stops a real
PostgreSQL under a real server.
"""

from __future__ import annotations

import sys

import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, RequestFactory

from supportmetrics.exceptions import handler500
from supportmetrics.outages import is_database_unavailable

pytestmark = pytest.mark.django_db

BODY = {
    "message": "The database is unavailable. Try again in a few seconds.",
    "code": "database_unavailable",
    "extra": {"retry_after": 5},
}


def wrapped(cause: Exception, kind: type[Exception] = OperationalError) -> Exception:
    """What Django's DatabaseErrorWrapper raises: its own class, the driver's error as cause."""
    error = kind(*cause.args)
    error.__cause__ = cause
    return error


UNAVAILABLE = {
    "connection refused": wrapped(
        psycopg.OperationalError("connection failed: Connection refused")
    ),
    "server closed": wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
    "admin shutdown": wrapped(psycopg.errors.AdminShutdown("terminating connection")),
    "starting up": wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")),
    "connection exception": wrapped(psycopg.errors.ConnectionFailure("connection failure")),
    "too many connections": wrapped(psycopg.errors.TooManyConnections("too many clients")),
    "closed connection": wrapped(
        psycopg.InterfaceError("the connection is closed"), InterfaceError
    ),
}
# Statements on the raw psycopg connection (cases/services/sql.py) raise psycopg's errors.
UNAVAILABLE.update(
    {
        "raw: server closed": psycopg.OperationalError(
            "consuming input failed: server closed the connection unexpectedly"
        ),
        "raw: admin shutdown": psycopg.errors.AdminShutdown("terminating connection"),
        "raw: closed connection": psycopg.InterfaceError("the connection is closed"),
    }
)
# Errors of one statement: not an outage (a time-out is metrics/timeouts.py's; others stay 500).
NOT_UNAVAILABLE = {
    "statement timeout": wrapped(psycopg.errors.QueryCanceled("canceling statement")),
    "deadlock": wrapped(psycopg.errors.DeadlockDetected("deadlock detected")),
    "raw: statement timeout": psycopg.errors.QueryCanceled("canceling statement"),
    "raw: unique violation": psycopg.errors.UniqueViolation("duplicate key"),
    "not an operational error": RuntimeError("boom"),
}


@pytest.mark.parametrize("error", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
def test_connection_failures_are_unavailable(error):
    assert is_database_unavailable(error) is True


@pytest.mark.parametrize("error", NOT_UNAVAILABLE.values(), ids=NOT_UNAVAILABLE.keys())
def test_statement_failures_are_not_unavailable(error):
    assert is_database_unavailable(error) is False


def raising(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.parametrize("error", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
def test_api_answers_503_in_the_error_shape(org, client_for, monkeypatch, error):
    monkeypatch.setattr("cases.selectors.case_list", raising(error))
    response = client_for(org.admin).get("/api/v1/cases/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == BODY


def test_a_statement_error_in_the_api_stays_a_500(org, client_for, monkeypatch):
    monkeypatch.setattr("cases.selectors.case_list", raising(NOT_UNAVAILABLE["deadlock"]))
    client = client_for(org.admin)
    client.raise_request_exception = False
    response = client.get("/api/v1/cases/")
    assert response.status_code == 500
    assert response.json() == {
        "message": "Internal server error.",
        "code": "server_error",
        "extra": {},
    }


def test_dashboard_page_answers_a_plain_503_page(org, monkeypatch):
    monkeypatch.setattr("dashboard.figures.overview_panels", raising(UNAVAILABLE["admin shutdown"]))
    client = Client(raise_request_exception=False)
    client.force_login(org.manager_a.user)
    response = client.get("/dashboard/overview/")
    assert response.status_code == 503
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Retry-After"] == "5"
    assert b"<h1>Temporarily unavailable</h1>" in response.content


def test_handler500_outside_drf_keeps_the_json_shape_under_api():
    request = RequestFactory().get("/api/v1/anything/")
    try:
        raise UNAVAILABLE["connection refused"]
    except OperationalError:
        assert sys.exc_info()[1] is not None
        response = handler500(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert response.content.decode() == (
        '{"message": "The database is unavailable. Try again in a few seconds.", '
        '"code": "database_unavailable", "extra": {"retry_after": 5}}'
    )


def test_handler500_for_a_bug_stays_500():
    request = RequestFactory().get("/dashboard/")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = handler500(request)
    assert response.status_code == 500


def test_healthz_reports_the_database_down(monkeypatch):
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok", "database": "up"}
    monkeypatch.setattr(
        "supportmetrics.health.connection.cursor", raising(UNAVAILABLE["connection refused"])
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"status": "unavailable", "database": "down"}
