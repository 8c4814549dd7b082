"""The team overview through the Django test client: the tables behind the charts carry the
hand-computed figures of tests/dashboard/data.py, filters change them, links drill down."""

from __future__ import annotations

import json

import pytest

from dashboard.panels import duration
from metrics.rollups.durations import max_relative_error
from tests.dashboard.html import table, table_hrefs, tiles

pytestmark = pytest.mark.django_db

OVERVIEW = "/dashboard/overview/"
NO_DATA = "insufficient data (n = 1; 2 needed)"


def shown_as_estimate_of(shown: str, seconds: float) -> bool:
    """Whether a percentile on the page is the display of some value within the log
    histogram's bound of the hand-computed ``seconds`` (docs/metrics.md: the default
    request's percentiles come from the duration rollup)."""
    e = max_relative_error()
    steps = 400
    return shown in {duration(seconds * (1 - e + 2 * e * i / steps)) for i in range(steps + 1)}


def test_backlog_tables_and_open_now(dashboard_data, page_client):
    html = page_client(dashboard_data.org.manager_a).get(OVERVIEW).content

    assert tiles(html)["backlog:Open now"]["value"] == "4"
    assert table(html, "Open cases now by age") == [
        ["Age", "Open cases"],
        ["Under 1 day", "0"],
        ["1–3 days", "1"],
        ["3–7 days", "2"],
        ["7–30 days", "0"],
        ["Over 30 days", "1"],
    ]
    trend = table(html, "Backlog at the end of each day")
    assert trend[0] == ["Day", "Open at end of day", "Opened", "Resolved", "Reopened"]
    assert len(trend) == 1 + 30  # the last 30 days, Berlin calendar
    by_day = {row[0]: row[1:] for row in trend[1:]}
    assert trend[1][0] == "2026-03-03"
    assert by_day["2026-03-03"] == ["1", "0", "0", "0"]  # a2-3, opened in February
    assert by_day["2026-03-24"] == ["2", "1", "1", "1"]  # a1-3 opened, resolved, reopened
    assert by_day["2026-03-25"] == ["1", "1", "2", "0"]  # a2-1 in and out, a1-3 resolved
    assert by_day["2026-04-01"] == ["4", "0", "0", "0"]


def test_response_and_resolution_time_tables(dashboard_data, page_client):
    html = page_client(dashboard_data.org.manager_a).get(OVERVIEW).content
    found = tiles(html)

    assert table(html, "First response time: cases per duration bucket (n = 5)") == [
        ["Duration", "Cases"],
        ["Under 1 h", "1"],
        ["1–4 h", "3"],
        ["4–8 h", "1"],
        ["8–24 h", "0"],
        ["1–3 days", "0"],
        ["3–7 days", "0"],
        ["7 days or more", "0"],
    ]
    assert shown_as_estimate_of(found["response-time:Median"]["value"], 3600)
    assert found["response-time:Mean"]["value"] == "1.7 h"
    assert shown_as_estimate_of(found["response-time:90th percentile"]["value"], 3.2 * 3600)

    assert table(html, "Resolution time: cases per duration bucket (n = 4)")[1:] == [
        ["Under 1 h", "0"],
        ["1–4 h", "1"],
        ["4–8 h", "2"],
        ["8–24 h", "0"],
        ["1–3 days", "1"],
        ["3–7 days", "0"],
        ["7 days or more", "0"],
    ]
    assert shown_as_estimate_of(found["resolution-time:Median"]["value"], 5.5 * 3600)
    assert found["resolution-time:Mean"]["value"] == "10.0 h"
    assert shown_as_estimate_of(found["resolution-time:90th percentile"]["value"], 20 * 3600)


def test_fcr_reopen_and_sla_tiles(dashboard_data, page_client):
    found = tiles(page_client(dashboard_data.org.manager_a).get(OVERVIEW).content)

    assert found["quality:First contact resolution"]["value"] == "50.0%"
    assert found["quality:First contact resolution"]["detail"] == (
        "95% interval 15.0–85.0%; 2 of 4"
    )
    assert found["quality:Reopen rate"]["value"] == "25.0%"
    assert found["quality:Reopen rate"]["detail"] == "95% interval 4.6–69.9%; 1 of 4"
    assert found["quality:SLA attained"]["value"] == "75.0%"
    assert found["quality:SLA attained"]["detail"] == (
        "95% interval 30.1–95.4%; n = 4; 0 without a target"
    )
    assert found["quality:Resolved without a response"]["value"] == "0"


def test_load_tables_are_alphabetical_with_shares(dashboard_data, page_client):
    org = dashboard_data.org
    html = page_client(org.manager_a).get(OVERVIEW).content

    assert table(html, "Case load per person (alphabetical)") == [
        [
            "Person",
            "Taken on",
            "Share taken on (95% interval)",
            "Resolved",
            "Share resolved (95% interval)",
            "Equal share",
        ],
        ["Rep_A1", "5", "71.4% (35.9–91.8%)", "3", "75.0% (30.1–95.4%)", "50.0%"],
        ["Rep_A2", "2", "28.6% (8.2–64.1%)", "1", "25.0% (4.6–69.9%)", "50.0%"],
    ]
    # Names open the person's coaching page, keeping no filters (none were chosen).
    hrefs = table_hrefs(html, "Case load per person (alphabetical)")
    assert hrefs[1][0] == f"/dashboard/reps/{org.rep_a1.pk}/"
    assert table(html, "Spread within each team") == [
        ["Team", "Reps", "Taken on", "Resolved", "Gini taken on", "Gini resolved"],
        ["Alpha", "2", "7", "4", "0.21", "0.25"],
    ]


