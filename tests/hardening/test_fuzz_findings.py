"""What the schema fuzzer found, pinned as plain tests (tests/hardening/test_fuzz.py)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/?opened_after=2026-03-01T00:00:00%2B23:56",
        "/api/v1/cases/?resolved_before=2026-03-01T00:00:00-23:59",
        "/api/v1/alerts/?created_after=0439-10-08T23:25:36%2B23:56",
    ],
)
def test_a_date_bound_with_an_offset_postgresql_does_not_take_still_filters(url, org, client_for):
    """±16:00 to ±23:59 are valid ISO 8601 offsets that PostgreSQL refuses: they were a 500."""
    response = client_for(org.admin).get(url)
    assert response.status_code == 200, response.content
    assert response.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/v1/cases/?opened_after=0001-01-01T00:00:00%2B01:00", "opened_after"),
        ("/api/v1/alerts/?created_before=0001-01-01T00:30:00%2B01:00", "created_before"),
    ],
)
def test_a_date_bound_before_year_one_in_utc_is_a_400(url, parameter, org, client_for):
    response = client_for(org.admin).get(url)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": f"{parameter}: Timestamp is out of range.",
        "code": "validation_error",
        "extra": {"fields": {parameter: ["Timestamp is out of range."]}},
    }


NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."


@pytest.mark.parametrize(
    "data, content_type",
    [
        ('{"external_id": "X", "account": "\\u0000l"}', "application/json"),
        ("external_id=X&account=%00l", "application/x-www-form-urlencoded"),
    ],
)
def test_a_nul_character_in_a_body_is_a_400_naming_the_field(data, content_type, org, client_for):
    """PostgreSQL text cannot hold NUL: an account lookup with one was a 500."""
    response = client_for(org.admin).post("/api/v1/cases/", data, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": f"account: {NUL_MESSAGE}",
        "code": "validation_error",
        "extra": {"fields": {"account": [NUL_MESSAGE]}},
    }


def test_a_nul_character_nested_in_a_bulk_item_names_its_path(org, client_for):
    response = client_for(org.admin).post(
        "/api/v1/cases/bulk/", [{"external_id": "X", "subject": "a\x00b"}], format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["extra"] == {"fields": {"0.subject": [NUL_MESSAGE]}}


@pytest.mark.parametrize("url", ["/api/v1/cases/?account=%00x", "/dashboard/overview/?tz=%00"])
def test_a_nul_character_in_the_query_string_is_a_400(url, org, client_for):
    response = client_for(org.admin).get(url)
    name = url.split("?")[1].split("=")[0]
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": f"{name}: {NUL_MESSAGE}",
        "code": "validation_error",
        "extra": {"fields": {name: [NUL_MESSAGE]}},
    }
