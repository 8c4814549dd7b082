"""DRF permission classes built on the role rules in cases.scoping."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from cases.scoping import Role, scope_for


class AdminWritesOnly(BasePermission):
    """Anyone with a role reads; only admins write (teams, reps, accounts, categories)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        scope = scope_for(request.user)
        if request.method in SAFE_METHODS:
            return scope.role != Role.NONE
        return scope.role == Role.ADMIN


class HasCaseRole(BasePermission):
    """Any user with a role; what they see is narrowed by their scope in the queryset."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return scope_for(request.user).role != Role.NONE


class CanIngest(BasePermission):
    """Bulk upserts and imports: admins and integration users."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return scope_for(request.user).can_ingest
