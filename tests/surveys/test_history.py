"""Which paths raise a survey: the bulk API's snapshots (live, and back-fills suppressed as
stale), never the CSV import or the demo data (historic data)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from cases.imports import case_import
from cases.models import Case, OutboundEmail, SurveyInvitation, SurveyResponse
from tests.conftest import NOW
from tests.surveys.conftest import ADDRESS, emails_of, invitation_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/bulk/"
H = timedelta(hours=1)


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def snapshot(**fields) -> dict:
    return {
        "source": "zendesk",
        "external_id": "Z-1",
        "category": "billing",
        "channel": "email",
        "status": "open",
        "assignee": "rep_a1",
        "requester_email": ADDRESS,
        "opened_at": iso(NOW - 2 * H),
        **fields,
    }


def resolved(at, **fields) -> dict:
    return snapshot(
        **{
            "status": "resolved",
            "resolved_at": iso(at),
            "first_response_at": iso(NOW - 2 * H),
            "agent_response_count": 1,
            **fields,
        }
    )


def upsert(client, *items) -> list[dict]:
    response = client.post(URL, list(items), format="json")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


@pytest.fixture
def integration(org, client_for, clock):
    return client_for(org.integration)


def test_a_snapshot_of_a_freshly_resolved_case_gets_a_survey(org, integration):
    [result] = upsert(integration, resolved(NOW - H))
    assert result["result"] == "created"
    invitation = invitation_of(Case.objects.get(pk=result["id"]))
    assert (invitation.status, invitation.suppression) == ("pending", "")
    assert invitation.representative == org.rep_a1
    assert emails_of(invitation) == [("survey_invitation", f"survey_invitation:{invitation.pk}")]


def test_bulk_history_is_suppressed_as_stale_and_sends_nothing(org, integration):
    upsert(
        integration,
        resolved(
            NOW - timedelta(days=10), external_id="OLD-1", opened_at=iso(NOW - timedelta(days=11))
        ),
        resolved(
            NOW - timedelta(days=4), external_id="OLD-2", opened_at=iso(NOW - timedelta(days=5))
        ),
    )
    assert sorted(SurveyInvitation.objects.values_list("status", "suppression")) == [
        ("suppressed", "stale_resolution"),
        ("suppressed", "stale_resolution"),
    ]
    assert OutboundEmail.objects.count() == 0


def test_a_snapshot_that_resolves_an_open_case_gets_one_survey(org, integration):
    [created] = upsert(integration, snapshot())
    assert SurveyInvitation.objects.count() == 0
    [updated] = upsert(integration, resolved(NOW - H))
    [unchanged] = upsert(integration, resolved(NOW - H))
    [closed] = upsert(integration, resolved(NOW - H, status="closed", closed_at=iso(NOW)))
    assert [r["result"] for r in (created, updated, unchanged, closed)] == [
        "created",
        "updated",
        "unchanged",
        "updated",
    ]
    assert list(SurveyInvitation.objects.values_list("resolution_number", "status")) == [
        (1, "pending")
    ]


def test_a_snapshot_resolved_again_after_a_reopen_gets_a_second_survey(org, integration):
    upsert(integration, resolved(NOW - 2 * H + timedelta(minutes=10)))
    [result] = upsert(integration, resolved(NOW - H, reopened_count=1, resolved_by="rep_a2"))
    assert result["result"] == "updated"
    case = Case.objects.get(pk=result["id"])
    second = invitation_of(case, 2)
    assert (second.status, second.representative) == ("pending", org.rep_a2)
    assert SurveyInvitation.objects.filter(case=case).count() == 2


def test_the_csv_import_never_creates_invitations(org, clock):
    out = io.StringIO()
    rows = [
        {
            "external_id": "CSV-1",
            "opened_at": iso(NOW - 3 * H),
            "channel": "email",
            "category": "billing",
            "status": "resolved",
            "assignee": "rep_a1",
            "resolved_at": iso(NOW - H),  # recent: only the path keeps it out
            "requester_email": ADDRESS,
        }
    ]
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    report = case_import(cases=io.BytesIO(out.getvalue().encode())).as_dict()
    assert report["cases"]["created"] == 1
    assert Case.objects.get(external_id="CSV-1").status == "resolved"
    assert SurveyInvitation.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


def test_seed_demo_never_creates_invitations(clock):
    call_command(
        "seed_demo",
        "--cases",
        "2000",
        "--seed",
        "3",
        "--now",
        NOW.isoformat(),
        stdout=io.StringIO(),
    )
    recent = Case.objects.filter(resolved_at__gte=NOW - 72 * H, requester_email__gt="")
    assert recent.exists()  # resolutions the age rule alone would not keep out
    assert SurveyResponse.objects.exists()
    assert SurveyInvitation.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
