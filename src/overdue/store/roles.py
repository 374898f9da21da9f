"""The roles a user of overdue may have: their own module, without SQLAlchemy, so that the command line can
name them in its help without loading the store."""

ROLES = (
    "admin",
    "strategist",
    "supervisor",
    "collector",
    "field_agent",
    "agency",
    "compliance_officer",
    "auditor",
    "borrower",
)
"""Every role a user may have; the ``users`` table's ``role`` CHECK constraint allows exactly these."""
