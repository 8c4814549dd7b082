"""Bad input answers 4xx in the error shape, names the field, and stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.models import Account, Case, CaseEvent, CaseStatus, Category, Representative, Team
from tests.factories import T0, CaseFactory, CategoryFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

H = timedelta(hours=1)
NAIVE = "Timestamp has no time zone; add an offset such as 'Z' or '+02:00'."


def valid_case(**overrides):
    return {
        "external_id": "X-1",
        "category": "billing",
        "channel": "email",
        "opened_at": "2026-03-02T09:00:00Z",
        **overrides,
    }


def valid_snapshot(**overrides):
    return {**valid_case(), "status": "new", **overrides}


def assert_nothing_stored():
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def assert_field_error(response, field, reason, status=400, code="validation_error"):
    assert response.status_code == status, response.content
    assert response.json() == {
        "message": f"{field}: {reason}",
        "code": code,
        "extra": {"fields": {field: [reason]}},
    }


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/cases/", "/api/v1/cases/bulk/", "/api/v1/teams/", "/api/v1/accounts/"]
)
def test_malformed_json_is_a_parse_error(org, client_for, url):
    response = client_for(org.admin).post(
        url, data=b'{"external_id": "X-1",', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "JSON parse error - Expecting property name enclosed in double quotes: "
        "line 1 column 23 (char 22)",
        "code": "parse_error",
        "extra": {},
    }
    assert_nothing_stored()
    assert Team.objects.count() == 2


def test_an_unsupported_media_type_answers_415(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/cases/", data="external_id=X-1", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json() == {
        "message": 'Unsupported media type "text/plain" in request.',
        "code": "unsupported_media_type",
        "extra": {},
    }
    assert_nothing_stored()


def test_a_body_that_is_not_an_object_answers_400(org, client_for):
    response = client_for(org.admin).post("/api/v1/cases/", ["X-1"], format="json")
    reason = "Invalid data. Expected a dictionary, but got list."
    assert response.status_code == 400
    assert response.json() == {
        "message": reason,
        "code": "validation_error",
        "extra": {"fields": {"non_field_errors": [reason]}},
    }
    assert_nothing_stored()


def test_an_oversize_body_answers_413_before_parsing(org, client_for, settings):
    settings.SUPPORTMETRICS_MAX_JSON_BODY_BYTES = 200
    response = client_for(org.admin).post(
        "/api/v1/cases/", valid_case(subject="x" * 300), format="json"
    )
    assert response.status_code == 413
    length = int(response.wsgi_request.META["CONTENT_LENGTH"])
    assert response.json() == {
        "message": f"Request body is {length} bytes; the limit is 200 bytes.",
        "code": "request_too_large",
        "extra": {"limit_bytes": 200},
    }
    assert_nothing_stored()
    # Just under the limit is fine.
    small = client_for(org.admin).post("/api/v1/cases/", valid_case(), format="json")
    assert small.status_code == 201


def test_an_oversize_bulk_body_answers_413(org, client_for, settings):
    settings.SUPPORTMETRICS_MAX_JSON_BODY_BYTES = 1000
    items = [valid_snapshot(external_id=f"X-{i}") for i in range(20)]
    response = client_for(org.integration).post("/api/v1/cases/bulk/", items, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert_nothing_stored()


# --- wrong types and unknown values --------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("external_id", ["X-1"], "Not a valid string."),
        ("external_id", {"id": 1}, "Not a valid string."),
        ("external_id", "", "This field may not be blank."),
        ("external_id", "x" * 121, "Ensure this field has no more than 120 characters."),
        ("channel", 5, '"5" is not a valid choice.'),
        ("channel", "fax", '"fax" is not a valid choice.'),
        ("priority", "critical", '"critical" is not a valid choice.'),
        ("category", "nope", "Object with slug=nope does not exist."),
        ("category", 42, "Object with slug=42 does not exist."),
        ("account", "ACC-404", "Object with external_id=ACC-404 does not exist."),
        ("assignee", "ghost", "Object with user__username=ghost does not exist."),
        ("requester_email", "not-an-email", "Enter a valid email address."),
        (
            "source",
            "has spaces",
            'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.',
        ),
        (
            "opened_at",
            1767225600,
            "Datetime has wrong format. Use one of these formats instead: "
            "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        (
            "opened_at",
            "yesterday",
            "Datetime has wrong format. Use one of these formats "
            "instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
        ),
        ("opened_at", None, "This field may not be null."),
    ],
)
def test_case_create_wrong_values_name_the_field(org, client_for, field, value, reason):
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(**{field: value}))
    assert_field_error(response, field, reason)
    assert_nothing_stored()


@pytest.mark.parametrize("field", ["external_id", "category", "channel", "opened_at"])
def test_case_create_required_fields(org, client_for, field):
    body = valid_case()
    del body[field]
    response = client_for(org.admin).post("/api/v1/cases/", body)
    assert_field_error(response, field, "This field is required.")
    assert_nothing_stored()


def test_several_errors_are_all_reported(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/cases/", {"channel": "fax", "opened_at": "2026-03-02T09:00:00"}
    )
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {
        "external_id": ["This field is required."],
        "category": ["This field is required."],
        "channel": ['"fax" is not a valid choice.'],
        "opened_at": [NAIVE],
    }
    assert_nothing_stored()


# --- time zones ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T09:00:00",
        "2026-03-02 09:00:00",
        "2026-03-02T09:00",
        "2026-03-02T09:00:00.123456",
        "2026-03-02",  # a bare date is a naive midnight, not UTC midnight
    ],
)
def test_naive_timestamps_are_refused_naming_the_field(org, client_for, value):
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(opened_at=value))
    assert_field_error(response, "opened_at", NAIVE)
    assert "time zone" in response.json()["extra"]["fields"]["opened_at"][0]
    assert_nothing_stored()


@pytest.mark.parametrize(
    "value, stored",
    [
        ("2026-03-02T09:00:00Z", T0),
        ("2026-03-02T09:00:00z", T0),
        ("2026-03-02T10:30:00+01:30", T0),
        ("2026-03-02T04:00:00-05:00", T0),
        ("2026-03-02T09:00:00.000+00:00", T0),
        ("2026-03-02 04:00:00-0500", T0),
    ],
)
def test_timestamps_with_an_offset_are_stored_in_utc(org, client_for, value, stored):
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(opened_at=value))
    assert response.status_code == 201, response.content
    assert response.json()["opened_at"] == "2026-03-02T09:00:00Z"
    assert Case.objects.get().opened_at == stored


def test_a_naive_event_timestamp_is_refused(org, client_for):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN)
    response = client_for(org.rep_a1).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"event_type": "agent_response", "occurred_at": "2026-03-02T10:00:00"},
    )
    assert_field_error(response, "occurred_at", NAIVE)
    assert case.events.count() == 0


@pytest.mark.parametrize("field", ["opened_at", "resolved_at", "assigned_at"])
def test_a_naive_snapshot_timestamp_names_the_item_and_field(org, client_for, field):
    item = valid_snapshot(status="resolved", assignee="rep_a1", resolved_at="2026-03-02T12:00:00Z")
    item[field] = "2026-03-02T10:00:00"
    response = client_for(org.integration).post("/api/v1/cases/bulk/", [item])
    assert response.status_code == 200
    assert response.json() == {"results": [{"index": 0, "errors": {field: [NAIVE]}}]}
    assert_nothing_stored()


def test_a_naive_account_churn_date_is_refused(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/accounts/",
        {"external_id": "A", "name": "A", "status": "churned", "churned_at": "2026-03-02"},
    )
    assert_field_error(response, "churned_at", NAIVE)
    assert Account.objects.count() == 0


# --- domain rules on input -----------------------------------------------------------------


def test_an_unknown_category_is_refused(org, client_for):
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(category="ghost"))
    assert_field_error(response, "category", "Object with slug=ghost does not exist.")
    assert_nothing_stored()


def test_an_inactive_category_is_refused(org, client_for):
    CategoryFactory(slug="legacy", active=False)
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(category="legacy"))
    assert_field_error(
        response, "category", "Category 'legacy' is inactive and takes no new cases."
    )
    assert_nothing_stored()


def test_an_inactive_category_is_refused_in_bulk_for_new_cases(org, client_for):
    CategoryFactory(slug="legacy", active=False)
    response = client_for(org.integration).post(
        "/api/v1/cases/bulk/", [valid_snapshot(category="legacy")]
    )
    assert response.json() == {
        "results": [
            {
                "index": 0,
                "errors": {"category": ["Category 'legacy' is inactive and takes no new cases."]},
            }
        ]
    }
    assert_nothing_stored()


def test_a_future_opened_at_is_refused(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/cases/", valid_case(opened_at="2026-04-02T09:00:00Z")
    )
    assert_field_error(response, "opened_at", "Timestamp is in the future.")
    assert_nothing_stored()


def test_an_inactive_assignee_is_refused(org, client_for):
    org.rep_a2.active = False
    org.rep_a2.save()
    response = client_for(org.admin).post("/api/v1/cases/", valid_case(assignee="rep_a2"))
    assert_field_error(response, "assignee", "The representative is inactive.")
    assert_nothing_stored()


def test_resolved_at_before_opened_at_is_refused_in_bulk(org, client_for):
    item = valid_snapshot(status="resolved", resolved_at="2026-03-02T08:59:59Z")
    response = client_for(org.integration).post("/api/v1/cases/bulk/", [item])
    assert response.json() == {
        "results": [{"index": 0, "errors": {"resolved_at": ["resolved_at is before opened_at."]}}]
    }
    assert_nothing_stored()


@pytest.mark.parametrize(
    "changes, field, reason",
    [
        ({"status": "resolved"}, "resolved_at", "A resolved case needs resolved_at."),
        (
            {"status": "closed", "resolved_at": "2026-03-02T12:00:00Z"},
            "closed_at",
            "A closed case needs closed_at.",
        ),
        (
            {
                "status": "closed",
                "resolved_at": "2026-03-02T12:00:00Z",
                "closed_at": "2026-03-02T11:00:00Z",
            },
            "closed_at",
            "closed_at is before resolved_at.",
        ),
        (
            {"closed_at": "2026-03-02T12:00:00Z"},
            "closed_at",
            "A new case has no closed_at.",
        ),
        (
            {"first_response_at": "2026-03-02T10:00:00Z"},
            "agent_response_count",
            "A case with first_response_at has at least one agent response.",
        ),
        (
            {"assigned_at": "2026-03-02T10:00:00Z"},
            "assigned_at",
            "assigned_at needs an assignee.",
        ),
        (
            {"opened_at": "2026-04-02T09:00:00Z"},
            "opened_at",
            "Timestamp is in the future.",
        ),
        (
            {"agent_response_count": -1},
            "agent_response_count",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"agent_response_count": "many"}, "agent_response_count", "A valid integer is required."),
        ({"status": "archived"}, "status", '"archived" is not a valid choice.'),
    ],
)
def test_inconsistent_snapshots_are_refused(org, client_for, changes, field, reason):
    response = client_for(org.integration).post("/api/v1/cases/bulk/", [valid_snapshot(**changes)])
    assert response.json() == {"results": [{"index": 0, "errors": {field: [reason]}}]}
    assert_nothing_stored()


# --- events --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"event_type": "escalated"}, "event_type", '"escalated" is not a valid choice.'),
        ({"event_type": "created"}, "event_type", '"created" is not a valid choice.'),
        ({"event_type": "status_changed"}, "to_status", "Required for status_changed."),
        (
            {"event_type": "status_changed", "to_status": "resolved"},
            "to_status",
            '"resolved" is not a valid choice.',
        ),
        (
            {"event_type": "agent_response", "assignee": "rep_a1"},
            "assignee",
            "Only assigned events name an assignee.",
        ),
        (
            {"event_type": "agent_response", "occurred_at": "2026-04-02T09:00:00Z"},
            "occurred_at",
            "Timestamp is in the future.",
        ),
    ],
)
def test_bad_events_name_the_field(org, client_for, body, field, reason):
    case = CaseFactory(assignee=org.rep_a1, status=CaseStatus.OPEN)
    response = client_for(org.admin).post(
        f"/api/v1/cases/{case.pk}/events/",
        {"occurred_at": "2026-03-02T10:00:00Z", **body},
    )
    assert_field_error(response, field, reason)
    assert case.events.count() == 0
    case.refresh_from_db()
    assert case.status == "open"


# --- query parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, field, reason",
    [
        (
            "status=bogus",
            "status",
            "Select a valid choice. bogus is not one of the available choices.",
        ),
        (
            "channel=fax",
            "channel",
            "Select a valid choice. fax is not one of the available choices.",
        ),
        ("team=abc", "team", "Enter a number."),
        ("opened_after=yesterday", "opened_after", "Enter a valid date/time."),
        (
            "unassigned=maybe",
            "unassigned",
            "Select a valid choice. maybe is not one of the available choices.",
        ),
        (
            "reopened=yes",
            "reopened",
            "Select a valid choice. yes is not one of the available choices.",
        ),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(org, client_for, query, field, reason):
    CaseFactory()
    response = client_for(org.admin).get(f"/api/v1/cases/?{query}")
    assert_field_error(response, field, reason)


# --- resources -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, body, field, reason",
    [
        (
            "/api/v1/teams/",
            {"name": "T", "timezone": "Mars/Olympus"},
            "timezone",
            "'Mars/Olympus' is not an IANA time zone name.",
        ),
        ("/api/v1/teams/", {"name": ""}, "name", "This field may not be blank."),
        (
            "/api/v1/accounts/",
            {"external_id": "A", "name": "A", "annual_value": "-1"},
            "annual_value",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            "/api/v1/accounts/",
            {"external_id": "A", "name": "A", "annual_value": "abc"},
            "annual_value",
            "A valid number is required.",
        ),
        (
            "/api/v1/accounts/",
            {"external_id": "A", "name": "A", "segment": "huge"},
            "segment",
            '"huge" is not a valid choice.',
        ),
        (
            "/api/v1/categories/",
            {"name": "C", "slug": "c", "target_resolution_hours": 0},
            "target_resolution_hours",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            "/api/v1/categories/",
            {"name": "C", "slug": "c", "parent": "ghost"},
            "parent",
            "Object with slug=ghost does not exist.",
        ),
        (
            "/api/v1/reps/",
            {"username": "x" * 151, "display_name": "X", "team": "TEAM"},
            "username",
            "Ensure this field has no more than 150 characters.",
        ),
        (
            "/api/v1/reps/",
            {"username": "bad name!", "display_name": "X", "team": "TEAM"},
            "username",
            "Enter a valid username. This value may contain only letters, numbers, "
            "and @/./+/-/_ characters.",
        ),
        (
            "/api/v1/reps/",
            {"username": "new", "display_name": "X", "team": 999999},
            "team",
            'Invalid pk "999999" - object does not exist.',
        ),
        (
            "/api/v1/reps/",
            {"username": "new", "display_name": "X", "team": "TEAM", "role": "boss"},
            "role",
            '"boss" is not a valid choice.',
        ),
    ],
)
def test_bad_resource_input_names_the_field(org, client_for, url, body, field, reason):
    body = {k: (org.team_a.pk if v == "TEAM" else v) for k, v in body.items()}
    counts = [m.objects.count() for m in (Team, Account, Category, Representative)]
    response = client_for(org.admin).post(url, body)
    assert_field_error(response, field, reason)
    assert [m.objects.count() for m in (Team, Account, Category, Representative)] == counts
