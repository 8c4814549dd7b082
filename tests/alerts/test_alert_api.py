"""The alerts API: exact JSON, scoping per role, filters, cursor pages, and the workflow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.models import DetractorAlert
from cases.services.alerts import detractor_alert_contact
from tests.conftest import NOW, ROLES
from tests.factories import T0, CaseFactory, DetractorAlertFactory, SurveyResponseFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

URL = "/api/v1/alerts/"
NOT_FOUND = {"message": "Not found.", "code": "not_found", "extra": {}}
FORBIDDEN = {
    "message": "You do not have permission to perform this action.",
    "code": "permission_denied",
    "extra": {},
}
UNAUTHENTICATED = {
    "message": "Authentication credentials were not provided.",
    "code": "not_authenticated",
    "extra": {},
}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def raise_alert(org, rep, external_id, answered, *, csat=1, nps=None, effort=None, comment=""):
    case = CaseFactory(
        external_id=external_id,
        subject=f"Subject of {external_id}",
        resolved=True,
        assignee=rep,
        category=org.category,
    )
    response = SurveyResponseFactory(
        case=case,
        representative=rep,
        csat=csat,
        nps=nps,
        effort=effort,
        comment=comment,
        responded_at=answered,
    )
    return DetractorAlertFactory(response=response)


@pytest.fixture
def alerts(org):
    """a1: rep_a1's, open (newest). a2: rep_a2's, contacted by mgr_a. b1: rep_b1's, recovered."""
    a1 = raise_alert(
        org,
        org.rep_a1,
        "A-1",
        T0 + timedelta(days=3),
        csat=2,
        nps=9,
        effort=5,
        comment="Took three calls.",
    )
    a2 = raise_alert(org, org.rep_a2, "A-2", T0 + timedelta(days=2), csat=3, nps=4, comment="Rude.")
    a2 = detractor_alert_contact(
        alert=a2,
        user=org.manager_a.user,
        note="Apologised.",
        now=a2.created_at + timedelta(minutes=90),
    )
    b1 = raise_alert(org, org.rep_b1, "B-1", T0 + timedelta(days=1), comment="Never again.")
    b1.status, b1.contacted_at, b1.contacted_by = "recovered", b1.created_at, org.manager_b.user
    b1.closed_at, b1.closed_by = b1.created_at + timedelta(days=1), org.manager_b.user
    b1.save()
    return {"a1": a1, "a2": a2, "b1": b1}


def test_detail_shows_the_case_the_rep_the_answer_and_the_workflow(org, alerts, client_for):
    a2 = alerts["a2"]
    response = client_for(org.manager_a).get(f"{URL}{a2.pk}/")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": a2.pk,
        "status": "contacted",
        "case": a2.case_id,
        "case_external_id": "A-2",
        "case_subject": "Subject of A-2",
        "team": org.team_a.pk,
        "representative": org.rep_a2.pk,
        "representative_name": "Rep_A2",
        "csat": 3,
        "nps": 4,
        "effort": None,
        "comment": "Rude.",
        "created_at": "2026-03-04T09:00:00Z",
        "contacted_at": "2026-03-04T10:30:00Z",
        "contacted_by": "mgr_a",
        "closed_at": None,
        "closed_by": None,
        "note": "Apologised.",
        "time_to_first_contact_seconds": 5400.0,
    }


VISIBLE = {
    "rep": {"A-1"},
    "other_team_rep": {"B-1"},
    "manager": {"A-1", "A-2"},
    "other_team_manager": {"B-1"},
    "admin": {"A-1", "A-2", "B-1"},
    "integration": {"A-1", "A-2", "B-1"},
}


@pytest.mark.parametrize("role", ROLES)
def test_the_list_is_narrowed_to_the_callers_scope(role, role_client, alerts):
    response = role_client(role).get(URL)
    if role == "anonymous":
        assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)
        return
    if role == "no_role":
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
        return
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert {row["case_external_id"] for row in rows} == VISIBLE[role]
    # The customer's comment: managers, admins and the rep concerned; not integrations.
    comments = {row["comment"] for row in rows}
    assert comments == {None} if role == "integration" else None not in comments


