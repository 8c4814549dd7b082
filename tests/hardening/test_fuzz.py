"""Property-based fuzzing of every operation in the OpenAPI schema, in-process (WSGI).

Each operation gets ``SUPPORTMETRICS_FUZZ_EXAMPLES`` generated requests (50 by default),
positive (data the schema allows) and negative (data it forbids) mixed, sent as the admin
so they get past authentication and scoping, with path ids that sometimes name real rows.
Every answer must be a non-5xx that the schema documents: its status code, its content type
and its body. A longer run: ``SUPPORTMETRICS_FUZZ_EXAMPLES=500 python -m pytest
tests/hardening/test_fuzz.py`` (docs/hardening.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases import services
from cases.models import CaseEvent, OutboundEmail, SurveyInvitation
from cases.survey_links import survey_token
from supportmetrics.wsgi import application
from tests.conftest import NOW
from tests.factories import AccountFactory, CaseFactory, DetractorAlertFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

EXAMPLES = int(os.environ.get("SUPPORTMETRICS_FUZZ_EXAMPLES", "50"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _load_schema() -> Any:
    """The schema /api/schema/ serves, generated once at collection (no database needed)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = application
    return loaded


SCHEMA = _load_schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def no_connection_recycling():
    """Django closes "old" connections around each request; inside the test's transaction
    that would end it. Django's own test client unhooks the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def real_ids(org) -> dict[str, list[Any]]:
    """Path parameter values naming rows that exist, so detail and write operations get past
    the 404 as often as not."""
    account = AccountFactory(external_id="ACC-FUZZ")
    case, _ = services.case_create(
        external_id="FUZZ-1",
        category=org.category,
        channel="email",
        opened_at=NOW - timedelta(days=2),
        account=account,
        requester_email="fuzz@example.org",
        requester_name="Fuzz Customer",
        subject="Fuzzed",
        assignee=org.rep_a1,
    )
    open_case = CaseFactory(assignee=org.rep_a2, category=org.category, account=account)
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.RESOLVED,
        occurred_at=NOW - timedelta(hours=1),
        actor=org.rep_a1,
    )
    invitation = SurveyInvitation.objects.get(case=case)
    alert = DetractorAlertFactory(
        response__case=CaseFactory(resolved=True, assignee=org.rep_a1, category=org.category)
    )
    email = OutboundEmail.objects.first()
    assert email is not None
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.FAILED)
    return {
        "id": [case.pk, open_case.pk, org.team_a.pk, org.rep_a1.pk, account.pk],
        "case_id": [case.pk, open_case.pk],
        "alert_id": [alert.pk],
        "email_id": [email.pk],
        "rep_id": [org.rep_a1.pk, org.manager_a.pk],
        "account_id": [account.pk],
        "token": [survey_token(invitation)],
    }


def _strategy(operation: Any, real_ids: dict[str, list[Any]]) -> st.SearchStrategy:
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = [p.name for p in operation.path_parameters]
    if names and all(name in real_ids for name in names):
        strategies += [
            st.fixed_dictionaries({n: st.sampled_from(real_ids[n]) for n in names}).flatmap(
                lambda params: operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters=params
                )
            )
        ]
    return st.one_of(strategies)


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_operation_conforms_to_the_schema(operation, real_ids, org, no_connection_recycling):
    token = Token.objects.get_or_create(user=org.admin)[0].key

    @given(case=_strategy(operation, real_ids))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)

    fuzz()
