"""Writes to cases: creation, edits, and events that move a case through its lifecycle."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.etags import case_etag
from cases.models import Account, Case, CaseEvent, CaseStatus, Category, Representative, Team
from cases.services.durations import duration_updates, team_calendar
from cases.services.surveys import survey_invitation_create_for_resolution
from cases.state import EDITABLE_FIELDS, CaseState, TransitionError, apply_event
from supportmetrics.exceptions import ApplicationError

# Clients' clocks drift; an event "from the future" beyond this is a client bug.
CLOCK_SKEW = timedelta(minutes=5)


def _field_error(field: str, reason: str, code: str = "validation_error") -> ApplicationError:
    return ApplicationError(f"{field}: {reason}", code=code, extra={"fields": {field: [reason]}})


def ensure_category_takes_cases(category: Category, *, field: str = "category") -> None:
    if not category.active:
        raise _field_error(field, f"Category {category.slug!r} is inactive and takes no new cases.")


def ensure_not_future(value: datetime, *, field: str, now: datetime | None = None) -> None:
    if value > (now or timezone.now()) + CLOCK_SKEW:
        raise _field_error(field, "Timestamp is in the future.")


@transaction.atomic
def case_create(
    *,
    external_id: str,
    category: Category,
    channel: str,
    opened_at: datetime,
    source: str = "api",
    account: Account | None = None,
    requester_email: str = "",
    requester_name: str = "",
    priority: str = "normal",
    subject: str = "",
    assignee: Representative | None = None,
    team: Team | None = None,
    actor: Representative | None = None,
) -> tuple[Case, bool]:
    """Create a case (status `new`, a `created` event) or return the existing one.

    Idempotent on (source, external_id): the second call returns the first case
    unchanged and ``created=False``.
    """
    existing = Case.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        return existing, False
    ensure_category_takes_cases(category)
    ensure_not_future(opened_at, field="opened_at")

    case = Case(
        source=source,
        external_id=external_id,
        category=category,
        channel=channel,
        opened_at=opened_at,
        account=account,
        requester_email=requester_email,
        requester_name=requester_name,
        priority=priority,
        subject=subject,
        team=team or (assignee.team if assignee else None),
        status=CaseStatus.NEW,
    )
    case.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        # Lost a race with a concurrent create of the same external id: theirs wins.
        return Case.objects.get(source=source, external_id=external_id), False
    CaseEvent.objects.create(
        case=case,
        event_type=CaseEvent.Type.CREATED,
        occurred_at=opened_at,
        actor=actor,
        to_status=CaseStatus.NEW,
    )
    if assignee is not None:
        case_event_record(
            case=case,
            event_type=CaseEvent.Type.ASSIGNED,
            occurred_at=opened_at,
            actor=actor,
            assignee=assignee,
        )
        case.refresh_from_db()
    return case, True


@transaction.atomic
def case_update(
    *, case: Case, data: dict[str, Any], if_match: Collection[str] | None = None
) -> Case:
    """Edit a case's descriptive fields. Status and assignment change only through events.

    ``if_match``: the versions (``cases.etags.case_etag``) the caller read; the edit is
    refused (412 ``precondition_failed``) unless the stored case is one of them. Compared
    under the row lock, so of two edits made from the same version only the first wins.
    ``None`` edits whatever the version.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise _field_error(name, "This field changes through case events, not by editing.")
    case = Case.objects.select_for_update().get(pk=case.pk)
    current = case_etag(case)
    if if_match is not None and current not in if_match:
        raise ApplicationError(
            "The case changed since you read it; read it again and redo your change.",
            code="precondition_failed",
            status_code=412,
            extra={"etag": current},
            headers={"ETag": current},
        )
    new_category = data.get("category")
    if new_category is not None and new_category.pk != case.category_id:
        ensure_category_takes_cases(new_category)
    changed = [name for name, value in data.items() if getattr(case, name) != value]
    if not changed:
        return case
    for name in changed:
        setattr(case, name, data[name])
    case.full_clean(validate_unique=False, validate_constraints=False)
    case.save(update_fields=[*changed, "updated_at"])
    return case


@transaction.atomic
def case_event_record(
    *,
    case: Case,
    event_type: str,
    occurred_at: datetime,
    actor: Representative | None = None,
    assignee: Representative | None = None,
    to_status: str = "",
) -> tuple[CaseEvent, bool]:
    """Record one event and fold it into the case, in one transaction under a row lock.

    The same event reported twice (same type and timestamp) is stored once: the second
    call returns the first event and ``created=False``. Events must arrive in order: one
    older than the case's latest event is refused, since the fold would be wrong.
    """
    case = Case.objects.select_for_update().get(pk=case.pk)
    duplicate = CaseEvent.objects.filter(
        case=case, event_type=event_type, occurred_at=occurred_at
    ).first()
    if duplicate is not None:
        return duplicate, False
    ensure_not_future(occurred_at, field="occurred_at")
    latest = case.events.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    if latest is not None and occurred_at < latest:
        raise _field_error(
            "occurred_at",
            f"Events must arrive in order; this case already has an event at {latest.isoformat()}.",
            code="event_out_of_order",
        )
    if event_type == CaseEvent.Type.ASSIGNED and assignee is not None and not assignee.active:
        raise _field_error("assignee", "The representative is inactive.")

    before = CaseState.of(case)
    try:
        after = apply_event(
            before,
            event_type=event_type,
            occurred_at=occurred_at,
            actor_id=actor.pk if actor else None,
            assignee_id=assignee.pk if assignee else None,
            assignee_team_id=assignee.team_id if assignee else None,
            to_status=to_status,
        )
    except TransitionError as error:
        raise ApplicationError(error.message, code=error.code, status_code=409) from error

    event = CaseEvent.objects.create(
        case=case,
        event_type=event_type,
        occurred_at=occurred_at,
        actor=actor,
        assignee=assignee if event_type == CaseEvent.Type.ASSIGNED else None,
        from_status=before.status,
        to_status=after.status,
    )
    fields = after.as_fields()
    team = Team.objects.filter(pk=after.team_id).first() if after.team_id else None
    fields.update(
        duration_updates(before=before.as_fields(), after=fields, calendar=team_calendar(team))
    )
    changed = [name for name, value in fields.items() if getattr(case, name) != value]
    for name in changed:
        setattr(case, name, fields[name])
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
    if event_type == CaseEvent.Type.RESOLVED:
        # In this transaction: the survey is queued if and only if the resolution commits.
        survey_invitation_create_for_resolution(case=case)
    return event, True
