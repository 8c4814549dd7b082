"""``manage.py import_cases``: bring a help desk's past in from CSV files (docs/import.md)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import IO, Any

import pghistory
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.imports import DEFAULT_SOURCE, CaseImportError, ImportReport, case_import
from supportmetrics.exceptions import ApplicationError


class Command(BaseCommand):
    help = (
        "Import cases (one row per case) and/or events (full histories) from CSV files. "
        "All or nothing: any bad row is printed and nothing is imported (exit status 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", metavar="CSV", help="The cases file.")
        parser.add_argument("--events", metavar="CSV", help="The events file.")
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create unknown reps, accounts, categories and teams instead of refusing them.",
        )
        parser.add_argument(
            "--source",
            default=DEFAULT_SOURCE,
            help=f"Source of rows that leave theirs empty (default: {DEFAULT_SOURCE}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count everything; save nothing."
        )

    @pghistory.context(command="import_cases")  # the audit trail says who
    def handle(self, *args: Any, **options: Any) -> None:
        paths = {name: options[name] for name in ("cases", "events") if options[name]}
        if not paths:
            raise CommandError("Give --cases, --events or both.")
        with ExitStack() as stack:
            streams: dict[str, IO[bytes]] = {}
            for name, path in paths.items():
                try:
                    streams[name] = stack.enter_context(open(path, "rb"))
                except OSError as error:
                    raise CommandError(f"--{name}: cannot open {path}: {error.strerror}.") from None
            try:
                report = case_import(
                    **streams,
                    source=options["source"],
                    create_missing=options["create_missing"],
                    dry_run=options["dry_run"],
                )
            except CaseImportError as error:
                self._print_row_errors(error, paths)
                raise CommandError(error.message) from None
            except ApplicationError as error:
                for field, reasons in error.extra.get("fields", {}).items():
                    for reason in reasons:
                        self.stderr.write(f"{paths.get(field, '--' + field)}: {reason}")
                raise CommandError(error.message) from None
        self.stdout.write(self._summary(report, paths))

    def _print_row_errors(self, error: CaseImportError, paths: dict[str, str]) -> None:
        errors = error.extra["errors"]
        for item in errors:
            where = f"{paths[item['file']]}:{item['line']}"
            self.stderr.write(f"{where}: {item['field'] or '(row)'}: {item['message']}")
        hidden = error.extra["error_count"] - len(errors)
        if hidden:
            self.stderr.write(f"... and {hidden} more errors.")

    @staticmethod
    def _summary(report: ImportReport, paths: dict[str, str]) -> str:
        data = report.as_dict()
        cases, events = data["cases"], data["events"]
        lines = []
        if "cases" in paths:
            lines.append(f"{paths['cases']}: {cases['rows']} rows.")
        if "events" in paths:
            lines.append(
                f"{paths['events']}: {events['rows']} rows, {events['histories']} case histories."
            )
        lines.append(
            f"Cases: {cases['created']} created, {cases['updated']} updated, "
            f"{cases['unchanged']} unchanged."
        )
        lines.append(
            f"Events: {events['created']} created, {events['deleted']} deleted, "
            f"{events['unchanged']} unchanged."
        )
        created = [
            f"{kind} {', '.join(names)}" for kind, names in data["created_missing"].items() if names
        ]
        if created:
            lines.append("Created: " + "; ".join(created) + ".")
        if report.dry_run:
            lines.append("Dry run: nothing was saved.")
        return "\n".join(lines)
