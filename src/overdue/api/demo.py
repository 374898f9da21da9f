"""Demo users for ``overdue serve --demo``: one user per role, each with a new random password.

The borrower user is a synthetic borrower (fixed, obviously fake personal data) with one account of their own,
``DEMO-1``, opened on the next business date when it does not exist yet; the agency user works for the agency
``DEMO-AGENCY``. Running it again gives every demo user a new password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from overdue.api import queries, users
from overdue.api.security import new_password
from overdue.services import accounts
from overdue.store import repository
from overdue.store.roles import ROLES

DEMO_ACCOUNT = "DEMO-1"
DEMO_AGENCY = "DEMO-AGENCY"
DEMO_BORROWER = {
    "name": "演示用户",
    "phone": "13800000000",
    "national_id": "11010119900101000X",
    "address": "北京市东城区演示路1号",
}
DEMO_LIMIT_FEN = 500_000


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    password: str


def seed_demo_users(engine: Engine) -> list[DemoUser]:
    """Create (or reset the passwords of) one demo user per role; return their credentials."""

    with engine.begin() as conn:
        borrower_id = queries.save_borrower(conn, DEMO_BORROWER)
        has_account = repository.account_exists(conn, DEMO_ACCOUNT)
        closed = repository.last_closed_date(conn)
    if not has_account:
        opened = closed + timedelta(days=1) if closed is not None else datetime.now(UTC).date()
        accounts.open_account(engine, DEMO_ACCOUNT, opened, DEMO_LIMIT_FEN)
        with engine.begin() as conn:
            queries.link_borrower(conn, borrower_id, DEMO_ACCOUNT)
    seeded = []
    for role in ROLES:
        name = f"demo-{role.replace('_', '-')}"
        password = new_password()
        if users.user_exists(engine, name):
            users.set_password(engine, name, password)
        else:
            users.add_user(
                engine,
                name,
                role,
                password=password,
                agency=DEMO_AGENCY if role == "agency" else None,
                borrower_id=borrower_id if role == "borrower" else None,
            )
        seeded.append(DemoUser(name, role, password))
    return seeded
