"""Which database the edges use when none is named: its own module, without SQLAlchemy, so that the command
line can read it before it knows whether the command opens the database."""

import os

DEFAULT_URL = "sqlite:///overdue.db"


def default_url() -> str:
    """The database URL to use when none is given: ``$OVERDUE_DB``, else ``sqlite:///overdue.db``."""
    return os.environ.get("OVERDUE_DB") or DEFAULT_URL
