"""Reads for the detractor-alert API: always through the caller's scope.

Who sees which alerts (the role rules of ``cases.scoping``, applied to alerts):
- admin and integration: every alert (integrations read only, without the comment);
- manager: the alerts of their team (the team the alert was raised for: the case's team
  when the customer answered), whoever resolved the case;
- rep: the alerts on answers attributed to them (they resolved that resolution);
- anyone else: none.
Out-of-scope alerts are filtered out, so they answer 404.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.models import DetractorAlert
from cases.scoping import Role, Scope


def alert_scope_filter(scope: Scope) -> Q:
    if scope.sees_everything:
        return Q()
    if scope.role == Role.MANAGER:
        return Q(team_id=scope.team_id)
    if scope.role == Role.REP:
        return Q(representative_id=scope.representative.pk)  # type: ignore[union-attr]
    return Q(pk__in=[])


def may_act_on_alerts(scope: Scope) -> bool:
    """Contacting the customer and recording the outcome is for managers and admins; the rep
    concerned reads their alerts but does not close the loop on themselves."""
    return scope.role in (Role.ADMIN, Role.MANAGER)


def may_read_alert_comment(scope: Scope) -> bool:
    """The comment is customer-written personal data: managers, admins and the rep concerned
    (whose scope only holds their own alerts) read it; integrations do not."""
    return scope.role in (Role.ADMIN, Role.MANAGER, Role.REP)


def detractor_alert_list(*, scope: Scope) -> QuerySet[DetractorAlert]:
    return (
        DetractorAlert.objects.filter(alert_scope_filter(scope))
        .select_related("case", "response", "representative", "contacted_by", "closed_by")
        .order_by("-created_at", "-id")
    )


def detractor_alert_get(*, scope: Scope, alert_id: int) -> DetractorAlert:
    """The alert if it is in scope; DetractorAlert.DoesNotExist (→ 404) otherwise."""
    return detractor_alert_list(scope=scope).get(pk=alert_id)
