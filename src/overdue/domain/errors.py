"""Errors of overdue, one tree.

Every error the project raises on purpose derives from :class:`OverdueError`; the CLI prints its message
on one line and the API turns it into problem+json using :attr:`OverdueError.code`::

    OverdueError
    ├── InvalidInput            the request itself is malformed
    │   ├── InvalidAmount       zero, negative, sub-fen or non-decimal money
    │   ├── InvalidDate         not a date, or a date that breaks the order of business days
    │   └── InvalidTerms        product terms or overrides outside what the product allows
    ├── Refused                 well-formed, but the rules say no
    │   ├── AccountSold         money posted to a sold account (forwarded to its buyer instead)
    │   ├── CreditLimitExceeded purchase above available credit
    │   ├── LineNotUsable       purchase on a frozen, closed or written-off line
    │   ├── RepaymentTooLarge   repayment above what can be repaid
    │   ├── InstallmentsRefused bill installments not allowed for this statement
    │   │   └── PurchaseInstallmentsRefused  a purchase in installments refused; ``rule`` names the rule
    │   └── ReliefRefused       a relief option refused; ``rule`` names the rule (``relief.…``)
    │       └── StaleQuote      the balance changed since the quote being accepted
    ├── Unsupported             (overdue.setbased) what the set-based runner cannot compute exactly
    ├── NotFound                unknown account or statement
    ├── Conflict
    │   └── IdempotencyConflict same idempotency key, different request
    └── LedgerError             a transaction that does not balance (a bug, never user input)
"""

from __future__ import annotations


class OverdueError(Exception):
    """Base of every error overdue raises on purpose. ``code`` is stable and used in API problem types."""

    code = "error"


class InvalidInput(OverdueError):
    code = "invalid-input"


class InvalidAmount(InvalidInput):
    code = "invalid-amount"


class InvalidDate(InvalidInput):
    code = "invalid-date"


class InvalidTerms(InvalidInput):
    code = "invalid-terms"


class Refused(OverdueError):
    code = "refused"


class AccountSold(Refused):
    """Money posted to a sold account: its debt is the buyer's (the payment is forwarded instead)."""

    code = "account-sold"


class CreditLimitExceeded(Refused):
    code = "credit-limit-exceeded"


class LineNotUsable(Refused):
    code = "line-not-usable"


class RepaymentTooLarge(Refused):
    code = "repayment-too-large"


class InstallmentsRefused(Refused):
    code = "installments-refused"


class PurchaseInstallmentsRefused(InstallmentsRefused):
    """A purchase in installments the rules refuse; ``rule`` is the stable name of the rule
    (``purchase_installments.…``), also named at the end of the message."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(f"{message} [{rule}]")
        self.rule = rule


class ReliefRefused(Refused):
    """A relief request the rules refuse; ``rule`` is the stable name of the rule that refused it."""

    code = "relief-refused"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class StaleQuote(ReliefRefused):
    code = "stale-quote"

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} [relief.quote.stale]", "relief.quote.stale")


class NotFound(OverdueError):
    code = "not-found"


class Conflict(OverdueError):
    code = "conflict"


class IdempotencyConflict(Conflict):
    code = "idempotency-conflict"


class LedgerError(OverdueError):
    code = "ledger-error"
