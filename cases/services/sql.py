"""Set-based statements for batch writes, on the request's connection and transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection

from cases.audit import audit_context_share


def execute_binary(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement with server-side binding and binary values; return its rows.

    Arrays of a hundred rows (``unnest(%b::bigint[], ...)``) travel and parse several times
    faster bound in binary than as SQL literals, which is how Django's cursors send them.
    Errors are psycopg's own (``psycopg.IntegrityError``), not Django's wrappers. A write
    carries the audit context (cases.audit), as statements through Django's cursors do.
    """
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        if sql.lstrip()[:6].upper() != "SELECT":
            audit_context_share(cursor)
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall() if cursor.description is not None else []
