"""The detractor-alert email: what a manager reads, and to which address."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases.emails import OutboundEmailUndeliverable, render_outbound_email
from cases.emails.alerts import render_detractor_alert
from cases.models import OutboundEmail
from cases.services.alerts import detractor_alert_create_for_response
from tests.factories import T0, CaseFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db

ANSWERED = T0 + timedelta(days=1, hours=2, minutes=5)


@pytest.fixture
def alert_email(org, settings):
    settings.PUBLIC_BASE_URL = "https://metrics.example.test/"
    case = CaseFactory(
        external_id="ZD-4711",
        subject="Invoice\ncharged twice",
        resolved=True,
        assignee=org.rep_a1,
        category=org.category,
        requester_email="kim@customer.example",
    )
    response = SurveyResponseFactory(
        case=case,
        representative=org.rep_a1,
        csat=1,
        nps=3,
        effort=None,
        comment="Still <b>waiting</b> & annoyed.",
        responded_at=ANSWERED,
    )
    alert = detractor_alert_create_for_response(response=response)
    return alert, OutboundEmail.objects.get(alert=alert, recipient=org.manager_a)


def test_the_mail_has_the_case_the_rep_the_scores_the_comment_and_links(org, alert_email):
    alert, email = alert_email
    message = render_detractor_alert(email)
    assert message.to == ["mgr_a@example.com"]
    # The case subject's newline is folded: headers cannot carry one.
    assert (
        message.subject
        == "Detractor alert (CSAT 1/5, NPS 3/10) on case ZD-4711: Invoice charged twice"
    )
    base = "https://metrics.example.test"
    text = message.body
    for line in (
        "Hello Mgr_A,",
        "Case: ZD-4711 — Invoice\ncharged twice",
        "Resolved by: Rep_A1",
        "Answered: 2026-03-03 11:05 UTC",
        "CSAT: 1 of 5",
        "NPS: 3 of 10",
        "Effort: not answered",
        "Comment:\nStill <b>waiting</b> & annoyed.",  # plain text: the words as written
        f"The alert: {base}/api/v1/alerts/{alert.pk}/",
        f"(admin: {base}/admin/cases/detractoralert/{alert.pk}/change/)",
        f"The case: {base}/api/v1/cases/{alert.case_id}/",
        f"POST {base}/api/v1/alerts/{alert.pk}/contact/",
    ):
        assert line in text, line
    # The customer's address is not in the mail; the manager opens the case for it.
    assert "kim@customer.example" not in text
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "Still &lt;b&gt;waiting&lt;/b&gt; &amp; annoyed." in html  # escaped in HTML
    assert f'<a href="{base}/api/v1/alerts/{alert.pk}/">Open the alert</a>' in html
    assert "<td>Rep_A1</td>" in html
    assert "kim@customer.example" not in html


def test_the_address_is_the_managers_at_send_time(org, alert_email):
    _, email = alert_email
    org.manager_a.user.email = "new.mgr@example.com"
    org.manager_a.user.save(update_fields=["email"])
    email.refresh_from_db()
    message = render_outbound_email(email)  # the delivery task's dispatcher
    assert message.to == ["new.mgr@example.com"]
    assert message.extra_headers["Message-ID"] == f"<outbound-{email.pk}@supportmetrics>"


def test_a_manager_without_an_address_by_send_time_is_undeliverable(org, alert_email):
    _, email = alert_email
    org.manager_a.user.email = ""
    org.manager_a.user.save(update_fields=["email"])
    email.refresh_from_db()
    with pytest.raises(OutboundEmailUndeliverable):
        render_detractor_alert(email)


def test_an_alert_without_rep_nps_or_comment_says_so(org, settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    case = CaseFactory(resolved=True, assignee=org.rep_a1, category=org.category, subject="")
    response = SurveyResponseFactory(case=case, representative=None, csat=2, effort=7)
    alert = detractor_alert_create_for_response(response=response)
    message = render_detractor_alert(alert.emails.get())
    assert message.subject == f"Detractor alert (CSAT 2/5) on case {case.external_id}"
    for line in (
        f"Case: {case.external_id}\n",
        "Resolved by: (no representative)",
        "NPS: not answered",
        "Effort: 7 of 7 (1 = very easy)",
        "Comment:\n(no comment)",
    ):
        assert line in message.body, line