def test_csat_per_rep_says_insufficient_data_in_words_and_draws_no_bar(dashboard_data, page_client):
    org = dashboard_data.org
    html = page_client(org.manager_a).get(OVERVIEW).content

    assert table(html, "CSAT per rep (alphabetical)") == [
        ["Rep", "Answers", "Satisfied share", "95% interval", "Response rate", "Answered cases"],
        ["Rep_A1", "2", "50.0%", "9.5–90.5%", "50.0%", "cases answered for Rep_A1"],
        ["Rep_A2", "1", NO_DATA, "—", NO_DATA, "cases answered for Rep_A2"],
    ]
    found = tiles(html)
    assert found["csat:Satisfied (everyone here)"]["value"] == "66.7%"
    assert found["csat:Satisfied (everyone here)"]["detail"] == "95% interval 20.8–93.9%; 2 of 3"
    assert found["csat:NPS"]["value"] == "33"

    chart = _chart(html, "csat-data")
    assert chart["data"]["labels"] == ["Rep_A1", "Rep_A2 — insufficient data"]
    interval, estimate = chart["data"]["datasets"]
    assert interval["data"][1] is None and estimate["data"][1] is None  # no bar, no point
    assert interval["data"][0] == pytest.approx([0.0945, 0.9055], abs=1e-4)
    assert estimate["data"][0] == 0.5


def test_drill_down_links_list_the_cases_behind_the_figures(dashboard_data, page_client):
    client = page_client(dashboard_data.org.manager_a)
    html = client.get(OVERVIEW).content
    found = tiles(html)

    def listed(href: str) -> list[str]:
        body = client.get(href).json()
        return sorted(case["external_id"] for case in body["results"])

    assert listed(found["backlog:Open now"]["href"]) == ["a1-4", "a1-5", "a2-2", "a2-3"]
    assert listed(found["quality:First contact resolution"]["href"]) == ["a1-1", "a2-1"]
    assert listed(found["quality:Reopen rate"]["href"]) == ["a1-3"]
    assert listed(found["response-time:Median"]["href"]) == [
        "a1-1",
        "a1-2",
        "a1-3",
        "a1-4",
        "a2-1",
    ]
    rep_a1_answers = table_hrefs(html, "CSAT per rep (alphabetical)")[1][5]
    assert listed(rep_a1_answers) == ["a1-1", "a1-2"]


def test_filters_in_the_url_change_the_figures(dashboard_data, page_client):
    client = page_client(dashboard_data.org.manager_a)

    shipping = client.get(OVERVIEW, {"category": "shipping"}).content
    assert tiles(shipping)["backlog:Open now"]["value"] == "0"
    assert table(shipping, "Resolution time: cases per duration bucket (n = 1)")[3] == [
        "4–8 h",
        "1",
    ]
    assert tiles(shipping)["quality:First contact resolution"]["detail"] == (
        "95% interval 20.7–100.0%; 1 of 1"
    )

    chat = client.get(OVERVIEW, {"channel": "chat", "last_days": "7"}).content
    assert tiles(chat)["backlog:Open now"]["value"] == "1"  # a1-5
    assert len(table(chat, "Backlog at the end of each day")) == 1 + 7
    # The form shows what the URL asked for, and the links carry it to the other pages.
    assert b'<option value="7" selected>' in chat
    assert b'<option value="chat" selected>' in chat
    assert b'href="/dashboard/seasonality/?last_days=7&amp;channel=chat"' in chat


def test_dates_override_the_period(dashboard_data, page_client):
    client = page_client(dashboard_data.org.manager_a)
    html = client.get(OVERVIEW, {"last_days": "30", "from": "2026-03-24", "to": "2026-03-25"})
    trend = table(html.content, "Backlog at the end of each day")
    assert [row[0] for row in trend[1:]] == ["2026-03-24", "2026-03-25"]
    assert b"24 Mar 2026 \xe2\x80\x93 25 Mar 2026 (Europe/Berlin)" in html.content


def test_invalid_filters_answer_400_with_the_reason(dashboard_data, page_client):
    response = page_client(dashboard_data.org.manager_a).get(OVERVIEW, {"category": "nope"})
    assert response.status_code == 400
    assert b"category: Unknown category &#x27;nope&#x27;." in response.content


def _chart(html: bytes, data_id: str) -> dict:
    start = html.index(f'<script id="{data_id}" type="application/json">'.encode())
    body = html[start:].split(b">", 1)[1].split(b"</script>", 1)[0]
    return json.loads(body)


def test_the_overview_runs_a_fixed_number_of_queries_whatever_the_data(dashboard_data, page_client):
    """Each panel is one KPI call in the database: more reps, cases and answers add rows to
    the tables but not a single query (no per-row work in Python)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.dashboard.data import DAY, HOUR, add_case
    from tests.factories import RepresentativeFactory, SurveyResponseFactory

    org = dashboard_data.org
    client = page_client(org.manager_a)
    client.get(OVERVIEW)  # sessions and caches warm

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(OVERVIEW).status_code == 200
        return len(captured.captured_queries)

    before = queries()
    for n in range(4):
        rep = RepresentativeFactory(team=org.team_a, user__username=f"extra_{n}")
        case = add_case(
            org,
            f"extra-{n}",
            dashboard_data.billing,
            dashboard_data.now - 4 * DAY,
            rep,
            [("agent_response", HOUR), ("resolved", 2 * HOUR)],
        )
        SurveyResponseFactory(case=case, representative=rep, responded_at=case.resolved_at)
    html = client.get(OVERVIEW).content
    assert len(table(html, "CSAT per rep (alphabetical)")) == 1 + 6
    assert queries() == before
