"""Writes to the case domain. Import from here; the submodules are an implementation detail."""

from cases.services.categories import category_set_active
from cases.services.lifecycle import case_create, case_event_record, case_update
from cases.services.snapshot_upserts import case_snapshot_upsert, case_snapshots_upsert
from cases.services.snapshots import snapshot_errors

__all__ = [
    "case_create",
    "case_event_record",
    "case_snapshot_upsert",
    "case_snapshots_upsert",
    "case_update",
    "category_set_active",
    "snapshot_errors",
]
