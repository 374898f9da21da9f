"""Waivers of interest and fees, and the maker-checker approval every waiver (and settlement) needs.

- A waiver is **requested** by one user (the maker) for an amount of interest and of fees, at most what the
  account carries (``relief.waiver.exceeds_interest`` / ``relief.waiver.exceeds_fees``).
- It is **approved** by a different user (``relief.approval.same_user``) whose role's limit covers the whole
  amount (``relief.approval.over_authority``; a role without a limit may not approve:
  ``relief.approval.unknown_role``). The limits are parameters (:class:`ReliefTerms.role_limits`).
- The approved waiver posts at once, whole or not at all: if the account no longer carries the amounts
  (a repayment paid them meanwhile), the approval is refused and nothing changes.
"""

from __future__ import annotations

from datetime import date

from overdue.domain import delinquency
from overdue.domain.ledger import Transaction
from overdue.domain.money import Fen, format_yuan
from overdue.domain.relief_common import (
    Effect,
    ReliefQuote,
    check_open_account,
    fingerprint,
    refuse,
    waive_interest_and_fees,
)
from overdue.domain.relief_terms import ReliefTerms
from overdue.domain.state import AccountState, AccountStatus


def check_approval(terms: ReliefTerms, maker: str, approver: str, role: str, amount: Fen) -> None:
    """Maker-checker: a different user, in a role whose limit covers ``amount`` (fen)."""
    if not approver.strip():
        raise refuse("relief.approval.approver_missing", "an approval needs the approver's user name")
    if approver == maker:
        raise refuse("relief.approval.same_user", f"{approver} made the request and cannot also approve it")
    limit = terms.role_limit(role)
    if limit is None:
        roles = ", ".join(name for name, _ in terms.role_limits)
        raise refuse("relief.approval.unknown_role", f"role {role!r} may not approve relief (roles: {roles})")
    if amount > limit:
        raise refuse(
            "relief.approval.over_authority",
            f"{format_yuan(amount)} is beyond the authority of role {role} (at most {format_yuan(limit)})",
        )


def check_amounts(state: AccountState, interest: Fen, fees: Fen) -> None:
    """A waiver is of something the account carries now."""
    if interest < 0 or fees < 0 or interest + fees == 0:
        raise refuse("relief.waiver.amount", "a waiver needs a positive amount of interest or fees")
    if interest > state.interest:
        raise refuse(
            "relief.waiver.exceeds_interest",
            f"waiving {format_yuan(interest)} of interest but only {format_yuan(state.interest)} is unpaid",
        )
    if fees > state.fees:
        raise refuse(
            "relief.waiver.exceeds_fees",
            f"waiving {format_yuan(fees)} of fees but only {format_yuan(state.fees)} is unpaid",
        )


def quote(state: AccountState, on: date, interest: Fen, fees: Fen) -> ReliefQuote:
    """What waiving ``interest`` and ``fees`` (fen) would do; changes nothing."""
    check_open_account(state, "waiver", written_off_allowed=True)
    check_amounts(state, interest, fees)
    return ReliefQuote(
        kind="waiver",
        account_id=state.id,
        quoted_on=on,
        fingerprint=fingerprint(state),
        payments=(),
        total_cost=0,
        annual_rate=None,
        waived=interest + fees,
        line=Effect(
            "unchanged",
            "the line unfreezes only when nothing overdue is left",
            "额度仅在逾期款项全部还清后恢复",
        ),
        bureau=Effect("unchanged", "no effect on the credit report by itself", "本身不影响征信报送"),
        details=(("interest", format_yuan(interest)), ("fees", format_yuan(fees))),
    )


def apply(
    state: AccountState, on: date, interest: Fen, fees: Fen, memo: str
) -> tuple[AccountState, Transaction | None]:
    """Post an approved waiver: whole, or refused when the account no longer carries the amounts."""
    check_amounts(state, interest, fees)
    state, _, transaction = waive_interest_and_fees(state, on, interest, fees, memo)
    if state.status in (AccountStatus.FROZEN, AccountStatus.CLOSED) and (
        state.arrangement is None or not state.arrangement.is_active
    ):
        state, _ = delinquency.age(state, on, end_of_day=False)  # a waived late charge may cure
    return state, transaction
