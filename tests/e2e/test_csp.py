"""The Content-Security-Policy in a real browser: the dashboard's charts and the Swagger UI
still work under it, and Chromium reports no violation (docs/hardening.md).

The page listens for ``securitypolicyviolation`` events from the first script on, and the
console is watched for the browser's own "Refused to …" messages.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_dashboard import data, drawn_charts, log_in, page  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):  # noqa: F811
    """The tab, recording policy violations (events and console messages)."""
    page.refused = []
    page.on(
        "console",
        lambda message: (
            page.refused.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    return page


def violations(page) -> list[str]:  # noqa: F811
    return page.evaluate("() => window.__violations") + page.refused


def test_dashboard_charts_draw_under_the_policy(data, watched):  # noqa: F811
    log_in(watched, "mgr_a")
    for path in ("/dashboard/overview/", "/dashboard/seasonality/", "/dashboard/accounts/"):
        response = watched.goto(watched.base + path)
        assert response.headers["content-security-policy"].count("script-src 'self'") == 1
        charts = drawn_charts(watched)
        assert charts, path
        # The chart boxes got their height through the DOM (no style attribute is allowed).
        heights = watched.evaluate(
            "() => [...document.querySelectorAll('.chart')].map(b => b.style.height)"
        )
        assert heights and all(h.endswith("px") for h in heights), (path, heights)
        assert violations(watched) == [], path
    assert watched.foreign == []


def test_swagger_ui_renders_under_the_policy(data, watched):  # noqa: F811
    watched.goto(watched.base + "/api/docs/")
    watched.wait_for_selector(".opblock", timeout=20_000)
    assert watched.locator(".opblock").count() >= 50  # one per operation of the schema
    assert watched.locator(".swagger-ui .info .title").inner_text().startswith("supportmetrics API")
    assert violations(watched) == []
    assert watched.foreign == []
