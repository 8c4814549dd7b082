"""Validating a bulk batch at once gives what validating each item alone gives.

``CaseSnapshotSerializer.validate_items`` loads the named accounts, categories and reps once
and takes plainly valid items a quicker route (cases.batch_validation); both must be
invisible: for any item, the same validated data or the same errors as
``CaseSnapshotSerializer(data=item).is_valid()``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DataError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import batch_validation
from cases.batch_validation import FastValidator
from cases.serializers import _NAMED as NAMED
from cases.serializers import CaseSnapshotSerializer
from tests.factories import T0, AccountFactory, CategoryFactory, RepresentativeFactory

pytestmark = pytest.mark.django_db

BASE = {
    "source": "zendesk",
    "external_id": "Z-1",
    "account": "ACC-1",
    "requester_email": "pat@example.org",
    "requester_name": "Pat",
    "category": "billing",
    "channel": "email",
    "priority": "high",
    "status": "closed",
    "subject": "Refund",
    "assignee": "rep_a1",
    "resolved_by": "rep_b1",
    "opened_at": "2026-03-02T09:00:00Z",
    "assigned_at": "2026-03-02T09:05:00+01:00",
    "first_response_at": "2026-03-02T10:00:00Z",
    "resolved_at": "2026-03-02T11:00:00Z",
    "closed_at": "2026-03-03T11:00:00Z",
    "agent_response_count": 2,
    "reopened_count": 0,
}
ODD_VALUES = [
    None,
    "",
    "  ",
    " padded ",
    0,
    -1,
    3,
    3.0,
    "3",
    True,
    [],
    {},
    ["x"],
    "x" * 121,
    "x" * 301,
    "a\x00b",
    "\ud800",
    "fax",
    "email",
    "OPEN",
    "resolved",
    "billing",
    "retired",
    "ACC-1",
    "ACC-404",
    "rep_a1",
    "rep_b1",
    "ghost",
    "Rep_A1",
    "2026-03-02T09:00:00",
    "2026-03-02",
    "2026-03-02T09:00:00z",
    "2026-03-02T09:00:00+05:30",
    "not a time",
    "a@b.c",
    "pat@example.org",
    "not-an-email",
    "x@" + "y" * 250 + ".org",
    "has space",
    100_001,
    10**30,
]


@pytest.fixture
def names(org):
    AccountFactory(external_id="ACC-1")
    CategoryFactory(slug="retired", name="Retired", active=False)
    RepresentativeFactory(team=org.team_b, user__username="inactive_rep", active=False)


def one_by_one(item):
    serializer = CaseSnapshotSerializer(data=item)
    try:
        valid = serializer.is_valid()
    except DataError:
        # A NUL character in a name: the database refuses the look-up, and an item validated
        # alone ends in a server error. The batch looks names up in memory: "Invalid value."
        return None, NUL_IN_A_NAME
    if valid:
        return dict(serializer.validated_data), None
    return None, serializer.errors


def wired(batch):
    """A serializer answering names from the batch's look-ups, as validate_items uses it."""
    serializer = CaseSnapshotSerializer()
    named = batch_validation.preload_named(batch, fields=NAMED)
    for field, kind in NAMED.items():
        serializer.fields[field].queryset = named[kind]
    return serializer


NUL_IN_A_NAME = object()


def comparable(data):
    """Model instances compared by class and primary key (the batch loads fewer columns)."""
    if data is None:
        return None
    return {
        k: (type(v).__name__, v.pk) if hasattr(v, "_meta") else (type(v).__name__, v)
        for k, v in data.items()
    }


items = st.lists(
    st.tuples(
        st.sampled_from(sorted(BASE)),
        st.one_of(st.sampled_from(ODD_VALUES), st.just(...)),  # ... = leave the key out
    ),
    max_size=4,
).map(lambda changes: {k: v for k, v in {**BASE, **dict(changes)}.items() if v is not ...})


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(st.one_of(items, st.sampled_from([None, "Z-1", 7, []])), max_size=5))
def test_a_batch_validates_each_item_as_the_serializer_alone_does(names, batch):
    together = CaseSnapshotSerializer.validate_items(batch)
    assert len(together) == len(batch)
    for item, (data, errors) in zip(batch, together, strict=True):
        alone_data, alone_errors = one_by_one(item)
        assert comparable(data) == comparable(alone_data), item
        if alone_errors is NUL_IN_A_NAME:
            named = [
                k
                for k in ("account", "category", "assignee", "resolved_by")
                if "\x00" in str(item.get(k))
            ]
            assert [errors[k] for k in named] == [["Invalid value."]] * len(named), item
        else:
            assert errors == alone_errors, item


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(item=items)
def test_the_quick_route_only_accepts_what_the_serializer_accepts(names, item):
    fast = FastValidator.for_serializer(wired([item]))
    assert fast is not None  # every field of the snapshot serializer has a quick route
    quick = fast(item)
    alone_data, _ = one_by_one(item)
    if quick is not None:
        assert comparable(quick) == comparable(alone_data)


def test_the_quick_route_takes_an_ordinary_item(names):
    """Not only declining: a plainly valid item is accepted, with the serializer's values."""
    fast = FastValidator.for_serializer(wired([BASE]))
    data = fast({**BASE, "assigned_at": "2026-03-02T09:05:00+01:00"})
    assert data is not None
    assert (data["assigned_at"], data["priority"], data["account"].external_id) == (
        T0 - timedelta(minutes=55),
        "high",
        "ACC-1",
    )
    minimal = {k: BASE[k] for k in ("external_id", "category", "channel", "opened_at")}
    assert comparable(fast(minimal)) == comparable(one_by_one(minimal)[0])


def test_a_batch_loads_the_names_once(names, monkeypatch, django_assert_num_queries):
    statements = []
    real = batch_validation.execute_binary

    def counted(sql, params):
        statements.append(sql.split(" FROM ")[1].split()[0])
        return real(sql, params)

    monkeypatch.setattr(batch_validation, "execute_binary", counted)
    batch = [{**BASE, "external_id": f"Z-{i}"} for i in range(50)]
    with django_assert_num_queries(0):  # nothing through the ORM either
        together = CaseSnapshotSerializer.validate_items(batch)
    assert statements == ["cases_account", "cases_category", "cases_representative"]
    assert all(errors is None for _, errors in together)
    assert {data["assignee"].pk for data, _ in together} == {one_by_one(BASE)[0]["assignee"].pk}
