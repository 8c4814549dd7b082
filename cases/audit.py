"""Who did it: the pghistory context of the audit trail (cases.models.audit).

The request middleware puts the user and URL in the context; this module labels writes that
no request carries (management commands, Celery tasks) and hands the context to statements
that bypass Django's cursor wrappers (``cases.services.sql.execute_binary``).
"""

from __future__ import annotations

import json
from typing import Any

import pghistory
from celery.signals import task_postrun, task_prerun
from django.core.serializers.json import DjangoJSONEncoder
from pghistory import runtime

# Open contexts of running Celery tasks, by task id (a worker thread runs one at a time).
_task_contexts: dict[str, pghistory.context] = {}


def audit_context_share(cursor: Any) -> None:
    """Set the active context on a raw psycopg cursor for the rest of its transaction.

    pghistory prefixes each statement run through Django's cursors with the context
    (``set_config(..., true)``); a server-side binding cursor cannot take two statements, so
    the context goes first, as its own statement. Without an active context nothing is set:
    the triggers then record the change with no context, as for any unlabeled writer.
    """
    active = getattr(runtime._tracker, "value", None)  # pghistory's thread-local context
    if active is None:
        return
    cursor.execute(
        "SELECT set_config('pghistory.context_id', %s, true), "
        "set_config('pghistory.context_metadata', %s, true)",
        [str(active.id), json.dumps(active.metadata, cls=DjangoJSONEncoder)],
    )


@task_prerun.connect
def _task_context_enter(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    # Inside a request (eager tasks) this only adds the task's name to the request's context.
    if task_id is None or task is None:
        return
    context = pghistory.context(task=task.name)
    context.__enter__()  # type: ignore[no-untyped-call]
    _task_contexts[task_id] = context


@task_postrun.connect
def _task_context_exit(task_id: str | None = None, **kwargs: Any) -> None:
    context = _task_contexts.pop(task_id or "", None)
    if context is not None:
        context.__exit__(None, None, None)  # type: ignore[no-untyped-call]
