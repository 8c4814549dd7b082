"""Plain, frozen data that KPI functions take and return (never models or QuerySets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class KpiFilter:
    """What a KPI is asked about: a half-open window [start, end) in aware UTC, and a slice.

    ``tz`` is the calendar used for day/week/month buckets (the team's, or a requested one).
    ``rep_ids``/``team_ids`` already carry the caller's role scope: ``None`` means "all".
    """

    start: datetime
    end: datetime
    tz: ZoneInfo
    team_ids: tuple[int, ...] | None = None
    rep_ids: tuple[int, ...] | None = None
    category_ids: tuple[int, ...] | None = None
    channels: tuple[str, ...] | None = None
    priorities: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    basis: str = "calendar"  # or "business": which stored duration to use

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


@dataclass(frozen=True)
class Interval:
    """A proportion with its 95% Wilson score interval."""

    value: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class DurationStats:
    """Mean, median and p90 of a duration in seconds, over n cases."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Row:
    """One group of a grouped figure: the group's key, its values and its sample size."""

    key: dict[str, object]
    n: int
    values: dict[str, object] = field(default_factory=dict)
