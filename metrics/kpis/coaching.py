"""The coaching view of one rep: their figures beside their team's, for the same case mix.

Definitions (docs/metrics.md#coaching), the same as the resolution-time, first-response
and FCR endpoints use:
- *resolution time* (mean, median; seconds on ``f.basis``): the cases whose latest
  resolution is in the window (resolved or closed now), attributed to ``resolved_by``;
- *first response time* (mean, median): the cases whose first agent response is in the
  window, attributed to ``first_responder``;
- *FCR rate* (fcr@1): of those resolved cases with at least one agent response, the share
  with exactly one and never reopened (zero-touch cases are neither success nor failure);
- *reopen rate* (fcr@1): of those resolved cases, the share reopened at least once;
- *CSAT satisfied share*: survey answers in the window rating 4–5 of 5, attributed to the
  answer's representative (the rep who resolved the resolution it answers);
- *volume*: the number of those resolved cases.
- *The team* is the rep's teammates: cases of the rep's team attributed to someone other
  than the rep (or to nobody). The rep is left out so the two samples are independent.
- *Case mix* (indirect standardisation): for each figure, the team's value in each cell of
  category × channel × priority, weighted by the rep's own number of cases in that cell —
  the value the team would have had on the rep's mix. A rep cell the team has no cases in
  takes the team's overall value (``unmatched_n`` counts those cases).
- *Meaningful*: |z| ≥ 1.96 and at least ``min_n`` cases on each side; rates use the pooled
  two-proportion z test (the team side at its expected rate), durations a z test on means
  with the two standard deviations. Otherwise "no meaningful difference".
- *Month on month*: the rep's figures this calendar month (so far) against last month, in
  ``f.tz``, with the same tests.
- Nothing is ranked: the view compares a rep with the team's expectation, never with
  named colleagues.

Per-cell aggregates for every figure, side and period come from one SQL statement; the
standardisation is a weighted sum over those (at most a few hundred) cells.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from cases.models import Representative
from metrics.sql import fetch_dicts, slice_sql
from metrics.stats import Z95, default_min_n, two_proportion_z, wilson_interval
from metrics.types import KpiFilter

DEFINITION_VERSION = 1
Z_MEANINGFUL = 1.96
MIX_WORDS = "the same mix of category, channel and priority"

# figure → (label, kind)
FIGURES: dict[str, tuple[str, str]] = {
    "resolution_time": ("Resolution time", "duration"),
    "first_response_time": ("First response time", "duration"),
    "fcr": ("First contact resolution rate", "rate"),
    "reopen": ("Reopen rate", "rate"),
    "csat": ("CSAT satisfied share", "rate"),
    "volume": ("Volume (resolved cases)", "count"),
}


@dataclass(frozen=True)
class Side:
    """One side's figure: a share (rates), a mean in seconds with its median (durations),
    or a count (volume; for the team, per teammate who resolved anything)."""

    n: int
    value: float | None
    low: float | None
    high: float | None
    median: float | None
    insufficient_data: bool


@dataclass(frozen=True)
class Comparison:
    expected: float | None
    unmatched_n: int
    difference: float | None
    z: float | None
    meaningful: bool
    statement: str


@dataclass(frozen=True)
class MonthChange:
    this_month: Side
    last_month: Side
    change: float | None
    z: float | None
    meaningful: bool
    statement: str


@dataclass(frozen=True)
class CoachingFigure:
    figure: str
    label: str
    kind: str
    rep: Side
    team: Side
    vs_team: Comparison | None
    month_on_month: MonthChange


@dataclass(frozen=True)
class MixCell:
    category: int
    category_label: str | None
    channel: str
    priority: str
    rep_n: int
    team_n: int


@dataclass(frozen=True)
class CoachingResult:
    rep: int
    rep_label: str
    team: int
    team_label: str
    min_n: int
    this_month: str
    last_month: str
    figures: list[CoachingFigure]
    mix: list[MixCell]
    summary: str


@dataclass(frozen=True)
class _Stats:
    n: int = 0
    total: float = 0.0
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    people: int = 0


COACHING_SQL = """
WITH periods(period, p_start, p_end) AS (
    VALUES ('window', %(start)s::timestamptz, %(end)s::timestamptz),
           ('this_month', %(this_start)s::timestamptz, %(this_end)s::timestamptz),
           ('last_month', %(last_start)s::timestamptz, %(last_end)s::timestamptz)
),
resolved_cases AS (
    SELECT c.resolved_at AS ts, c.resolved_by_id AS who,
           c.team_id, c.category_id, c.channel, c.priority,
           c.{resolution_column}::float AS duration,
           -- Zero-touch resolutions are outside FCR: NULL is counted by neither side.
           CASE WHEN c.agent_response_count = 0 THEN NULL
                WHEN c.agent_response_count = 1 AND c.reopened_count = 0 THEN 1.0
                ELSE 0.0 END AS fcr,
           CASE WHEN c.reopened_count > 0 THEN 1.0 ELSE 0.0 END AS reopened
      FROM cases_case c
     WHERE c.resolved_at >= %(lo)s AND c.resolved_at < %(hi)s
       AND (c.resolved_by_id = %(rep)s OR c.team_id = %(team)s) AND {slice}
),
first_responses AS (
    SELECT c.first_response_at AS ts, c.first_responder_id AS who,
           c.team_id, c.category_id, c.channel, c.priority,
           c.{first_response_column}::float AS duration
      FROM cases_case c
     WHERE c.first_response_at >= %(lo)s AND c.first_response_at < %(hi)s
       AND (c.first_responder_id = %(rep)s OR c.team_id = %(team)s) AND {slice}
),
answers AS (
    SELECT s.responded_at AS ts, s.representative_id AS who,
           c.team_id, c.category_id, c.channel, c.priority,
           CASE WHEN s.csat >= 4 THEN 1.0 ELSE 0.0 END AS satisfied
      FROM cases_surveyresponse s
      JOIN cases_case c ON c.id = s.case_id
     WHERE s.responded_at >= %(lo)s AND s.responded_at < %(hi)s
       AND (s.representative_id = %(rep)s OR c.team_id = %(team)s) AND {slice}
),
facts AS (
    SELECT 'resolution_time' AS figure, ts, who, team_id, category_id, channel, priority,
           duration AS value FROM resolved_cases
    UNION ALL
    SELECT 'fcr', ts, who, team_id, category_id, channel, priority, fcr FROM resolved_cases
    UNION ALL
    SELECT 'first_response_time', ts, who, team_id, category_id, channel, priority, duration
      FROM first_responses
    UNION ALL
    SELECT 'reopen', ts, who, team_id, category_id, channel, priority, reopened
      FROM resolved_cases
    UNION ALL
    SELECT 'csat', ts, who, team_id, category_id, channel, priority, satisfied FROM answers
),
tagged AS (
    -- The team side is the teammates' (and nobody's) cases, in the window only.
    SELECT f.figure, p.period, CASE WHEN f.who = %(rep)s THEN 'rep' ELSE 'team' END AS side,
           f.who, f.category_id, f.channel, f.priority, f.value
      FROM facts f
      JOIN periods p ON f.ts >= p.p_start AND f.ts < p.p_end
     WHERE f.who = %(rep)s OR (f.team_id = %(team)s AND p.period = 'window')
),
agg AS (
    -- Plain aggregates only, so the planner can hash the grouping sets.
    SELECT figure, period, side, category_id, channel, priority,
           GROUPING(category_id, channel, priority) = 0 AS is_cell,
           count(value) AS n,
           coalesce(sum(value), 0)::float AS total,
           avg(value)::float AS mean,
           stddev_samp(value)::float AS sd
      FROM tagged
     GROUP BY GROUPING SETS ((figure, period, side, category_id, channel, priority),
                             (figure, period, side))
),
overall AS (
    -- Medians and head counts are needed per side only, not per cell.
    SELECT figure, period, side,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY value)::float AS median,
           count(DISTINCT who) AS people
      FROM tagged
     GROUP BY figure, period, side
)
SELECT agg.*, o.median, o.people, g.name AS category_name
  FROM agg
  LEFT JOIN overall o
    ON NOT agg.is_cell AND o.figure = agg.figure AND o.period = agg.period AND o.side = agg.side
  LEFT JOIN cases_category g ON g.id = agg.category_id
 ORDER BY agg.figure, agg.period, agg.side, g.name, agg.category_id, agg.channel, agg.priority
