"""``manage.py seed_demo``: a realistic, deterministic demo data set (see docs/demo-data.md)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import pghistory
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases.demo import ADMIN_PASSWORD, ADMIN_USERNAME, STAFF_PASSWORD, seed_demo


def _parse_now(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or timezone.is_naive(parsed):
        raise argparse.ArgumentTypeError(
            f"needs an ISO 8601 time with an offset, e.g. 2026-11-23T12:00:00Z; got {value!r}."
        )
    return parsed.astimezone(UTC)


class Command(BaseCommand):
    help = (
        "Load the demo data set: teams, reps, accounts, categories and two years of cases with "
        "their events and survey answers. Does nothing if data exists, unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases", type=int, default=50_000, help="number of cases (default 50000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--now",
            type=_parse_now,
            default=None,
            help="end of the 2-year window, ISO 8601 with offset (default: this hour, UTC)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="truncate the case domain tables and demo users, then rebuild",
        )

    @pghistory.context(command="seed_demo")  # the audit trail says who
    def handle(
        self, *args: Any, cases: int, seed: int, now: datetime | None, reset: bool, **options: Any
    ) -> None:
        if cases < 0:
            raise CommandError("--cases must be zero or more.")
        if now is None:
            now = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        result = seed_demo(
            cases=cases, seed=seed, now=now, reset=reset, log=lambda m: self.stdout.write(m)
        )
        if not result.created:
            self.stdout.write(
                "Demo data already exists; nothing changed (use --reset to rebuild it). "
                f"Admin API token: {result.token or '(none)'}"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {result.seconds:.1f}s: {result.cases:,} cases, "
                f"{result.events:,} events, {result.surveys:,} survey responses."
            )
        )
        self.stdout.write(
            f"Logins: {ADMIN_USERNAME} / {ADMIN_PASSWORD}; mgr.<team> and rep.<team>.<n> / "
            f"{STAFF_PASSWORD} (docs/demo-data.md)."
        )
        self.stdout.write(f"Admin API token: {result.token}")
