"""Deployment checks and security headers (docs/hardening.md).

- ``manage.py check --deploy`` is clean with the production settings and the environment
  production needs;
- every response carries the Content-Security-Policy (scripts from this server only, no
  inline script), Referrer-Policy, nosniff, X-Frame-Options and the opener policy;
- served HTML runs no inline script and has no style attribute, and its <style> blocks carry
  the response's nonce (so the policy does not break the pages: the browser tests in
  tests/e2e/test_csp.py load them in Chromium);
- with the production settings: HTTP redirects to HTTPS, HTTPS answers carry HSTS, and the
  session and CSRF cookies are Secure (and the session cookie HttpOnly).
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client, override_settings

from cases import services
from cases.models import CaseEvent, SurveyInvitation
from cases.survey_links import survey_token
from tests.conftest import NOW
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],  # plus the page's nonce when it has a <style> block
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(header: str) -> dict[str, list[str]]:
    """``"a x; b y z"`` → ``{"a": ["x"], "b": ["y", "z"]}`` (django-csp's order varies)."""
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def policy_with_nonce(nonce: str) -> dict[str, list[str]]:
    return {**POLICY, "style-src": ["'self'", f"'nonce-{nonce}'"]}


def test_check_deploy_is_clean_with_the_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "supportmetrics.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "support-metrics.example.com",
        "DATABASE_URL": "postgres://supportmetrics@127.0.0.1:5432/supportmetrics",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # HSTS preload stays the operator's choice (DJANGO_SECURE_HSTS_PRELOAD): its reminder is
    # the one silenced check.
    assert result.stdout.strip() == "System check identified no issues (1 silenced).", (
        result.stdout + result.stderr
    )


class _Inline(HTMLParser):
    """Inline scripts, style attributes and <style> nonces of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[dict[str, str | None]] = []
        self.style_attributes: list[str] = []
        self.style_nonces: list[str | None] = []
        self.event_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "style" in attributes:
            self.style_attributes.append(f"<{tag} style={attributes['style']!r}>")
        self.event_handlers += [f"<{tag} {name}>" for name in attributes if name.startswith("on")]
        if tag == "script" and "src" not in attributes:
            self.inline_scripts.append(attributes)
        if tag == "style":
            self.style_nonces.append(attributes.get("nonce"))


def _page(client: Client, url: str, status: int = 200) -> tuple[str, _Inline]:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    policy = response["Content-Security-Policy"]
    parser = _Inline()
    parser.feed(response.content.decode())
    nonces = set(parser.style_nonces)
    if nonces:
        assert len(nonces) == 1 and None not in nonces, (url, parser.style_nonces)
        assert directives(policy) == policy_with_nonce(nonces.pop()), (url, policy)
    else:
        assert directives(policy) == POLICY, (url, policy)
    # Only data may sit inline: json_script's <script type="application/json">.
    assert [s for s in parser.inline_scripts if s.get("type") != "application/json"] == [], url
    assert parser.style_attributes == [], (url, parser.style_attributes)
    assert parser.event_handlers == [], (url, parser.event_handlers)
    return policy, parser


@pytest.fixture
def survey_url(org, clock):
    """A survey page link (a case resolved an hour ago)."""
    case, _ = services.case_create(
        external_id="CSP-1",
        category=org.category,
        channel="email",
        opened_at=NOW - timedelta(days=1),
        requester_email="csp@example.org",
        assignee=org.rep_a1,
    )
    services.case_event_record(
        case=case,
        event_type=CaseEvent.Type.RESOLVED,
        occurred_at=NOW - timedelta(hours=1),
        actor=org.rep_a1,
    )
    return f"/s/{survey_token(SurveyInvitation.objects.get(case=case))}/"


def test_served_pages_run_no_inline_script_and_carry_the_policy(org, survey_url):
    CaseFactory(assignee=org.rep_a1, category=org.category, opened_at=NOW - timedelta(days=3))
    manager = Client()
    manager.force_login(org.manager_a.user)
    admin = Client()
    admin.force_login(org.admin)
    anonymous = Client()
    for url in (
        "/dashboard/overview/",
        "/dashboard/seasonality/",
        "/dashboard/accounts/",
        f"/dashboard/reps/{org.rep_a1.pk}/",
        "/dashboard/alerts/",
    ):
        _, parser = _page(manager, url)
    assert parser.inline_scripts == []  # the alerts page has no chart
    _, overview = _page(manager, "/dashboard/overview/")
    assert overview.inline_scripts and {s["type"] for s in overview.inline_scripts} == {
        "application/json"
    }
    _page(anonymous, "/dashboard/login/")
    _page(anonymous, "/")
    _page(anonymous, survey_url)
    _page(admin, "/admin/")
    _, docs = _page(anonymous, "/api/docs/")
    assert docs.style_nonces != [None]


def test_swagger_ui_start_script_is_a_file_the_policy_allows(client):
    page = client.get("/api/docs/").content.decode()
    (script_url,) = re.findall(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', page)
    response = client.get(script_url.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


@pytest.mark.parametrize("url", ["/api/v1/teams/", "/api/schema/", "/healthz", "/no-such-page"])
def test_api_answers_carry_the_security_headers(url, org, client_for):
    response = client_for(org.admin).get(url)
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def _production_security_settings() -> dict[str, object]:
    production = importlib.import_module("supportmetrics.settings.production")
    names = [
        "DEBUG",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
    ]
    return {name: getattr(production, name) for name in names}


def test_production_redirects_to_https_and_sends_hsts_and_secure_cookies(org):
    org.manager_a.user.set_password("pw-hardening")
    org.manager_a.user.save()
    with override_settings(**_production_security_settings()):
        client = Client()  # built inside: the middleware reads its settings when it loads
        plain = client.get("/dashboard/login/")
        assert (plain.status_code, plain["Location"]) == (
            301,
            "https://testserver/dashboard/login/",
        )
        login_page = client.get("/dashboard/login/", secure=True)
        assert login_page.status_code == 200
        assert login_page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        csrf = login_page.cookies["csrftoken"]
        assert csrf["secure"] is True
        logged_in = client.post(
            "/dashboard/login/",
            {"username": "mgr_a", "password": "pw-hardening"},
            secure=True,
        )
        assert logged_in.status_code == 302
        session = logged_in.cookies["sessionid"]
        assert (session["secure"], session["httponly"], session["samesite"]) == (
            True,
            True,
            "Lax",
        )
        # Behind the proxy: X-Forwarded-Proto https counts as HTTPS, so no redirect.
        proxied = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert proxied.status_code == 200
        assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