"""


def kpi_rep_coaching(
    *, f: KpiFilter, now: datetime, rep_id: int, min_n: int | None = None
) -> CoachingResult:
    """One rep's figures beside their teammates', adjusted for case mix, with the
    differences that are statistically meaningful named in words; and the rep's change from
    last month to this one (calendar months in ``f.tz``, relative to ``now``).

    The slice's category/channel/priority/segment filters apply to both sides; its team and
    rep filters do not (the rep is ``rep_id``, the team is the rep's own).
    """
    min_n = default_min_n() if min_n is None else min_n
    rep = (
        Representative.objects.filter(pk=rep_id)
        .values("id", "display_name", "team_id", "team__name")
        .get()
    )
    this_start, this_end, last_start = _month_starts(now, f)
    condition, params = slice_sql(replace(f, rep_ids=None, team_ids=None), alias="c")
    duration = "business_seconds" if f.basis == "business" else "seconds"
    rows = fetch_dicts(
        COACHING_SQL.format(
            slice=condition,
            resolution_column=f"resolution_{duration}",
            first_response_column=f"first_response_{duration}",
        ),
        {
            "start": f.start,
            "end": f.end,
            "this_start": this_start,
            "this_end": this_end,
            "last_start": last_start,
            "last_end": this_start,
            "lo": min(f.start, last_start),
            "hi": max(f.end, this_end),
            "rep": rep["id"],
            "team": rep["team_id"],
            **params,
        },
    )
    overall: dict[tuple[str, str, str], _Stats] = {}
    cells: dict[tuple[str, str, str], dict[tuple[int, str, str], _Stats]] = {}
    names: dict[int, str | None] = {}
    for r in rows:  # per-cell and per-side aggregates, at most a few hundred
        stats = _Stats(
            n=int(r["n"]),
            total=float(r["total"]),
            mean=r["mean"],
            sd=r["sd"],
            median=r["median"],
            people=int(r["people"] or 0),
        )
        slot = (r["figure"], r["period"], r["side"])
        if r["is_cell"]:
            cell = (r["category_id"], r["channel"], r["priority"])
            cells.setdefault(slot, {})[cell] = stats
            names[r["category_id"]] = r["category_name"]
        else:
            overall[slot] = stats

    figures = [
        _figure(name, label, kind, overall, cells, min_n) for name, (label, kind) in FIGURES.items()
    ]
    mix_slot = cells.get(("reopen", "window", "rep"), {})
    team_mix = cells.get(("reopen", "window", "team"), {})
    mix = [
        MixCell(cell[0], names.get(cell[0]), cell[1], cell[2], s.n, team_mix.get(cell, _Stats()).n)
        for cell, s in mix_slot.items()
    ]
    return CoachingResult(
        rep=rep["id"],
        rep_label=rep["display_name"],
        team=rep["team_id"],
        team_label=rep["team__name"],
        min_n=min_n,
        this_month=_month_label(this_start.astimezone(f.tz).date()),
        last_month=_month_label(last_start.astimezone(f.tz).date()),
        figures=figures,
        mix=mix,
        summary=_summary(figures),
    )


def _figure(
    name: str,
    label: str,
    kind: str,
    overall: dict[tuple[str, str, str], _Stats],
    cells: dict[tuple[str, str, str], dict[tuple[int, str, str], _Stats]],
    min_n: int,
) -> CoachingFigure:
    source = "reopen" if kind == "count" else name

    def stats(period: str, side: str) -> _Stats:
        return overall.get((source, period, side), _Stats())

    rep, team = stats("window", "rep"), stats("window", "team")
    this_month, last_month = stats("this_month", "rep"), stats("last_month", "rep")
    if kind == "count":
        return CoachingFigure(
            figure=name,
            label=label,
            kind=kind,
            rep=_count_side(rep.n),
            team=_count_side(team.n, team.people),
            vs_team=None,
            month_on_month=MonthChange(
                this_month=_count_side(this_month.n),
                last_month=_count_side(last_month.n),
                change=float(this_month.n - last_month.n),
                z=None,
                meaningful=False,
                statement=f"{label}: {this_month.n} this month so far, {last_month.n} last "
                "month (context, not tested).",
            ),
        )
    expected, unmatched = _expected(
        cells.get((name, "window", "rep"), {}), cells.get((name, "window", "team"), {}), team
    )
    z = _z(kind, rep, team, expected)
    comparable = rep.n >= min_n and team.n >= min_n and rep.mean is not None
    month_z = _z(kind, this_month, last_month, last_month.mean)
    month_comparable = this_month.n >= min_n and last_month.n >= min_n
    return CoachingFigure(
        figure=name,
        label=label,
        kind=kind,
        rep=_side(kind, rep, min_n),
        team=_side(kind, team, None),  # a group, not one rep: always shown
        vs_team=_comparison(label, kind, rep, team, expected, unmatched, z, comparable, min_n),
        month_on_month=_month_change(
            label, kind, this_month, last_month, month_z, month_comparable, min_n
        ),
    )


def _expected(
    rep_cells: dict[tuple[int, str, str], _Stats],
    team_cells: dict[tuple[int, str, str], _Stats],
    team: _Stats,
) -> tuple[float | None, int]:
    """Indirect standardisation: Σ rep n(cell) × team value(cell) / Σ rep n(cell).

    A cell the team has no cases in falls back to the team's overall value."""
    weighted, weight, unmatched = 0.0, 0, 0
    for cell, stats in rep_cells.items():
        if stats.n == 0:
            continue
        reference = team_cells.get(cell)
        if reference is None or reference.n == 0 or reference.mean is None:
            unmatched += stats.n
            value = team.mean
        else:
            value = reference.mean
        if value is None:
            return None, unmatched
        weighted += stats.n * value
        weight += stats.n
    return (weighted / weight if weight else None), unmatched


def _z(kind: str, first: _Stats, second: _Stats, second_value: float | None) -> float | None:
    """z of ``first`` against ``second`` taken at ``second_value`` (its expected value)."""
    if first.n == 0 or second.n == 0 or second_value is None or first.mean is None:
        return None
    if kind == "rate":
        # The second side's successes at its expected rate: fractional after standardising.
        expected_successes: Any = second_value * second.n
        return two_proportion_z(round(first.total), first.n, expected_successes, second.n)
    if first.sd is None or second.sd is None:
        return None
    variance = first.sd**2 / first.n + second.sd**2 / second.n
    if variance == 0:
        return None
    return (first.mean - second_value) / math.sqrt(variance)


def _side(kind: str, stats: _Stats, min_n: int | None) -> Side:
    """One side's figure; ``min_n`` (for the rep's own figures) withholds small samples."""
    insufficient = min_n is not None and stats.n < min_n
    if insufficient or stats.mean is None:
        return Side(stats.n, None, None, None, None, insufficient)
    if kind == "rate":
        interval = wilson_interval(round(stats.total), stats.n)
        return Side(stats.n, interval.value, interval.low, interval.high, None, False)
    low = high = None
    if stats.sd is not None:
        half = Z95 * stats.sd / math.sqrt(stats.n)
        low, high = max(0.0, stats.mean - half), stats.mean + half
    return Side(stats.n, stats.mean, low, high, stats.median, False)


def _count_side(n: int, people: int | None = None) -> Side:
    value = float(n) if people is None else (n / people if people else None)
    return Side(n, value, None, None, None, False)


def _words(kind: str, value: float | None) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.0f}%"
    return f"{value / 3600:.1f} h"


