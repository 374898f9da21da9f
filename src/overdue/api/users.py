"""Users and tokens in the database: add a user, issue a token, log in, authenticate a request.

Every change here is written to the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, RowMapping, select

from overdue.api.security import (
    Principal,
    check_role,
    hash_password,
    new_token,
    password_matches,
    token_hash,
)
from overdue.domain.errors import InvalidInput, OverdueError
from overdue.store import audit_trail
from overdue.store.api_tables import api_tokens, borrowers, users


class NotAuthenticated(OverdueError):
    """No credentials, or credentials that match nobody (HTTP 401)."""

    code = "not-authenticated"


@dataclass(frozen=True)
class NewUser:
    """A user just added, with the token issued to them (shown once)."""

    principal: Principal
    token: str


def add_user(
    engine: Engine,
    name: str,
    role: str,
    *,
    password: str | None = None,
    agency: str | None = None,
    borrower_id: str | None = None,
) -> NewUser:
    """Add a user with ``role`` and issue their first token.

    password: lets them log in with a password too (None: token only).
    agency: required for the ``agency`` role (the agency they work for).
    borrower_id: required for the ``borrower`` role (an existing borrower).
    """
    try:
        check_role(role)
    except ValueError as error:
        raise InvalidInput(str(error)) from error
    if not name.strip() or len(name) > 64:
        raise InvalidInput("a user name must be 1 to 64 characters")
    if role == "agency" and not agency:
        raise InvalidInput("an agency user needs the agency they work for (--agency)")
    if role == "borrower" and not borrower_id:
        raise InvalidInput("a borrower user needs the borrower they are (--borrower)")
    with engine.begin() as conn:
        if conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None:
            raise InvalidInput(f"user {name!r} already exists")
        if borrower_id is not None and (
            conn.execute(select(borrowers.c.id).where(borrowers.c.id == borrower_id)).first() is None
        ):
            raise InvalidInput(f"unknown borrower {borrower_id!r}")
        user_id = conn.execute(
            users.insert()
            .values(
                name=name,
                role=role,
                password_hash=None if password is None else hash_password(password),
                agency=agency if role == "agency" else None,
                borrower_id=borrower_id if role == "borrower" else None,
                created_at=datetime.now(UTC),
            )
            .returning(users.c.id)
        ).scalar_one()
        audit_trail.changed(conn, "create", "user", name, {"role": role, "agency": agency})
        token = _issue(conn, user_id)
    principal = Principal(user_id, name, role, agency if role == "agency" else None, borrower_id)
    return NewUser(principal, token)


def set_password(engine: Engine, name: str, password: str) -> None:
    """Set (or replace) the password of user ``name``."""
    with engine.begin() as conn:
        changed = conn.execute(
            users.update().where(users.c.name == name).values(password_hash=hash_password(password))
        ).rowcount
        if not changed:
            raise InvalidInput(f"unknown user {name!r}")
        audit_trail.changed(conn, "update", "user", name, {"password": "set"})


def _issue(conn: Connection, user_id: int) -> str:
    token = new_token()
    conn.execute(
        api_tokens.insert().values(
            user_id=user_id, token_hash=token_hash(token), created_at=datetime.now(UTC)
        )
    )
    return token


def login(engine: Engine, name: str, password: str) -> tuple[Principal, str]:
    """Exchange a user name and password for a new token; :class:`NotAuthenticated` when they do not match."""
    with engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        if not password_matches(None if row is None else row["password_hash"], password) or row is None:
            raise NotAuthenticated("unknown user or wrong password")
        principal = _principal(row)
        token = _issue(conn, principal.user_id)
        audit_trail.append(conn, principal.name, principal.role, "login", "user", principal.name)
    return principal, token


def authenticate(engine: Engine, token: str) -> Principal:
    """The user a bearer token belongs to; :class:`NotAuthenticated` for an unknown or revoked token."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(users)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == token_hash(token), api_tokens.c.revoked_at.is_(None))
            )
            .mappings()
            .first()
        )
    if row is None:
        raise NotAuthenticated("unknown or revoked token")
    return _principal(row)


def _principal(row: RowMapping) -> Principal:
    return Principal(row["id"], row["name"], row["role"], row["agency"], row["borrower_id"])


def user_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None
