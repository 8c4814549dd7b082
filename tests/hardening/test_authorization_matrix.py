"""Every endpoint under /api/ and /dashboard/ × every role × an object in and out of scope.

The endpoints come from the URL configuration itself (``get_resolver()``), so a new one
cannot escape: ``test_every_endpoint_is_classified`` fails until it has a row in ENDPOINTS.
Each row says, for each role and for an object of team A and one of team B, the status
the request must get. The rules (docs/api.md "Roles and scoping", docs/dashboard.md):

- anonymous: 401 on the API, a redirect to the login page on the dashboard;
- a user without a role: 403; an object outside the caller's scope: 404 (it is filtered
  out, so its existence is not revealed); an action the role may not take: 403;
- personal data — the requester's email and name, the customer's survey comment — appears
  only in the answers of roles that need it (PERSONAL_DATA_ALLOWED): the case detail for roles
  with the case in scope, the alert's comment for the team's managers, admins and the rep
  concerned, the outbox (emails as sent) for admins. Everything else is checked for the
  literal values, whatever the content type.

Roles: "rep"/"manager" are on team A, "other_team_*" on team B (tests/conftest.py); the API
client is the integration user with a token; the others log in with a session, as the
dashboard and the browsable API are used. ``ALLOWED`` marks a request past authorization
whose exact answer (201, 200, a validation 400 or a lifecycle 409) the endpoint's own tests
pin: here it only must not be a refusal (401/403/404), a 405 or a server error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases import services
from cases.etags import case_etag
from cases.models import Case, CaseEvent, OutboundEmail, SurveyInvitation
from cases.services.surveys import survey_answer_record
from cases.survey_links import survey_token
from tests.conftest import NOW
from tests.factories import AccountFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

ROLES = (
    "anonymous",
    "no_role",
    "rep",
    "other_team_rep",
    "manager",
    "other_team_manager",
    "admin",
    "integration",
)
OBJECTS = ("a", "b")  # team A's object, team B's object

ALLOWED = "allowed"  # past authorization: any answer but 401/403/404/405/5xx
LOGIN = "login"  # a redirect to the dashboard's login page

# Personal data planted in the fixtures; no answer may carry it unless PERSONAL_DATA_ALLOWED.
EMAIL = "pd.requester.{team}@example.org"
NAME = "Pd Requester {team}"
COMMENT = "pd comment {team}: the agent never called back"

IN_SCOPE = {
    "a": {"rep", "manager", "admin", "integration"},
    "b": {"other_team_rep", "other_team_manager", "admin", "integration"},
}
WITH_ROLE = {"rep", "other_team_rep", "manager", "other_team_manager", "admin", "integration"}
MANAGERS = {"a": "manager", "b": "other_team_manager"}
REPS = {"a": "rep", "b": "other_team_rep"}


def api(rule: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """The API's common rows (anonymous 401, no role 403), then ``rule``."""

    def expected(role: str, obj: str) -> Any:
        if role == "anonymous":
            return 401
        if role == "no_role":
            return 403
        return rule(role, obj)

    return expected


def every_role(ok: Any) -> Callable[[str, str], Any]:
    return api(lambda role, obj: ok)


def scoped(ok: Any) -> Callable[[str, str], Any]:
    """Allowed on objects in the role's scope, 404 on the others."""
    return api(lambda role, obj: ok if role in IN_SCOPE[obj] else 404)


def only(roles: set[str], ok: Any) -> Callable[[str, str], Any]:
    """An action for some roles only: the others 403, whatever the object."""
    return api(lambda role, obj: ok if role in roles else 403)


def admin_only(ok: Any) -> Callable[[str, str], Any]:
    return only({"admin"}, ok)


def alert_action(role: str, obj: str) -> Any:
    """Managers (their team's alerts) and admins act on alerts; reps and integrations may not
    act at all (403), another team's manager does not see the alert (404)."""
    if role in ("rep", "other_team_rep", "integration"):
        return 403
    return ALLOWED if role in IN_SCOPE[obj] else 404