def _direction(kind: str, difference: float) -> str:
    if kind == "duration":
        return "longer" if difference > 0 else "shorter"
    return "higher" if difference > 0 else "lower"


def _comparison(
    label: str,
    kind: str,
    rep: _Stats,
    team: _Stats,
    expected: float | None,
    unmatched: int,
    z: float | None,
    comparable: bool,
    min_n: int,
) -> Comparison:
    """The rep against the team's expectation; below ``min_n`` on either side, no numbers."""
    sizes = f"n = {rep.n} and {team.n}"
    if not comparable or expected is None or rep.mean is None:
        return Comparison(
            expected=None,
            unmatched_n=unmatched,
            difference=None,
            z=None,
            meaningful=False,
            statement=f"{label}: not enough data to compare ({sizes}; at least {min_n} needed "
            "on each side).",
        )
    meaningful = z is not None and abs(z) >= Z_MEANINGFUL
    what = "mean" if kind == "duration" else "share"
    values = f"{what} {_words(kind, rep.mean)} against {_words(kind, expected)} expected"
    if meaningful:
        statement = (
            f"{label}: {values} from the team for {MIX_WORDS} ({sizes}) — a statistically "
            f"meaningful difference: {_direction(kind, rep.mean - expected)}."
        )
    else:
        statement = (
            f"{label}: no meaningful difference from the team for {MIX_WORDS} ({values}; {sizes})."
        )
    return Comparison(expected, unmatched, rep.mean - expected, z, meaningful, statement)


