"""Reading an uploaded CSV: UTF-8, a header naming known columns, rows with line numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from cases.imports.columns import Column
from cases.imports.report import ErrorLog


class FileProblem(Exception):
    """The file as a whole cannot be read as the expected CSV; no row is looked at."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class CsvFile:
    """One CSV file of an import. ``name`` is "cases" or "events" (also the upload field)."""

    def __init__(self, stream: IO[bytes] | IO[str], *, name: str, columns: tuple[Column, ...]):
        self.name = name
        self.rows_read = 0
        text: IO[str] = (
            stream  # type: ignore[assignment]
            if isinstance(stream, io.TextIOBase)
            # utf-8-sig: spreadsheet programs put a byte-order mark in front of "UTF-8 CSV".
            else io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
        )
        # strict: a stray quote is an error, not a silently merged cell.
        self._reader = csv.reader(text, strict=True)
        with self._translated_errors():
            header = next(self._reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise FileProblem(name, "The file is empty; its first line must be the header.")
        self.index = self._check_header(header, columns)
        self.width = len(header)

    def _check_header(self, header: list[str], columns: tuple[Column, ...]) -> dict[str, int]:
        names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
        known = {column.name for column in columns}
        problems = []
        unknown = [name for name in names if name not in known]
        if unknown:
            problems.append(f"unknown column(s) {', '.join(map(repr, unknown))}")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"duplicate column(s) {', '.join(duplicates)}")
        missing = [c.name for c in columns if c.required and c.name not in names]
        if missing:
            problems.append(f"missing required column(s) {', '.join(missing)}")
        if problems:
            raise FileProblem(
                self.name,
                f"Line 1 must be the header of the {self.name} CSV file: {'; '.join(problems)}. "
                f"Columns: {', '.join(c.name for c in columns)}.",
            )
        return {name: position for position, name in enumerate(names)}

    def rows(self, errors: ErrorLog) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, cells)``; ``line`` is where the row starts, the header being line 1.

        Blank lines are skipped; a row with more or fewer cells than the header is an error.
        """
        reader, width = self._reader, self.width
        end = reader.line_num
        with self._translated_errors():
            for cells in reader:
                start, end = end + 1, reader.line_num
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                self.rows_read += 1
                if len(cells) != width:
                    errors.add(
                        self.name,
                        start,
                        None,
                        f"The row has {len(cells)} cells; the header has {width}.",
                    )
                    continue
                yield start, cells

    @contextmanager
    def _translated_errors(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as error:
            raise FileProblem(
                self.name,
                f"The file is not UTF-8 text (byte {error.object[error.start]:#04x} near "
                f"line {self._reader.line_num + 1}); save it as CSV UTF-8.",
            ) from None
        except csv.Error as error:
            raise FileProblem(
                self.name, f"Not a valid CSV file (line {self._reader.line_num}): {error}."
            ) from None
