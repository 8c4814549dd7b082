"""The audit trail: who changed categories, teams, representatives and case assignments.

Database triggers (django-pghistory on django-pgtrigger) write one event row per change, so
every writer is covered: the ORM, the admin, the raw SQL upserts of the bulk API and the
CSV import. Each event points at a ``pghistory.Context`` whose metadata says who: the
request's user and URL (``pghistory.middleware.HistoryMiddleware``), or the command or
Celery task that ran the service (``cases.audit``).

Categories, teams and representatives keep a full snapshot per insert, update and delete.
A case keeps only its assignee and team, before and after, and only when one of them
changes: the trigger's WHEN clause is evaluated by PostgreSQL without calling a function,
so inserts and other updates (statuses, durations, ingest) cost nothing, and the requester's
address is never copied into the audit tables.
"""

from __future__ import annotations

from typing import Any, cast

import pghistory
import pgtrigger
from django.db import models
from pghistory import config as pghistory_config

from cases.models.core import Case, Category, Representative, Team

AUDIT_LEVEL = pghistory.Row


def _snapshot_trackers() -> tuple[pghistory.RowEvent, ...]:
    return (
        pghistory.InsertEvent(trigger_name="audit_insert", level=AUDIT_LEVEL),
        pghistory.UpdateEvent(trigger_name="audit_update", level=AUDIT_LEVEL),
        pghistory.DeleteEvent(trigger_name="audit_delete", level=AUDIT_LEVEL),
    )


def _obj_field() -> pghistory.ObjForeignKey:
    return pghistory.ObjForeignKey(related_name="audit_events")


CategoryAuditEvent = pghistory.create_event_model(
    Category,
    *_snapshot_trackers(),
    obj_field=_obj_field(),
    model_name="CategoryAuditEvent",
    abstract=False,
)
TeamAuditEvent = pghistory.create_event_model(
    Team, *_snapshot_trackers(), obj_field=_obj_field(), model_name="TeamAuditEvent", abstract=False
)
RepresentativeAuditEvent = pghistory.create_event_model(
    Representative,
    *_snapshot_trackers(),
    obj_field=_obj_field(),
    model_name="RepresentativeAuditEvent",
    abstract=False,
)


class AssignmentChange(pghistory.UpdateEvent):
    """An update of a case's assignee or team, stored with both the old and the new values.

    pghistory's own update trigger stores one row image (OLD or NEW); this one writes the
    event row itself so that a single row carries the change. Same context attachment as
    pghistory's triggers (``_pgh_attach_context()``, installed by its migrations).
    """

    label = "reassign"

    def add_event_trigger(self, event_model: Any) -> None:
        table = event_model._meta.db_table
        func = (
            f'INSERT INTO "{table}" ("pgh_created_at", "pgh_label", "pgh_obj_id", '
            '"pgh_context_id", "assignee_id", "team_id", "assignee_before_id", '
            f'"team_before_id") VALUES ({pghistory_config.created_at_function()}, '
            f'\'{self.label}\', NEW."id", _pgh_attach_context(), NEW."assignee_id", '
            'NEW."team_id", OLD."assignee_id", OLD."team_id"); RETURN NULL;'
        )
        pgtrigger.register(
            pgtrigger.Trigger(
                name=self.trigger_name,
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                level=pgtrigger.Row,
                condition=cast(pgtrigger.Condition | None, self.condition),
                func=pgtrigger.Func(func),  # type: ignore[no-untyped-call]
            )
        )(event_model.pgh_tracked_model)


def _unconstrained_fk(to: type[models.Model]) -> models.ForeignKey[Any, Any]:
    # Like pghistory's copies of foreign keys: the history outlives the rows it names.
    return models.ForeignKey(
        to, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )


CaseAssignmentAuditEvent = pghistory.create_event_model(
    Case,
    AssignmentChange(
        trigger_name="audit_reassign", condition=pghistory.AnyChange("assignee", "team")
    ),
    fields=["assignee", "team"],
    obj_field=_obj_field(),
    model_name="CaseAssignmentAuditEvent",
    abstract=False,
    attrs={
        "assignee_before": _unconstrained_fk(Representative),
        "team_before": _unconstrained_fk(Team),
    },
)

# The audited models and their event models, by the name the audit API uses.
AUDITED_OBJECTS: dict[str, type[models.Model]] = {
    "category": Category,
    "team": Team,
    "representative": Representative,
    "case": Case,
}
AUDITED_MODELS: dict[str, type[models.Model]] = {
    "category": CategoryAuditEvent,
    "team": TeamAuditEvent,
    "representative": RepresentativeAuditEvent,
    "case": CaseAssignmentAuditEvent,
}