def _month_change(
    label: str,
    kind: str,
    this_month: _Stats,
    last_month: _Stats,
    z: float | None,
    comparable: bool,
    min_n: int,
) -> MonthChange:
    """The rep's month so far against last month; below ``min_n`` in either, no numbers."""
    sides = (_side(kind, this_month, min_n), _side(kind, last_month, min_n))
    sizes = f"n = {this_month.n} and {last_month.n}"
    if not comparable or this_month.mean is None or last_month.mean is None:
        return MonthChange(
            *sides,
            change=None,
            z=None,
            meaningful=False,
            statement=f"{label}: not enough data to compare this month with last ({sizes}; "
            f"at least {min_n} needed in each).",
        )
    meaningful = z is not None and abs(z) >= Z_MEANINGFUL
    change = this_month.mean - last_month.mean
    values = f"{_words(kind, this_month.mean)} this month so far, {_words(kind, last_month.mean)}"
    verdict = (
        f"a statistically meaningful change: {_direction(kind, change)}"
        if meaningful
        else "no meaningful change"
    )
    return MonthChange(
        *sides, change, z, meaningful, f"{label}: {values} last month ({sizes}) — {verdict}."
    )


def _summary(figures: Iterable[CoachingFigure]) -> str:
    compared = [fig for fig in figures if fig.vs_team is not None]
    meaningful = [fig for fig in compared if fig.vs_team and fig.vs_team.meaningful]
    if not meaningful:
        return (
            f"No statistically meaningful difference from the team for {MIX_WORDS} in any figure."
        )
    named = ", ".join(
        f"{_in_sentence(fig.label)} ({_direction(fig.kind, fig.vs_team.difference or 0.0)})"
        for fig in meaningful
        if fig.vs_team
    )
    rest = [_in_sentence(fig.label) for fig in compared if fig not in meaningful]
    tail = f" No meaningful difference in: {', '.join(rest)}." if rest else ""
    return f"Statistically meaningful differences from the team for {MIX_WORDS}: {named}.{tail}"


