"""What an import tells its caller: the report on success, the row errors on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from supportmetrics.exceptions import ApplicationError

# Enough to fix a file in one go without sending megabytes of errors back.
ERROR_CAP = 1000
FILES = ("cases", "events")


class ErrorLog:
    """Row errors of both files; reported sorted by file and line, at most ERROR_CAP of them."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, str | None, str]] = []

    def add(self, file: str, line: int, field: str | None, message: str) -> None:
        self._items.append((FILES.index(file), line, field, message))

    def __len__(self) -> int:
        return len(self._items)

    def as_list(self, cap: int = ERROR_CAP) -> list[dict[str, Any]]:
        # Errors are found in passes (cells, then references, then histories); sort them
        # back into file order. The sort is stable, so a row keeps its field order.
        ordered = sorted(self._items, key=lambda item: (item[0], item[1]))[:cap]
        return [
            {"file": FILES[rank], "line": line, "field": name, "message": message}
            for rank, line, name, message in ordered
        ]


class CaseImportError(ApplicationError):
    """Some rows are invalid; nothing was imported. ``extra.errors`` lists them."""

    def __init__(self, errors: ErrorLog) -> None:
        count = len(errors)
        super().__init__(
            f"{count} error{'s' if count != 1 else ''} in the import; nothing was imported.",
            code="import_invalid",
            extra={"errors": errors.as_list(), "error_count": count},
        )


def file_error(fields: dict[str, list[str]]) -> ApplicationError:
    """A file that cannot be read as the expected CSV (missing, undecodable, wrong header)."""
    name, reasons = next(iter(fields.items()))
    return ApplicationError(
        f"{name}: {reasons[0]}", code="validation_error", extra={"fields": fields}
    )


@dataclass
class ImportReport:
    """Counts of one import. Case counts cover every case the import wrote or checked."""

    dry_run: bool
    cases_rows: int = 0
    events_rows: int = 0
    cases_created: int = 0
    cases_updated: int = 0
    cases_unchanged: int = 0
    histories: int = 0
    events_created: int = 0
    events_deleted: int = 0
    events_unchanged: int = 0
    created_missing: dict[str, list[str]] = field(
        default_factory=lambda: {
            "teams": [],
            "representatives": [],
            "accounts": [],
            "categories": [],
        }
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "cases": {
                "rows": self.cases_rows,
                "created": self.cases_created,
                "updated": self.cases_updated,
                "unchanged": self.cases_unchanged,
            },
            "events": {
                "rows": self.events_rows,
                "histories": self.histories,
                "created": self.events_created,
                "deleted": self.events_deleted,
                "unchanged": self.events_unchanged,
            },
            "created_missing": self.created_missing,
        }
