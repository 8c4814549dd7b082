"""Turn a simulated chunk into binary COPY payloads for cases, events and surveys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cases.demo import pgcopy
from cases.demo import reference as ref
from cases.demo.lifecycle import Chunk
from cases.demo.surveys import COMMENTS
from cases.demo.world import World

SOURCE = "demo"
EXTERNAL_PREFIX = "DEMO-"
CASE_COLUMNS = (
    "id", "source", "external_id", "requester_email", "requester_name", "channel", "priority",
    "status", "subject", "opened_at", "assigned_at", "first_response_at", "first_resolved_at",
    "resolved_at", "closed_at", "last_customer_activity_at", "agent_response_count",
    "reopened_count", "first_response_seconds", "first_response_business_seconds",
    "resolution_seconds", "resolution_business_seconds", "created_at", "updated_at",
    "account_id", "category_id", "assignee_id", "resolved_by_id", "first_responder_id", "team_id",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "case_id", "event_type", "occurred_at", "actor_id", "assignee_id", "from_status",
    "to_status", "synthetic", "recorded_at",
)  # fmt: skip
SURVEY_COLUMNS = (
    "id", "case_id", "representative_id", "resolution_number", "csat", "nps", "effort",
    "comment", "responded_at",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """The columns to send for each table: those of the schema the generator knows."""

    cases: tuple[str, ...] = CASE_COLUMNS
    events: tuple[str, ...] = EVENT_COLUMNS
    surveys: tuple[str, ...] = SURVEY_COLUMNS


@dataclass(frozen=True)
class Vocabs:
    source: pgcopy.Vocab
    emails: pgcopy.Vocab
    names: pgcopy.Vocab
    channels: pgcopy.Vocab
    priorities: pgcopy.Vocab
    statuses: pgcopy.Vocab
    subjects: pgcopy.Vocab
    event_types: pgcopy.Vocab
    comments: pgcopy.Vocab

    @classmethod
    def of(cls, world: World) -> Vocabs:
        return cls(
            source=pgcopy.Vocab([SOURCE]),
            emails=pgcopy.Vocab(world.contact_emails),
            names=pgcopy.Vocab(world.contact_names),
            channels=pgcopy.Vocab([c.value for c in ref.CHANNELS]),
            priorities=pgcopy.Vocab([p for p, _, _ in ref.PRIORITIES]),
            statuses=pgcopy.Vocab(ref.STATUSES),
            subjects=pgcopy.Vocab(world.subjects),
            event_types=pgcopy.Vocab(ref.EVENT_TYPES),
            comments=pgcopy.Vocab(("", *COMMENTS)),
        )


@dataclass(frozen=True)
class Payloads:
    cases: memoryview
    events: memoryview
    surveys: memoryview
    n_cases: int
    n_events: int
    n_surveys: int


def _ts(seconds: np.ndarray) -> pgcopy.Column:
    return pgcopy.timestamptz(seconds, null=seconds < 0)


def _fk(index: np.ndarray) -> pgcopy.Column:
    """A foreign key from a 0-based index into rows numbered from 1; -1 is null."""
    return pgcopy.int8(index + 1, null=index < 0)


def _nullable(values: np.ndarray) -> pgcopy.Column:
    return pgcopy.int8(values, null=values < 0)


def encode_chunk(
    chunk: Chunk,
    vocabs: Vocabs,
    layout: Layout,
    *,
    case_base: int,
    event_base: int,
    survey_base: int,
    digits: int,
) -> Payloads:
    """COPY payloads with ids continuing after the given bases (the last ids already used)."""
    d, f, ev, sv = chunk.draw, chunk.fields, chunk.events, chunk.surveys
    n = len(d)
    case_ids = case_base + 1 + np.arange(n)
    cases = {
        "id": lambda: pgcopy.int8(case_ids),
        "source": lambda: pgcopy.text(np.zeros(n, np.int64), vocabs.source),
        "external_id": lambda: pgcopy.fixed_text(EXTERNAL_PREFIX, case_ids, digits),
        "requester_email": lambda: pgcopy.text(d.contact, vocabs.emails),
        "requester_name": lambda: pgcopy.text(d.contact, vocabs.names),
        "channel": lambda: pgcopy.text(d.channel, vocabs.channels),
        "priority": lambda: pgcopy.text(d.priority, vocabs.priorities),
        "status": lambda: pgcopy.text(f.status, vocabs.statuses),
        "subject": lambda: pgcopy.text(d.subject, vocabs.subjects),
        "opened_at": lambda: pgcopy.timestamptz(d.opened),
        "assigned_at": lambda: _ts(f.assigned_at),
        "first_response_at": lambda: _ts(f.first_response_at),
        "first_resolved_at": lambda: _ts(f.first_resolved_at),
        "resolved_at": lambda: _ts(f.resolved_at),
        "closed_at": lambda: _ts(f.closed_at),
        "last_customer_activity_at": lambda: _ts(f.last_customer_at),
        "agent_response_count": lambda: pgcopy.int4(f.agent_count),
        "reopened_count": lambda: pgcopy.int4(f.reopen_count),
        "first_response_seconds": lambda: _nullable(f.first_response_seconds),
        "first_response_business_seconds": lambda: _nullable(f.first_response_business_seconds),
        "resolution_seconds": lambda: _nullable(f.resolution_seconds),
        "resolution_business_seconds": lambda: _nullable(f.resolution_business_seconds),
        "created_at": lambda: pgcopy.timestamptz(d.opened),
        "updated_at": lambda: pgcopy.timestamptz(f.updated_at),
        "account_id": lambda: _fk(d.account),
        "category_id": lambda: _fk(d.category),
        "assignee_id": lambda: _fk(f.assignee),
        "resolved_by_id": lambda: _fk(f.resolved_by),
        "first_responder_id": lambda: _fk(f.first_responder),
        "team_id": lambda: _fk(d.team),
    }
    m = len(ev.case)
    events = {
        "id": lambda: pgcopy.int8(event_base + 1 + np.arange(m)),
        "case_id": lambda: pgcopy.int8(case_ids[ev.case]),
        "event_type": lambda: pgcopy.text(ev.type, vocabs.event_types),
        "occurred_at": lambda: pgcopy.timestamptz(ev.at),
        "actor_id": lambda: _fk(ev.actor),
        "assignee_id": lambda: _fk(ev.assignee),
        "from_status": lambda: pgcopy.text(ev.from_status, vocabs.statuses),
        "to_status": lambda: pgcopy.text(ev.to_status, vocabs.statuses),
        "synthetic": lambda: pgcopy.boolean(np.zeros(m, dtype=bool)),
        "recorded_at": lambda: pgcopy.timestamptz(ev.at),
    }
    k = len(sv.case)
    surveys = {
        "id": lambda: pgcopy.int8(survey_base + 1 + np.arange(k)),
        "case_id": lambda: pgcopy.int8(case_ids[sv.case]),
        "representative_id": lambda: _fk(sv.rep),
        "resolution_number": lambda: pgcopy.int4(sv.resolution_number),
        "csat": lambda: pgcopy.int2(sv.csat),
        "nps": lambda: pgcopy.int2(sv.nps, null=sv.nps < 0),
        "effort": lambda: pgcopy.int2(sv.effort, null=sv.effort < 0),
        "comment": lambda: pgcopy.text(sv.comment + 1, vocabs.comments),
        "responded_at": lambda: pgcopy.timestamptz(sv.responded_at),
    }
    return Payloads(
        cases=pgcopy.encode([cases[name]() for name in layout.cases]),
        events=pgcopy.encode([events[name]() for name in layout.events]),
        surveys=pgcopy.encode([surveys[name]() for name in layout.surveys]),
        n_cases=n,
        n_events=m,
        n_surveys=k,
    )
