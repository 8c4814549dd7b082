"""``synthetic_events`` for thousands of cases at the cost of a few dozen calls.

The bulk API builds a case's synthetic history with ``synthetic_events(case)``: model
instances, about 80 µs per case, which alone would cap an import well below the rows/s it
needs. That function only tests fields for truth and copies them into events, so its
result has the same *shape* for every case whose fields are set or empty in the same way.
We call it once per shape on a stand-in case whose set fields are placeholders (slots),
remember which event field came from which case field, and fill that template from each
case's values. Anything else done with a placeholder (comparing values, arithmetic) raises
TypeError; that shape then falls back to calling ``synthetic_events`` for each case, so the
rules stay those of ``cases.services.snapshots`` whatever they become.
"""

from __future__ import annotations

from typing import Any

from django.db.models.base import ModelState

from cases.imports.store import EVENT_FIELDS
from cases.models import Case
from cases.services.snapshots import synthetic_events

ATTNAMES = tuple(f.attname for f in Case._meta.concrete_fields)

# Per event: the row with its constant fields, and (position, case field) for the others.
Template = tuple[tuple[list[Any], tuple[tuple[int, str], ...]], ...]


class _Slot:
    """Stands for a set field of the case; ``name`` is its attname."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        # Django compares a new foreign key value with the old one (None); allow that and
        # identity. Comparing two fields or a field with a value decides by value: refuse.
        if other is None or other is self:
            return other is self
        raise TypeError("synthetic_events compared a field's value; not a template.")

    __hash__ = object.__hash__


def _stand_in(values: dict[str, Any]) -> Case:
    # Model.__init__ costs ~50 µs; synthetic_events only reads attributes.
    case = Case.__new__(Case)
    case._state = ModelState()
    case.__dict__.update(values)
    return case


class SyntheticHistory:
    """Synthetic event rows ``[case_id, *EVENT_FIELDS]``, as ``synthetic_events`` makes them."""

    def __init__(self) -> None:
        self._templates: dict[tuple[Any, ...], Template | None] = {}

    def rows(self, case_id: int, values: dict[str, Any]) -> list[list[Any]]:
        """The synthetic events of the case with this id and these column values."""
        # Set values (truthy) become slots; empty ones (None, 0, "") are kept as they are.
        shape = tuple([True if value else value for value in map(values.get, ATTNAMES)])
        try:
            template = self._templates[shape]
        except KeyError:
            template = self._templates[shape] = self._template(shape)
        if template is None:
            case = _stand_in({name: values.get(name) for name in ATTNAMES})
            return [
                [case_id, *(getattr(event, f) for f in EVENT_FIELDS)]
                for event in synthetic_events(case)
            ]
        rows = []
        for base, slots in template:
            row = base.copy()
            row[0] = case_id
            for position, name in slots:
                row[position] = values[name]
            rows.append(row)
        return rows

    @staticmethod
    def _template(shape: tuple[Any, ...]) -> Template | None:
        pairs = zip(ATTNAMES, shape, strict=True)
        case = _stand_in({name: _Slot(name) if kind is True else kind for name, kind in pairs})
        try:
            events = synthetic_events(case)
        except TypeError:
            return None
        template = []
        for event in events:
            base: list[Any] = [None]  # the case id goes first
            slots = []
            for position, name in enumerate(EVENT_FIELDS, start=1):
                value = getattr(event, name)
                if isinstance(value, _Slot):
                    slots.append((position, value.name))
                    value = None
                base.append(value)
            template.append((base, tuple(slots)))
        return tuple(template)
