"""Reads for the case APIs: always through the caller's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Case, CaseEvent
from cases.scoping import Scope, cases_in_scope


def case_list(*, scope: Scope) -> QuerySet[Case]:
    return cases_in_scope(scope).select_related(
        "account", "category", "assignee__user", "resolved_by__user", "first_responder__user"
    )


def case_get(*, scope: Scope, case_id: int) -> Case:
    """The case if it is in scope; Case.DoesNotExist (→ 404) otherwise."""
    return case_list(scope=scope).get(pk=case_id)


def case_event_list(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor__user", "assignee__user").order_by("occurred_at", "id")
