"""The migrations hold a copy of each rollup's SQL as it was then: the functions installed
in the database must be what the modules generate now (a change needs a new migration)."""

from __future__ import annotations

import pytest
from django.db import connection

from metrics.rollups import csat, load

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("module", [csat, load], ids=["csat", "load"])
def test_installed_functions_are_what_the_module_generates(module):
    expected = module.function_bodies()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [list(expected)]
        )
        installed = dict(cursor.fetchall())
    assert installed == expected
