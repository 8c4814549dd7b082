"""How the CSV import writes: new cases straight into the table under ids it takes first, their
durations computed as each row goes in; a case inserted meanwhile refuses the import."""

from __future__ import annotations

import pytest

from cases.imports import store
from cases.models import Case, CaseEvent
from supportmetrics.exceptions import ApplicationError
from tests.cases.test_imports import T0, H, case_row, iso, run_import
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pinned_clock(time_machine):
    time_machine.move_to(T0 + 30 * 24 * H, tick=False)


def test_new_cases_get_their_rows_durations_and_history(org):
    report = run_import(
        cases=[
            case_row(
                external_id="N-1",
                status="resolved",
                assignee="rep_a1",  # team Alpha, Berlin, 09–17 on weekdays
                first_response_at=iso(T0 + H),
                agent_response_count="1",
                resolved_at=iso(T0 + 30 * H),  # Tuesday 15:00 UTC = 16:00 Berlin
            ),
            case_row(external_id="N-2"),
        ]
    )
    assert report["cases"] == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    resolved = Case.objects.get(external_id="N-1")
    # T0 is Monday 09:00 UTC = 10:00 Berlin: to 11:00 is one business hour; to Tuesday
    # 16:00 Berlin, 7 hours on Monday and 7 on Tuesday.
    assert (
        resolved.first_response_seconds,
        resolved.first_response_business_seconds,
        resolved.resolution_seconds,
        resolved.resolution_business_seconds,
        resolved.team_id,
    ) == (3600, 3600, 30 * 3600, 14 * 3600, org.team_a.pk)
    new = Case.objects.get(external_id="N-2")
    assert (new.first_response_seconds, new.resolution_business_seconds, new.team_id) == (
        None,
        None,
        None,
    )
    assert resolved.pk != new.pk
    assert list(
        CaseEvent.objects.filter(case=resolved)
        .order_by("occurred_at", "id")
        .values_list("event_type", flat=True)
    ) == ["created", "assigned", "agent_response", "resolved"]


def test_a_case_inserted_meanwhile_refuses_the_whole_import(org, monkeypatch):
    """The import read that N-2 was not stored; someone stored it before the import wrote:
    the database refuses the duplicate and nothing of the import is kept."""
    CaseFactory(source="api", external_id="N-2", category=org.category)
    real = store.stored_cases
    monkeypatch.setattr(
        store,
        "stored_cases",
        lambda keys, **kwargs: {
            k: v for k, v in real(keys, **kwargs).items() if k != ("api", "N-2")
        },
    )
    with pytest.raises(ApplicationError) as caught:
        run_import(cases=[case_row(external_id="N-1"), case_row(external_id="N-2")])
    assert caught.value.code == "import_rejected"
    assert caught.value.message.startswith(
        "The database refused the import; nothing was imported: duplicate key value violates "
        'unique constraint "case_unique_source_external_id"'
    )
    assert list(Case.objects.values_list("external_id", flat=True)) == ["N-2"]
