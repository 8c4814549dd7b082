"""Shared fixtures: one small organisation with two teams, and API clients per role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from cases.models import Representative
from tests.factories import (
    CategoryFactory,
    ManagerFactory,
    RepresentativeFactory,
    TeamFactory,
    UserFactory,
)


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
