"""Rollup tables: hourly-cumulative counts per UTC day that answer the slow KPIs exactly.

``spec`` says what the tables hold, ``ddl`` the triggers that keep them current, ``read``
when and how a KPI reads them, ``services`` the rebuild, its check and the compaction.
"""

from metrics.rollups.services import (
    RollupDifference,
    rollups_check,
    rollups_compact,
    rollups_rebuild,
)

__all__ = ["RollupDifference", "rollups_check", "rollups_compact", "rollups_rebuild"]
