#!/usr/bin/env python3
"""Ingest benchmark: bulk API cases/s over HTTP, CSV import rows/s, and a bare COPY reference.

    DATABASE_URL=postgres://…/db .venv/bin/python bench/ingest.py [--bulk-cases 20000]
        [--csv-rows 100000] [--clients 4] [--workers 2] [--only bulk|csv|copy] [--keep]
        [--profile bulk|csv]

Needs a database with the demo organisation (``manage.py seed_demo``): the generated cases
name its reps, categories and accounts. Every run writes its cases under a fresh source
(``bench-<time>``) and deletes them at the end (``--keep`` leaves them), so the case count
the run started with is the one it measured against.

- **bulk**: starts gunicorn (``--workers``) on a free loopback port, then ``--clients``
  threads post 100-case batches of new cases (JSON bodies encoded up front); cases/s is
  cases created over wall time. Then the same batches again (every item ``unchanged``).
- **csv**: a generated cases file through ``cases.imports.case_import`` in this process
  (what ``manage.py import_cases`` does): a first import (every row created), then the same
  file again (every row unchanged).
- **copy**: the reference: the rows the CSV import stored, copied back in with bare binary
  ``COPY`` under new keys (cases, then their events), FK checks immediate, rolled back.

Results (rates, CPU seconds of the server or import process and of this database's
PostgreSQL backends, load average, case count) go to ``bench/results/ingest-latest.json``
and a line per measurement on stdout. The bulk part runs with Celery's broker when Redis
answers on loopback (a queue of its own, deleted afterwards), as in production; each
gunicorn worker is warmed with real batches first. docs/performance.md#ingest explains the
figures.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import http.client
import io
import json
import os
import platform
import pstats
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportmetrics.settings.base")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
# Without a broker the survey emails of fresh resolutions are sent in the request; the
# benchmark measures ingest, not an SMTP server.
os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")

BATCH = 100
BENCH_USER = "bench-ingest"
STATUSES = (("new", 5), ("open", 10), ("pending", 5), ("resolved", 30), ("closed", 50))
CHANNELS = ("email", "phone", "chat", "web_form", "social", "in_app", "ivr")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")


def django_setup() -> None:
    import django

    django.setup()


# -- data ---------------------------------------------------------------------------------
def references() -> dict[str, list[str]]:
    """The demo organisation's names: reps (username), active categories, accounts."""
    from cases.models import Account, Category, Representative

    reps = list(Representative.objects.filter(role="rep").values_list("user__username", flat=True))
    categories = list(Category.objects.filter(active=True).values_list("slug", flat=True))
    accounts = list(Account.objects.values_list("external_id", flat=True)[:2000])
    if not (reps and categories and accounts):
        sys.exit("bench/ingest.py needs the demo organisation: run manage.py seed_demo first.")
    return {"reps": sorted(reps), "categories": sorted(categories), "accounts": sorted(accounts)}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def make_cases(
    n: int, *, source: str, refs: dict[str, list[str]], now: datetime, seed: int = 7
) -> list[dict[str, Any]]:
    """``n`` consistent snapshots of cases opened in the two years before ``now``: every
    status, most assigned and answered, as a help desk back-filling its history sends them."""
    rng = random.Random(seed)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    items = []
    for i in range(n):
        status = rng.choice(statuses)
        opened = now - timedelta(days=2 * 365) + timedelta(seconds=rng.randrange(2 * 365 * 86400))
        opened = opened.replace(microsecond=0)
        item: dict[str, Any] = {
            "source": source,
            "external_id": f"B-{i:07d}",
            "category": rng.choice(refs["categories"]),
            "channel": rng.choice(CHANNELS),
            "priority": rng.choice(PRIORITIES),
            "status": status,
            "subject": f"Question {i} about an invoice",
            "requester_email": f"req{rng.randrange(50_000)}@example.org",
            "requester_name": f"Requester {i % 997}",
            "opened_at": iso(opened),
        }
        if rng.random() < 0.8:
            item["account"] = rng.choice(refs["accounts"])
        t = opened
        if status != "new" or rng.random() < 0.3:
            item["assignee"] = rng.choice(refs["reps"])
            t = t + timedelta(minutes=rng.randrange(1, 240))
            item["assigned_at"] = iso(min(t, now))
        if status != "new" and "assignee" in item and rng.random() < 0.9:
            t = t + timedelta(minutes=rng.randrange(1, 24 * 60))
            item["first_response_at"] = iso(min(t, now))
            item["agent_response_count"] = rng.randrange(1, 6)
        if status in ("resolved", "closed"):
            t = t + timedelta(minutes=rng.randrange(5, 5 * 24 * 60))
            item["resolved_at"] = iso(min(t, now))
            if rng.random() < 0.1:
                item["reopened_count"] = 1
        if status == "closed":
            t = t + timedelta(minutes=rng.randrange(0, 3 * 24 * 60))
            item["closed_at"] = iso(min(t, now))
        items.append(item)
    return items


