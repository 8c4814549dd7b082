"""Dashboard pages: thin views that read the filters, call the figures and render.

Login is Django's session login with the API's users; what a viewer sees is their role's
scope (``cases.scoping``): a rep themselves, a manager their team, an admin everything.
Anything outside it (another team, another rep's page) answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cases import alert_selectors
from cases.models import DetractorAlert
from cases.scoping import Role, Scope, scope_for
from cases.services import alerts as alert_services
from dashboard import figures
from dashboard.filters import FilterError, PageFilters, read_filters
from metrics.stats import default_min_n
from metrics.timeouts import KpiTimeout, kpi_statement_timeout
from supportmetrics.exceptions import ApplicationError

LOGIN_URL = "dashboard:login"
# Default periods: the overview and coaching look at recent work; seasonality needs a
# year to show a year's pattern; account risk was set up on 90-day periods (metrics docs).
DEFAULT_DAYS = {
    "overview": 30,
    "seasonality": 365,
    "accounts": 90,
    "coaching": 90,
    "alerts": 90,
}
Status = DetractorAlert.Status
ALERT_VIEWS = {
    "open": ("Needing follow-up", (Status.OPEN, Status.CONTACTED)),
    "closed": ("Closed", (Status.RECOVERED, Status.NOT_RECOVERED)),
    "all": ("All alerts", None),
}
ALERT_LIST_LIMIT = 200

PageView = Callable[..., HttpResponse]


def error_page(
    request: HttpRequest, status: int, title: str, message: str, scope: Scope | None = None
) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {"status": status, "title": title, "message": message, "nav": _nav(request, scope)},
        status=status,
    )


def dashboard_view(view: PageView) -> PageView:
    """Login required (→ the login page); a user without a role gets 403; an out-of-scope
    slice or object 404 and invalid filters 400, as HTML pages. Pages are read under the KPI
    statement timeout: past it, a 503 page."""

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
            if request.method in ("GET", "HEAD"):  # the pages that compute figures
                with kpi_statement_timeout():
                    return view(request, scope, *args, **kwargs)
            return view(request, scope, *args, **kwargs)
        except KpiTimeout as timeout:
            page = error_page(
                request,
                503,
                "This took too long",
                "These figures took too long to compute. Try again in a little while, or "
                "choose a shorter period or a narrower slice.",
                scope,
            )
            page["Retry-After"] = str(timeout.wait)
            return page
        except Http404:
            return error_page(
                request, 404, "Not found", "There is nothing here that you may see.", scope
            )
        except PermissionDenied:
            return error_page(
                request,
                403,
                "Not for your role",
                "Managers and admins record the follow-up of an alert.",
                scope,
            )
        except FilterError as error:
            return error_page(
                request,
                400,
                "These filters do not work",
                "; ".join(f"{name}: {' '.join(reasons)}" for name, reasons in error.errors.items()),
                scope,
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
        ("alerts", "Alerts"),
    ):
        path = reverse(f"dashboard:{name}")
        items.append({"label": label, "url": path + suffix, "path": path})
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
            alerts=_open_alerts(scope, rep_id),
            may_act=alert_selectors.may_act_on_alerts(scope),
            may_read_comment=alert_selectors.may_read_alert_comment(scope),
        ),
    )


def _open_alerts(scope: Scope, rep_id: int) -> list[DetractorAlert]:
    """The rep's alerts still needing follow-up, as far as the viewer may see them."""
    return list(
        alert_selectors.detractor_alert_list(scope=scope).filter(
            representative_id=rep_id, status__in=ALERT_VIEWS["open"][1]
        )[:ALERT_LIST_LIMIT]
    )


@dashboard_view
def alerts(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Detractor alerts in the viewer's scope (narrowed to a team by the team filter) with
    their follow-up, and the recovery figures of the alerts raised in the period."""
    now = timezone.now()
    show = request.GET.get("show", "open")
    if show not in ALERT_VIEWS:
        raise FilterError({"show": [f"Use one of {', '.join(ALERT_VIEWS)}."]})
    filters = read_filters(
        request.GET, scope=scope, now=now, default_last_days=DEFAULT_DAYS["alerts"]
    )
    label, statuses = ALERT_VIEWS[show]
    listed = alert_selectors.detractor_alert_list(scope=scope)
    if statuses is not None:
        listed = listed.filter(status__in=statuses)
    if filters.kpi.team_ids is not None:
        listed = listed.filter(team_id__in=filters.kpi.team_ids)
    rows = list(listed[: ALERT_LIST_LIMIT + 1])
    return render(
        request,
        "dashboard/alerts.html",
        _context(
            request,
            scope,
            filters,
            title="Detractor alerts",
            panels=[figures.recovery_panel(filters.kpi, now, min_n=default_min_n())],
            alerts=rows[:ALERT_LIST_LIMIT],
            truncated=len(rows) > ALERT_LIST_LIMIT,
            list_title=label,
            show=show,
            views=[(key, text) for key, (text, _) in ALERT_VIEWS.items()],
            may_act=alert_selectors.may_act_on_alerts(scope),
            may_read_comment=alert_selectors.may_read_alert_comment(scope),
        ),
    )


def _alert_to_act_on(scope: Scope, alert_id: int) -> DetractorAlert:
    """The alert if the viewer may see it (else 404) and act on it (else 403)."""
    try:
        alert = alert_selectors.detractor_alert_get(scope=scope, alert_id=alert_id)
    except DetractorAlert.DoesNotExist as error:
        raise Http404 from error
    if not alert_selectors.may_act_on_alerts(scope):
        raise PermissionDenied
    return alert


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("dashboard:alerts")


@require_POST
@dashboard_view
def alert_contact(request: HttpRequest, scope: Scope, alert_id: int) -> HttpResponse:
    alert = _alert_to_act_on(scope, alert_id)
    try:
        alert_services.detractor_alert_contact(
            alert=alert, user=request.user, note=request.POST.get("note", "")[:4000]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Case {alert.case.external_id}: customer contacted.")
    return redirect(_back(request))


@require_POST
@dashboard_view
def alert_close(request: HttpRequest, scope: Scope, alert_id: int) -> HttpResponse:
    alert = _alert_to_act_on(scope, alert_id)
    try:
        closed = alert_services.detractor_alert_close(
            alert=alert,
            user=request.user,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", "")[:4000],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Case {alert.case.external_id}: closed as {closed.get_status_display().lower()}.",
        )
    return redirect(_back(request))
