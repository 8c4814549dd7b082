"""``manage.py benchmark``: the performance benchmark (docs/performance.md).

Seeds the demo data set at scale into the configured database (or reuses it), times every
metrics endpoint beside its SQL floor, the bulk API and the CSV import beside COPY, and the
server's memory; writes ``bench/results/latest.json`` and prints the table. The machinery
lives in the ``bench`` package at the top of the source tree.
"""

from __future__ import annotations

import argparse
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

FIVE_MILLION = 5_000_000


def _now(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs an ISO 8601 time with an offset; got {value!r}")
    return parsed.astimezone(UTC)


class Command(BaseCommand):
    help = (
        "Benchmark the metrics endpoints, ingest and memory on a seeded data set "
        "(1,000,000 cases by default). Erases the case domain of the configured database "
        "when it seeds; refuses a database holding data it did not seed, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        size = parser.add_mutually_exclusive_group()
        size.add_argument("--cases", type=int, default=1_000_000, help="default 1000000")
        size.add_argument("--five-million", action="store_true", help="the same as --cases 5000000")
        parser.add_argument("--seed", type=int, default=1, help="demo generator seed (1)")
        parser.add_argument(
            "--now",
            type=_now,
            default=None,
            help="the data set's end, ISO 8601 with offset (default: the last 12:00 UTC)",
        )
        parser.add_argument(
            "--reuse",
            action="store_true",
            help="skip seeding when the database holds exactly this data set",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="allow erasing a database that holds data the benchmark did not seed",
        )
        parser.add_argument(
            "--migrate",
            action="store_true",
            help="apply pending migrations first (after checking whose data is there)",
        )
        parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (5)")
        parser.add_argument("--warmup", type=int, default=1, help="untimed runs first (1)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="time through Django's test client here instead of gunicorn over HTTP",
        )
        parser.add_argument(
            "--window",
            action="append",
            choices=["90d", "2y"],
            help="a window to time (repeatable; default both)",
        )
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="ROUTE",
            help="time only endpoints whose route contains this (repeatable)",
        )
        parser.add_argument("--no-ingest", action="store_true", help="skip the ingest part")
        parser.add_argument("--bulk-cases", type=int, default=20_000, help="(20000)")
        parser.add_argument("--bulk-clients", type=int, default=4, help="(4)")
        parser.add_argument("--csv-rows", type=int, default=100_000, help="(100000)")
        parser.add_argument(
            "--slow-budget-ms",
            type=float,
            default=30_000.0,
            help="fewer runs for figures whose first request is slow, to about this (30000)",
        )
        parser.add_argument(
            "--statement-timeout-s",
            type=float,
            default=180.0,
            help="cancel a timed request's statements after this long; recorded as a "
            "time-out (180)",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="results directory (default bench/results)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from bench import report
            from bench.dataset import BenchmarkError
            from bench.runner import RESULTS, Options, run
        except ImportError as error:
            raise CommandError(
                f"The benchmark runs from a source checkout (the bench/ package): {error}"
            ) from None
        if options["runs"] < 1 or options["warmup"] < 0:
            raise CommandError("--runs must be at least 1 and --warmup at least 0.")
        cases = FIVE_MILLION if options["five_million"] else options["cases"]
        settings = Options(
            cases=cases,
            seed=options["seed"],
            now=options["now"],
            reuse=options["reuse"],
            reset=options["reset"],
            migrate=options["migrate"],
            runs=options["runs"],
            warmup=options["warmup"],
            workers=options["workers"],
            server=not options["in_process"],
            windows=tuple(options["window"] or ("90d", "2y")),
            only=tuple(options["only"]),
            ingest=not options["no_ingest"],
            bulk_cases=options["bulk_cases"],
            bulk_clients=options["bulk_clients"],
            csv_rows=options["csv_rows"],
            slow_budget_ms=options["slow_budget_ms"],
            statement_timeout_s=options["statement_timeout_s"],
            output=options["output"] or RESULTS,
        )

        def log(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        def stop(signum: int, frame: Any) -> None:
            raise SystemExit(128 + signum)  # unwinds: gunicorn stopped, ingested rows deleted

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            results = run(settings, log=log)
        except BenchmarkError as error:
            raise CommandError(str(error)) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        self.stdout.write("")
        self.stdout.write(report.text_table(results))