def _in_sentence(label: str) -> str:
    """A label inside a sentence: "Reopen rate" → "reopen rate"; "CSAT …" stays."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _month_starts(now: datetime, f: KpiFilter) -> tuple[datetime, datetime, datetime]:
    """This month's start and end and last month's start (calendar months in ``f.tz``)."""
    local = now.astimezone(f.tz).date().replace(day=1)
    previous = date(local.year - (local.month == 1), (local.month - 2) % 12 + 1, 1)
    following = date(local.year + (local.month == 12), local.month % 12 + 1, 1)

    def at(day: date) -> datetime:
        return datetime(day.year, day.month, 1, tzinfo=f.tz).astimezone(UTC)

    return at(local), at(following), at(previous)


def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def method(min_n: int) -> dict[str, str]:
    """How the comparison is made, in words, to show beside the figures."""
    return {
        "team": "The rep's teammates: cases of the rep's team attributed to someone else "
        "(or to nobody). The rep is left out so that the two samples are independent.",
        "case_mix": f"Each team figure is the value the team would have on {MIX_WORDS} as "
        "the rep's own cases (indirect standardisation over category × channel × priority).",
        "meaningful": f"A difference is called meaningful when |z| ≥ {Z_MEANINGFUL} and both "
        f"sides have at least {min_n} cases; rates use a two-proportion z test, durations a "
        "z test on means. Anything else is reported as no meaningful difference.",
        "ranking": "Reps are never ranked; each rep is compared with their team's expectation.",
    }
