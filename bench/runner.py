"""The benchmark, start to end: data set, endpoints beside their floor, ingest, memory.

Order: seed (or reuse) and ANALYZE; start gunicorn and its memory sampler; for each
endpoint × window × scope, one warm-up request, the timed requests, then the request once
in-process to capture its SQL and the floor re-timing of that SQL; the bulk API over HTTP
and its COPY floor; the CSV import and its COPY floor; stop gunicorn; delete what the
ingest wrote and VACUUM; write the results. Only one thing runs at a time, so no timing
competes with another part of the benchmark.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from bench import dataset as datasets
from bench import endpoints as targets
from bench import floor as floors
from bench import ingestion, machine, percentiles, report
from bench.server import STATIC_ROOT, Gunicorn, collect_static
from bench.transport import HOST, Auth, HttpTransport, InProcessTransport, Transport

RESULTS = Path(__file__).resolve().parent / "results"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Options:
    cases: int = 1_000_000
    seed: int = 1
    now: datetime | None = None
    reuse: bool = False
    reset: bool = False
    migrate: bool = False  # apply pending migrations (after the foreign-data check)
    runs: int = 5
    warmup: int = 1
    workers: int = 2
    server: bool = True  # False: time through Django's test client in this process
    windows: tuple[str, ...] = ("90d", "2y")
    only: tuple[str, ...] = ()  # endpoint routes containing one of these; () = all
    ingest: bool = True
    bulk_cases: int = 20_000
    bulk_clients: int = 4
    csv_rows: int = 100_000
    # An endpoint whose first request is slow gets fewer timed runs (and floor runs), so
    # that its runs take about this long in all; each reduction is recorded.
    slow_budget_ms: float = 30_000.0
    # Any statement of a timed request (through gunicorn, in-process, or the floor) is
    # cancelled after this long; the figure is recorded as timed out and the run goes on.
    statement_timeout_s: float = 180.0
    output: Path | None = RESULTS
    notes: list[str] = field(default_factory=list)


def _session_cookie(user_id: int) -> str:
    client = Client(HTTP_HOST=HOST)
    client.force_login(get_user_model().objects.get(pk=user_id))
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def _runs_for(first_ms: float, options: Options) -> int:
    if first_ms * options.runs <= options.slow_budget_ms:
        return options.runs
    return max(1, min(options.runs, int(options.slow_budget_ms // max(first_ms, 1.0))))


class Measurer:
    """Times one endpoint × window × scope and its floor."""

    def __init__(self, options: Options, transport: Transport, log: Callable[[str], None]):
        self.options = options
        self.transport = transport
        self.in_process = InProcessTransport()
        self.timeout_ms = int(options.statement_timeout_s * 1000)
        self.raw = floors.raw_connection(self.timeout_ms)
        self.log = log

    def close(self) -> None:
        self.raw.close()

    def measure(
        self, endpoint: targets.Endpoint, window: targets.Window, auth: Auth, scope: str
    ) -> dict[str, Any]:
        path = targets.url(endpoint, window)
        row: dict[str, Any] = {
            "endpoint": endpoint.label,
            "name": endpoint.name,
            "path": path,
            "window": {
                "label": window.label,
                "days": window.days,
                "requested_days": window.requested_days,
                "capped": window.capped,
                "from": window.first_day.isoformat(),
                "to": window.last_day.isoformat(),
            },
            "scope": scope,
        }
        try:
            self._measure(row, path, auth)
        except Exception as error:  # one figure's failure is recorded; the run goes on
            row.setdefault("status", None)
            row["error"] = f"{type(error).__name__}: {error}"[:500]
            if isinstance(error.__cause__ or error, psycopg.errors.QueryCanceled):
                row["timed_out"] = True
        if row.get("error"):
            self.log(f"{endpoint.label:28} {window.label:3} {scope:4} failed: {row['error'][:200]}")
        return row

    def _measure(self, row: dict[str, Any], path: str, auth: Auth) -> None:
        first = self.transport.request("GET", path, auth)
        row.update(status=first.status, bytes=len(first.body), first_ms=round(first.ms, 1))
        if first.status != 200:
            if first.ms >= 0.95 * self.timeout_ms:
                row["timed_out"] = True
                row["error"] = (
                    f"timed out: HTTP {first.status} after {first.ms / 1000:.0f} s (statement "
                    f"timeout {self.options.statement_timeout_s:g} s, worker timeout "
                    f"{self.options.statement_timeout_s + 60:g} s)"
                )
            else:
                row["error"] = first.body[:500].decode(errors="replace")
            return
        # Slower than the whole budget: the first request is the one timed run, and the
        # floor comes from the capture (one more execution instead of two).
        single = first.ms > self.options.slow_budget_ms
        runs = _runs_for(first.ms, self.options)
        timings = [first.ms] if single or not self.options.warmup else []
        for _ in range(0 if single else max(self.options.warmup - 1, 0)):
            self.transport.request("GET", path, auth)
        while len(timings) < runs:
            reply = self.transport.request("GET", path, auth)
            if reply.status != 200:
                row.update(status=reply.status, error=reply.body[:500].decode(errors="replace"))
                return
            timings.append(reply.ms)
        median = statistics.median(timings)
        row.update(
            runs=len(timings),
            runs_asked=self.options.runs,
            runs_ms=[round(t, 1) for t in timings],
            median_ms=round(median, 1),
            min_ms=round(min(timings), 1),
            max_ms=round(max(timings), 1),
        )
        if first.ms < 1000:  # this process's caches warm, as gunicorn's workers are
            self.in_process.request("GET", path, auth)
        reply, statements = floors.capture(lambda: self.in_process.request("GET", path, auth))
        if reply.status != 200:
            row["error"] = f"in-process request for the floor: HTTP {reply.status}"
            return
        if single:
            floor = floors.floor_from_capture(statements)
        else:
            reduced = runs < self.options.runs
            floor = floors.time_floor(
                self.raw, statements, runs=runs, warmup=0 if reduced else self.options.warmup
            )
        row.update(
            floor_method="capture" if single else "re-run",
            floor_ms=round(floor.ms, 1),
            floor_runs_ms=[round(t, 1) for t in floor.runs_ms],
            ratio=round(median / floor.ms, 2) if floor.ms > 0 else None,
            statements=len(statements),
            floor_statements=sum(s.kind == "figure" for s in statements),
            auth_statements=sum(s.kind == "auth" for s in statements),
            rows_match=floor.rows_match,
            mismatches=floor.mismatches,
            floor_detail=sorted(floor.statements, key=lambda s: -(s["ms"] or 0)),
        )
        self.log(
            f"{row['endpoint']:28} {row['window']['label']:3} {row['scope']:4} "
            f"{median:9.1f} ms  floor {floor.ms:9.1f} ms  ×{row['ratio'] or 0:5.2f}  "
            f"{row['floor_statements']}/{row['statements']} stmts  {len(timings)} runs  "
            f"rows {floor.rows_match}"
        )


def _ingest(
    options: Options,
    data: datasets.Dataset,
    admin_token: str,
    make_transport: Callable[[], Transport],
    raw_factory: Callable[[], Any],
    stamp: str,
    log: Callable[[str], None],
) -> dict[str, Any]:
    refs = ingestion.references()
    prefix = datasets.INGEST_SOURCE_PREFIX
    out: dict[str, Any] = {}
    raw = raw_factory()
    try:
        if options.bulk_cases:
            source = f"{prefix}api-{stamp}"
            items = ingestion.make_cases(
                options.bulk_cases, source=source, refs=refs, now=data.now, seed=2
            )
            warm = ingestion.make_cases(
                options.bulk_clients * ingestion.BATCH,
                source=f"{prefix}warm-{stamp}",
                refs=refs,
                now=data.now,
                seed=4,
            )
            log(f"bulk API: {len(items):,} cases from {options.bulk_clients} clients …")
            bulk = ingestion.bulk_api(
                make_transport,
                token=admin_token,
                items=items,
                warmup_items=warm,
                clients=options.bulk_clients,
            )
            bulk["copy_floor"] = ingestion.copy_floor(raw, source=source)
            rate = bulk["copy_floor"]["cases_with_events_per_s"]
            done = bulk["cases_per_s"]
            bulk["copy_ratio"] = round(rate / done, 2) if rate and done else None
            out["bulk_api"] = bulk
            log(
                f"bulk API: {bulk['cases_per_s']:,} cases/s; COPY floor {rate:,} cases/s "
                f"with their events; {bulk['failed_batches']} batches failed"
            )
        if options.csv_rows:
            source = f"{prefix}csv-{stamp}"
            items = ingestion.make_cases(
                options.csv_rows, source=source, refs=refs, now=data.now, seed=3
            )
            log(f"CSV import: {len(items):,} rows …")
            imported = ingestion.csv_import(items, source=source)
            imported["copy_floor"] = ingestion.copy_floor(raw, source=source)
            rate = imported["copy_floor"]["cases_with_events_per_s"]
            imported["copy_ratio"] = round(rate / imported["rows_per_s"], 2) if rate else None
            out["csv_import"] = imported
            log(f"CSV import: {imported['rows_per_s']:,} rows/s; COPY floor {rate:,} rows/s")
    finally:
        raw.close()
    return out


def run(options: Options, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; returns the results (also written under ``options.output``)."""
    started = datetime.now(UTC)
    began = time.perf_counter()
    results: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine.machine(),
    }
    spec = datasets.DatasetSpec(options.cases, options.seed, options.now)
    data = datasets.prepare(
        spec,
        reuse=options.reuse,
        reset=options.reset,
        migrate=options.migrate,
        started=started,
        log=log,
    )
    results["dataset"] = {
        **{k: v for k, v in asdict(data).items() if k != "now"},
        "now": data.now.isoformat(),
        "database": connection.settings_dict["NAME"],
    }
    results["versions"] = machine.versions()
    subjects = targets.pick_subjects()
    scopes = targets.scopes(subjects)
    auth_for = {
        (scope.label, page): (
            Auth(cookie=_session_cookie(scope.user_id)) if page else Auth(token=scope.token)
        )
        for scope in scopes
        for page in (False, True)
    }
    chosen = [
        e
        for e in targets.endpoints(subjects)
        if not options.only or any(part in e.label for part in options.only)
    ]
    windows = targets.windows(data.now, options.windows)
    notes = list(options.notes)
    for window in windows:
        if window.capped:
            notes.append(
                f"The {window.label} window asks for {window.requested_days} days; the API "
                f"accepts at most {window.days} (metrics.params.MAX_PERIOD_DAYS), so it "
                f"covers {window.first_day} to {window.last_day}."
            )
    server = (
        Gunicorn(workers=options.workers, statement_timeout_s=options.statement_timeout_s)
        if options.server
        else None
    )
    rows: list[dict[str, Any]] = []
    ingest: dict[str, Any] = {}
    collect_static()
    # The in-process requests render the dashboard with the same collected static files,
    # under the benchmark's statement timeout rather than the KPI one (bench/settings.py).
    with override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, HOST],
        STATIC_ROOT=STATIC_ROOT,
        KPI_STATEMENT_TIMEOUT_MS=int(options.statement_timeout_s * 1000),
        RATE_LIMIT_ENABLED=False,
    ):
        try:
            if server is not None:
                server.start()
                log(f"gunicorn: {options.workers} sync workers on 127.0.0.1:{server.port}")

                def make_transport() -> Transport:
                    # The server ends a slow request at its statement_timeout; the socket
                    # waits a little longer than that.
                    return HttpTransport(
                        server.port,
                        timeout=options.statement_timeout_s + 90,
                    )

            else:
                make_transport = InProcessTransport
            transport = make_transport()
            measurer = Measurer(options, transport, log)
            try:
                with floors.statement_timeout(measurer.timeout_ms):
                    for endpoint in chosen:
                        for window in windows:
                            for scope in scopes:
                                auth = auth_for[(scope.label, endpoint.page)]
                                row = measurer.measure(endpoint, window, auth, scope.label)
                                rows.append(row)
            finally:
                measurer.close()
                transport.close()
            errors = percentiles.measure_errors(windows, subjects, log)
            if options.ingest:
                ingest = _ingest(
                    options,
                    data,
                    scopes[0].token,
                    make_transport,
                    floors.raw_connection,
                    started.strftime("%Y%m%d%H%M%S"),
                    log,
                )
        finally:
            if server is not None:
                server.stop()
            if options.ingest:
                datasets.delete_ingested(log)
                datasets.vacuum_after_ingest(log)
    results.update(
        subjects=asdict(subjects),
        scopes={
            "all": f"{scopes[0].username} (admin token), no filter",
            "team": f"{scopes[1].username} (manager token): team {subjects.team_name!r}, "
            "by the API's scope rules",
        },
        method={
            "runs": options.runs,
            "warmup": options.warmup,
            "slow_budget_ms": options.slow_budget_ms,
            "statement_timeout_s": options.statement_timeout_s,
            "transport": (
                f"HTTP/1.1 to gunicorn ({options.workers} sync workers, bench.settings = "
                "production settings), one client connection"
                if options.server
                else "Django test client in the benchmark process"
            ),
            "floor": "the request's statements (except user/token/session look-ups and "
            "transaction control) re-run on a raw psycopg connection; median of the runs' sums",
        },
        windows=[
            {"label": w.label, "days": w.days, "requested_days": w.requested_days} for w in windows
        ],
        endpoints=rows,
        percentile_errors=errors,
        ingest=ingest,
        memory=server.sampler.summary() if server and server.sampler else None,
        notes=notes,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - began, 1),
        load_average_at_end=machine.load_average(),
    )
    if options.output is not None:
        for path in report.write(results, options.output):
            log(f"wrote {path}")
    return results
