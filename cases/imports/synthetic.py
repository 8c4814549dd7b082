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

Template = tuple[tuple[tuple[bool, Any], ...], ...]  # per event, per field: (is_slot, value)


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
    """Synthetic event rows ``(case_id, *EVENT_FIELDS)``, as ``synthetic_events`` makes them."""

    def __init__(self) -> None:
        self._templates: dict[tuple[Any, ...], Template | None] = {}

    def rows(self, case_id: int, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The synthetic events of the case with this id and these column values."""
        values = {**values, "id": case_id}
        # Set values (truthy) become slots; empty ones (None, 0, "") are kept as they are.
        shape = tuple(True if (value := values.get(name)) else value for name in ATTNAMES)
        try:
            template = self._templates[shape]
        except KeyError:
            template = self._templates[shape] = self._template(shape)
        if template is None:
            case = _stand_in({name: values.get(name) for name in ATTNAMES})
            return [
                (case_id, *(getattr(event, f) for f in EVENT_FIELDS))
                for event in synthetic_events(case)
            ]
        return [
            (case_id, *(values[v] if is_slot else v for is_slot, v in event)) for event in template
        ]

    @staticmethod
    def _template(shape: tuple[Any, ...]) -> Template | None:
        case = _stand_in(
            {
                name: _Slot(name) if kind is True else kind
                for name, kind in zip(ATTNAMES, shape, strict=True)
            }
        )
        try:
            events = synthetic_events(case)
        except TypeError:
            return None
        return tuple(
            tuple(
                (True, value.name) if isinstance(value, _Slot) else (False, value)
                for value in (getattr(event, f) for f in EVENT_FIELDS)
            )
            for event in events
        )
