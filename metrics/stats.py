"""Small statistics helpers applied to figures the database already aggregated."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings

from metrics.types import Interval

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval for a proportion: well-behaved for small n and for 0% or 100%."""
    if n <= 0:
        return Interval(None, None, None)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # The bounds are exactly 0 and 1 at the extremes; floating point leaves 1e-17 crumbs.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high)


def gini(values: list[float]) -> float | None:
    """Gini coefficient of non-negative values (0 = perfectly even, → 1 = all on one)."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return None
    ordered = sorted(values)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return (2 * weighted) / (n * total) - (n + 1) / n


def two_proportion_z(s1: float, n1: int, s2: float, n2: int) -> float | None:
    """z statistic for the difference of two proportions (pooled); None when undefined."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return None
    return (s1 / n1 - s2 / n2) / math.sqrt(variance)


def default_min_n() -> int:
    """The smallest sample a per-rep figure is reported for (SUPPORTMETRICS_MIN_SAMPLE)."""
    return int(settings.SUPPORTMETRICS_MIN_SAMPLE)


@dataclass(frozen=True)
class Proportion:
    """``count`` of ``n`` with its 95% Wilson interval; value None when n is 0 or when a
    per-rep figure is below the minimum sample (then ``insufficient_data``)."""

    n: int
    count: int
    value: float | None
    low: float | None
    high: float | None
    insufficient_data: bool = False


def proportion(count: int, n: int, *, min_n: int | None = None) -> Proportion:
    """A Proportion; pass ``min_n`` only for per-rep figures."""
    if min_n is not None and n < min_n:
        return Proportion(n=n, count=count, value=None, low=None, high=None, insufficient_data=True)
    interval = wilson_interval(count, n)
    return Proportion(n=n, count=count, value=interval.value, low=interval.low, high=interval.high)
