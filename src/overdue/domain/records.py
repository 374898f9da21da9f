"""Copying a frozen record with some fields changed, as :func:`dataclasses.replace` does, for less.

The rules change a record by copying it (:mod:`overdue.domain.state`), several times per account and day:
interest copies each interest-bearing statement and the state, ageing and the end-of-day the state again.
:func:`dataclasses.replace` builds each copy through the record's ``__init__``, which sets every field with
``object.__setattr__`` (about 10 µs for an :class:`~overdue.domain.state.AccountState`). :func:`replace`
makes the same copy — the same fields holding the same objects, the changed ones replaced — by copying the
record's attributes, about five times faster. It does so only where that is the whole of what ``__init__``
does: a dataclass whose fields are all set by ``__init__``, with no ``__post_init__`` (which would check or
derive something), no ``__slots__`` and nothing in the instance but its fields. Any other record, or a
change naming no field, goes through :func:`dataclasses.replace` (which refuses the unknown field).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

_FIELDS: dict[type, frozenset[str] | None] = {}
"""Each record class seen: its field names when :func:`replace` may copy it attribute by attribute."""


def _copyable_fields(cls: type) -> frozenset[str] | None:
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        return None
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(f.init for f in fields):
        return None  # ClassVar or InitVar pseudo-fields, or fields __init__ does not set
    return frozenset(f.name for f in fields)


def replace(record: R, /, **changes: Any) -> R:
    """A copy of ``record`` with ``changes`` (field name → new value): what
    ``dataclasses.replace(record, **changes)`` returns."""
    cls = type(record)
    try:
        names = _FIELDS[cls]
    except KeyError:
        names = _FIELDS[cls] = _copyable_fields(cls)
    attributes = record.__dict__
    if names is None or len(attributes) != len(names) or not changes.keys() <= names:
        return dataclasses.replace(record, **changes)
    copy = object.__new__(cls)
    copy.__dict__.update(attributes)
    copy.__dict__.update(changes)
    return copy
