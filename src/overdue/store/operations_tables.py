"""Tables of collector operations: borrowers' places, collectors, daily assignments, field orders, legal
cases, debt sales and payments forwarded to a debt's buyer.

- ``borrower_places``: a borrower's city and district (for field routes); the borrower and their accounts
  are in :mod:`overdue.store.api_tables` (``borrowers``, ``borrower_accounts``).
- ``collectors`` and ``collector_absences``: who works the queues (``collector``) and the field
  (``field_agent``), each with a daily cap of cases, and the days they are away.
- ``case_assignments``: the collector of each case on each business date (one per case and date), from the
  morning allocation or from a supervisor; ``case_reassignments`` keeps every supervisor's change with who
  made it and why.
- ``field_orders`` and ``field_order_items``: a visit to one borrower on one date by a team, covering the
  open ``field`` work items of the borrower's accounts. A closed order has a recording reference and an
  outcome (a CHECK constraint).
- ``legal_cases`` and ``legal_events``: a legal case on an account and each step with its date, cost (fen)
  and document references.
- ``agency_placements``: an account placed with an outside agency (``agencies`` of
  :mod:`overdue.store.compliance_tables`) from a date for a term, with its DPD and overdue balance then;
  ``agency_results``: the rows of agencies' results files that were taken — contacts, and payments matched
  to a repayment in the ledger (each repayment at most once) with their commission.
- ``debt_sales`` and ``debt_sale_accounts``: a portfolio chosen for sale and its accounts' balances at
  selection; ``forwarded_payments``: money received on a sold account, owed to its buyer (never posted to
  the ledger).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from overdue.store.schema import in_list, ledger_transactions, metadata

COLLECTOR_KINDS = ("collector", "field_agent")
ASSIGNMENT_SOURCES = ("allocation", "supervisor")
FIELD_ORDER_STATUSES = ("open", "closed")
LEGAL_STEPS = ("lawyer_letter", "mediation", "filing", "judgment", "enforcement", "closed")
LEGAL_EVENT_KINDS = (
    "lawyer_letter",
    "mediation",
    "filing",
    "judgment",
    "enforcement",
    "acknowledgement",
    "closed",
)
LEGAL_OUTCOMES = ("paid", "settled", "withdrawn", "uncollectable", "time_barred")
SALE_STATUSES = ("selected", "sold")
PLACEMENT_STATUSES = ("placed", "recalled")
AGENCY_RESULT_KINDS = ("payment", "contact")

borrower_places = Table(
    "borrower_places",
    metadata,
    Column("borrower_id", String(64), ForeignKey("borrowers.id"), primary_key=True),
    Column("city", String(64), nullable=False),
    Column("district", String(64), nullable=False),
)

collectors = Table(
    "collectors",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("daily_cap", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    CheckConstraint(in_list("kind", COLLECTOR_KINDS), name="kind"),
    CheckConstraint("daily_cap >= 0", name="daily_cap_not_negative"),
)

collector_absences = Table(
    "collector_absences",
    metadata,
    Column("collector_id", String(64), ForeignKey("collectors.id"), nullable=False),
    Column("absent_on", Date, nullable=False),
    Column("reason", Text, nullable=True),
    PrimaryKeyConstraint("collector_id", "absent_on"),
)

case_assignments = Table(
    "case_assignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False),
    Column("case_id", String(96), nullable=False, index=True),
    Column("collector_id", String(64), ForeignKey("collectors.id"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("queue", String(16), nullable=False),
    Column("overdue_fen", BigInteger, nullable=False),
    Column("priority", Integer, nullable=False),
    UniqueConstraint("business_date", "case_id", name="uq_case_assignments_once"),
    CheckConstraint(in_list("source", ASSIGNMENT_SOURCES), name="source"),
    CheckConstraint("overdue_fen >= 0", name="overdue_fen_not_negative"),
)

case_reassignments = Table(
    "case_reassignments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("business_date", Date, nullable=False),
    Column("case_id", String(96), nullable=False, index=True),
    Column("from_collector", String(64), nullable=True),
    Column("to_collector", String(64), ForeignKey("collectors.id"), nullable=False),
    Column("by_user", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

field_orders = Table(
    "field_orders",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("case_id", String(96), nullable=False, index=True),
    Column("route_date", Date, nullable=False),
    Column("city", String(64), nullable=False),
    Column("district", String(64), nullable=False),
    Column("team", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("recording_ref", String(200), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(in_list("status", FIELD_ORDER_STATUSES), name="status"),
    CheckConstraint(
        "status <> 'closed' OR (recording_ref IS NOT NULL AND outcome IS NOT NULL AND closed_at IS NOT NULL)",
        name="closed_with_recording",
    ),
)
"""``team``: the field agents' ids, comma-separated."""

