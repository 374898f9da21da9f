"""Idempotency keys: a retried request never posts twice.

The first request with a key stores a hash of its content and its response, in the same database transaction
as its effect. A replay with the same content returns the stored response; the same key with different content
is an :class:`~overdue.domain.errors.IdempotencyConflict`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Connection, select

from overdue.domain.errors import IdempotencyConflict
from overdue.store.schema import idempotency_keys


def request_hash(operation: str, request: dict[str, Any]) -> str:
    """A stable hash of what a request asks for (its operation and canonical JSON content)."""
    canonical = json.dumps({"operation": operation, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def replayed(conn: Connection, key: str, operation: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """The stored response of an earlier request with ``key``, or None if the key is new."""
    row = conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).mappings().first()
    if row is None:
        return None
    if row["operation"] != operation or row["request_hash"] != request_hash(operation, request):
        raise IdempotencyConflict(f"idempotency key {key!r} was already used for a different request")
    response: dict[str, Any] = json.loads(row["response_json"])
    return response


def remember(
    conn: Connection, key: str, operation: str, request: dict[str, Any], response: dict[str, Any]
) -> None:
    conn.execute(
        idempotency_keys.insert().values(
            key=key,
            operation=operation,
            request_hash=request_hash(operation, request),
            response_json=json.dumps(response, sort_keys=True),
        )
    )
