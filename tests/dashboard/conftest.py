"""Fixtures for the dashboard's page tests: the small data set at the pinned clock."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import Representative
from tests.conftest import NOW
from tests.dashboard.data import build_dashboard_data


@pytest.fixture
def dashboard_data(org, clock, settings):
    """The data set of tests/dashboard/data.py at NOW, with a minimum sample of 2."""
    settings.SUPPORTMETRICS_MIN_SAMPLE = 2
    return build_dashboard_data(org, NOW)


@pytest.fixture
def page_client(db):
    """``page_client(user_or_rep)`` → a Django test client logged in (a session) as them."""

    def make(who) -> Client:
        client = Client()
        client.force_login(who.user if isinstance(who, Representative) else who)
        return client

    return make
