"""What the rollup tables hold: their keys and their measures (one place for DDL and reads).

Every table is keyed by a UTC ``day`` and a few case dimensions, and each measure is an
array of 25 *cumulative* hourly counts: ``m[k + 1]`` (PostgreSQL arrays start at 1) is the
number of things that happened on that UTC day before ``k:00`` UTC, for k = 0 … 24. So
``m[1]`` is always 0, ``m[25]`` is the day's total and the count in the hours [a, b) is
``m[b + 1] − m[a + 1]``: any run of whole UTC hours costs two subscripts. A whole-hour
time zone's local hours, days, weeks and months are runs of whole UTC hours, so the
rollups answer calendar buckets in such a zone exactly (metrics.rollups.read).

Measures and their sources:

- ``opened``: a case, at ``opened_at``, under the case's current dimensions.
- ``resolved`` / ``reopened``: a ``resolved`` / ``reopened`` CaseEvent, at ``occurred_at``,
  under the current dimensions of its case (so reassigning a case moves its history).
- ``resolved_by_rep``: a ``resolved`` CaseEvent under its *actor* (the rep who resolved),
  with the case's current team.
- The resolution measures (``RESOLUTION_MEASURES``): a case whose ``resolved_at`` is set
  (resolved or closed now), at ``resolved_at``, under its current team (only), from its
  folded counts — every such case counts in
  ``resolved_cases``; ``zero_touch`` (no agent response), ``touched`` (≥ 1),
  ``one_touch`` (exactly 1 and never reopened) and ``reopened_cases`` (reopened ≥ once)
  as the first contact resolution KPI defines them (metrics.kpis.fcr).

Dimensions are the case's ``team_id``, ``category_id`` and, as ``rep_id``, its
``assignee_id`` (the actor for ``resolved_by_rep``). Tables are kept coarse on purpose: a
table with every dimension would have about one row per case and be no faster than the
case table.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS = 24
SLOTS = HOURS + 1  # cumulative counts at each hour boundary 0:00 … 24:00

# Facts of a case row as it stands (added back when the row changes)…
RESOLUTION_MEASURES = ("resolved_cases", "zero_touch", "touched", "one_touch", "reopened_cases")
CASE_MEASURES = ("opened", *RESOLUTION_MEASURES)
# …and of its events.
EVENT_MEASURES = ("resolved", "reopened", "resolved_by_rep")


@dataclass(frozen=True)
class RollupTable:
    """One rollup table: its name, its key dimensions (besides ``day``) and its measures.

    ``key`` is the unique key in index order (the order rows are upserted in, so that
    concurrent writers lock rows in the same order); ``day`` is last, so a slice by the
    leading dimension reads a contiguous index range.
    """

    name: str
    dims: tuple[str, ...]
    measures: tuple[str, ...]
    # Rows only for facts with this dimension set (the rep table skips unassigned cases).
    required: tuple[str, ...] = ()

    @property
    def key_index(self) -> str:
        """The unique key's index (``metrics.models``: ``rollup_<table>_key``)."""
        return f"rollup_{self.name.removeprefix('metrics_rollup_')}_key"

    @property
    def live(self) -> str:
        """The view readers use: the table's rows plus the facts not folded in yet."""
        return f"{self.name}_live"

    @property
    def key(self) -> tuple[str, ...]:
        return (*self.dims, "day")

    @property
    def event_measures(self) -> tuple[str, ...]:
        return tuple(m for m in self.measures if m in EVENT_MEASURES)


# Cases opened per category: seasonality (heatmap, months, seasonal index, forecast) of
# everything or of categories. A tenth of the rows of the team × category table.
CATEGORY_DAY = RollupTable(
    name="metrics_rollup_category_day",
    dims=("category_id",),
    measures=("opened",),
)
# Cases opened per team × category: the same for a team's slice.
OPENED_DAY = RollupTable(
    name="metrics_rollup_opened_day",
    dims=("team_id", "category_id"),
    measures=("opened",),
)
# The backlog's flows per team: the daily trend and the count open before a window.
BACKLOG_DAY = RollupTable(
    name="metrics_rollup_backlog_day",
    dims=("team_id",),
    measures=("opened", "resolved", "reopened"),
)
# The same flows per assignee (and team), with the resolutions each rep made: the weekly
# backlog against each rep's own history.
REP_DAY = RollupTable(
    name="metrics_rollup_rep_day",
    dims=("rep_id", "team_id"),
    measures=("opened", "resolved", "reopened", "resolved_by_rep"),
    required=("rep_id",),
)

# The cases resolved (latest resolution) per team, with their first-contact counts: FCR
# and the reopen rate of everything or of a team, overall or per team.
RESOLVED_DAY = RollupTable(
    name="metrics_rollup_resolved_day",
    dims=("team_id",),
    measures=RESOLUTION_MEASURES,
)

TABLES = (CATEGORY_DAY, OPENED_DAY, BACKLOG_DAY, REP_DAY, RESOLVED_DAY)

# Facts the triggers wrote and no transaction has folded into the tables yet (per UTC hour).
PENDING = "metrics_rollup_pending"

# Dimension name in a KpiFilter slice → the rollup column it filters.
FILTER_DIMS = {"team": "team_id", "category": "category_id", "rep": "rep_id"}
