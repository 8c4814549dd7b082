"""Who may see which cases: one rule, applied in every queryset.

- admin (staff or superuser): everything;
- integration (a user with ``cases.ingest_cases``, e.g. a help desk sync token): every case;
- manager: the cases of their team;
- rep: the cases assigned to them;
- anyone else: nothing.
Out-of-scope objects are filtered out of querysets, so they answer 404, not 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from cases.models import Case, Representative


class Role(StrEnum):
    ADMIN = "admin"
    INTEGRATION = "integration"
    MANAGER = "manager"
    REP = "rep"
    NONE = "none"


@dataclass(frozen=True)
class Scope:
    role: Role
    representative: Representative | None = None

    @property
    def team_id(self) -> int | None:
        return self.representative.team_id if self.representative else None

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.INTEGRATION)

    @property
    def can_ingest(self) -> bool:
        return self.role in (Role.ADMIN, Role.INTEGRATION)


def scope_for(user: AbstractBaseUser | AnonymousUser) -> Scope:
    """The scope of a user; cached on the user object for the request."""
    cached = getattr(user, "_supportmetrics_scope", None)
    if cached is not None:
        return cached
    scope = _compute_scope(user)
    if user.is_authenticated:
        user._supportmetrics_scope = scope  # type: ignore[union-attr]
    return scope


def _compute_scope(user: AbstractBaseUser | AnonymousUser) -> Scope:
    if not user.is_authenticated:
        return Scope(Role.NONE)
    rep = Representative.objects.select_related("team").filter(user=user).first()
    if user.is_superuser or user.is_staff:  # type: ignore[union-attr]
        return Scope(Role.ADMIN, rep)
    if user.has_perm("cases.ingest_cases"):
        return Scope(Role.INTEGRATION, rep)
    if rep is None or not rep.active:
        return Scope(Role.NONE)
    if rep.is_manager:
        return Scope(Role.MANAGER, rep)
    return Scope(Role.REP, rep)


def case_scope_filter(scope: Scope) -> Q:
    if scope.sees_everything:
        return Q()
    if scope.role == Role.MANAGER:
        return Q(team_id=scope.team_id)
    if scope.role == Role.REP:
        return Q(assignee_id=scope.representative.pk)  # type: ignore[union-attr]
    return Q(pk__in=[])


def cases_in_scope(scope: Scope, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    qs = Case.objects.all() if queryset is None else queryset
    return qs.filter(case_scope_filter(scope))


def representatives_in_scope(scope: Scope) -> QuerySet[Representative]:
    qs = Representative.objects.select_related("user", "team")
    if scope.sees_everything:
        return qs
    if scope.role == Role.MANAGER:
        return qs.filter(team_id=scope.team_id)
    if scope.role == Role.REP:
        return qs.filter(pk=scope.representative.pk)  # type: ignore[union-attr]
    return qs.none()


def may_assign(scope: Scope, assignee: Representative | None) -> bool:
    """Managers assign within their team; reps only to themselves; admins anywhere."""
    if assignee is None or scope.sees_everything:
        return True
    if scope.role == Role.MANAGER:
        return assignee.team_id == scope.team_id
    if scope.role == Role.REP:
        return assignee.pk == scope.representative.pk  # type: ignore[union-attr]
    return False
