"""Browser tests: Playwright drives Debian's headless Chromium against pytest-django's
live server. Playwright's own browser download is never used (no `playwright install`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "e2e-screenshots"


@pytest.fixture(autouse=True)
def _no_persistent_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live server's request threads close their database connection after each
    request: a browser's keep-alive socket must not hold one open past the test (the test
    database could not be dropped at the end)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while the browser
    # lives, and Django refuses ORM calls from such a thread. These tests use the ORM only to
    # build data, check outcomes and flush the database between tests, never concurrently
    # with the browser: the documented way out (pytest-django's and Django's docs) is this
    # variable, set only while the browser is open.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def screenshot() -> object:
    """``screenshot(page, name)`` saves a PNG of the whole page (``full_page=False``: what
    the screen shows) to e2e-screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page: object, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)  # type: ignore[attr-defined]
        return path

    return take
