#!/usr/bin/env python3
"""Load test: gunicorn on loopback, locust headless against it, results to a JSON file.

    python3 dev.py load [--users 20] [--seconds 60] [--workers 3] [--wait 0.5-2]
                        [--out bench/results/load-latest.json]

Needs the demo organisation (``manage.py seed_demo``) in the configured database. What the
simulated users do is in bench/locustfile.py: KPI reads over 90 days (team-filtered and
not) and case writes (a case created, then an agent response or its resolution). The cases
the run creates are deleted afterwards. Prints a table and writes throughput, latency
percentiles (p50/p95/p99, overall and per request kind), errors, the server's and
PostgreSQL's CPU time and peak server memory, the case count and the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import (
    RESULTS,
    ROOT,
    Broker,
    CpuMeter,
    Gunicorn,
    cleanup,
    django_setup,
    iso,
    machine,
)


def personas(source: str) -> dict[str, Any]:
    """API tokens for the admin and each team's manager (created if missing), the teams,
    their active reps, a category: what bench/locustfile.py reads."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from cases.models import Category, Representative, Team

    def token(user: Any) -> str:
        return str(Token.objects.get_or_create(user=user)[0].key)

    admin = get_user_model().objects.filter(is_superuser=True, is_active=True).first()
    if admin is None:
        sys.exit("The load test needs the demo data (an admin): run manage.py seed_demo.")
    reps = Representative.objects.filter(active=True, role="rep").select_related("user")
    by_team: dict[int, list[str]] = {}
    for rep in reps:
        by_team.setdefault(rep.team_id, []).append(rep.user.username)
    managers = [
        {"token": token(m.user), "team": m.team_id, "reps": by_team[m.team_id]}
        for m in Representative.objects.filter(active=True, role="manager").select_related("user")
        if by_team.get(m.team_id)
    ]
    category = Category.objects.filter(active=True).order_by("id").first()
    return {
        "admin": token(admin),
        "managers": managers,
        "teams": sorted(Team.objects.values_list("id", flat=True)),
        "all_reps": sorted(u for names in by_team.values() for u in names),
        "category": category.slug if category else "",
        "source": source,
    }


def read_stats(prefix: str) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def summary(row: dict[str, str], seconds: float) -> dict[str, Any]:
    def ms(key: str) -> float | None:
        value = row.get(key, "")
        return None if value in ("", "N/A") else float(value)

    requests = int(row["Request Count"])
    return {
        "requests": requests,
        "failures": int(row["Failure Count"]),
        "throughput_rps": round(requests / seconds, 1),
        "p50_ms": ms("50%"),
        "p95_ms": ms("95%"),
        "p99_ms": ms("99%"),
        "max_ms": ms("Max Response Time"),
        "mean_ms": round(float(row["Average Response Time"]), 1),
    }


class PeakMemory:
    """Peak resident memory of the gunicorn processes (sum over master and workers)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb, self.peak_worker_mb = pid, 0.0, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self._stop.wait(0.5):
            try:
                procs = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs) / 2**20
                workers = [p.memory_info().rss / 2**20 for p in procs[1:]]
            except psutil.Error:
                continue
            self.peak_mb = max(self.peak_mb, rss)
            self.peak_worker_mb = max([self.peak_worker_mb, *workers])

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--wait", default="0.5-2", help="pause between requests, s (0.5-2)")
    parser.add_argument("--out", default=str(RESULTS / "load-latest.json"))
    args = parser.parse_args()
    django_setup()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    source = f"load-{stamp}"
    result: dict[str, Any] = {
        "started_at": iso(datetime.now(UTC)),
        "machine": machine(),
        "users": args.users,
        "seconds": args.seconds,
        "workers": args.workers,
        "wait_s": args.wait,
    }
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        config = Path(tmp) / "config.json"
        config.write_text(json.dumps(personas(source)))
        prefix = str(Path(tmp) / "locust")
        try:
            with Broker(stamp) as broker, Gunicorn(args.workers) as server:
                assert server.process is not None
                result["celery"] = "broker (emails queued)" if broker.active else "eager"
                env = {**os.environ, "BENCH_LOAD_CONFIG": str(config), "BENCH_LOAD_WAIT": args.wait}
                command = [
                    str(Path(sys.executable).parent / "locust"),
                    "-f",
                    str(ROOT / "bench" / "locustfile.py"),
                    "--headless",
                    "--users",
                    str(args.users),
                    "--spawn-rate",
                    str(args.users),
                    "--run-time",
                    f"{args.seconds}s",
                    "--host",
                    f"http://127.0.0.1:{server.port}",
                    "--csv",
                    prefix,
                    "--only-summary",
                    "--stop-timeout",
                    "10",
                    "--loglevel",
                    "WARNING",
                ]
                with CpuMeter(server.process.pid) as meter, PeakMemory(server.process.pid) as mem:
                    subprocess.run(command, cwd=ROOT, env=env, check=False)
                result["cpu_seconds"] = meter.cpu
                result["wall_seconds"] = round(meter.seconds, 1)
                result["server_peak_rss_mb"] = round(mem.peak_mb)
                result["worker_peak_rss_mb"] = round(mem.peak_worker_mb)
            rows = read_stats(prefix)
        finally:
            cleanup(source)
    by_name = {row["Name"]: row for row in rows}
    total = by_name.pop("Aggregated")
    result["overall"] = summary(total, args.seconds)
    result["requests"] = {name: summary(row, args.seconds) for name, row in sorted(by_name.items())}
    reads = [r for n, r in by_name.items() if n.startswith("GET")]
    result["reads_requests"] = sum(int(r["Request Count"]) for r in reads)
    result["writes_requests"] = sum(
        int(r["Request Count"]) for n, r in by_name.items() if n.startswith("POST")
    )
    result["errors"] = sum(int(r["Failure Count"]) for r in by_name.values())
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["finished_at"] = iso(datetime.now(UTC))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'request':44s} {'n':>6s} {'err':>4s} {'p50':>6s} {'p95':>6s} {'p99':>6s}  (ms)")
    for name, s in [*result["requests"].items(), ("ALL", result["overall"])]:
        print(
            f"{name:44s} {s['requests']:6d} {s['failures']:4d} "
            f"{s['p50_ms'] or 0:6.0f} {s['p95_ms'] or 0:6.0f} {s['p99_ms'] or 0:6.0f}"
        )
    o = result["overall"]
    print(
        f"\n{o['throughput_rps']} requests/s, p50 {o['p50_ms']} ms, p95 {o['p95_ms']} ms, "
        f"p99 {o['p99_ms']} ms, {result['errors']} errors; cases in the database: "
        f"{result['machine']['cases_in_db']:,}; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
