"""Outside collection agencies: which accounts to place, commission tiers, and the rows of a results file.

**Placement** (:class:`PlacementRules`): an account the end-of-day decided to place (its agency is still
``unassigned``) goes to a chosen agency when its DPD and overdue balance fit the rules; the placement lasts
``term_days``, after which it is recalled.

**Commission** (:class:`CommissionTier`): a rate of each recovered amount, by the account's DPD when it was
placed — the older the debt, the higher the rate. Default tiers: DPD 61–90 12 %, 91–180 20 %, 181+ 30 %.
Commission is rounded half-up to the fen once per payment.

**Results file**: rows an agency reports, as CSV or JSON, each with its own reference ``ref`` and an
``account_id``; a ``payment`` row has a ``date`` and an ``amount`` (yuan), a ``contact`` row an ``at``
(debtor's local time without an offset), a ``channel``, a ``party`` and an ``outcome``.
:func:`parse_result_row` checks a row's shape; the service checks it against the placements and the ledger
(reconciliation) and reports every rejected row with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from overdue.domain.collections import CONTACT_CHANNELS, CONTACT_OUTCOMES, CONTACT_PARTIES
from overdue.domain.errors import InvalidInput, OverdueError
from overdue.domain.money import Fen, parse_positive_yuan, round_half_up

RESULT_KINDS = ("payment", "contact")


@dataclass(frozen=True)
class PlacementRules:
    min_days_past_due: int = 61
    min_balance: Fen = 1
    max_balance: Fen | None = None
    term_days: int = 90

    def __post_init__(self) -> None:
        if self.term_days <= 0:
            raise InvalidInput("a placement term is at least one day")
        if self.min_days_past_due < 0 or self.min_balance < 0:
            raise InvalidInput("placement minimums cannot be negative")

    def admits(self, days_past_due: int, overdue: Fen) -> bool:
        return (
            days_past_due >= self.min_days_past_due
            and overdue >= self.min_balance
            and (self.max_balance is None or overdue <= self.max_balance)
        )


@dataclass(frozen=True)
class CommissionTier:
    min_days_past_due: int
    """The tier applies from this DPD at placement on (until the next tier's)."""
    rate: Decimal


DEFAULT_TIERS = (
    CommissionTier(0, Decimal("0.12")),
    CommissionTier(91, Decimal("0.20")),
    CommissionTier(181, Decimal("0.30")),
)


def commission_rate(
    days_past_due_at_placement: int, tiers: Sequence[CommissionTier] = DEFAULT_TIERS
) -> Decimal:
    """The rate of the highest tier whose DPD the placement reached."""
    rate = Decimal(0)
    for tier in sorted(tiers, key=lambda t: t.min_days_past_due):
        if days_past_due_at_placement >= tier.min_days_past_due:
            rate = tier.rate
    return rate


def commission(
    amount: Fen, days_past_due_at_placement: int, tiers: Sequence[CommissionTier] = DEFAULT_TIERS
) -> Fen:
    """Commission on a recovered ``amount``, half-up to the fen."""
    return round_half_up(Decimal(amount) * commission_rate(days_past_due_at_placement, tiers))


@dataclass(frozen=True)
class ResultRow:
    ref: str
    account_id: str
    kind: str
    on: date | None = None
    amount: Fen | None = None
    at: datetime | None = None
    channel: str | None = None
    party: str | None = None
    outcome: str | None = None


class RowRejected(OverdueError):
    """A results row that cannot be taken; the message is the reason reported for it."""

    code = "row-rejected"


def _text(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key)
    if value is None or not str(value).strip():
        raise RowRejected(f"missing {key}")
    return str(value).strip()


def parse_result_row(raw: Mapping[str, object]) -> ResultRow:
    """A results row's fields, checked for shape only; raises :class:`RowRejected` with the reason."""
    ref, account_id, kind = _text(raw, "ref"), _text(raw, "account_id"), _text(raw, "type")
    if kind not in RESULT_KINDS:
        raise RowRejected(f"unknown type {kind!r}; expected payment or contact")
    if kind == "payment":
        try:
            on = date.fromisoformat(_text(raw, "date"))
        except ValueError as error:
            raise RowRejected(f"date is not YYYY-MM-DD: {raw.get('date')!r}") from error
        try:
            amount = parse_positive_yuan(_text(raw, "amount"))
        except InvalidInput as error:
            raise RowRejected(str(error)) from error
        return ResultRow(ref, account_id, kind, on=on, amount=amount)
    try:
        at = datetime.fromisoformat(_text(raw, "at"))
    except ValueError as error:
        raise RowRejected(f"at is not a date and time: {raw.get('at')!r}") from error
    channel, party, outcome = _text(raw, "channel"), _text(raw, "party"), _text(raw, "outcome")
    if channel not in CONTACT_CHANNELS:
        raise RowRejected(f"unknown channel {channel!r}")
    if party not in CONTACT_PARTIES:
        raise RowRejected(f"unknown party {party!r}")
    if outcome not in CONTACT_OUTCOMES:
        raise RowRejected(f"unknown outcome {outcome!r}")
    return ResultRow(ref, account_id, kind, at=at, channel=channel, party=party, outcome=outcome)
