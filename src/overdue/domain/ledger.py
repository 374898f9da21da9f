"""Double-entry postings: every movement of money is a transaction whose postings sum to zero.

Sign convention: a posting's amount is in fen, **debit positive, credit negative**. The receivable accounts
(what the borrower owes) are debit-normal, so their balance is positive while something is owed.

Ledger accounts of one credit-line account:

============================  ======================================================================
``principal``                 receivable: purchase principal the borrower owes (billed or not)
``interest``                  receivable: overdue and revolving interest posted and unpaid
``fees``                      receivable: installment fees and other fees posted and unpaid
``written_off:principal``     the borrower's claim after write-off (off-book, fully provided for);
``written_off:interest``      a write-off moves each receivable here and a later repayment (a
``written_off:fees``          recovery) pays it down
``merchant_payable``          what the lender owes the merchant for a purchase
``repayment_clearing``        money received from the borrower, on its way to the lender's bank
``income:overdue_interest``   income accounts (credit-normal, so negative balances)
``income:revolving_interest``
``income:installment_fee``
``income:fee``
``expense:waiver``            interest and fees forgiven
============================  ======================================================================

The borrower owes ``principal + interest + fees + written_off:*``; the lender carries on book only the first
three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from overdue.domain.errors import LedgerError
from overdue.domain.money import Fen


class LedgerAccount(StrEnum):
    PRINCIPAL = "principal"
    INTEREST = "interest"
    FEES = "fees"
    WRITTEN_OFF_PRINCIPAL = "written_off:principal"
    WRITTEN_OFF_INTEREST = "written_off:interest"
    WRITTEN_OFF_FEES = "written_off:fees"
    MERCHANT_PAYABLE = "merchant_payable"
    REPAYMENT_CLEARING = "repayment_clearing"
    OVERDUE_INTEREST_INCOME = "income:overdue_interest"
    REVOLVING_INTEREST_INCOME = "income:revolving_interest"
    INSTALLMENT_FEE_INCOME = "income:installment_fee"
    FEE_INCOME = "income:fee"
    WAIVER_EXPENSE = "expense:waiver"


WRITTEN_OFF = {
    LedgerAccount.PRINCIPAL: LedgerAccount.WRITTEN_OFF_PRINCIPAL,
    LedgerAccount.INTEREST: LedgerAccount.WRITTEN_OFF_INTEREST,
    LedgerAccount.FEES: LedgerAccount.WRITTEN_OFF_FEES,
}
"""Where each receivable goes when the account is written off."""


class TransactionKind(StrEnum):
    PURCHASE = "purchase"
    REPAYMENT = "repayment"
    OVERDUE_INTEREST = "overdue_interest"
    REVOLVING_INTEREST = "revolving_interest"
    INSTALLMENT_FEE = "installment_fee"
    FEE = "fee"
    WAIVER = "waiver"
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class Posting:
    ledger_account: LedgerAccount
    amount: Fen
    """Debit positive, credit negative; never zero."""


@dataclass(frozen=True)
class Transaction:
    """One balanced movement of money on one credit-line account, on one business date."""

    account_id: str
    business_date: date
    kind: TransactionKind
    postings: tuple[Posting, ...]
    statement_id: str | None = None
    memo: str | None = None

    def __post_init__(self) -> None:
        if not self.postings:
            raise LedgerError(f"{self.kind} transaction on {self.account_id} has no postings")
        if any(p.amount == 0 for p in self.postings):
            raise LedgerError(f"{self.kind} transaction on {self.account_id} has a zero posting")
        total = sum(p.amount for p in self.postings)
        if total != 0:
            raise LedgerError(
                f"{self.kind} transaction on {self.account_id} does not balance: sums to {total} fen"
            )


def transfer(
    account_id: str,
    business_date: date,
    kind: TransactionKind,
    debit: LedgerAccount,
    credit: LedgerAccount,
    amount: Fen,
    *,
    statement_id: str | None = None,
    memo: str | None = None,
) -> Transaction:
    """The simplest transaction: ``amount`` from ``credit`` to ``debit`` (two postings)."""
    if amount <= 0:
        raise LedgerError(f"a {kind} transfer needs a positive amount, got {amount}")
    return Transaction(
        account_id,
        business_date,
        kind,
        (Posting(debit, amount), Posting(credit, -amount)),
        statement_id=statement_id,
        memo=memo,
    )


def balances(transactions: list[Transaction] | tuple[Transaction, ...]) -> dict[LedgerAccount, Fen]:
    """The balance of every ledger account touched by ``transactions``."""
    out: dict[LedgerAccount, Fen] = {}
    for txn in transactions:
        for posting in txn.postings:
            out[posting.ledger_account] = out.get(posting.ledger_account, 0) + posting.amount
    return out
