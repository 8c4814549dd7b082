"""Case sets shared by the metrics tests."""

from __future__ import annotations

import pytest

from cases.models import CaseEvent
from tests.metrics.builders import make_case


@pytest.fixture
def backlog_cases(org):
    rep = org.rep_a1
    make_case(org, "c1", "2026-03-01T10:00", rep, [(CaseEvent.Type.RESOLVED, "2026-03-03T10:00")])
    make_case(org, "c2", "2026-03-02T10:00", rep)
    make_case(org, "c3", "2026-03-09T23:30", org.rep_a2)  # Berlin: 10 March, 00:30
    make_case(
        org,
        "c4",
        "2026-03-04T10:00",
        rep,
        [
            (CaseEvent.Type.RESOLVED, "2026-03-05T10:00"),
            (CaseEvent.Type.REOPENED, "2026-03-06T10:00"),
        ],
    )
    make_case(org, "c5-other-team", "2026-03-02T10:00", org.rep_b1)
    make_case(org, "c6", "2026-02-20T10:00", rep)
    return org
