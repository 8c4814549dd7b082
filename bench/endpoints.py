"""What is timed: every URL in ``metrics.urls`` plus the dashboard overview, per window and
scope.

The list is read from the URL configuration, so an endpoint added there is benchmarked
without touching this module; one whose path needs an id this module cannot supply stops the
run (``BenchmarkError``) rather than being skipped quietly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import URLPattern, reverse
from rest_framework.authtoken.models import Token

from bench.dataset import BenchmarkError
from cases.demo import ADMIN_USERNAME
from cases.models import Case, Representative, Team
from metrics import urls as metric_urls
from metrics.params import MAX_PERIOD_DAYS

DASHBOARD_PAGES = ("dashboard:overview",)
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
WINDOW_DAYS = {"90d": 90, "2y": 730}


@dataclass(frozen=True)
class Endpoint:
    name: str  # the URL name, e.g. "metrics:kpi-backlog"
    label: str  # the route, e.g. "accounts/{account_id}/"
    path: str  # with any ids filled in
    page: bool  # a dashboard page (session login) rather than an API (token)


@dataclass(frozen=True)
class Window:
    label: str
    requested_days: int
    days: int  # at most what the API accepts (metrics.params.MAX_PERIOD_DAYS)
    first_day: date
    last_day: date  # inclusive, as the API's ``to``

    @property
    def capped(self) -> bool:
        return self.days < self.requested_days


@dataclass(frozen=True)
class Subjects:
    """The team, people, rep and account the scoped and per-id URLs name."""

    team_id: int
    team_name: str
    admin_user_id: int
    manager_user_id: int
    manager_username: str
    rep_id: int
    account_id: int


@dataclass(frozen=True)
class Scope:
    label: str  # "all" (the admin, unfiltered) or "team" (the team's manager)
    user_id: int
    username: str
    token: str


def windows(now: datetime, labels: tuple[str, ...] = ("90d", "2y")) -> list[Window]:
    """Windows of whole days ending with the last full day before the data set's ``now``."""
    last = now.date() - timedelta(days=1)
    out = []
    for label in labels:
        requested = WINDOW_DAYS[label]
        days = min(requested, MAX_PERIOD_DAYS)
        out.append(Window(label, requested, days, last - timedelta(days=days - 1), last))
    return out


def pick_subjects() -> Subjects:
    """The first team (by id), its manager, its first active rep, and the account with the
    most cases in that team: deterministic for a seeded data set."""
    team = Team.objects.order_by("id").first()
    if team is None:
        raise BenchmarkError("The database has no team: the data set was not seeded.")
    people = Representative.objects.filter(team=team, active=True).select_related("user")
    manager = people.filter(role=Representative.Role.MANAGER).order_by("id").first()
    rep = people.filter(role=Representative.Role.REP).order_by("id").first()
    account = (
        Case.objects.filter(team=team, account__isnull=False)
        .values("account_id")
        .annotate(n=Count("id"))
        .order_by("-n", "account_id")
        .first()
    )
    if manager is None or rep is None or account is None:
        raise BenchmarkError(f"Team {team.name!r} has no active manager, rep or account cases.")
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    return Subjects(
        team_id=team.pk,
        team_name=team.name,
        admin_user_id=admin.pk,
        manager_user_id=manager.user_id,
        manager_username=manager.user.username,
        rep_id=rep.pk,
        account_id=account["account_id"],
    )


def scopes(subjects: Subjects) -> list[Scope]:
    """The admin sees every team; the team's manager is scoped to the team by the API's own
    rules (the same figures as the admin asking for ``team=<id>``)."""
    out = []
    for label, user_id in (("all", subjects.admin_user_id), ("team", subjects.manager_user_id)):
        token, _ = Token.objects.get_or_create(user_id=user_id)
        out.append(Scope(label, user_id, token.user.get_username(), token.key))
    return out


def endpoints(subjects: Subjects) -> list[Endpoint]:
    ids = {"account_id": subjects.account_id, "rep_id": subjects.rep_id}
    out = []
    for pattern in metric_urls.urlpatterns:
        if not isinstance(pattern, URLPattern) or not pattern.name:
            raise BenchmarkError(f"metrics.urls has an entry the benchmark cannot name: {pattern}")
        needed = set(getattr(pattern.pattern, "converters", {}))
        unknown = needed - set(ids)
        if unknown:
            raise BenchmarkError(
                f"metrics:{pattern.name} needs {', '.join(sorted(unknown))}: "
                "teach bench/endpoints.py which id to use."
            )
        name = f"{metric_urls.app_name}:{pattern.name}"
        label = ROUTE_PARAMETER.sub(r"{\1}", str(pattern.pattern))
        path = reverse(name, kwargs={k: ids[k] for k in needed})
        out.append(Endpoint(name, label, path, page=False))
    for name in DASHBOARD_PAGES:
        path = reverse(name)
        out.append(Endpoint(name, path.strip("/") + "/", path, page=True))
    return out


def url(endpoint: Endpoint, window: Window) -> str:
    query = {"from": window.first_day.isoformat(), "to": window.last_day.isoformat()}
    return f"{endpoint.path}?{urlencode(query)}"
