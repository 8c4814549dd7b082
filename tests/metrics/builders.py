"""Building case histories through the real services, for KPI tests."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cases import services

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_case(org, external_id, opened, assignee, events=()):
    case, _ = services.case_create(
        external_id=external_id,
        category=org.category,
        channel="email",
        opened_at=at(opened),
        assignee=assignee,
    )
    for event_type, when in events:
        services.case_event_record(
            case=case, event_type=event_type, occurred_at=at(when), actor=assignee
        )
    return case
