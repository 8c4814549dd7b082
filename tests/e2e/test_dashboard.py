"""The dashboard in a real browser (headless Chromium): a manager logs in, sees every chart
drawn with data and its table holding the hand-computed figures of tests/dashboard/data.py,
changes a filter, opens a rep's coaching page and follows up an alert; a rep reaches only
their own page. Every request the browser makes goes to the live server: nothing is
fetched from anywhere else (the chart libraries are vendored), which the tests check.

Screenshots go to e2e-screenshots/ (git-ignored), named after what they show.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from cases.models import DetractorAlert
from tests.dashboard.data import build_dashboard_data

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "e2e-password"
NO_DATA = "insufficient data (n = 1; 2 needed)"


@pytest.fixture
def data(org, settings):
    """The small data set, built relative to the real clock (the browser's session cookie
    must not expire in the past), with a minimum sample of 2 and the two detractor alerts."""
    settings.SUPPORTMETRICS_MIN_SAMPLE = 2
    now = timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for who in (org.manager_a, org.rep_a1):
        who.user.set_password(PASSWORD)
        who.user.save()
    return build_dashboard_data(org, now, alerts=True)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab at desktop size; requests to any other origin are aborted and
    recorded in ``page.foreign``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.foreign = []
    tab.base = live_server.url

    def only_the_live_server(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            tab.foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_live_server)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def log_in(page, username: str) -> None:
    page.goto(page.base + "/dashboard/")
    assert "/dashboard/login/" in page.url
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def drawn_charts(page) -> dict[str, int]:
    """Every chart canvas of the page → how many non-empty values its datasets hold, after
    checking that charts.js drew it with Chart.js."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".every(c => c.dataset.rendered === 'true')"
    )
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')]
            .map(c => [c.id, Chart.getChart(c).data.datasets
                .flatMap(d => d.data)
                .filter(v => v !== null && (typeof v !== 'number' || v > 0)
                             && (typeof v !== 'object' || Array.isArray(v) || v.v > 0))
                .length]))"""
    )


def table_rows(page, caption: str) -> list[list[str]]:
    """The body rows of the table with this caption, opening its fold first if it is in
    one (as a reader would)."""
    table = page.locator("table", has=page.locator("caption", has_text=caption)).first
    details = page.locator("details", has=table)
    if details.count() and details.first.get_attribute("open") is None:
        details.first.locator("summary").click()
    table.wait_for(state="visible")
    return table.evaluate(
        """t => [...t.tBodies[0].rows].map(r => [...r.cells].map(
            c => c.textContent.replace(/\\s+/g, ' ').trim()))"""
    )


def tile(page, section: str, label: str) -> str:
    return (
        page.locator(f"section#{section} .tile", has=page.locator("dt", has_text=label))
        .locator("dd.value")
        .inner_text()
        .strip()
    )


def test_manager_overview_filters_coaching_and_alerts(data, page, screenshot):
    org = data.org
    log_in(page, "mgr_a")
    assert page.url == page.base + "/dashboard/overview/"
    assert page.get_by_role("heading", level=1).inner_text() == "Team overview"

    charts = drawn_charts(page)
    assert set(charts) == {
        "backlog-chart",
        "response-time-chart",
        "resolution-time-chart",
        "load-chart",
        "csat-chart",
    }
    assert all(values > 0 for values in charts.values()), charts
    # Once drawn, the tables fold away; one click opens each with the same numbers.
    assert page.locator("section#backlog details[open]").count() == 0
    screenshot(page, "01-manager-overview")

    assert tile(page, "backlog", "Open now") == "4"
    assert table_rows(page, "First response time: cases per duration bucket (n = 5)") == [
        ["Under 1 h", "1"],
        ["1–4 h", "3"],
        ["4–8 h", "1"],
        ["8–24 h", "0"],
        ["1–3 days", "0"],
        ["3–7 days", "0"],
        ["7 days or more", "0"],
    ]
    assert table_rows(page, "CSAT per rep (alphabetical)") == [
        ["Rep_A1", "2", "50.0%", "9.5–90.5%", "50.0%", "cases answered for Rep_A1"],
        ["Rep_A2", "1", NO_DATA, "—", NO_DATA, "cases answered for Rep_A2"],
    ]
    assert table_rows(page, "Case load per person (alphabetical)") == [
        ["Rep_A1", "5", "71.4% (35.9–91.8%)", "3", "75.0% (30.1–95.4%)", "50.0%"],
        ["Rep_A2", "2", "28.6% (8.2–64.1%)", "1", "25.0% (4.6–69.9%)", "50.0%"],
    ]
    # The CSAT chart draws an interval for rep_a1 and nothing for rep_a2.
    csat = page.evaluate(
        "() => Chart.getChart(document.getElementById('csat-chart')).data.datasets.map(d => d.data)"
    )
    assert csat[0][1] is None and csat[1][1] is None and csat[1][0] == 0.5
    screenshot(page, "02-manager-overview-tables-open")

    # A filter: the URL and the figures change.
    page.get_by_label("Category").select_option("shipping")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"category=shipping"))
    drawn_charts(page)
    assert tile(page, "backlog", "Open now") == "0"
    assert tile(page, "quality", "First contact resolution") == "100.0%"
    assert table_rows(page, "Resolution time: cases per duration bucket (n = 1)")[2] == [
        "4–8 h",
        "1",
    ]
    screenshot(page, "03-manager-overview-filtered-shipping")

    page.get_by_label("Category").select_option("")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"category=&"))
    assert tile(page, "backlog", "Open now") == "4"

    # A rep's coaching page, from their name in the CSAT table.
    table_rows(page, "CSAT per rep (alphabetical)")
    page.locator("section#csat").get_by_role("link", name="Rep_A1", exact=True).click()
    page.wait_for_url(re.compile(rf"/dashboard/reps/{org.rep_a1.pk}/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Coaching: Rep_A1"
    charts = drawn_charts(page)
    assert set(charts) == {"figures-chart", "by-category-chart", "trend-chart"}
    # The monthly trend may hold no point: its two answers can fall in two months.
    assert charts["figures-chart"] > 0 and charts["by-category-chart"] > 0, charts
    assert table_rows(page, "Per category: the rep beside the team") == [
        ["Billing", "3", "6.0 h", "6.0 h", "33.3%", "33.3%"],
    ]
    assert [row[1] for row in table_rows(page, "Open detractor alerts on this rep's cases")] == [
        "a1-2"
    ]
    screenshot(page, "04-coaching-rep-a1")

    # Seasonality and accounts: charts drawn, tables hold the data set.
    page.get_by_role("link", name="Seasonality").click()
    page.wait_for_url(re.compile(r"/dashboard/seasonality/\?last_days=30"))
    charts = drawn_charts(page)
    assert set(charts) == {"heatmap-chart", "months-chart", "month-of-year-chart", "forecast-chart"}
    assert all(values > 0 for values in charts.values()), charts
    heatmap_total = page.evaluate(
        "() => Chart.getChart(document.getElementById('heatmap-chart')).data.datasets[0]"
        ".data.reduce((sum, cell) => sum + cell.v, 0)"
    )
    # The period chosen on the overview travels with the link: the last 30 days, so of team
    # A's 8 cases a2-3 (40 days old) is left out.
    assert heatmap_total == 7
    # Read like a week: Monday's row on top, Sunday's at the bottom.
    rows_top_down = page.evaluate(
        "() => { const y = Chart.getChart(document.getElementById('heatmap-chart')).scales.y;"
        " return [y.getPixelForValue(0), y.getPixelForValue(6)]; }"
    )
    assert rows_top_down[0] < rows_top_down[1]
    screenshot(page, "05-seasonality")

    page.get_by_role("link", name="Accounts at risk").click()
    page.wait_for_url(re.compile(r"/dashboard/accounts/"))
    assert drawn_charts(page)["risk-chart"] > 0
    rows = table_rows(page, "Riskiest accounts, their factors and cases")
    assert [row[0] for row in rows] == ["Shaky GmbH (ACC-SHAKY)", "Steady Ltd (ACC-STEADY)"]
    assert rows[0][4:7] == ["2 (0)", "0", "1 (50%)"]
    screenshot(page, "06-accounts-at-risk")

    # An alert: contact the customer, then close it as recovered.
    alert = DetractorAlert.objects.get(case=data.cases["a1-2"])
    page.get_by_role("link", name="Alerts").click()
    page.wait_for_url(re.compile(r"/dashboard/alerts/"))
    row = page.locator(f"tr#alert-{alert.pk}")
    assert row.locator("td.status").inner_text().strip() == "Open"
    row.get_by_label(re.compile("Note on the contact")).fill("Called the customer back.")
    row.get_by_role("button", name="Mark contacted").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().strip() == "Case a1-2: customer contacted."
    row = page.locator(f"tr#alert-{alert.pk}")
    assert row.locator("td.status").get_attribute("data-status") == "contacted"
    assert "by mgr_a" in row.locator("td.status").inner_text()
    screenshot(page, "07-alert-contacted")

    row.get_by_role("button", name="Recovered", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().strip() == "Case a1-2: closed as recovered."
    assert page.locator(f"tr#alert-{alert.pk}").count() == 0  # no longer needs follow-up
    page.get_by_role("link", name="Closed", exact=True).click()
    page.wait_for_url(re.compile(r"show=closed"))
    closed = page.locator(f"tr#alert-{alert.pk}")
    assert closed.locator("td.status").get_attribute("data-status") == "recovered"
    screenshot(page, "08-alert-closed-recovered")
    alert.refresh_from_db()
    assert alert.status == "recovered"
    assert alert.contacted_by == org.manager_a.user and alert.closed_by == org.manager_a.user
    assert alert.closed_at >= alert.contacted_at >= alert.created_at
    assert alert.closed_at <= datetime.now(UTC)

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.goto(page.base + "/dashboard/overview/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to the content"

    # Phone width: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    drawn_charts(page)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "09-overview-phone-width", full_page=False)

    assert page.foreign == []


def test_a_rep_reaches_only_their_own_page(data, page, screenshot):
    org = data.org
    log_in(page, "rep_a1")
    assert page.url == f"{page.base}/dashboard/reps/{org.rep_a1.pk}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Coaching: Rep_A1"
    drawn_charts(page)
    screenshot(page, "10-rep-own-coaching-page")

    response = page.goto(f"{page.base}/dashboard/reps/{org.rep_a2.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    screenshot(page, "11-rep-other-rep-page-404")

    # Their own alert is listed, without the follow-up buttons (managers do that).
    page.goto(page.base + "/dashboard/alerts/")
    assert page.locator("table.alerts tbody tr").count() == 1
    assert page.get_by_role("button", name="Mark contacted").count() == 0
    assert page.foreign == []
