"""gunicorn for the benchmark, and the sampler of its memory.

The server runs ``bench.settings`` (production's settings: DEBUG off, persistent database
connections, whitenoise with the manifest storage) with sync workers, as the README's
production command does, on a free loopback port, against the database this process uses.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from bench.dataset import BenchmarkError
from bench.transport import Auth, HttpTransport

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "tmp"
STATIC_ROOT = TMP / "static"  # as bench.settings says
SETTINGS_MODULE = "bench.settings"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """This process's database as a DATABASE_URL (a socket directory percent-encoded)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def server_env(statement_timeout_ms: int = 0) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DJANGO_DEBUG="0",
        # The same key as this process: the dashboard's session (made here) must verify there.
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url(),
        DJANGO_LOG_LEVEL="WARNING",
        BENCH_STATEMENT_TIMEOUT_MS=str(statement_timeout_ms),
    )
    return env


def collect_static() -> None:
    """Static files with their manifest, which the dashboard's templates need (DEBUG off)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=server_env(),
        check=True,
    )


@dataclass
class MemorySampler:
    """Samples the RSS of the gunicorn master and each worker every ``interval`` seconds."""

    pid: int
    interval: float = 0.2
    peak: dict[int, int] = field(default_factory=dict)  # pid → max RSS in bytes
    roles: dict[int, str] = field(default_factory=dict)
    total_peak: int = 0
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> None:
        import psutil

        try:
            master = psutil.Process(self.pid)
            processes = [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = 0
        for process in processes:
            try:
                rss = process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            total += rss
            self.roles.setdefault(process.pid, "master" if process.pid == self.pid else "worker")
            self.peak[process.pid] = max(self.peak.get(process.pid, 0), rss)
        self.total_peak = max(self.total_peak, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        mb = 1024 * 1024
        workers = [rss for pid, rss in self.peak.items() if self.roles[pid] == "worker"]
        masters = [rss for pid, rss in self.peak.items() if self.roles[pid] == "master"]
        return {
            "metric": "RSS (resident set size); forked workers share pages, so the total "
            "counts shared memory more than once",
            "interval_s": self.interval,
            "samples": self.samples,
            "master_peak_mb": round(max(masters, default=0) / mb, 1),
            "worker_peak_mb": round(max(workers, default=0) / mb, 1),
            "workers_peak_mb": [round(rss / mb, 1) for rss in sorted(workers, reverse=True)],
            "total_peak_mb": round(self.total_peak / mb, 1),
        }


class Gunicorn:
    """Started on ``start()``, stopped (and waited for) on ``stop()``."""

    def __init__(self, *, workers: int, statement_timeout_s: float) -> None:
        self.workers = workers
        self.statement_timeout_ms = int(statement_timeout_s * 1000)
        # The worker outlives its slowest statement, which ends the request with an error.
        self.timeout = int(statement_timeout_s) + 60
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.sampler: MemorySampler | None = None
        self.log_path = TMP / f"gunicorn-{self.port}.log"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "supportmetrics.wsgi",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(self.timeout),
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        TMP.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=server_env(self.statement_timeout_ms),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.sampler = MemorySampler(self.process.pid)
        self.sampler.start()
        client = HttpTransport(self.port, timeout=5)
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.request("GET", "/healthz", Auth()).status == 200:
                        return
                except (OSError, http.client.HTTPException):
                    # A timed-out request leaves the connection mid-exchange: start afresh.
                    client.close()
                    client = HttpTransport(self.port, timeout=5)
                time.sleep(0.2)
        finally:
            client.close()
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise BenchmarkError(f"gunicorn did not answer /healthz; its log ends:\n{tail}")

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
