"""``manage.py rollups_rebuild [--check]``: recompute the rollup tables, or compare them with
a recomputation without changing them (exit status 1 when they differ)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.rollups import rollups_check, rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the rollup tables from the cases and events (or --check them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare the tables with a recomputation and change nothing",
        )

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        started = time.perf_counter()
        if check:
            differences = rollups_check()
            for d in differences:
                self.stdout.write(f"{d.table}: {d.stale} stale rows, {d.missing} missing rows")
            if differences:
                raise CommandError("The rollups differ from a recomputation.")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Rollups match a recomputation ({time.perf_counter() - started:.1f}s)."
                )
            )
            return
        counts = rollups_rebuild()
        rows = ", ".join(f"{table} {n:,}" for table, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Rollups rebuilt in {time.perf_counter() - started:.1f}s: {rows}.")
        )
