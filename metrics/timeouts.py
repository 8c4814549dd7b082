"""The statement timeout of KPI requests (API and dashboard pages).

A figure over a long period and a large slice can keep PostgreSQL busy for minutes, and a
client that gave up long ago does not stop it. Every KPI request therefore runs in a
transaction whose statements PostgreSQL cancels after ``KPI_STATEMENT_TIMEOUT_MS``; the
cancel becomes ``KpiTimeout``, answered 503 ``kpi_timeout`` with Retry-After (the API) or a
503 page (the dashboard) instead of a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.conf import settings
from django.db import OperationalError, connection, transaction
from rest_framework import status
from rest_framework.exceptions import APIException

# Seconds a client is asked to wait: the figure may come back when the database is less busy
# or from a narrower request; an immediate retry would only load it again.
RETRY_AFTER_SECONDS = 30


class KpiTimeout(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "kpi_timeout"
    default_detail = (
        "This figure took too long to compute. Try again later or ask for a shorter period "
        "or a narrower slice."
    )

    def __init__(self) -> None:
        super().__init__()
        # DRF turns ``wait`` into Retry-After; the error handler copies it into extra.
        self.wait = RETRY_AFTER_SECONDS


@contextmanager
def kpi_statement_timeout() -> Iterator[None]:
    """Run the block in a transaction under the KPI statement timeout; raise KpiTimeout when
    PostgreSQL cancels a statement. The session's own timeout is back in force afterwards
    (the block may be nested in a longer transaction: a test's, a benchmark's)."""
    timeout_ms = int(settings.KPI_STATEMENT_TIMEOUT_MS)
    if timeout_ms <= 0:
        yield
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # set_config(..., true) is SET LOCAL: it ends with the transaction, and
                # rolling back to a savepoint (the nested case) undoes it too.
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), "
                    "set_config('statement_timeout', %s, true)",
                    [f"{timeout_ms}ms"],
                )
                previous = cursor.fetchone()[0]
            yield
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise KpiTimeout from error
        raise
