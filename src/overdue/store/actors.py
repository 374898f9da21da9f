"""Who acts, for the audit log: set once by the edge that calls the services (an API request's user, the
command line's operator, the end-of-day) and read by :mod:`overdue.store.audit_trail` when it records a
change.

Its own module, without SQLAlchemy, so that the command line can say who acts before it knows whether the
command opens the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who acts, as the audit log records them.

    name: a user's name (``alice``), ``cli:OPERATOR`` on the command line, ``system`` for unattended work.
    role: the user's role; ``operator`` on the command line; ``system``.
    """

    name: str
    role: str


SYSTEM = Actor("system", "system")
"""The actor when no edge said who acts (a scheduled end-of-day, a library call)."""

_acting: ContextVar[Actor] = ContextVar("overdue_audit_actor", default=SYSTEM)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute the changes made inside the block (in this thread or task) to ``actor``."""
    token = _acting.set(actor)
    try:
        yield actor
    finally:
        _acting.reset(token)


def current_actor() -> Actor:
    """Who the changes made now are attributed to."""
    return _acting.get()
