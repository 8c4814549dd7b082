"""``manage.py purge_personal_data [--older-than-days N] [--dry-run]`` (docs/hardening.md)."""

from __future__ import annotations

import json
from typing import Any

import pghistory
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.services.retention import BATCH_SIZE, personal_data_purge


class Command(BaseCommand):
    help = (
        "Erase the personal data of cases resolved or closed longer ago than the retention "
        "age (requester name, address -> keyed pseudonym, survey comments, alert notes, "
        "email texts); prints the counts as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help=f"retention age in days (default PERSONAL_DATA_RETENTION_DAYS, "
            f"now {settings.PERSONAL_DATA_RETENTION_DAYS})",
        )
        parser.add_argument("--dry-run", action="store_true", help="count only; erase nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="case ids a batch")

    @pghistory.context(command="purge_personal_data")  # the audit trail says who
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = personal_data_purge(
                now=timezone.now(),
                older_than_days=options["older_than_days"],
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(report.as_dict(), indent=2))