DETAIL = {
    "rep": 200,  # rep_a1's own alert
    "other_team_rep": 404,
    "manager": 200,
    "other_team_manager": 404,
    "admin": 200,
    "integration": 200,
}


@pytest.mark.parametrize("role", sorted(DETAIL))
def test_detail_out_of_scope_is_404(role, role_client, alerts):
    response = role_client(role).get(f"{URL}{alerts['a1'].pk}/")
    assert response.status_code == DETAIL[role], response.content
    if DETAIL[role] == 404:
        assert response.json() == NOT_FOUND
    else:
        assert response.json()["case_external_id"] == "A-1"


def test_a_rep_does_not_see_a_teammates_alert(org, alerts, client_for):
    response = client_for(org.rep_a1).get(f"{URL}{alerts['a2'].pk}/")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_integrations_read_without_the_comment(org, alerts, client_for):
    body = client_for(org.integration).get(f"{URL}{alerts['a1'].pk}/").json()
    assert (body["csat"], body["comment"]) == (2, None)


# --- filters and pages ---------------------------------------------------------------------


def listed(client, params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [row["case_external_id"] for row in response.json()["results"]]


def test_filters(org, alerts, client_for):
    admin = client_for(org.admin)
    assert listed(admin, {}) == ["A-1", "A-2", "B-1"]  # newest first
    assert listed(admin, {"status": "open"}) == ["A-1"]
    assert listed(admin, [("status", "open"), ("status", "recovered")]) == ["A-1", "B-1"]
    assert listed(admin, {"team": org.team_b.pk}) == ["B-1"]
    assert listed(admin, {"rep": org.rep_a2.pk}) == ["A-2"]
    assert listed(admin, {"case": alerts["a1"].case_id}) == ["A-1"]
    # created in [after, before): the bound at A-2's creation includes it, excludes it above.
    a2_created = iso(alerts["a2"].created_at)
    assert listed(admin, {"created_after": a2_created}) == ["A-1", "A-2"]
    assert listed(admin, {"created_before": a2_created}) == ["B-1"]
    march_4 = {"created_after": "2026-03-04T00:00:00Z", "created_before": "2026-03-05T00:00:00Z"}
    assert listed(admin, march_4) == ["A-2"]
    # A manager asking for another team's alerts gets none (the scope still applies).
    assert listed(client_for(org.manager_a), {"team": org.team_b.pk}) == []


@pytest.mark.parametrize(
    "params, field, reason",
    [
        (
            {"status": "closed"},
            "status",
            "Select a valid choice. closed is not one of the available choices.",
        ),
        ({"team": "alpha"}, "team", "Enter a number."),
        ({"created_after": "last week"}, "created_after", "Enter a valid date/time."),
        (
            {"ordering": "status"},
            "ordering",
            "Unknown ordering 'status'; use one of -created_at, created_at.",
        ),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(
    org, alerts, client_for, params, field, reason
):
    response = client_for(org.admin).get(URL, params)
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {reason}",
        "code": "validation_error",
        "extra": {"fields": {field: [reason]}},
    }


def test_cursor_pages(org, alerts, client_for):
    client = client_for(org.admin)
    first = client.get(URL, {"page_size": 2}).json()
    assert [r["case_external_id"] for r in first["results"]] == ["A-1", "A-2"]
    assert first["previous"] is None
    # A newer alert raised meanwhile does not shift the next page.
    raise_alert(org, org.rep_a1, "A-NEW", NOW - timedelta(hours=1))
    second = client.get(first["next"]).json()
    assert [r["case_external_id"] for r in second["results"]] == ["B-1"]
    assert second["next"] is None
    oldest_first = listed(client, {"ordering": "created_at"})
    assert oldest_first == ["B-1", "A-2", "A-1", "A-NEW"]


def test_the_list_reads_in_a_fixed_number_of_queries(
    org, alerts, client_for, django_assert_num_queries
):
    client = client_for(org.admin)
    for number in range(5):
        raise_alert(org, org.rep_a1, f"MORE-{number}", T0 + timedelta(hours=number))
    with django_assert_num_queries(2):  # the caller's representative (scope), the page
        response = client.get(URL)
    assert len(response.json()["results"]) == 8


# --- the workflow --------------------------------------------------------------------------


def test_a_manager_contacts_then_closes(org, alerts, client_for):
    a1 = alerts["a1"]
    client = client_for(org.manager_a)
    response = client.post(f"{URL}{a1.pk}/contact/", {"note": "Called back."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["contacted_at"], body["contacted_by"], body["note"]) == (
        "contacted",
        iso(NOW),
        "mgr_a",
        "Called back.",
    )
    assert body["time_to_first_contact_seconds"] == (NOW - a1.created_at).total_seconds()
    response = client.post(f"{URL}{a1.pk}/close/", {"outcome": "not_recovered"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["closed_at"], body["closed_by"], body["note"]) == (
        "not_recovered",
        iso(NOW),
        "mgr_a",
        "Called back.",
    )


def test_an_admin_acts_on_any_team(org, alerts, client_for):
    response = client_for(org.admin).post(
        f"{URL}{alerts['a2'].pk}/close/",
        {"outcome": "recovered", "note": "Fine now."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["closed_by"]) == ("recovered", "admin")
    assert response.json()["note"] == "Apologised.\n\nFine now."


@pytest.mark.parametrize("action", ["contact", "close"])
@pytest.mark.parametrize("who", ["rep_a1", "integration"])
def test_the_rep_concerned_and_integrations_read_but_may_not_act(
    org, alerts, client_for, action, who
):
    a1 = alerts["a1"]
    response = client_for(getattr(org, who)).post(
        f"{URL}{a1.pk}/{action}/", {"outcome": "recovered"}, format="json"
    )
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    a1.refresh_from_db()
    assert (a1.status, a1.contacted_at) == ("open", None)


@pytest.mark.parametrize("action", ["contact", "close"])
def test_a_manager_of_another_team_gets_404(org, alerts, client_for, action):
    a2 = alerts["a2"]
    response = client_for(org.manager_b).post(
        f"{URL}{a2.pk}/{action}/", {"outcome": "recovered"}, format="json"
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    a2.refresh_from_db()
    assert a2.status == "contacted"


def test_no_role_and_anonymous(org, alerts, client_for):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    url = f"{URL}{alerts['a1'].pk}/contact/"
    assert client_for(UserFactory(username="nobody")).post(url).json() == FORBIDDEN
    assert APIClient().post(url).json() == UNAUTHENTICATED


def test_invalid_transitions_answer_409_naming_both_statuses(org, alerts, client_for):
    client = client_for(org.manager_a)
    response = client.post(
        f"{URL}{alerts['a1'].pk}/close/", {"outcome": "recovered"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": "A detractor alert that is open cannot become recovered.",
        "code": "invalid_alert_transition",
        "extra": {"from_status": "open", "to_status": "recovered"},
    }
    response = client.post(f"{URL}{alerts['a2'].pk}/contact/", {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "message": "A detractor alert that is contacted cannot become contacted.",
        "code": "invalid_alert_transition",
        "extra": {"from_status": "contacted", "to_status": "contacted"},
    }
    assert DetractorAlert.objects.get(pk=alerts["a2"].pk).contacted_at == alerts["a2"].contacted_at


@pytest.mark.parametrize(
    "payload, reason",
    [
        ({"outcome": "maybe"}, '"maybe" is not a valid choice.'),
        ({"outcome": "contacted"}, '"contacted" is not a valid choice.'),
        ({}, "This field is required."),
    ],
)
def test_a_bad_outcome_answers_400_naming_the_field(org, alerts, client_for, payload, reason):
    a2 = alerts["a2"]
    response = client_for(org.manager_a).post(f"{URL}{a2.pk}/close/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": f"outcome: {reason}",
        "code": "validation_error",
        "extra": {"fields": {"outcome": [reason]}},
    }
    a2.refresh_from_db()
    assert a2.status == "contacted"


def test_an_unknown_alert_is_404(org, client_for):
    client = client_for(org.admin)
    assert client.get(f"{URL}999999/").json() == NOT_FOUND
    assert client.post(f"{URL}999999/contact/").json() == NOT_FOUND
