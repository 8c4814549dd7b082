import pytest

pytestmark = pytest.mark.django_db


def test_admin_creates_a_case_and_reads_it_back(org, client_for):
    client = client_for(org.admin)
    response = client.post(
        "/api/v1/cases/",
        {
            "external_id": "X-1",
            "category": "billing",
            "channel": "email",
            "opened_at": "2026-03-02T09:00:00Z",
            "assignee": "rep_a1",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = client.get(f"/api/v1/cases/{response.json()['id']}/").json()
    assert body["status"] == "open"
    assert body["team"] == org.team_a.pk
