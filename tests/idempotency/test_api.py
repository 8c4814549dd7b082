"""The Idempotency-Key header on the case POST endpoints: replay, reuse, in flight, errors."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from cases import apis
from cases.etags import case_etag
from cases.models import Case, CaseEvent
from idempotency.decorators import idempotent
from idempotency.models import IdempotencyRecord
from tests.factories import CaseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

URL = "/api/v1/cases/"
KEY = "4f6c1c2e-3f0a-4a53-9d8a-1f0c0b7d2e11"


def case_body(external_id: str = "IDEM-1") -> dict[str, str]:
    return {
        "external_id": external_id,
        "category": "billing",
        "channel": "chat",
        "opened_at": "2026-03-30T09:00:00Z",
    }


def post(client, url=URL, data=None, key: str | None = KEY, **kwargs):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(
        url, data if data is not None else case_body(), format="json", **headers, **kwargs
    )


def test_the_first_answer_is_replayed_and_the_case_created_once(org, client_for):
    client = client_for(org.manager_a)
    first = post(client)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    case = Case.objects.get()
    assert first["ETag"] == case_etag(case)

    second = post(client)
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert second["ETag"] == first["ETag"]
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(case=case).count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.owner_id, record.key, record.method, record.path, record.state) == (
        org.manager_a.user.pk,
        KEY,
        "POST",
        URL,
        "done",
    )
    assert (record.status_code, record.headers) == (201, {"ETag": case_etag(case)})
    assert record.expires_at == timezone.now() + timedelta(hours=24)


def test_without_a_key_nothing_is_stored(org, client_for):
    client = client_for(org.manager_a)
    assert post(client, key=None).status_code == 201
    # The case API's own idempotency on (source, external_id): the same case, 200.
    assert post(client, key=None).status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_the_key_with_another_body_answers_422(org, client_for):
    client = client_for(org.manager_a)
    assert post(client).status_code == 201
    response = post(client, data=case_body("IDEM-2"))
    assert response.status_code == 422
    assert response.json() == {
        "message": "This Idempotency-Key was used for a different request (method, path or body).",
        "code": "idempotency_key_reused",
        "extra": {"method": "POST", "path": URL},
    }
    assert list(Case.objects.values_list("external_id", flat=True)) == ["IDEM-1"]


def test_the_key_on_another_path_answers_422(org, client_for):
    client = client_for(org.manager_a)
    assert post(client).status_code == 201
    case = Case.objects.get()
    event = {"event_type": "agent_response", "occurred_at": "2026-03-31T09:00:00Z"}
    response = post(client, f"/api/v1/cases/{case.pk}/events/", event)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert case.events.count() == 1


def test_keys_are_scoped_per_caller(org, client_for):
    first = post(client_for(org.manager_a))
    other = post(client_for(org.admin))
    assert (first.status_code, other.status_code) == (201, 200)  # the admin ran its request
    assert "Idempotent-Replayed" not in other
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.parametrize(
    "key, reason",
    [
        ("", "Must be 1-255 printable ASCII characters."),
        ("x" * 256, "Must be 1-255 printable ASCII characters."),
        ("caf\u00e9", "Must be 1-255 printable ASCII characters."),
        ("tab\there", "Must be 1-255 printable ASCII characters."),
    ],
)
def test_an_invalid_key_answers_400_naming_the_header(org, client_for, key, reason):
    response = post(client_for(org.manager_a), key=key)
    assert response.status_code == 400
    assert response.json() == {
        "message": f"Idempotency-Key: {reason}",
        "code": "validation_error",
        "extra": {"fields": {"Idempotency-Key": [reason]}},
    }
    assert not Case.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_the_longest_key_is_taken(org, client_for):
    assert post(client_for(org.manager_a), key="k" * 254 + "~").status_code == 201


def test_a_validation_error_is_stored_and_replayed(org, client_for):
    client = client_for(org.manager_a)
    bad = {**case_body(), "channel": "pigeon"}
    first = post(client, data=bad)
    assert first.status_code == 400
    again = post(client, data=bad)
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert IdempotencyRecord.objects.get().status_code == 400


def test_a_lifecycle_conflict_is_stored_and_replayed(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, category=org.category, resolved=True)
    client = client_for(org.rep_a1)
    event = {"event_type": "agent_response", "occurred_at": "2026-03-31T09:00:00Z"}
    first = post(client, f"/api/v1/cases/{case.pk}/events/", event)
    assert first.status_code == 409
    assert first.json()["code"] == "case_not_open"
    again = post(client, f"/api/v1/cases/{case.pk}/events/", event)
    assert (again.status_code, again["Idempotent-Replayed"]) == (409, "true")
    assert again.json() == first.json()


def test_a_server_error_is_not_stored_and_the_retry_runs(org, client_for, monkeypatch):
    client = client_for(org.manager_a)
    client.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(apis.services, "case_create", broken)
    failed = post(client)
    assert failed.status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()

    retried = post(client)
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Case.objects.count() == 1


class HalfDoneApi(APIView):
    """Writes a case, then answers 503 (a dependency failed after the write)."""

    @idempotent
    def post(self, request: Request) -> Response:
        CaseFactory(external_id="HALF")
        return Response({"message": "x", "code": "unavailable", "extra": {}}, status=503)


def test_a_5xx_answer_rolls_back_and_releases_the_key(org):
    request = APIRequestFactory().post("/half/", {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    force_authenticate(request, user=org.admin)
    response = HalfDoneApi.as_view()(request)
    assert response.status_code == 503
    assert not Case.objects.filter(external_id="HALF").exists()  # rolled back with the answer
    assert not IdempotencyRecord.objects.exists()  # and the key released for a retry


def _record(org, **fields) -> IdempotencyRecord:
    defaults = {
        "owner": org.manager_a.user,
        "key": KEY,
        "method": "POST",
        "path": URL,
        "fingerprint": "0" * 64,
        "claim": uuid.uuid4(),
        "state": IdempotencyRecord.State.IN_FLIGHT,
        "created_at": timezone.now(),
        "expires_at": timezone.now() + timedelta(seconds=60),
    }
    return IdempotencyRecord.objects.create(**{**defaults, **fields})


def test_a_duplicate_while_the_first_runs_answers_409(org, client_for):
    body = json.dumps(case_body()).encode()
    _record(org, fingerprint=hashlib.sha256(body).hexdigest())
    response = client_for(org.manager_a).post(
        URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=KEY
    )
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "message": "A request with this Idempotency-Key is still being processed; retry later.",
        "code": "idempotency_key_in_flight",
        "extra": {"retry_after": 1},
    }
    assert not Case.objects.exists()


def test_a_claim_left_by_a_dead_request_is_taken_over_after_the_grace(org, client_for, clock):
    dead = _record(org, fingerprint="f" * 64)  # another body: the key is free again anyway
    clock.shift(timedelta(seconds=61))
    response = post(client_for(org.manager_a))
    assert response.status_code == 201
    record = IdempotencyRecord.objects.get()
    assert record.pk == dead.pk
    assert (record.state, record.status_code) == ("done", 201)
    assert record.claim != dead.claim


def test_an_answer_is_replayed_for_24_hours_only(org, client_for, clock):
    client = client_for(org.manager_a)
    assert post(client).status_code == 201
    clock.shift(timedelta(hours=24) - timedelta(seconds=1))
    assert post(client)["Idempotent-Replayed"] == "true"
    clock.shift(timedelta(seconds=1))
    late = post(client)
    assert late.status_code == 200  # ran again: the case exists already
    assert "Idempotent-Replayed" not in late
    assert Case.objects.count() == 1


def test_an_event_is_replayed_with_its_first_answer(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, category=org.category, status="open")
    client = client_for(org.rep_a1)
    event = {"event_type": "agent_response", "occurred_at": "2026-03-31T09:00:00Z"}
    url = f"/api/v1/cases/{case.pk}/events/"
    first = post(client, url, event)
    assert first.status_code == 201
    # Without the key the service finds the same event and says 200; the key replays 201.
    replay = post(client, url, event)
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == first.json()
    assert post(client, url, event, key=None).status_code == 200
    assert case.events.filter(event_type="agent_response").count() == 1


def test_a_bulk_batch_is_replayed(org, client_for):
    client = client_for(org.integration)
    items = [
        {
            "external_id": "B-1",
            "category": "billing",
            "channel": "email",
            "status": "new",
            "opened_at": "2026-03-30T09:00:00Z",
        }
    ]
    first = post(client, "/api/v1/cases/bulk/", items)
    assert first.status_code == 200, first.content
    assert first.json()["results"][0]["result"] == "created"
    replay = post(client, "/api/v1/cases/bulk/", items)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()  # "created" again, not "unchanged"
    assert Case.objects.count() == 1


CSV = "external_id,opened_at,channel,category,status\nI-1,2026-03-02T09:00:00Z,email,billing,new\n"


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("cases.csv", text.encode(), content_type="text/csv")


def test_an_import_is_fingerprinted_by_its_files_not_its_multipart_boundary(org, client_for):
    client = client_for(org.integration)
    url = "/api/v1/cases/import/"
    headers = {"HTTP_IDEMPOTENCY_KEY": KEY}
    first = client.post(url, {"cases": upload(CSV)}, format="multipart", **headers)
    assert first.status_code == 200, first.content
    assert first.json()["cases"]["created"] == 1
    # The test client sends a different boundary each time... and the same content.
    replay = client.post(url, {"cases": upload(CSV)}, format="multipart", **headers)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    other = client.post(
        url, {"cases": upload(CSV.replace("I-1", "I-2"))}, format="multipart", **headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert list(Case.objects.values_list("external_id", flat=True)) == ["I-1"]


def test_a_refused_caller_claims_no_key(org, client_for):
    response = post(client_for(org.rep_a1), "/api/v1/cases/bulk/", [])
    assert response.status_code == 403
    assert not IdempotencyRecord.objects.exists()


class EchoApi(APIView):
    """Answers what no jsonb column can hold: the NUL character and a lone surrogate."""

    @idempotent
    def post(self, request: Request) -> Response:
        return Response({"echo": "a\x00b\ud9f2"}, status=400)


def test_an_answer_with_characters_jsonb_refuses_is_stored_and_replayed(org):
    def send():
        request = APIRequestFactory().post("/echo/", {}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
        force_authenticate(request, user=org.admin)
        return EchoApi.as_view()(request)

    first = send()
    assert first.status_code == 400
    replay = send()
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (400, "true")
    assert replay.data == {"echo": "a\x00b\ud9f2"}
