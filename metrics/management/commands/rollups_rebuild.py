"""``manage.py rollups_rebuild [--check | --compact]``: recompute the rollup tables (and
compact them), compare them with a recomputation without changing them (exit status 1 when
they differ), or only compact them (after ``seed_demo`` or a large import)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.rollups.every import (
    check_every_rollup,
    compact_every_rollup,
    rebuild_every_rollup,
)


class Command(BaseCommand):
    help = "Recompute the rollup tables from the cases and events (or --check them)."

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--check",
            action="store_true",
            help="compare the tables with a recomputation and change nothing",
        )
        mode.add_argument(
            "--compact",
            action="store_true",
            help="only rewrite the tables compactly (after a bulk load)",
        )

    def handle(self, *args: Any, check: bool, compact: bool, **options: Any) -> None:
        started = time.perf_counter()
        if compact:
            if not compact_every_rollup():
                raise CommandError("Cannot compact inside a transaction.")
            elapsed = time.perf_counter() - started
            self.stdout.write(self.style.SUCCESS(f"Rollups compacted in {elapsed:.1f}s."))
            return
        if check:
            differences = check_every_rollup()
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
        counts = rebuild_every_rollup()
        compact_every_rollup()
        rows = ", ".join(f"{table} {n:,}" for table, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Rollups rebuilt in {time.perf_counter() - started:.1f}s: {rows}.")
        )
