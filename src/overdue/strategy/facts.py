"""What a strategy may look at: the facts of one account on one business date.

:class:`AccountFacts` is the only input of :func:`overdue.strategy.decide` besides the strategy itself. The
engine builds it from the account's state (DPD, bucket, balances, the latest statement) and from collection
records (promises, plans, contacts, placements); the strategy never reads anything else.

:data:`FIELDS` says, for every field a condition may name, what kind of value it holds — the parser uses it
to check conditions and the overlap check uses it to build its grid of representative facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from overdue.domain.money import Fen

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
STATUSES = ("active", "frozen", "closed", "written_off")
CONTACTABILITY = ("reachable", "lost_contact")
PROMISE_STATES = ("none", "pending", "kept", "broken")
PLAN_STATES = ("none", "active", "broken")


@dataclass(frozen=True)
class AccountFacts:
    """Everything a strategy may look at, for one account on one business date.

    Amounts are in fen. ``last_done`` maps a treatment id to the last date it was done in the current
    delinquency episode; schedules (``once``, ``every_days``, ``after``) read it.
    """

    account_id: str
    product: str
    on: date
    days_past_due: int
    bucket: str
    """``"M0"`` … ``"M6"``, ``"M7+"``."""
    overdue_balance: Fen
    """Unpaid on delinquent statements (principal + interest + fees)."""
    total_due: Fen
    """Everything billed and unpaid."""
    days_to_due: int | None
    """Days from ``on`` to the due date of the latest statement with something unpaid: 0 on the due date,
    negative after it; None when nothing billed is unpaid."""
    minimum_remaining: Fen
    status: str
    """``active`` | ``frozen`` | ``closed`` | ``written_off``."""
    contactability: str = "reachable"
    """``reachable`` | ``lost_contact``."""
    promise: str = "none"
    """``none`` | ``pending`` | ``kept`` | ``broken``."""
    plan: str = "none"
    """``none`` | ``active`` | ``broken``."""
    dispute: bool = False
    litigation_hold: bool = False
    cease: bool = False
    """The debtor asked in writing that communication cease (US); no contact from then on."""
    sold: bool = False
    """The debt was sold; the lender (and its agencies) no longer collect it."""
    validation_notice_on: date | None = None
    """US: the day the validation notice was sent (None: not sent)."""
    attempts: int = 0
    """Contact attempts in this delinquency episode."""
    connects: int = 0
    days_since_last_contact: int | None = None
    score: int | None = None
    """The collection score: P(pay within 30 days) in whole percent; None while the account is current."""
    behaviour_score: int | None = None
    """The behaviour score (scorecard points, higher is safer) recorded at the latest month end on or before
    ``on``; None before the account's first month end."""
    escalation: int = 0
    """Extra stages up, after broken promises or missed plan payments."""
    agency: str | None = None
    """The agency the account is placed with, if any."""
    days_placed: int | None = None
    last_done: Mapping[str, date] = field(default_factory=dict)
    """Treatment id → last date it was done (this episode)."""


FieldKind = Literal["number", "amount", "date", "enum", "text", "flag"]
"""How a field's values are written and compared.

- ``number``: an integer (days, counts, a score); ranges allowed.
- ``amount``: money, fen inside, a yuan string such as ``"10000.00"`` in files; ranges allowed.
- ``date``: a date (``2026-03-01``); ranges allowed.
- ``enum``: one of a fixed set of words.
- ``text``: any string (an account id, a product name, an agency).
- ``flag``: true or false.
"""


@dataclass(frozen=True)
class FieldSpec:
    """One field of :class:`AccountFacts` that conditions may name.

    kind: how its values are written and compared (see :data:`FieldKind`).
    optional: whether the field may be None (written ``null`` in files).
    values: the allowed words of an ``enum`` field.
    """

    name: str
    kind: FieldKind
    optional: bool = False
    values: tuple[str, ...] = ()

    @property
    def ordered(self) -> bool:
        """Whether ``min``/``max`` ranges make sense for this field."""
        return self.kind in ("number", "amount", "date")


FIELDS: Mapping[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("account_id", "text"),
        FieldSpec("product", "text"),
        FieldSpec("on", "date"),
        FieldSpec("days_past_due", "number"),
        FieldSpec("bucket", "enum", values=BUCKETS),
        FieldSpec("overdue_balance", "amount"),
        FieldSpec("total_due", "amount"),
        FieldSpec("days_to_due", "number", optional=True),
        FieldSpec("minimum_remaining", "amount"),
        FieldSpec("status", "enum", values=STATUSES),
        FieldSpec("contactability", "enum", values=CONTACTABILITY),
        FieldSpec("promise", "enum", values=PROMISE_STATES),
        FieldSpec("plan", "enum", values=PLAN_STATES),
        FieldSpec("dispute", "flag"),
        FieldSpec("litigation_hold", "flag"),
        FieldSpec("cease", "flag"),
        FieldSpec("sold", "flag"),
        FieldSpec("validation_notice_on", "date", optional=True),
        FieldSpec("attempts", "number"),
        FieldSpec("connects", "number"),
        FieldSpec("days_since_last_contact", "number", optional=True),
        FieldSpec("score", "number", optional=True),
        FieldSpec("behaviour_score", "number", optional=True),
        FieldSpec("escalation", "number"),
        FieldSpec("agency", "text", optional=True),
        FieldSpec("days_placed", "number", optional=True),
    )
}
"""Every field a condition may name (all of :class:`AccountFacts` but ``last_done``, which schedules read)."""