def dashboard_alert_action(role: str, obj: str) -> Any:
    """The dashboard looks the alert up in the viewer's scope first (404), then asks whether
    the role may act (403); the API asks the role first. Both refuse; neither reveals an
    alert outside the viewer's scope."""
    if role not in IN_SCOPE[obj]:
        return 404
    return 403 if role in REPS.values() else 302


def dashboard(rule: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """Dashboard pages: anonymous (and the token-only integration, which has no session)
    go to the login page; no role 403; then ``rule``."""

    def expected(role: str, obj: str) -> Any:
        if role in ("anonymous", "integration"):
            return LOGIN
        if role == "no_role":
            return 403
        return rule(role, obj)

    return expected


def no_personal_data(role: str, obj: str) -> set[str]:
    return set()


@dataclass(frozen=True)
class Row:
    """One endpoint and method: the URL for object "a"/"b", the body, the expected status."""

    url: Callable[[Any, str], str]
    expected: Callable[[str, str], Any]
    body: Callable[[Any, str], Any] | None = None
    format: str = "json"
    personal_data: Callable[[str, str], set[str]] = field(default=no_personal_data)
    headers: Callable[[Any, str], dict[str, str]] | None = None


def fixed(path: str) -> Callable[[Any, str], str]:
    def fixed_url(data: Any, obj: str) -> str:
        return path

    return fixed_url


def of(pattern: str, attribute: str) -> Callable[[Any, str], str]:
    """``of("/api/v1/cases/{}/", "case")`` → the URL of ``data.case[obj]``."""
    return lambda data, obj: pattern.format(getattr(data, attribute)[obj])


def team_query(path: str) -> Callable[[Any, str], str]:
    """KPI and dashboard pages: the object is the team asked for in ``?team=``."""
    return lambda data, obj: f"{path}?team={data.team[obj]}"


def requester(obj: str) -> set[str]:
    return {EMAIL.format(team=obj), NAME.format(team=obj)}


def comment(obj: str) -> set[str]:
    return {COMMENT.format(team=obj)}


ALL_PERSONAL_DATA = requester("a") | requester("b") | comment("a") | comment("b")
TEAM_OF_ROLE = {"rep": "a", "manager": "a", "other_team_rep": "b", "other_team_manager": "b"}


def case_detail_personal_data(role: str, obj: str) -> set[str]:
    """The requester of a case the role has in scope."""
    return requester(obj) if role in IN_SCOPE[obj] else set()


def alert_comment(role: str, obj: str) -> set[str]:
    """An alert's comment: its team's manager, admins and the rep concerned; not
    integrations (they read alerts with ``comment: null``)."""
    return comment(obj) if role in {MANAGERS[obj], REPS[obj], "admin"} else set()


def listed_alert_comments(role: str, obj: str) -> set[str]:
    """A list of the alerts in the viewer's scope, whatever the object: the viewer's own
    team's comment (the reps here are the ones concerned), every comment for admins."""
    if role == "admin":
        return comment("a") | comment("b")
    return comment(TEAM_OF_ROLE[role]) if role in TEAM_OF_ROLE else set()


def admin_sees_all(role: str, obj: str) -> set[str]:
    return ALL_PERSONAL_DATA if role == "admin" else set()


def case_body(data: Any, obj: str) -> dict[str, Any]:
    return {
        "external_id": f"NEW-{obj}",
        "category": "billing",
        "channel": "chat",
        "opened_at": (NOW - timedelta(hours=2)).isoformat(),
    }


def current_etag(data: Any, obj: str) -> dict[str, str]:
    """Updates need the case's version (If-Match, docs/api.md): the one it has now."""
    return {"HTTP_IF_MATCH": case_etag(Case.objects.get(pk=data.case[obj]))}


def event_body(data: Any, obj: str) -> dict[str, Any]:
    return {"event_type": "agent_response", "occurred_at": (NOW - timedelta(minutes=5)).isoformat()}


# Keyed by URL name (namespace:name) and method.
ENDPOINTS: dict[tuple[str, str], Row] = {
    # --- resources: every role reads, admins write -------------------------------------------
    ("cases:api-root", "GET"): Row(fixed("/api/v1/"), every_role(200)),
    ("cases:team-list", "GET"): Row(fixed("/api/v1/teams/"), every_role(200)),
    ("cases:team-list", "POST"): Row(
        fixed("/api/v1/teams/"), admin_only(201), lambda d, o: {"name": "New", "timezone": "UTC"}
    ),
    ("cases:team-detail", "GET"): Row(of("/api/v1/teams/{}/", "team"), every_role(200)),
    ("cases:team-detail", "PUT"): Row(
        of("/api/v1/teams/{}/", "team"),
        admin_only(200),
        lambda d, o: {"name": f"Team {o}", "timezone": "UTC"},
    ),
    ("cases:team-detail", "PATCH"): Row(
        of("/api/v1/teams/{}/", "team"), admin_only(200), lambda d, o: {"name": f"Renamed {o}"}
    ),
    ("cases:team-detail", "DELETE"): Row(of("/api/v1/teams/{}/", "team"), admin_only(409)),
    ("cases:rep-list", "GET"): Row(fixed("/api/v1/reps/"), every_role(200)),
    ("cases:rep-list", "POST"): Row(fixed("/api/v1/reps/"), admin_only(ALLOWED), lambda d, o: {}),
    ("cases:rep-detail", "GET"): Row(
        of("/api/v1/reps/{}/", "rep"),
        scoped(200),  # the object is the team's rep: themselves, their manager
    ),
    ("cases:rep-detail", "PUT"): Row(
        of("/api/v1/reps/{}/", "rep"), admin_only(ALLOWED), lambda d, o: {}
    ),
    ("cases:rep-detail", "PATCH"): Row(
        of("/api/v1/reps/{}/", "rep"), admin_only(200), lambda d, o: {"display_name": "Renamed"}
    ),
    ("cases:rep-detail", "DELETE"): Row(of("/api/v1/reps/{}/", "rep"), admin_only(409)),
    ("cases:account-list", "GET"): Row(fixed("/api/v1/accounts/"), every_role(200)),
    ("cases:account-list", "POST"): Row(
        fixed("/api/v1/accounts/"),
        admin_only(201),
        lambda d, o: {"external_id": "ACC-NEW", "name": "New account"},
    ),
    ("cases:account-detail", "GET"): Row(of("/api/v1/accounts/{}/", "account"), every_role(200)),
    ("cases:account-detail", "PUT"): Row(
        of("/api/v1/accounts/{}/", "account"),
        admin_only(200),
        lambda d, o: {"external_id": f"ACC-{o}", "name": f"Account {o}"},
    ),
    ("cases:account-detail", "PATCH"): Row(
        of("/api/v1/accounts/{}/", "account"), admin_only(200), lambda d, o: {"name": "Renamed"}
    ),
    ("cases:account-detail", "DELETE"): Row(of("/api/v1/accounts/{}/", "account"), admin_only(409)),
    ("cases:category-list", "GET"): Row(fixed("/api/v1/categories/"), every_role(200)),
    ("cases:category-list", "POST"): Row(
        fixed("/api/v1/categories/"),
        admin_only(201),
        lambda d, o: {"slug": "new-cat", "name": "New category"},
    ),
    ("cases:category-detail", "GET"): Row(
        of("/api/v1/categories/{}/", "category"), every_role(200)
    ),
    ("cases:category-detail", "PUT"): Row(
        of("/api/v1/categories/{}/", "category"),
        admin_only(200),
        lambda d, o: {"slug": f"cat-{o}", "name": f"Category {o}"},
    ),
    ("cases:category-detail", "PATCH"): Row(
        of("/api/v1/categories/{}/", "category"), admin_only(200), lambda d, o: {"name": "Renamed"}
    ),
    ("cases:category-detail", "DELETE"): Row(
        of("/api/v1/categories/{}/", "category"), admin_only(409)
    ),
    # --- cases: every role, narrowed to its scope --------------------------------------------
    ("cases:case-list", "GET"): Row(fixed("/api/v1/cases/"), every_role(200)),
    ("cases:case-list", "POST"): Row(fixed("/api/v1/cases/"), every_role(201), case_body),
    ("cases:case-detail", "GET"): Row(
        of("/api/v1/cases/{}/", "case"), scoped(200), personal_data=case_detail_personal_data
    ),
    ("cases:case-detail", "PUT"): Row(
        of("/api/v1/cases/{}/", "case"),
        scoped(ALLOWED),
        lambda d, o: {"subject": "Changed"},
        personal_data=case_detail_personal_data,
        headers=current_etag,
    ),
    ("cases:case-detail", "PATCH"): Row(
        of("/api/v1/cases/{}/", "case"),
        scoped(200),
        lambda d, o: {"subject": "Changed"},
        personal_data=case_detail_personal_data,
        headers=current_etag,
    ),
    ("cases:case-events", "GET"): Row(of("/api/v1/cases/{}/events/", "case"), scoped(200)),
    ("cases:case-events", "POST"): Row(
        of("/api/v1/cases/{}/events/", "case"), scoped(ALLOWED), event_body
    ),
    ("cases:case-bulk-upsert", "POST"): Row(
        fixed("/api/v1/cases/bulk/"), only({"admin", "integration"}, 200), lambda d, o: []
    ),
    ("cases:case-import", "POST"): Row(
        fixed("/api/v1/cases/import/"),
        only({"admin", "integration"}, ALLOWED),
        lambda d, o: {},
        format="multipart",
    ),
    # --- detractor alerts ----------------------------------------------------------------------
    ("cases:alert-list", "GET"): Row(
        fixed("/api/v1/alerts/"), every_role(200), personal_data=listed_alert_comments
    ),
    ("cases:alert-detail", "GET"): Row(
        of("/api/v1/alerts/{}/", "alert"),
        api(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
        personal_data=alert_comment,
    ),
    ("cases:alert-contact", "POST"): Row(
        of("/api/v1/alerts/{}/contact/", "alert"),
        api(alert_action),
        lambda d, o: {"note": "Called"},
        personal_data=alert_comment,
    ),
    ("cases:alert-close", "POST"): Row(
        of("/api/v1/alerts/{}/close/", "alert"),
        api(alert_action),
        lambda d, o: {"outcome": "recovered"},
        personal_data=alert_comment,
    ),
    # --- outbox: admins ------------------------------------------------------------------------
    ("cases:outbox-list", "GET"): Row(
        fixed("/api/v1/outbox/"),
        admin_only(200),
        personal_data=admin_sees_all,
    ),
    ("cases:outbox-retry", "POST"): Row(
        of("/api/v1/outbox/{}/retry/", "email"),
        admin_only(ALLOWED),
        personal_data=admin_sees_all,
    ),
    # --- audit trail: admins ------------------------------------------------------------------
    ("cases:audit-list", "GET"): Row(fixed("/api/v1/audit/"), admin_only(200)),
    # --- surveys: the signed link is the key; "b" is a tampered link -------------------------
    ("cases:survey-answer", "GET"): Row(
        of("/api/v1/surveys/{}/", "token"), lambda role, obj: 200 if obj == "a" else 404
    ),
    ("cases:survey-answer", "POST"): Row(
        of("/api/v1/surveys/{}/", "token"),
        lambda role, obj: 201 if obj == "a" else 404,
        lambda d, o: {"csat": 5},
    ),
}

KPIS = [
    ("kpi-backlog", "backlog/"),
    ("kpi-backlog-rep-history", "backlog/reps/"),
    ("kpi-load", "load/"),
    ("kpi-response-time", "response-time/"),
    ("kpi-resolution-time", "resolution-time/"),
    ("kpi-fcr", "fcr/"),
    ("kpi-repeat-contacts", "repeat-contacts/"),
    ("kpi-seasonality", "seasonality/"),
    ("kpi-queue", "queue/"),
    ("kpi-accounts", "accounts/"),
    ("kpi-csat", "csat/"),
    ("kpi-recovery", "recovery/"),
]


def repeat_requester_email(role: str, obj: str) -> set[str]:
    """Repeat contacts name requesters by a pseudonym; admins also get the address
    (docs/metrics.md, "Repeat contacts", "Personal data"), never the name."""
    return {EMAIL.format(team=obj)} if role == "admin" else set()


for name, tail in KPIS:
    # The object is the team asked for: a rep may ask for their own team (narrowed to
    # themselves), a manager for theirs; another team is a 404.
    ENDPOINTS[(f"metrics:{name}", "GET")] = Row(
        team_query(f"/api/v1/metrics/{tail}"),
        api(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
        personal_data=repeat_requester_email if name == "kpi-repeat-contacts" else no_personal_data,
    )
# An account's figures are scoped like its cases: a role with none of its cases gets 404.
ENDPOINTS[("metrics:kpi-account-detail", "GET")] = Row(
    of("/api/v1/metrics/accounts/{}/", "account"), scoped(200)
)
ENDPOINTS[("metrics:kpi-rep-coaching", "GET")] = Row(
    of("/api/v1/metrics/reps/{}/coaching/", "rep"),
    api(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
)

# --- dashboard -----------------------------------------------------------------------------
ENDPOINTS.update(
    {
        ("dashboard:login", "GET"): Row(
            fixed("/dashboard/login/"),
            lambda role, obj: 200 if role in ("anonymous", "integration") else 302,
        ),
        ("dashboard:login", "POST"): Row(
            fixed("/dashboard/login/"),
            lambda role, obj: 200 if role in ("anonymous", "integration") else 302,
            lambda d, o: {"username": "nobody", "password": "wrong"},
            format="form",
        ),
        ("dashboard:login", "PUT"): Row(
            fixed("/dashboard/login/"),
            lambda role, obj: 200 if role in ("anonymous", "integration") else 302,
        ),
        ("dashboard:logout", "POST"): Row(fixed("/dashboard/logout/"), lambda role, obj: 302),
        ("dashboard:home", "GET"): Row(fixed("/dashboard/"), dashboard(lambda role, obj: 302)),
        ("dashboard:overview", "GET"): Row(
            team_query("/dashboard/overview/"),
            dashboard(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
        ),
        ("dashboard:seasonality", "GET"): Row(
            team_query("/dashboard/seasonality/"),
            dashboard(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
        ),
        ("dashboard:accounts", "GET"): Row(
            team_query("/dashboard/accounts/"),
            dashboard(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
        ),
        ("dashboard:coaching", "GET"): Row(
            of("/dashboard/reps/{}/", "rep"),
            dashboard(lambda role, obj: 200 if role in IN_SCOPE[obj] else 404),
            personal_data=alert_comment,
        ),
        ("dashboard:alerts", "GET"): Row(
            fixed("/dashboard/alerts/"),
            dashboard(lambda role, obj: 200),
            personal_data=listed_alert_comments,
        ),
        ("dashboard:alert-contact", "POST"): Row(
            of("/dashboard/alerts/{}/contact/", "alert"),
            dashboard(dashboard_alert_action),
            lambda d, o: {"note": "Called"},
            format="form",
        ),
        ("dashboard:alert-close", "POST"): Row(
            of("/dashboard/alerts/{}/close/", "alert"),
            dashboard(dashboard_alert_action),
            lambda d, o: {"outcome": "recovered"},
            format="form",
        ),
    }
)


# --- the URL configuration ---------------------------------------------------------------

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Function views do not say which methods they take; these are their methods.
FUNCTION_VIEW_METHODS = {
    "dashboard:home": ("GET",),
    "dashboard:overview": ("GET",),
    "dashboard:seasonality": ("GET",),
    "dashboard:accounts": ("GET",),
    "dashboard:coaching": ("GET",),
    "dashboard:alerts": ("GET",),
    "dashboard:alert-contact": ("POST",),
    "dashboard:alert-close": ("POST",),
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Any:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace or ""
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or "")
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace, pattern


def _methods(callback: Any, name: str) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)
    if actions:  # a ViewSet route
        return tuple(m.upper() for m in actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return tuple(
            m
            for m in HTTP_METHODS
            if hasattr(view_class, m.lower()) and m.lower() in view_class.http_method_names
        )
    if name in FUNCTION_VIEW_METHODS:
        return FUNCTION_VIEW_METHODS[name]
    return ("?",)  # unknown: must be classified in FUNCTION_VIEW_METHODS


def discovered_endpoints() -> set[tuple[str, str]]:
    """(namespace:name, method) of every route under /api/ and /dashboard/, from the
    URL configuration; format-suffix variants share their route's name."""
    found = set()
    for route, namespace, pattern in _walk(get_resolver().url_patterns):
        route = route.lstrip("^")
        if not re.match(r"(api|dashboard)/", route):
            continue
        name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
        for method in _methods(pattern.callback, name):
            found.add((name, method))
    return found


NOT_UNDER_TEST = {
    # The schema and its docs page: public by design (no data), see docs/hardening.md.
    ("schema", "GET"),
    ("api-docs", "GET"),
}


def test_every_endpoint_is_classified():
    found = discovered_endpoints() - NOT_UNDER_TEST
    assert found - set(ENDPOINTS) == set(), "endpoints with no row in ENDPOINTS"
    assert set(ENDPOINTS) - found == set(), "rows for endpoints that no longer exist"


def test_the_walk_finds_every_kind_of_route():
    """ViewSet routes, APIViews, function views and auth views all come out of the walk."""
    found = discovered_endpoints()
    assert {
        ("cases:case-detail", "PATCH"),
        ("cases:case-bulk-upsert", "POST"),
        ("metrics:kpi-rep-coaching", "GET"),
        ("dashboard:alert-close", "POST"),
        ("dashboard:login", "POST"),
        ("schema", "GET"),
    } <= found
    assert not any(method == "?" for _, method in found)


# --- data ----------------------------------------------------------------------------------


@dataclass
class World:
    team: dict[str, int]
    rep: dict[str, int]
    case: dict[str, int]
    alert: dict[str, int]
    account: dict[str, int]
    category: dict[str, int]
    email: dict[str, int]
    token: dict[str, str]


@pytest.fixture
def world(org) -> World:
    """Per team: a case of its rep with a named requester, resolved, surveyed, answered badly
    with a comment (so an alert and the emails about it exist)."""
    ids: dict[str, dict[str, Any]] = {k: {} for k in World.__dataclass_fields__}
    teams = {"a": (org.team_a, org.rep_a1), "b": (org.team_b, org.rep_b1)}
    for obj, (team, rep) in teams.items():
        account = AccountFactory(external_id=f"ACC-{obj}")
        case, _ = services.case_create(
            external_id=f"PD-{obj}",
            category=org.category,
            channel="email",
            opened_at=NOW - timedelta(days=2),
            account=account,
            requester_email=EMAIL.format(team=obj),
            requester_name=NAME.format(team=obj),
            subject="Invoice question",
            assignee=rep,
        )
        services.case_event_record(
            case=case,
            event_type=CaseEvent.Type.RESOLVED,
            occurred_at=NOW - timedelta(days=1),
            actor=rep,
        )
        invitation = SurveyInvitation.objects.get(case=case)
        OutboundEmail.objects.filter(invitation=invitation).update(
            status=OutboundEmail.Status.FAILED
        )
        survey_answer_record(
            invitation=invitation, csat=1, nps=None, effort=None, comment=COMMENT.format(team=obj)
        )
        ids["team"][obj] = team.pk
        ids["rep"][obj] = rep.pk
        ids["case"][obj] = case.pk
        ids["alert"][obj] = case.detractor_alerts.get().pk
        ids["account"][obj] = account.pk
        ids["email"][obj] = OutboundEmail.objects.filter(invitation=invitation).get().pk
    ids["category"] = {"a": org.category.pk, "b": org.category.pk}
    # A survey not answered yet, for the survey endpoints.
    pending, _ = services.case_create(
        external_id="PD-pending",
        category=org.category,
        channel="email",
        opened_at=NOW - timedelta(days=2),
        requester_email=EMAIL.format(team="a"),
        requester_name=NAME.format(team="a"),
        subject="Invoice question",
        assignee=org.rep_a1,
    )
    services.case_event_record(
        case=pending,
        event_type=CaseEvent.Type.RESOLVED,
        occurred_at=NOW - timedelta(hours=3),
        actor=org.rep_a1,
    )
    token = survey_token(SurveyInvitation.objects.get(case=pending))
    ids["token"] = {"a": token, "b": token[:-2] + ("AA" if token[-2:] != "AA" else "BB")}
    return World(**ids)


@pytest.fixture
def clients(org) -> dict[str, APIClient]:
    users = {
        "no_role": None,
        "rep": org.rep_a1.user,
        "other_team_rep": org.rep_b1.user,
        "manager": org.manager_a.user,
        "other_team_manager": org.manager_b.user,
        "admin": org.admin,
    }
    users["no_role"] = UserFactory(username="no_role")
    made = {"anonymous": APIClient()}
    for role, user in users.items():
        client = APIClient()
        client.force_login(user)
        made[role] = client
    integration = APIClient()
    token = Token.objects.get_or_create(user=org.integration)[0]
    integration.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    made["integration"] = integration
    return made


CELLS = [
    pytest.param(key, role, obj, id=f"{key[1]} {key[0]} {role} {obj}")
    for key in sorted(ENDPOINTS)
    for role in ROLES
    # An endpoint without an object in its URL is asked once per role.
    for obj in (OBJECTS if ENDPOINTS[key].url.__name__ != "fixed_url" else ("a",))
]


@pytest.mark.parametrize("key, role, obj", CELLS)
def test_authorization(key, role, obj, world, clients):
    row = ENDPOINTS[key]
    name, method = key
    url = row.url(world, obj)
    body = row.body(world, obj) if row.body else None
    client = clients[role]
    kwargs: dict[str, Any] = {}
    if body is not None:
        if row.format == "json":
            kwargs = {"data": body, "format": "json"}
        else:
            kwargs = (
                {"data": body} if row.format == "form" else {"data": body, "format": "multipart"}
            )
    if row.headers is not None:
        kwargs.update(row.headers(world, obj))
    response = getattr(client, method.lower())(url, **kwargs)

    expected = row.expected(role, obj)
    status = response.status_code
    if expected == ALLOWED:
        assert status not in (401, 403, 404, 405) and status < 500, (status, response.content)
    elif expected == LOGIN:
        assert status == 302, (status, response.content)
        assert response["Location"].startswith("/dashboard/login/?next="), response["Location"]
    else:
        assert status == expected, (status, response.content[:500])
    if status in (401, 403, 404) and name.startswith(("cases:", "metrics:")):
        assert response.json()["code"] in (
            "not_authenticated",
            "permission_denied",
            "not_found",
            "survey_link_invalid",
        ), response.content

    allowed = row.personal_data(role, obj) if status < 300 else set()
    content = response.content.decode("utf-8", "replace")
    leaked = {value for value in ALL_PERSONAL_DATA - allowed if value in content}
    assert leaked == set(), f"{method} {url} as {role} carries {leaked}"
