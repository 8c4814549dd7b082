#!/usr/bin/env python3
"""The two commands: `python3 dev.py serve` and `python3 dev.py test`.

Both need only Python 3.11+: they create `.venv/`, install the project into it, and
(without DATABASE_URL) start the embedded PostgreSQL in `.pgdata/`.

    python3 dev.py serve [--cases 50000] [--port 8000]   # migrate, seed demo data, run
    python3 dev.py test [pytest args...]                 # lint, types + the whole test suite
    python3 dev.py smoke                                 # embedded DB: start, migrate, one request
    python3 dev.py bench [--cases N] [--five-million] [--reuse] [--reset]  # docs/performance.md
    python3 dev.py load [--users 20] [--seconds 60] [--workers 3]          # docs/performance.md
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, env=env, check=True)


def ensure_venv() -> None:
    """Create the virtualenv and (re)install when pyproject.toml changed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py is what users on an old Python run first
        sys.exit("supportmetrics needs Python 3.11 or newer.")
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        stamp.write_text(digest)


def dev_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "supportmetrics.settings.base")
    env.update(extra)
    return env


def serve(argv: list[str]) -> None:
    cases = argv[argv.index("--cases") + 1] if "--cases" in argv else "50000"
    port = argv[argv.index("--port") + 1] if "--port" in argv else "8000"
    env = dev_env(DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "1"))
    run(PY, "manage.py", "migrate", "--noinput", env=env)
    run(PY, "manage.py", "seed_demo", "--cases", cases, "--seed", "1", env=env)
    print(f"\nsupportmetrics is starting on http://127.0.0.1:{port}/ (Ctrl-C stops it)\n")
    os.execve(PY, [str(PY), "manage.py", "runserver", f"127.0.0.1:{port}"], env)


def test(argv: list[str]) -> None:
    env = dev_env(DJANGO_SETTINGS_MODULE="supportmetrics.settings.test")
    run(PY, "-m", "ruff", "check", ".", env=env)
    run(PY, "-m", "ruff", "format", "--check", ".", env=env)
    run(PY, "-m", "mypy", env=env)  # [tool.mypy] in pyproject.toml; docs/hardening.md
    run(PY, "manage.py", "makemigrations", "--check", "--dry-run", env=env)
    run(PY, "-m", "pytest", "-n", "2", "--dist", "loadfile", *argv, env=env)


def smoke(argv: list[str]) -> None:
    """The embedded path end to end: no DATABASE_URL, server starts, migrations run, API answers."""
    env = dev_env(DJANGO_DEBUG="1")
    env.pop("DATABASE_URL", None)
    run(PY, "manage.py", "migrate", "--noinput", env=env)
    token = (
        subprocess.run(
            [str(PY), "manage.py", "smoke_token"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    server = subprocess.Popen(
        [str(PY), "manage.py", "runserver", "--noreload", "127.0.0.1:8765"], cwd=ROOT, env=env
    )
    try:
        for _ in range(60):
            try:
                with urllib.request.urlopen("http://127.0.0.1:8765/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            sys.exit("smoke: the server did not answer /healthz")
        request = urllib.request.Request(
            "http://127.0.0.1:8765/api/v1/cases/", headers={"Authorization": f"Token {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            body = r.read().decode()
            assert r.status == 200 and '"results"' in body, body
        print("smoke: embedded PostgreSQL started, migrations ran, /api/v1/cases/ answered 200")
    finally:
        server.terminate()
        server.wait(timeout=10)


def bench(argv: list[str]) -> None:
    """The benchmark (docs/performance.md) on DATABASE_URL, or the embedded server.

    It seeds by erasing the case domain, so it refuses a database holding data it did not
    seed (checked before migrating it) unless --reset is given; --reuse keeps its own data
    set. DEBUG is off, as in production; a throwaway key serves when none is configured.
    """
    env = dev_env(DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "0"))
    env.setdefault("DJANGO_SECRET_KEY", "bench-" + secrets.token_urlsafe(32))
    run(PY, "manage.py", "benchmark", "--migrate", *argv, env=env)


def load(argv: list[str]) -> None:
    """Load test (docs/performance.md): gunicorn and locust; bench/results/load-latest.json."""
    env = dev_env(DJANGO_DEBUG=os.environ.get("DJANGO_DEBUG", "0"))
    env.setdefault("DJANGO_SECRET_KEY", "load-" + secrets.token_urlsafe(32))
    run(PY, "bench/load.py", *argv, env=env)


COMMANDS = {"serve": serve, "test": test, "smoke": smoke, "bench": bench, "load": load}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    ensure_venv()
    COMMANDS[sys.argv[1]](sys.argv[2:])
