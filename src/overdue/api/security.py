"""Users, roles, passwords and tokens: the pure parts (no database).

- Passwords are hashed with argon2id (argon2-cffi's defaults); only the hash is stored.
- An API token is 32 random bytes, URL-safe base64, prefixed ``odt_`` so it is recognisable in a leaked
  file; only its SHA-256 (hex) is stored, so the token is shown once, when it is issued.
- A request authenticates with ``Authorization: Bearer <token>``; :class:`Principal` is who it is.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from overdue.store.roles import ROLES

TOKEN_PREFIX = "odt_"
_hashing: dict[str, Any] = {}
"""The argon2 hasher in use and a hash verified against when a login names a user without a password (so
that it takes as long as a wrong password); set up by :func:`configure_password_hashing`."""


def configure_password_hashing(time_cost: int = 3, memory_cost: int = 65_536, parallelism: int = 4) -> None:
    """Set argon2id's cost: time (passes), memory (KiB) and lanes. The defaults are argon2-cffi's (RFC 9106's
    low-memory choice); tests lower them to stay fast. Existing hashes keep verifying with their own cost."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _hashing.update(hasher=hasher, dummy=hasher.hash("a password nobody has"))


def _hasher() -> PasswordHasher:
    if not _hashing:
        configure_password_hashing()
    hasher: PasswordHasher = _hashing["hasher"]
    return hasher


@dataclass(frozen=True)
class Principal:
    """Who is making a request.

    agency: for an ``agency`` user, the agency they work for (they see only accounts placed with it).
    borrower_id: for a ``borrower`` user, the borrower they are (they see only their own accounts).
    """

    user_id: int
    name: str
    role: str
    agency: str | None = None
    borrower_id: str | None = None


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`; otherwise a ValueError naming them."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``, with its salt and parameters (what is stored)."""
    return _hasher().hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; None (a user without a password) never matches.

    Takes about as long whether or not the user has a password, so timing does not tell which users exist.
    """
    try:
        hasher = _hasher()
        return hasher.verify(stored_hash or _hashing["dummy"], password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A new random API token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A random password for a seeded demo user."""
    return secrets.token_urlsafe(12)
