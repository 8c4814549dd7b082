"""The two CSV formats (cases file, events file) and how one cell is read.

docs/import.md documents every column listed here; a test keeps the two in step.
Cell readers raise ``CellError`` with the message shown to the importer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils.dateparse import parse_datetime

from cases.fields import AwareDateTimeField
from cases.imports.report import ErrorLog
from cases.models import CaseEvent, CaseStatus, Channel, Priority


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    format: str
    example: str


CASES_COLUMNS: tuple[Column, ...] = (
    Column("external_id", True, "text, at most 120 characters", "ZD-10442"),
    Column("source", False, "slug, at most 64 characters", "zendesk"),
    Column("opened_at", True, "ISO 8601 timestamp with offset", "2026-03-02T09:00:00+01:00"),
    Column("channel", True, "one of " + ", ".join(Channel.values), "email"),
    Column("category", True, "category slug", "billing"),
    Column("status", False, "one of " + ", ".join(CaseStatus.values), "resolved"),
    Column("priority", False, "one of " + ", ".join(Priority.values), "high"),
    Column("account", False, "account external id", "ACC-00017"),
    Column("team", False, "team name", "Alpha"),
    Column("assignee", False, "representative username", "rep_a1"),
    Column("resolved_by", False, "representative username", "rep_a1"),
    Column("first_responder", False, "representative username", "rep_a2"),
    Column("assigned_at", False, "ISO 8601 timestamp with offset", "2026-03-02T09:05:00Z"),
    Column("first_response_at", False, "ISO 8601 timestamp with offset", "2026-03-02T09:30:00Z"),
    Column("resolved_at", False, "ISO 8601 timestamp with offset", "2026-03-02T15:00:00Z"),
    Column("closed_at", False, "ISO 8601 timestamp with offset", "2026-03-05T15:00:00Z"),
    Column("agent_response_count", False, "integer 0-100000", "3"),
    Column("reopened_count", False, "integer 0-10000", "0"),
    Column("subject", False, "text, at most 300 characters", "Invoice shows the wrong VAT"),
    Column("requester_email", False, "e-mail address", "ana@example.org"),
    Column("requester_name", False, "text, at most 200 characters", "Ana Lima"),
)

EVENTS_COLUMNS: tuple[Column, ...] = (
    Column("case_external_id", True, "the case's external_id", "ZD-10442"),
    Column("source", False, "slug, at most 64 characters", "zendesk"),
    Column("event_type", True, "one of " + ", ".join(CaseEvent.Type.values), "agent_response"),
    Column("occurred_at", True, "ISO 8601 timestamp with offset", "2026-03-02T09:30:00Z"),
    Column("actor", False, "representative username", "rep_a1"),
    Column("assignee", False, "representative username (assigned events only)", "rep_a2"),
    Column("to_status", False, "open or pending (status_changed events only)", "pending"),
)

MAX_LENGTHS = {
    "external_id": 120,
    "case_external_id": 120,
    "subject": 300,
    "requester_name": 200,
    "requester_email": 254,
    "account": 120,
    "team": 120,
    "category": 120,
}
INT_RANGES = {"agent_response_count": (0, 100_000), "reopened_count": (0, 10_000)}

NAIVE_MESSAGE = AwareDateTimeField.default_error_messages["naive"]
_EMAIL_USER = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
_EMAIL_DOMAIN = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")


class CellError(ValueError):
    """A cell that cannot be read; its message is shown to the importer as is."""


def read_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp with an offset, in UTC; parsed and refused like the API does."""
    if text.endswith("z"):  # RFC 3339 allows a lower-case "z"; Python's parser does not
        text = text[:-1] + "Z"
    try:
        value = parse_datetime(text)
    except ValueError as error:
        raise CellError(f"{text!r} is not a valid timestamp: {error}.") from None
    if value is None:
        raise CellError(f"{text!r} is not an ISO 8601 timestamp such as 2026-03-02T09:00:00+01:00.")
    if value.tzinfo is None:
        raise CellError(NAIVE_MESSAGE)
    return value.astimezone(UTC)


def read_choice(text: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    if text not in choices:
        raise CellError(f"{text!r} is not a valid choice; use one of {', '.join(choices)}.")
    return text


def read_int(text: str, name: str) -> int:
    low, high = INT_RANGES[name]
    try:
        value = int(text)
    except ValueError:
        raise CellError(f"{text!r} is not a whole number.") from None
    if not low <= value <= high:
        raise CellError(f"Must be between {low} and {high}.")
    return value


def read_slug(text: str, what: str) -> str:
    if len(text) > 64 and what == "source":
        raise CellError(f"A source has at most 64 characters; got {len(text)}.")
    if not _SLUG.match(text):
        raise CellError(f"{text!r} is not a valid {what}: use letters, digits, '-' and '_'.")
    return text


def read_email(text: str) -> str:
    """The rule of the model's EmailField, so an imported address passes ``full_clean`` later."""
    user, _, domain = text.rpartition("@")
    # Django's own patterns, compiled here once: its validator goes through lazy regex
    # proxies that cost more than the match. Anything they refuse gets the full validator
    # (internationalised domains, address literals), so the rule stays exactly Django's.
    if user and _EMAIL_USER.match(user) and _EMAIL_DOMAIN.match(domain):
        return text
    try:
        validate_email(text)
    except ValidationError:
        raise CellError(f"{text!r} is not a valid e-mail address.") from None
    return text


class RowReader:
    """Reads the cells of one file's rows into values, reporting each bad cell.

    ``readers`` maps each column to a function (text → value, raising CellError) or None
    for plain text. An empty cell gets the column's default, a bad one None.
    """

    def __init__(
        self,
        file: str,
        index: dict[str, int],
        readers: dict[str, Callable[[str], Any] | None],
        *,
        required: frozenset[str],
        defaults: dict[str, Any],
    ) -> None:
        self.file = file
        self._specs = [
            (
                name,
                index.get(name),
                reader,
                name in required,
                defaults.get(name, ""),
                MAX_LENGTHS.get(name),
            )
            for name, reader in readers.items()
        ]

    def read(self, raw: list[str], line: int, errors: ErrorLog) -> tuple[dict[str, Any], bool]:
        """The row's values, and whether every cell could be read."""
        cells: dict[str, Any] = {}
        ok = True
        for name, position, reader, required, default, limit in self._specs:
            value = raw[position].strip() if position is not None else ""
            if not value:
                if required:
                    errors.add(self.file, line, name, "This column is required.")
                    ok = False
                cells[name] = default
            elif limit is not None and len(value) > limit:
                errors.add(self.file, line, name, f"At most {limit} characters; got {len(value)}.")
                ok = False
                cells[name] = None
            elif reader is None:
                cells[name] = value
            else:
                try:
                    cells[name] = reader(value)
                except CellError as error:
                    errors.add(self.file, line, name, str(error))
                    ok = False
                    cells[name] = None
        return cells, ok
