"""Seasonality, accounts at risk and the coaching page: their tables hold the hand-computed
figures of tests/dashboard/data.py (the clock at NOW, Wednesday 1 April 2026, 11:00 Berlin)."""

from __future__ import annotations

import pytest

from tests.dashboard.html import table, table_hrefs, tiles

pytestmark = pytest.mark.django_db

NO_DATA_0 = "insufficient data (n = 0; 2 needed)"


def _hours(*hits: tuple[int, int]) -> list[str]:
    counts = ["0"] * 24
    for hour, n in hits:
        counts[hour] = str(n)
    return counts


def test_seasonality_heatmap_and_months(dashboard_data, page_client):
    html = page_client(dashboard_data.org.manager_a).get("/dashboard/seasonality/").content

    heatmap = table(html, "Cases opened by weekday (rows) and hour of day (columns)")
    assert heatmap[0] == ["Weekday", *(f"{h:02d}" for h in range(24))]
    # Team A's 8 cases of the last 365 days, in Berlin time (CET before 29 March, then CEST).
    assert heatmap[1:] == [
        ["Mon", *_hours((10, 1), (11, 1))],  # a1-2 23 March, a1-5 30 March
        ["Tue", *_hours((10, 1))],  # a1-3
        ["Wed", *_hours((10, 1))],  # a2-1
        ["Thu", *_hours()],
        ["Fri", *_hours((10, 2))],  # a2-3 20 February, a1-4 27 March
        ["Sat", *_hours()],
        ["Sun", *_hours((9, 1), (10, 1))],  # a2-2 29 March (CEST), a1-1 22 March
    ]
    months = {row[0]: row[1:] for row in table(html, "Cases opened per month")[1:]}
    assert months["2025-04"] == ["0", "no, part"]
    assert months["2026-02"] == ["1", "yes"]
    assert months["2026-03"] == ["7", "yes"]
    assert months["2026-04"] == ["0", "no, part"]


def test_seasonality_follows_the_category_filter(dashboard_data, page_client):
    client = page_client(dashboard_data.org.manager_a)
    html = client.get("/dashboard/seasonality/", {"category": "shipping"}).content
    rows = table(html, "Cases opened per month")[1:]
    hrefs = table_hrefs(html, "Cases opened per month")[1:]
    march = next(i for i, row in enumerate(rows) if row[0] == "2026-03")
    assert rows[march][1] == "1"  # a2-1 only
    listed = client.get(hrefs[march][1]).json()["results"]
    assert [case["external_id"] for case in listed] == ["a2-1"]


def test_accounts_at_risk_rows_and_their_cases(dashboard_data, page_client):
    client = page_client(dashboard_data.org.manager_a)
    html = client.get("/dashboard/accounts/").content
    rows = table(html, "Riskiest accounts, their factors and cases")

    assert rows[0] == [
        "Account",
        "Segment",
        "Risk",
        "Main factors (points)",
        "Cases (previous period)",
        "Open now",
        "Reopened",
        "Mean CSAT",
    ]
    shaky, steady = rows[1], rows[2]
    assert shaky[0] == "Shaky GmbH (ACC-SHAKY)"  # a reopen and a detractor: riskier
    assert [shaky[1], *shaky[4:]] == [
        "smb",
        "2 (0)",
        "0",
        "1 (50%)",
        "insufficient data (n = 1; 2 needed)",
    ]
    assert steady[0] == "Steady Ltd (ACC-STEADY)"
    assert [steady[1], *steady[4:]] == [
        "smb",
        "1 (0)",
        "0",
        "0 (0%)",
        "insufficient data (n = 1; 2 needed)",
    ]
    assert float(shaky[2]) > float(steady[2])
    cases_href = table_hrefs(html, "Riskiest accounts, their factors and cases")[1][4]
    listed = client.get(cases_href).json()["results"]
    assert sorted(case["external_id"] for case in listed) == ["a1-2", "a1-3"]
    assert tiles(html)["risk:Accounts in scope"]["value"] == "2"


def test_coaching_page_by_category_and_by_month(dashboard_data, page_client):
    org = dashboard_data.org
    html = page_client(org.manager_a).get(f"/dashboard/reps/{org.rep_a1.pk}/").content

    assert b"Coaching: Rep_A1" in html
    # Team A's billing cases resolved in the last 90 days are all rep_a1's: 3 h, 6 h, 26 h;
    # one of three with a single response and no reopen.
    assert table(html, "Per category: the rep beside the team") == [
        [
            "Category",
            "Rep's resolved cases",
            "Rep's median resolution",
            "Team's median resolution",
            "Rep's FCR",
            "Team's FCR",
        ],
        ["Billing", "3", "6.0 h", "6.0 h", "33.3%", "33.3%"],
    ]
    assert table(html, "The rep's months")[1:] == [
        ["2026-01", "0", NO_DATA_0, "0", NO_DATA_0],
        ["2026-02", "0", NO_DATA_0, "0", NO_DATA_0],
        ["2026-03", "3", "6.0 h", "2", "50.0% (9.5–90.5%)"],
        ["2026-04", "0", NO_DATA_0, "0", NO_DATA_0],
    ]
    caption = "Figures beside the team (95% intervals in brackets)"
    figures = {row[0]: row for row in table(html, caption)}
    assert figures["CSAT satisfied share"][1] == "50.0% (9.5–90.5%) · n = 2"
    assert figures["Volume (resolved cases)"][1] == "3 · n = 3"
    assert figures["Volume (resolved cases)"][3] == "1 per teammate · n = 1"
    # rep_a2 is the only teammate, with one case of each: too few to compare.
    assert (
        b"No statistically meaningful difference from the team for the same mix of category, "
        b"channel and priority in any figure." in html
    )


def test_coaching_links_list_the_rep_s_own_cases(dashboard_data, page_client):
    org = dashboard_data.org
    client = page_client(org.manager_a)
    html = client.get(f"/dashboard/reps/{org.rep_a1.pk}/").content
    caption = "Figures beside the team (95% intervals in brackets)"
    labels = [row[0] for row in table(html, caption)[1:]]
    by_label = {
        label: hrefs[1] for label, hrefs in zip(labels, table_hrefs(html, caption)[1:], strict=True)
    }

    def listed(href: str) -> list[str]:
        return sorted(case["external_id"] for case in client.get(href).json()["results"])

    assert listed(by_label["Resolution time"]) == ["a1-1", "a1-2", "a1-3"]
    assert listed(by_label["First response time"]) == ["a1-1", "a1-2", "a1-3", "a1-4"]
    assert listed(by_label["CSAT satisfied share"]) == ["a1-1", "a1-2"]
