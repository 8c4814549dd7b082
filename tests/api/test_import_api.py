"""POST /api/v1/cases/import/: who may import, the report, and the error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from cases.models import Case
from tests.factories import T0

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/import/"
CASES = (
    "external_id,opened_at,channel,category,status,assignee,first_response_at,"
    "agent_response_count\n"
    "C-1,2026-03-02T09:00:00Z,email,billing,open,rep_a1,2026-03-02T10:00:00Z,1\n"
    "C-2,2026-03-02T11:00:00+01:00,chat,billing,new,,,0\n"
)
EVENTS = (
    "case_external_id,event_type,occurred_at,actor\n"
    "C-2,agent_response,2026-03-02T12:00:00Z,rep_a2\n"
)


@pytest.fixture(autouse=True)
def pinned_clock(time_machine):
    time_machine.move_to(T0 + timedelta(days=30), tick=False)


def upload(name: str, text: str | bytes) -> SimpleUploadedFile:
    content = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(f"{name}.csv", content, content_type="text/csv")


def post(client: APIClient, **data):
    return client.post(URL, data, format="multipart")


@pytest.mark.parametrize(
    ("who", "status_code"),
    [("rep_a1", 403), ("manager_a", 403), ("admin", 200), ("integration", 200)],
)
def test_only_admins_and_integrations_may_import(org, client_for, who, status_code):
    response = post(client_for(getattr(org, who)), cases=upload("cases", CASES))
    assert response.status_code == status_code, response.json()
    if status_code == 403:
        assert response.json() == {
            "message": "You do not have permission to perform this action.",
            "code": "permission_denied",
            "extra": {},
        }
        assert not Case.objects.exists()


def test_anonymous_is_refused(org):
    response = post(APIClient(), cases=upload("cases", CASES))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_import_answers_the_report(org, client_for):
    response = post(
        client_for(org.integration),
        cases=upload("cases", CASES),
        events=upload("events", EVENTS),
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "dry_run": False,
        "cases": {"rows": 2, "created": 2, "updated": 0, "unchanged": 0},
        # C-1: synthetic created, assigned, agent_response; C-2: created + the file's event.
        "events": {"rows": 1, "histories": 1, "created": 5, "deleted": 0, "unchanged": 0},
        "created_missing": {"teams": [], "representatives": [], "accounts": [], "categories": []},
    }
    c2 = Case.objects.get(external_id="C-2")
    assert (c2.status, c2.opened_at, c2.first_response_at, c2.first_responder_id) == (
        "open",
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=3),
        org.rep_a2.pk,
    )

    again = post(
        client_for(org.admin), cases=upload("cases", CASES), events=upload("events", EVENTS)
    )
    assert again.json()["cases"] == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2}
    assert again.json()["events"]["created"] == 0


def test_dry_run_and_create_missing_are_form_fields(org, client_for):
    cases = CASES.replace("rep_a1", "newbie")
    response = post(
        client_for(org.admin),
        cases=upload("cases", cases),
        create_missing="true",
        dry_run="true",
        source="zendesk",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True
    assert body["created_missing"]["representatives"] == ["newbie"]
    assert body["cases"]["created"] == 2
    assert not Case.objects.exists()


def test_bad_rows_answer_400_import_invalid_with_every_error(org, client_for):
    cases = CASES + "C-3,2026-03-02T09:00:00,fax,billing,new,,,0\n"
    events = EVENTS + "C-2,closed,2026-03-02T13:00:00Z,\n"
    response = post(
        client_for(org.admin), cases=upload("cases", cases), events=upload("events", events)
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "3 errors in the import; nothing was imported.",
        "code": "import_invalid",
        "extra": {
            "errors": [
                {
                    "file": "cases",
                    "line": 4,
                    "field": "opened_at",
                    "message": "Timestamp has no time zone; add an offset such as 'Z' or '+02:00'.",
                },
                {
                    "file": "cases",
                    "line": 4,
                    "field": "channel",
                    "message": "'fax' is not a valid choice; use one of email, phone, chat, "
                    "web_form, social, in_app, ivr.",
                },
                {
                    "file": "events",
                    "line": 3,
                    "field": "event_type",
                    "message": "Only a resolved case can be closed.",
                },
            ],
            "error_count": 3,
        },
    }
    assert not Case.objects.exists()


def test_no_file_is_a_validation_error_naming_cases(org, client_for):
    response = post(client_for(org.admin), dry_run="true")
    assert response.status_code == 400
    assert response.json() == {
        "message": "cases: Upload a cases file, an events file, or both.",
        "code": "validation_error",
        "extra": {"fields": {"cases": ["Upload a cases file, an events file, or both."]}},
    }


def test_a_field_that_is_not_a_file_is_named(org, client_for):
    response = post(client_for(org.admin), cases="external_id,opened_at")
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["extra"]["fields"])) == ("validation_error", ["cases"])


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb4\xff", "The file is not UTF-8 text"),
        (b'{"external_id": "C-1"}\n', "Line 1 must be the header of the events CSV file"),
    ],
)
def test_a_file_that_is_not_csv_is_named(org, client_for, content, reason):
    response = post(client_for(org.admin), events=upload("events", content))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["extra"]["fields"]) == ["events"]
    assert body["extra"]["fields"]["events"][0].startswith(reason)
    assert body["message"].startswith(f"events: {reason}")


def test_the_endpoint_is_in_the_schema(org, client_for):
    schema = client_for(org.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/cases/import/"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    assert form == "#/components/schemas/CaseImportRequest"
    assert set(schema["components"]["schemas"]["CaseImportRequest"]["properties"]) == {
        "cases",
        "events",
        "source",
        "create_missing",
        "dry_run",
    }
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/CaseImportReport"
    )
    assert "400" in operation["responses"]


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=0)
def test_a_large_upload_streamed_to_a_temporary_file_is_read(org, client_for):
    response = post(client_for(org.admin), cases=upload("cases", CASES))
    assert response.status_code == 200, response.json()
    assert response.json()["cases"]["created"] == 2
