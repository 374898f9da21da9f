"""The audit log: append-only and hash-chained, so that a changed, removed or inserted row is detectable.

Row ``seq`` (1, 2, 3, ... without gaps) stores ``prev_hash``, the hash of row ``seq - 1`` (64 zeros for the
first row), and ``hash``, the SHA-256 of its own content and ``prev_hash`` as canonical JSON. Changing any
field of any row breaks its own hash; recomputing that hash breaks the next row's ``prev_hash``; removing a
row leaves a gap in ``seq``. The database refuses UPDATE and DELETE on the table (triggers, migration
``0006_api``); :func:`verify` finds what was changed anyway (by someone able to bypass the triggers).

**Who acts.** A change is audited by the service that makes it, in the transaction that makes it
(:func:`changed`), so a change and its audit row commit together or not at all. Who is acting comes from the
edge that called the service, set once with :func:`acting_as`: an API request's user, the command line's
operator, the end-of-day; with none set, the actor is :data:`SYSTEM`.

What the chain cannot show by itself is rows cut off at its end: :func:`verify` reports the head hash, which
can be written down elsewhere (a ticket, a report) and compared later.

Appends are serialised: on PostgreSQL by a transaction-scoped advisory lock; on SQLite by taking its write
lock before reading the end of the chain. The primary key on ``seq`` and the unique ``prev_hash`` make a fork
impossible even so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from overdue.store.actors import SYSTEM as SYSTEM
from overdue.store.actors import Actor as Actor
from overdue.store.actors import acting_as as acting_as
from overdue.store.actors import current_actor as current_actor
from overdue.store.api_tables import audit_log

GENESIS = "0" * 64
"""``prev_hash`` of the first row."""

_APPEND_LOCK = 0x6F76_6175
"""PostgreSQL advisory-lock key that serialises appends (any fixed number; this one spells "ovau")."""


def changed(
    conn: Connection, action: str, entity: str, record: str, detail: Mapping[str, Any] | None = None
) -> int:
    """Audit a change in the transaction that makes it, attributed to :func:`current_actor`.

    action: ``create`` or ``update`` (or a verb of the domain: ``run`` for an end-of-day date).
    entity, record: what changed, and which one. detail: JSON-able, no personal data itself.
    """
    actor = current_actor()
    return append(conn, actor.name, actor.role, action, entity, record, detail)


def read(conn: Connection, entity: str, record: str, detail: Mapping[str, Any] | None = None) -> int:
    """Audit a read of personal data by :func:`current_actor` (the command line's bureau file and relief
    agreements; the API audits its reads itself)."""
    actor = current_actor()
    return append(conn, actor.name, actor.role, "read", entity, record, detail)


def utc_text(at: datetime) -> str:
    """``at`` in UTC as hashed, ``2026-11-28T17:55:16.083835Z``; a naive value (SQLite's) is UTC already."""
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(row: Mapping[str, Any] | RowMapping) -> str:
    """The hash of an audit row's content and its ``prev_hash``.

    row: ``seq``, ``at``, ``actor``, ``role``, ``action``, ``entity``, ``record``, ``detail``, ``prev_hash``.
    """
    content = [
        row["seq"],
        utc_text(row["at"]),
        row["actor"],
        row["role"],
        row["action"],
        row["entity"],
        row["record"],
        row["detail"],
        row["prev_hash"],
    ]
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    conn: Connection,
    actor: str,
    role: str,
    action: str,
    entity: str,
    record: str,
    detail: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Append one row in the caller's transaction and return its ``seq``.

    actor, role: who did it (a user name and their role; ``cli`` and ``admin`` for the command line).
    action: ``read``, ``create``, ``update`` or ``login``. entity, record: what, and which one.
    detail: anything else worth keeping (JSON-able, no personal data itself). at: when (default: now).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    else:
        # Take SQLite's write lock before reading the chain's end: a write that changes no row starts the
        # write transaction (waiting for another writer up to the busy timeout), so no one appends in between.
        conn.execute(text("UPDATE audit_log SET seq = seq WHERE 0 = 1"))
    last = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq: int = 1 if last is None else last.seq + 1
    row: dict[str, Any] = {
        "seq": seq,
        "at": (at or datetime.now(UTC)).astimezone(UTC),
        "actor": actor,
        "role": role,
        "action": action,
        "entity": entity,
        "record": record[:200],
        "detail": json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
        "prev_hash": GENESIS if last is None else last.hash,
    }
    row["hash"] = entry_hash(row)
    conn.execute(audit_log.insert().values(**row))
    return seq


def record(
    engine: Engine,
    actor: str,
    role: str,
    action: str,
    entity: str,
    record_id: str,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """:func:`append` in a transaction of its own.

    Should two appends still race for the same ``seq`` (a lock timed out), the loser fails on the primary key
    and tries again on the new end of the chain.
    """
    attempt = 1
    while True:
        try:
            with engine.begin() as conn:
                return append(conn, actor, role, action, entity, record_id, detail)
        except (IntegrityError, OperationalError):
            if attempt >= APPEND_ATTEMPTS:
                raise
            attempt += 1


APPEND_ATTEMPTS = 5
"""How many times :func:`record` tries to append before giving up."""


def newest(
    conn: Connection, last: int, *, actor: str | None = None, entity: str | None = None
) -> list[dict[str, Any]]:
    """The newest ``last`` rows (only ``actor``'s, only about ``entity``, when given), oldest first, as
    JSON-able dicts."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(last)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if entity is not None:
        query = query.where(audit_log.c.entity == entity)
    rows = list(conn.execute(query).mappings())
    return [
        {
            "seq": r["seq"],
            "at": utc_text(r["at"]),
            "actor": r["actor"],
            "role": r["role"],
            "action": r["action"],
            "entity": r["entity"],
            "record": r["record"],
            "detail": json.loads(r["detail"]),
        }
        for r in reversed(rows)
    ]


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify` found.

    count: rows checked (all of them when ``ok``; up to the broken one otherwise).
    broken_at: ``seq`` of the first row whose link is broken; reason: how.
    head: the hash of the last good row (GENESIS for an empty log).
    """

    ok: bool
    count: int
    head: str
    broken_at: int | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "count": self.count,
            "head": self.head,
            "broken_at": self.broken_at,
            "reason": self.reason,
        }


def verify(conn: Connection) -> ChainReport:
    """Walk the whole chain in ``seq`` order and report the first broken link, or that all hold."""
    previous_hash = GENESIS
    expected_seq = 1
    count = 0
    # Streamed (a server-side cursor on PostgreSQL), so a long log is never held in memory at once.
    with conn.execution_options(yield_per=1000).execute(select(audit_log).order_by(audit_log.c.seq)) as rows:
        for row in rows.mappings():
            broken = _broken_link(row, expected_seq, previous_hash)
            if broken is not None:
                return ChainReport(False, count, previous_hash, row["seq"], broken)
            previous_hash = row["hash"]
            expected_seq += 1
            count += 1
    return ChainReport(True, count, previous_hash)


def _broken_link(row: RowMapping, expected_seq: int, previous_hash: str) -> str | None:
    if row["seq"] != expected_seq:
        return f"row {expected_seq} is missing (the next row is {row['seq']})"
    if row["prev_hash"] != previous_hash:
        return f"row {row['seq']} does not point to the row before it (prev_hash differs)"
    if entry_hash(row) != row["hash"]:
        return f"row {row['seq']} was changed after it was written (its hash does not match its content)"
    return None
