"""CSV import of a help desk's past (cases file, events file). See docs/import.md.

Import from here; the submodules are an implementation detail.
"""

from cases.imports.columns import CASES_COLUMNS, EVENTS_COLUMNS, Column
from cases.imports.report import ERROR_CAP, CaseImportError, ImportReport
from cases.imports.service import DEFAULT_SOURCE, case_import

__all__ = [
    "CASES_COLUMNS",
    "DEFAULT_SOURCE",
    "ERROR_CAP",
    "EVENTS_COLUMNS",
    "CaseImportError",
    "Column",
    "ImportReport",
    "case_import",
]