CSV_COLUMNS = (
    "source",
    "external_id",
    "opened_at",
    "channel",
    "category",
    "status",
    "priority",
    "account",
    "assignee",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "agent_response_count",
    "reopened_count",
    "subject",
    "requester_email",
    "requester_name",
)


def cases_csv(items: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    return out.getvalue().encode()


def cleanup(source: str) -> None:
    """Delete the run's cases (their events and survey invitations go with them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM cases_outboundemail WHERE invitation_id IN (SELECT i.id FROM "
            "cases_surveyinvitation i JOIN cases_case c ON c.id = i.case_id WHERE c.source = %s)",
            [source],
        )
        cursor.execute(
            "DELETE FROM cases_surveyinvitation WHERE case_id IN "
            "(SELECT id FROM cases_case WHERE source = %s)",
            [source],
        )
        cursor.execute(
            "DELETE FROM cases_caseevent WHERE case_id IN "
            "(SELECT id FROM cases_case WHERE source = %s)",
            [source],
        )
        cursor.execute("DELETE FROM cases_case WHERE source = %s", [source])
        # The next run should not insert into tables and indexes full of dead rows.
        cursor.execute(
            "VACUUM (ANALYZE) cases_case, cases_caseevent, cases_surveyinvitation, "
            "cases_outboundemail"
        )


# -- bulk over HTTP -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_token() -> str:
    """An integration user's API token (created once; it may bulk upsert and import)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    user.user_permissions.add(Permission.objects.get(codename="ingest_cases"))
    token, _ = Token.objects.get_or_create(user=user)
    return str(token.key)


class Gunicorn:
    """gunicorn on a free loopback port; stopped (and waited for) on exit."""

    def __init__(self, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        env = dict(os.environ)
        # Each worker keeps its database connection for the whole run, so the CPU of its
        # PostgreSQL backend is all counted (a backend that ends mid-run would be lost).
        env.setdefault("DJANGO_CONN_MAX_AGE", "3600")
        # Batches arrive far faster than the bulk rate limit allows one client.
        env.setdefault("RATE_LIMIT_ENABLED", "0")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "supportmetrics.wsgi",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    self._profile()
                    return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        sys.exit("gunicorn did not answer /healthz")

    def _profile(self) -> None:
        # BENCH_PYSPY=out.txt BENCH_PYSPY_BIN=/path/to/py-spy: sample the workers while the
        # server runs (collapsed stacks), to see where the server's CPU goes.
        out, binary = os.environ.get("BENCH_PYSPY"), os.environ.get("BENCH_PYSPY_BIN")
        self.spy: subprocess.Popen[bytes] | None = None
        if out and binary and self.process is not None:
            self.spy = subprocess.Popen(
                [
                    binary,
                    "record",
                    "--subprocesses",
                    "--pid",
                    str(self.process.pid),
                    "--format",
                    "raw",
                    "--output",
                    out,
                    "--rate",
                    "200",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)

    def __exit__(self, *exc: object) -> None:
        spy = getattr(self, "spy", None)
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=30)
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


class CpuMeter:
    """CPU seconds (user + system) of the server processes and of this database's
    PostgreSQL backends while a block runs; on a shared machine wall time alone misleads."""

    def __init__(self, server_pid: int | None) -> None:
        from django.db import connection

        self.server_pid = server_pid
        self.database = connection.settings_dict["NAME"]

    def _sample(self) -> dict[str, dict[int, float]]:
        import psutil

        out: dict[str, dict[int, float]] = {"server": {}, "postgres": {}}
        procs = []
        if self.server_pid is not None:
            try:
                root = psutil.Process(self.server_pid)
                procs = [("server", p) for p in [root, *root.children(recursive=True)]]
            except psutil.NoSuchProcess:
                pass
        for proc in psutil.process_iter(["name", "cmdline"]):
            cmd = " ".join(proc.info.get("cmdline") or [])
            if cmd.startswith("postgres:") and f" {self.database} " in cmd:
                procs.append(("postgres", proc))
        for kind, proc in procs:
            try:
                t = proc.cpu_times()
                out[kind][proc.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return out

    def __enter__(self) -> CpuMeter:
        self.before = self._sample()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
        after = self._sample()
        self.cpu = {
            kind: round(
                sum(v - self.before[kind].get(pid, 0.0) for pid, v in after[kind].items()), 2
            )
            for kind in after
        }


def post_batches(
    port: int, token: str, bodies: list[bytes], clients: int
) -> tuple[float, dict[str, int], list[str]]:
    """Post every body from ``clients`` threads; wall seconds, result counts, errors."""
    counts: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                body = queue.pop()
            try:
                conn.request("POST", "/api/v1/cases/bulk/", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                # gunicorn's sync workers close the connection after each response.
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                conn.request("POST", "/api/v1/cases/bulk/", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                if response.status != 200:
                    errors.append(f"{response.status}: {payload[:200]!r}")
                    continue
                for result in json.loads(payload)["results"]:
                    key = result.get("result", "error")
                    counts[key] = counts.get(key, 0) + 1
                    if key == "error" and len(errors) < 5:
                        errors.append(json.dumps(result))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, counts, errors


class Broker:
    """Celery's broker for the run, as in production: fresh resolutions queue their survey
    email instead of sending it inside the request (what happens without a broker). A queue
    of its own on a Redis database of its own, deleted afterwards; no worker consumes it.
    Without Redis on loopback (or with CELERY_BROKER_URL already set) nothing changes."""

    URL = "redis://127.0.0.1:6379/12"

    def __init__(self, stamp: str) -> None:
        self.queue = f"bench-ingest-{stamp}"
        self.active = False

    def __enter__(self) -> Broker:
        if os.environ.get("CELERY_BROKER_URL"):
            return self
        try:
            socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        except OSError:
            return self
        os.environ["CELERY_BROKER_URL"] = self.URL
        os.environ["CELERY_QUEUE"] = self.queue
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.active:
            return
        import redis

        client = redis.Redis.from_url(self.URL)
        for key in client.scan_iter(f"*{self.queue}*"):
            client.delete(key)
        del os.environ["CELERY_BROKER_URL"], os.environ["CELERY_QUEUE"]


def bulk_bench(
    items: list[dict[str, Any]], warm: list[dict[str, Any]], *, clients: int, workers: int
) -> dict[str, Any]:
    bodies = [json.dumps(items[i : i + BATCH]).encode() for i in range(0, len(items), BATCH)]
    token = bench_token()
    out: dict[str, Any] = {"cases": len(items), "batch": BATCH, "clients": clients}
    out["workers"] = workers
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    with Broker(stamp) as broker, Gunicorn(workers) as server:
        out["celery"] = "broker (emails queued)" if broker.active else "eager (no broker)"
        # Warm each worker (imports, connection, calendars) outside the timing.
        warm_bodies = [json.dumps(warm[i : i + BATCH]).encode() for i in range(0, len(warm), BATCH)]
        post_batches(server.port, token, warm_bodies, clients)
        for label in ("first", "again"):
            assert server.process is not None
            with CpuMeter(server.process.pid) as meter:
                seconds, counts, errors = post_batches(server.port, token, bodies, clients)
            out[label] = {
                "seconds": round(seconds, 2),
                "cpu_seconds": meter.cpu,
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "cases_per_s": round(len(items) / seconds),
                "results": counts,
                "errors": errors,
            }
            print(
                f"bulk {label}: {len(items)} cases in {seconds:.1f}s = "
                f"{len(items) / seconds:,.0f} cases/s {counts} {errors[:2]} "
                f"cpu {meter.cpu}",
                flush=True,
            )
    return out


# -- CSV import ---------------------------------------------------------------------------
def csv_bench(items: list[dict[str, Any]], *, profile: bool) -> dict[str, Any]:
    from cases.imports import case_import

    data = cases_csv(items)
    out: dict[str, Any] = {"rows": len(items), "bytes": len(data)}
    from django.db import connection

    connection.ensure_connection()
    for label in ("first", "again"):
        profiler = cProfile.Profile() if profile and label == "first" else None
        with CpuMeter(os.getpid()) as meter:
            if profiler:
                profiler.enable()
            report = case_import(cases=io.BytesIO(data)).as_dict()
            if profiler:
                profiler.disable()
        seconds = meter.seconds
        out[label] = {
            "seconds": round(seconds, 2),
            "cpu_seconds": {"python": meter.cpu["server"], "postgres": meter.cpu["postgres"]},
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "rows_per_s": round(len(items) / seconds),
            "report": report["cases"],
            "events_created": report["events"]["created"],
        }
        print(
            f"csv {label}: {len(items)} rows in {seconds:.1f}s = "
            f"{len(items) / seconds:,.0f} rows/s {report['cases']} cpu {out[label]['cpu_seconds']}",
            flush=True,
        )
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
    return out


def copy_reference(source: str) -> dict[str, Any]:
    """Bare binary COPY of the rows the import stored, under new keys; rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        cursor.execute(
            "CREATE TEMP TABLE bench_ids ON COMMIT DROP AS SELECT id AS old_id, "
            "nextval(pg_get_serial_sequence('cases_case', 'id')) AS new_id "
            "FROM cases_case WHERE source = %s",
            [source],
        )
        cursor.execute(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'cases_case'::regclass AND attnum > 0 AND NOT attisdropped"
        )
        case_cols = cursor.fetchone()[0].split(", ")
        select_case = ", ".join(
            "m.new_id" if c == "id" else "c.external_id || '~'" if c == "external_id" else f"c.{c}"
            for c in case_cols
        )
        cursor.execute(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'cases_caseevent'::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attname <> 'id'"
        )
        event_cols = cursor.fetchone()[0].split(", ")
        select_event = ", ".join("m.new_id" if c == "case_id" else f"e.{c}" for c in event_cols)
        buffers = []
        for sql in (
            f"COPY (SELECT {select_case} FROM cases_case c JOIN bench_ids m ON m.old_id = c.id) "
            "TO STDOUT (FORMAT BINARY)",
            f"COPY (SELECT {select_event} FROM cases_caseevent e JOIN bench_ids m "
            "ON m.old_id = e.case_id) TO STDOUT (FORMAT BINARY)",
        ):
            chunks = bytearray()
            with raw.copy(sql) as copy:
                for chunk in copy:
                    chunks += chunk
            buffers.append(bytes(chunks))
        cursor.execute("SELECT count(*) FROM bench_ids")
        n = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM cases_caseevent WHERE case_id IN (SELECT old_id FROM bench_ids)"
        )
        n_events = cursor.fetchone()[0]
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the FK checks inside the timing
        timings = []
        with CpuMeter(None) as meter:
            for table, cols, buf in (
                ("cases_case", case_cols, buffers[0]),
                ("cases_caseevent", event_cols, buffers[1]),
            ):
                start = time.perf_counter()
                copy_sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN (FORMAT BINARY)"
                with raw.copy(copy_sql) as copy:
                    for i in range(0, len(buf), 1 << 20):
                        copy.write(buf[i : i + (1 << 20)])
                timings.append(time.perf_counter() - start)
        transaction.set_rollback(True)
    cases_s, events_s = timings
    out = {
        "cases": n,
        "events": n_events,
        "cases_seconds": round(cases_s, 2),
        "events_seconds": round(events_s, 2),
        "postgres_cpu_seconds": meter.cpu["postgres"],
        "cases_only_rows_per_s": round(n / cases_s),
        "cases_with_events_rows_per_s": round(n / (cases_s + events_s)),
    }
    print(
        f"COPY reference: {n} cases in {cases_s:.1f}s ({n / cases_s:,.0f} rows/s), "
        f"+ {n_events} events in {events_s:.1f}s → {n / (cases_s + events_s):,.0f} "
        f"case rows/s with their events; PostgreSQL CPU {meter.cpu['postgres']}s",
        flush=True,
    )
    return out


# -- profile in process -------------------------------------------------------------------
def bulk_profile(items: list[dict[str, Any]]) -> None:
    """The bulk view in this process (no HTTP) under cProfile."""
    from rest_framework.test import APIClient

    token = bench_token()
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.post("/api/v1/cases/bulk/", [], format="json")
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for i in range(0, len(items), BATCH):
        response = client.post("/api/v1/cases/bulk/", items[i : i + BATCH], format="json")
        assert response.status_code == 200, response.content[:500]
    profiler.disable()
    seconds = time.perf_counter() - start
    print(f"in-process bulk: {len(items)} cases in {seconds:.1f}s = {len(items) / seconds:,.0f}/s")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)


def machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM cases_case")
        cases = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg,
        "cases_in_db": cases,
        "database": connection.settings_dict["NAME"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bulk-cases", type=int, default=20_000)
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["bulk", "csv", "copy"], action="append")
    parser.add_argument("--profile", choices=["bulk", "csv"])
    parser.add_argument("--keep", action="store_true", help="keep the generated cases")
    parser.add_argument("--out", default=str(RESULTS / "ingest-latest.json"))
    args = parser.parse_args()
    django_setup()
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    refs = references()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    result: dict[str, Any] = {"started_at": iso(datetime.now(UTC)), "machine": machine()}
    only = set(args.only or ["bulk", "csv", "copy"])
    if args.profile == "bulk":
        source = f"bench-prof-{stamp}"
        try:
            bulk_profile(make_cases(args.bulk_cases, source=source, refs=refs, now=now))
        finally:
            if not args.keep:
                cleanup(source)
        return
    if "bulk" in only:
        source = f"bench-bulk-{stamp}"
        try:
            items = make_cases(args.bulk_cases, source=source, refs=refs, now=now)
            warm = make_cases(20 * BATCH, source=source, refs=refs, now=now, seed=3)
            for item in warm:
                item["external_id"] = "W" + item["external_id"]
            result["bulk"] = bulk_bench(items, warm, clients=args.clients, workers=args.workers)
        finally:
            if not args.keep:
                cleanup(source)
    if only & {"csv", "copy"}:
        source = f"bench-csv-{stamp}"
        try:
            items = make_cases(args.csv_rows, source=source, refs=refs, now=now, seed=11)
            if "csv" in only or args.profile == "csv":
                result["csv"] = csv_bench(items, profile=args.profile == "csv")
            else:  # the COPY reference copies what an import stored
                from cases.imports import case_import

                case_import(cases=io.BytesIO(cases_csv(items)))
            if "copy" in only:
                result["copy"] = copy_reference(source)
        finally:
            if not args.keep:
                cleanup(source)
    result["finished_at"] = iso(datetime.now(UTC))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
