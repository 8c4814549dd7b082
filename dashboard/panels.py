"""What a dashboard page is made of: panels holding figure tiles, a chart and its table.

Every chart has a table with the same numbers (the accessible fallback, and what is shown
without JavaScript), and figures link to the cases behind them: the case list with the
page's filters (``metrics.drilldown``). Numbers are formatted here, once, for tables and tiles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EMPTY = "—"


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    numeric: bool = False
    header: bool = False  # the row's label: rendered as <th scope="row">


@dataclass(frozen=True)
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""


@dataclass(frozen=True)
class Tile:
    """One headline figure: its value in words, the interval and sample size behind it."""

    label: str
    value: str
    detail: str = ""
    href: str | None = None
    link_text: str = "cases"


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    description: str = ""
    tiles: list[Tile] = field(default_factory=list)
    chart: dict[str, Any] | None = None
    chart_label: str = ""  # what the chart shows, for screen readers
    chart_height: int = 260
    tables: list[Table] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (text, case-list URL)
    wide: bool = False


def row_label(text: str, href: str | None = None) -> Cell:
    return Cell(text, href=href, header=True)


def num(text: str, href: str | None = None) -> Cell:
    return Cell(text, href=href, numeric=True)


# --- number formats -----------------------------------------------------------------------


def count(n: int | None) -> str:
    return EMPTY if n is None else f"{n:,}"


def percent(value: float | None, digits: int = 1) -> str:
    return EMPTY if value is None else f"{value * 100:.{digits}f}%"


def percent_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return EMPTY
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def duration(seconds: float | None) -> str:
    """Seconds in the unit a person reads them in: minutes, hours or days."""
    if seconds is None:
        return EMPTY
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def duration_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return EMPTY
    return f"{duration(low)} – {duration(high)}"


def decimal(value: float | None, digits: int = 2) -> str:
    return EMPTY if value is None else f"{value:.{digits}f}"


def insufficient(n: int, min_n: int) -> str:
    """The words for a per-rep figure below the minimum sample: never a number, never a bar."""
    return f"insufficient data (n = {n}; {min_n} needed)"
