"""Small numpy helpers shared by the demo generator.

Kept free of Django so the generator can run (and be profiled) on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

DAY = 86_400
HOUR = 3_600
# Keeps ``row + u`` strictly inside its row even when float rounding bites near 1.0.
_U_MAX = 1.0 - 1e-9


class RowSampler:
    """Draws one column per row from a matrix of non-negative weights (rows x k).

    All rows are laid end to end as ``row + normalised cumulative weight`` so a whole batch
    of draws, each from its own row, is one ``searchsorted``.
    """

    def __init__(self, weights: np.ndarray) -> None:
        weights = np.asarray(weights, dtype=np.float64)
        rows, self.k = weights.shape
        cum = np.cumsum(weights, axis=1)
        total = cum[:, -1:]
        self.empty = total[:, 0] <= 0
        norm = np.divide(cum, total, out=np.ones_like(cum), where=total > 0)
        norm[:, -1] = 1.0
        self.flat = (np.arange(rows, dtype=np.float64)[:, None] + norm).ravel()

    def sample(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Column index for each ``rows[i]``, using the uniform draws ``u`` in [0, 1)."""
        rows = np.asarray(rows, dtype=np.int64)
        x = rows + np.asarray(u) * _U_MAX
        idx = np.searchsorted(self.flat, x, side="right")
        return np.minimum(idx - rows * self.k, self.k - 1)


def choice(rng: np.random.Generator, weights: np.ndarray | list[float], n: int) -> np.ndarray:
    """``n`` draws of an index with the given weights."""
    w = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(w), size=n, p=w / w.sum())


def lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int):
    """Lognormal draws with the given median (a duration model: skewed, never negative)."""
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def segment_cumsum(values: np.ndarray, starts: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each group.

    ``group`` is the (sorted) group of each element and ``starts`` the index where each group
    begins.
    """
    total = np.cumsum(values)
    before = total[starts] - values[starts]
    return total - before[group]


def group_starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group, given the group sizes."""
    return np.cumsum(counts) - counts


def first_and_last(
    group: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a sorted ``group`` array: (groups, first index, last index) among masked elements."""
    idx = np.flatnonzero(mask)
    g = group[idx]
    if len(g) == 0:
        return g, idx, idx
    change = np.flatnonzero(g[1:] != g[:-1])
    first = idx[np.r_[0, change + 1]]
    last = idx[np.r_[change, len(g) - 1]]
    return g[np.r_[0, change + 1]], first, last


def utc(seconds: int | float) -> datetime:
    """An aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)