field_order_items = Table(
    "field_order_items",
    metadata,
    Column("order_id", String(128), ForeignKey("field_orders.id"), nullable=False),
    Column("work_item_id", Integer, ForeignKey("work_items.id"), nullable=False, unique=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("contact_recorded", Boolean, nullable=False),
    PrimaryKeyConstraint("order_id", "work_item_id"),
)

legal_cases = Table(
    "legal_cases",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("step", String(16), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("outcome", String(16), nullable=True),
    CheckConstraint(in_list("step", LEGAL_STEPS), name="step"),
    CheckConstraint(f"outcome IS NULL OR {in_list('outcome', LEGAL_OUTCOMES)}", name="outcome"),
    CheckConstraint("(step = 'closed') = (closed_on IS NOT NULL)", name="closed_on_when_closed"),
)

legal_events = Table(
    "legal_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("legal_case_id", String(128), ForeignKey("legal_cases.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("happened_on", Date, nullable=False),
    Column("cost_fen", BigInteger, nullable=False),
    Column("documents", Text, nullable=False),
    Column("note", Text, nullable=True),
    CheckConstraint(in_list("kind", LEGAL_EVENT_KINDS), name="kind"),
    CheckConstraint("cost_fen >= 0", name="cost_fen_not_negative"),
)
"""``documents``: a JSON list of document references (file names, archive numbers)."""

debt_sales = Table(
    "debt_sales",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("buyer", String(200), nullable=False),
    Column("selected_on", Date, nullable=False),
    Column("filters_json", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sold_on", Date, nullable=True),
    CheckConstraint(in_list("status", SALE_STATUSES), name="status"),
    CheckConstraint("(status = 'sold') = (sold_on IS NOT NULL)", name="sold_on_when_sold"),
)

debt_sale_accounts = Table(
    "debt_sale_accounts",
    metadata,
    Column("sale_id", String(64), ForeignKey("debt_sales.id"), nullable=False),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("fees_fen", BigInteger, nullable=False),
    Column("last_payment_on", Date, nullable=True),
    PrimaryKeyConstraint("sale_id", "account_id"),
    CheckConstraint(
        "principal_fen >= 0 AND interest_fen >= 0 AND fees_fen >= 0", name="balances_not_negative"
    ),
)

forwarded_payments = Table(
    "forwarded_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("sale_id", String(64), ForeignKey("debt_sales.id"), nullable=False),
    Column("buyer", String(200), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reference", String(128), nullable=False, unique=True),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)
"""``reference``: the payment's own reference (bank or channel serial); a second receipt of it is refused."""

agency_placements = Table(
    "agency_placements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("placed_on", Date, nullable=False),
    Column("recall_on", Date, nullable=False),
    Column("recalled_on", Date, nullable=True),
    Column("status", String(16), nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("overdue_fen", BigInteger, nullable=False),
    CheckConstraint(in_list("status", PLACEMENT_STATUSES), name="status"),
    CheckConstraint("recall_on > placed_on", name="recall_after_placement"),
    CheckConstraint("(status = 'recalled') = (recalled_on IS NOT NULL)", name="recalled_on_when_recalled"),
    CheckConstraint("overdue_fen >= 0 AND days_past_due >= 0", name="not_negative"),
)
"""``recall_on``: the end of the term (the placement is recalled on or after it)."""

agency_results = Table(
    "agency_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("ref", String(128), nullable=False),
    Column("placement_id", Integer, ForeignKey("agency_placements.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("happened_on", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=True),
    Column("commission_fen", BigInteger, nullable=True),
    Column(
        "ledger_transaction_id", Integer, ForeignKey(ledger_transactions.c.id), nullable=True, unique=True
    ),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("agency_id", "ref", name="uq_agency_results_ref"),
    CheckConstraint(in_list("kind", AGENCY_RESULT_KINDS), name="kind"),
    CheckConstraint(
        "kind <> 'payment' OR (amount_fen > 0 AND commission_fen >= 0 AND ledger_transaction_id IS NOT NULL)",
        name="payment_matched",
    ),
)
"""``ledger_transaction_id``: the repayment a reported payment was matched to (unique: credited once)."""
