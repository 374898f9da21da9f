"""``records.replace`` makes the copy ``dataclasses.replace`` makes, and leaves to it what it cannot copy."""

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from overdue.domain import account as rules
from overdue.domain.ledger import LedgerAccount, LedgerError, Transaction, TransactionKind, transfer
from overdue.domain.records import replace
from overdue.domain.state import AccountStatus, Statement
from overdue.domain.terms import product_terms

OPENED = date(2026, 1, 5)


def test_a_copy_equals_dataclasses_replace_field_by_field() -> None:
    state = rules.open_account("acc-1", "huabei", product_terms("huabei"), OPENED, 500_000)
    statement = Statement("acc-1/2026-02-01", date(2026, 2, 1), date(2026, 2, 9), 10_000, 1_000)
    for record, changes in (
        (state, {"last_eod": OPENED, "status": AccountStatus.FROZEN}),
        (state, {}),
        (statement, {"paid": 500, "interest_carry": Decimal("0.25")}),
    ):
        copy, expected = replace(record, **changes), dataclasses.replace(record, **changes)
        assert copy == expected and copy is not record and type(copy) is type(record)
        for field in dataclasses.fields(record):
            assert getattr(copy, field.name) is getattr(expected, field.name)
    assert state.last_eod is None  # the original is untouched
    with pytest.raises(TypeError):  # no such field
        replace(state, nope=1)


def test_what_it_cannot_copy_goes_through_dataclasses_replace() -> None:
    txn = transfer(
        "acc-1",
        OPENED,
        TransactionKind.PURCHASE,
        LedgerAccount.PRINCIPAL,
        LedgerAccount.MERCHANT_PAYABLE,
        100,
    )
    with pytest.raises(LedgerError):  # __post_init__ still checks the copy
        replace(txn, postings=())
    assert isinstance(replace(txn, memo="m"), Transaction)
    with pytest.raises(TypeError):  # no such field
        replace(txn, amount=5)

    @dataclass(frozen=True)
    class Derived:
        base: int
        double: int = dataclasses.field(init=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "double", 2 * self.base)

    assert replace(Derived(2), base=3).double == 6
