"""Dashboard pages: thin views that read the filters, call the figures and render.

Login is Django's session login with the API's users; what a viewer sees is their role's
scope (``cases.scoping``): a rep themselves, a manager their team, an admin everything.
Anything outside it (another team, another rep's page) answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cases.scoping import Role, Scope, scope_for
from dashboard import figures
from dashboard.filters import FilterError, PageFilters, read_filters
from metrics.stats import default_min_n

LOGIN_URL = "dashboard:login"
# Default periods: the overview and coaching look at recent work; seasonality needs a
# year to show a year's pattern; account risk was set up on 90-day periods (metrics docs).
DEFAULT_DAYS = {"overview": 30, "seasonality": 365, "accounts": 90, "coaching": 90}

PageView = Callable[..., HttpResponse]


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {"status": status, "title": title, "message": message, "nav": _nav(request, None)},
        status=status,
    )


def dashboard_view(view: PageView) -> PageView:
    """Login required (→ the login page); a user without a role gets 403; an out-of-scope
    slice or object 404 and invalid filters 400, as HTML pages."""

    @login_required(login_url=LOGIN_URL)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scope = scope_for(request.user)
        if scope.role == Role.NONE:
            return error_page(
                request,
                403,
                "No access",
                "Your login has no role here: ask an admin to link it to a representative.",
            )
        try:
            return view(request, scope, *args, **kwargs)
        except Http404:
            return error_page(request, 404, "Not found", "There is nothing here that you may see.")
        except FilterError as error:
            return error_page(
                request,
                400,
                "These filters do not work",
                "; ".join(f"{name}: {' '.join(reasons)}" for name, reasons in error.errors.items()),
            )

    return wrapper


def _nav(request: HttpRequest, scope: Scope | None, query: str = "") -> list[dict[str, Any]]:
    """The page links, carrying the current filters; a rep's own page first."""
    suffix = f"?{query}" if query else ""
    items = []
    if scope is not None and scope.representative is not None:
        own = reverse("dashboard:coaching", args=[scope.representative.pk])
        items.append({"label": "My coaching page", "url": own + suffix, "path": own})
    for name, label in (
        ("overview", "Team overview"),
        ("seasonality", "Seasonality"),
        ("accounts", "Accounts at risk"),
    ):
        path = reverse(f"dashboard:{name}")
        items.append(
            {"label": label, "url": path + ("" if name == "alerts" else suffix), "path": path}
        )
    for item in items:
        item["current"] = request.path == item["path"]
    return items


def _context(request: HttpRequest, scope: Scope, filters: PageFilters, **extra: Any) -> dict:
    return {
        "scope": scope,
        "filters": filters,
        "nav": _nav(request, scope, filters.query),
        "min_n": default_min_n(),
        **extra,
    }


def _rep_url(filters: PageFilters) -> Callable[[int], str]:
    suffix = f"?{filters.query}" if filters.query else ""
    return lambda rep_id: reverse("dashboard:coaching", args=[rep_id]) + suffix


@dashboard_view
def home(request: HttpRequest, scope: Scope) -> HttpResponse:
    """A rep starts on their own coaching page; everyone else on the team overview."""
    if scope.role == Role.REP:
        return redirect("dashboard:coaching", rep_id=scope.representative.pk)  # type: ignore[union-attr]
    return redirect("dashboard:overview")


@dashboard_view
def overview(request: HttpRequest, scope: Scope) -> HttpResponse:
    now = timezone.now()
    filters = read_filters(
        request.GET, scope=scope, now=now, default_last_days=DEFAULT_DAYS["overview"]
    )
    panels = figures.overview_panels(
        filters.kpi, now, min_n=default_min_n(), rep_url=_rep_url(filters)
    )
    return render(
        request,
        "dashboard/page.html",
        _context(request, scope, filters, title="Team overview", panels=panels),
    )


@dashboard_view
def seasonality(request: HttpRequest, scope: Scope) -> HttpResponse:
    now = timezone.now()
    filters = read_filters(
        request.GET, scope=scope, now=now, default_last_days=DEFAULT_DAYS["seasonality"]
    )
    panels = figures.seasonality_panels(filters.kpi, now)
    return render(
        request,
        "dashboard/page.html",
        _context(request, scope, filters, title="Seasonality", panels=panels),
    )


@dashboard_view
def accounts(request: HttpRequest, scope: Scope) -> HttpResponse:
    now = timezone.now()
    filters = read_filters(
        request.GET, scope=scope, now=now, default_last_days=DEFAULT_DAYS["accounts"]
    )
    panels = figures.accounts_panels(filters.kpi, now, min_n=default_min_n())
    return render(
        request,
        "dashboard/page.html",
        _context(request, scope, filters, title="Accounts at risk", panels=panels),
    )


@dashboard_view
def coaching(request: HttpRequest, scope: Scope, rep_id: int) -> HttpResponse:
    """One rep's page. The rep is the slice's rep filter, so the viewer's scope decides:
    a rep reaches only their own page, a manager their team's reps (else 404)."""
    now = timezone.now()
    filters = read_filters(
        request.GET,
        scope=scope,
        now=now,
        default_last_days=DEFAULT_DAYS["coaching"],
        extra={"rep": rep_id},
    )
    page = figures.coaching_page(filters.kpi, now, rep_id=rep_id, min_n=default_min_n())
    return render(
        request,
        "dashboard/coaching.html",
        _context(
            request,
            scope,
            filters,
            title=f"Coaching: {page.result.rep_label}",
            page=page,
            panels=page.panels,
        ),
    )
