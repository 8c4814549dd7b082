"""Survey fixtures: cases resolved through the real services, at a pinned clock."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from cases import services
from cases.models import Case, CaseEvent, OutboundEmail, SurveyInvitation
from tests.conftest import NOW
from tests.factories import AccountFactory

ADDRESS = "ana.customer@example.org"
_numbers = itertools.count(1)


@pytest.fixture
def account(db):
    return AccountFactory(external_id="ACC-SURVEY", name="Acme")


@pytest.fixture
def open_case(org, account, clock):
    """``open_case(**overrides)`` → a case opened a day ago, assigned to rep_a1."""

    def make(**overrides) -> Case:
        fields = {
            "external_id": f"S-{next(_numbers)}",
            "category": org.category,
            "channel": "email",
            "opened_at": NOW - timedelta(days=1),
            "account": account,
            "requester_email": ADDRESS,
            "requester_name": "Ana Customer",
            "subject": "Invoice shows the wrong VAT",
            "assignee": org.rep_a1,
            **overrides,
        }
        case, _ = services.case_create(**fields)
        return case

    return make


def resolve(case: Case, *, by, at=None) -> Case:
    """Resolve through the lifecycle service (the hook under test); returns the fresh case."""
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.RESOLVED,
        occurred_at=at or NOW - timedelta(hours=1),
        actor=by,
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def resolved_case(org, open_case):
    """A case rep_a1 resolved an hour ago, its survey invitation committed and pending."""
    return resolve(open_case(), by=org.rep_a1)


def invitation_of(case: Case, number: int = 1) -> SurveyInvitation:
    return SurveyInvitation.objects.get(case=case, resolution_number=number)


def emails_of(invitation: SurveyInvitation) -> list[tuple[str, str]]:
    return list(
        OutboundEmail.objects.filter(invitation=invitation)
        .order_by("id")
        .values_list("kind", "dedupe_key")
    )


BASE = "https://support.example.com"
LINK = re.compile(re.escape(BASE) + r"/s/([^/\s\"?]+)/")


@pytest.fixture
def public_base(settings):
    settings.PUBLIC_BASE_URL = BASE
    return BASE


@pytest.fixture
def delivered(org, open_case, public_base, django_capture_on_commit_callbacks, mailoutbox):
    """Resolve a case with commits: the invitation is delivered (locmem) as in production.
    Returns (case, invitation, message, token)."""
    with django_capture_on_commit_callbacks(execute=True):
        case = resolve(open_case(), by=org.rep_a1)
    [message] = mailoutbox
    invitation = invitation_of(case)
    return case, invitation, message, token_in(message)


def token_in(message) -> str:
    tokens = set(LINK.findall(message.body))
    assert len(tokens) == 1, tokens
    return tokens.pop()
