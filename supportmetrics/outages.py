"""The database going away (restart, failover, crash) answers 503, not 500.

A request that cannot reach PostgreSQL, or whose connection the server closed, is not a bug
in the request or in the code: the client should try again in a few seconds. The API's
exception handler and ``handler500`` (for anything raised outside a DRF view: dashboard
pages, middleware) both ask ``is_database_unavailable``. Django closes a connection that
raised such an error when the request ends, and with ``CONN_HEALTH_CHECKS`` a persistent
connection is checked before a request reuses it, so the next request reconnects.
docs/operations.md "Faults" has the figures.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

# A PostgreSQL restart takes a few seconds; clients told to wait longer only lose time.
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_CODE = "database_unavailable"
DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable. Try again in a few seconds."

# SQLSTATEs that mean "this server cannot serve you now", not "your statement failed":
# class 08 (connection exceptions), admin/crash shutdown, "cannot connect now" (starting up
# or shutting down), too many connections. A statement timeout (57014) is not among them:
# it says something about the query (metrics/timeouts.py answers it).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc`` says the database cannot be reached, not that a statement failed.

    Django's wrappers carry the driver's error as their cause; statements that run on the
    raw psycopg connection (cases/services/sql.py) raise psycopg's own errors.
    """
    if isinstance(exc, InterfaceError | psycopg.InterfaceError):  # "the connection is closed"
        return True
    if isinstance(exc, OperationalError):
        driver_error = exc.__cause__
    elif isinstance(exc, psycopg.OperationalError):
        driver_error = exc
    else:
        return False
    sqlstate = getattr(driver_error, "sqlstate", None)
    if sqlstate is None:
        # libpq's own errors carry no SQLSTATE: connection refused or timed out, "server
        # closed the connection unexpectedly", "consuming input failed".
        return True
    return bool(sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES)


def database_unavailable_body() -> dict[str, Any]:
    """The API error shape (supportmetrics.exceptions.error_body) for this outage."""
    return {
        "message": DATABASE_UNAVAILABLE_MESSAGE,
        "code": DATABASE_UNAVAILABLE_CODE,
        "extra": {"retry_after": RETRY_AFTER_SECONDS},
    }


def database_unavailable_page(request: HttpRequest) -> HttpResponse:
    """503 for a request outside DRF: the JSON error shape under /api/, a plain page elsewhere.

    The page is rendered without the request: context processors (the user) need the
    database.
    """
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(database_unavailable_body(), status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
