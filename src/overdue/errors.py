"""Errors raised by overdue: the tree lives in :mod:`overdue.domain.errors` (the pure core raises them too).

This module is the public name for it, so the edges (CLI, API) import from here.
"""

from overdue.domain.errors import (
    AccountSold,
    Conflict,
    CreditLimitExceeded,
    IdempotencyConflict,
    InstallmentsRefused,
    InvalidAmount,
    InvalidDate,
    InvalidInput,
    InvalidTerms,
    LedgerError,
    LineNotUsable,
    NotFound,
    OverdueError,
    PurchaseInstallmentsRefused,
    Refused,
    ReliefRefused,
    RepaymentTooLarge,
    StaleQuote,
)

__all__ = [
    "AccountSold",
    "Conflict",
    "CreditLimitExceeded",
    "IdempotencyConflict",
    "InstallmentsRefused",
    "InvalidAmount",
    "InvalidDate",
    "InvalidInput",
    "InvalidTerms",
    "LedgerError",
    "LineNotUsable",
    "NotFound",
    "OverdueError",
    "PurchaseInstallmentsRefused",
    "Refused",
    "ReliefRefused",
    "RepaymentTooLarge",
    "StaleQuote",
]
