"""Shared fixtures: one small organisation with two teams, and API clients per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cases.models import Representative
from tests.factories import (
    T0,
    CategoryFactory,
    ManagerFactory,
    RepresentativeFactory,
    TeamFactory,
    UserFactory,
)

# "Now" for tests that pin the clock: a month after T0, so T0-based data is in the past.
NOW = T0 + timedelta(days=30)


@dataclass
class Org:
    team_a: object
    team_b: object
    manager_a: Representative
    manager_b: Representative
    rep_a1: Representative
    rep_a2: Representative
    rep_b1: Representative
    admin: object
    integration: object
    category: object


@pytest.fixture
def org(db) -> Org:
    team_a = TeamFactory(name="Alpha", timezone="Europe/Berlin")
    team_b = TeamFactory(name="Bravo", timezone="America/New_York")
    integration = UserFactory(username="helpdesk-sync")
    integration.user_permissions.add(Permission.objects.get(codename="ingest_cases"))
    return Org(
        team_a=team_a,
        team_b=team_b,
        manager_a=ManagerFactory(team=team_a, user__username="mgr_a"),
        manager_b=ManagerFactory(team=team_b, user__username="mgr_b"),
        rep_a1=RepresentativeFactory(team=team_a, user__username="rep_a1"),
        rep_a2=RepresentativeFactory(team=team_a, user__username="rep_a2"),
        rep_b1=RepresentativeFactory(team=team_b, user__username="rep_b1"),
        admin=UserFactory(username="admin", is_staff=True, is_superuser=True),
        integration=integration,
        category=CategoryFactory(slug="billing", name="Billing"),
    )


@pytest.fixture
def client_for():
    """``client_for(user_or_rep)`` → an APIClient authenticated as that user."""

    def make(who) -> APIClient:
        user = who.user if isinstance(who, Representative) else who
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def clock(time_machine):
    """Pin the clock at NOW (not ticking). ``clock.shift(timedelta)`` moves it on."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def token_client_for(db):
    """``token_client_for(user_or_rep)`` → an APIClient sending ``Authorization: Token …``."""

    def make(who) -> APIClient:
        user = who.user if isinstance(who, Representative) else who
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


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


@pytest.fixture
def role_client(org, client_for):
    """``role_client(name)`` for each name in ROLES; rep/manager are team A, "other" team B."""
    no_role = UserFactory(username="no_role")
    users = {
        "no_role": no_role,
        "rep": org.rep_a1,
        "other_team_rep": org.rep_b1,
        "manager": org.manager_a,
        "other_team_manager": org.manager_b,
        "admin": org.admin,
        "integration": org.integration,
    }

    def make(role: str) -> APIClient:
        if role == "anonymous":
            return APIClient()
        return client_for(users[role])

    return make
