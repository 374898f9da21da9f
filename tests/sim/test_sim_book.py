"""The array book (overdue.sim.book) against the domain's rules: one random stream of purchases, repayments,
limit reviews and end-of-days applied to domain states, account by account, and to a Book, batch by batch;
every field of every account and every transaction compared, day after day."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from overdue.domain import account as rules
from overdue.domain.allocation import repayable
from overdue.domain.calendar import add_months
from overdue.domain.errors import OverdueError
from overdue.domain.money import round_half_up
from overdue.domain.state import AccountState, AccountStatus
from overdue.domain.terms import product_terms
from overdue.sim.book import ACTIVE, CLOSED, FROZEN, NOT_USABLE, OVER_LIMIT, Book, round_units
from overdue.sim.tallies import cure_amount, overdue_balance

START = date(2026, 1, 1)
TERMS = product_terms("huabei")


def _compare(book: Book, states: list[AccountState | None], ids: list[str], on: date) -> None:
    live = np.array([i for i, state in enumerate(states) if state is not None], dtype=np.int64)
    today = on.toordinal()
    views = (
        ("overdue_balance", book.overdue_balance(live, today), overdue_balance),
        ("cure_amount", book.cure_amount(live, today), cure_amount),
        ("repayable", book.repayable(live), lambda state, on: repayable(state)),
        ("available_credit", book.available_credit(live), lambda state, on: state.available_credit),
    )
    for name, values, domain_view in views:
        for i, value in zip(live.tolist(), values.tolist(), strict=True):
            state = states[i]
            assert state is not None
            assert value == domain_view(state, on), (ids[i], on, name)
    for i, slot in zip(live.tolist(), book.latest(live).tolist(), strict=True):
        latest = states[i].latest_statement()  # type: ignore[union-attr]
        expected = (
            -1
            if latest is None
            else int(np.searchsorted(book.statement_ord, latest.statement_date.toordinal()))
        )
        assert slot == expected, (ids[i], on, "latest")
    for i, state in enumerate(states):
        if state is None:
            assert not book.opened[i]
            continue
        mine = book.state_of(i, ids[i])
        for field in dataclasses.fields(AccountState):
            assert getattr(mine, field.name) == getattr(state, field.name), (
                f"{ids[i]} on {on}: {field.name}\nbook:   {getattr(mine, field.name)}\n"
                f"domain: {getattr(state, field.name)}"
            )


def _key(t: object) -> tuple[object, ...]:
    postings = sorted((str(p.ledger_account), p.amount) for p in t.postings)  # type: ignore[attr-defined]
    return (t.account_id, t.business_date, str(t.kind), t.statement_id, t.memo, tuple(postings))  # type: ignore[attr-defined]


def _run(seed: int, n: int, months: int) -> tuple[int, int, set[str]]:
    """Run both for ``months``; returns transactions compared, purchases refused and the statuses seen."""
    rng = np.random.default_rng(seed)
    ids = [f"B{seed}-{i:03d}" for i in range(n)]
    opened = np.array([(START + timedelta(days=int(d))).toordinal() for d in rng.integers(0, 28, n)])
    limits = rng.integers(500, 50_000, n).astype(np.int64) * 100
    payer = rng.random(n)  # 0: never pays … 1: pays everything
    book = Book(TERMS, START, months, limits, opened)
    states: list[AccountState | None] = [None] * n
    domain_txns: list[object] = []
    refused = 0
    seen: set[str] = set()
    end = add_months(START, months)
    on = START
    while on < end:
        today = on.toordinal()
        for i in book.open(today).tolist():
            states[i] = rules.open_account(ids[i], "huabei", TERMS, on, int(limits[i]))
        live = [i for i in range(n) if states[i] is not None]

        # Repayments, then purchases, then a second round of repayments: each account once per batch.
        for batch in ("repay", "buy", "repay"):
            idx, amounts = [], []
            for i in live:
                state = states[i]
                assert state is not None
                if batch == "buy":
                    if rng.random() < 0.25:
                        amount = int(rng.integers(1, 1 + max(1, int(state.credit_limit * 0.4))))
                        idx.append(i)
                        amounts.append(amount)
                    continue
                most = repayable(state)
                if most <= 0 or rng.random() > 0.08 + 0.2 * payer[i] * (state.days_past_due > 0):
                    continue
                if rng.random() > payer[i]:
                    continue
                draw, cure = rng.random(), cure_amount(state, on)
                if draw < 0.25:
                    amount = most
                elif draw < 0.6 and cure:
                    amount = cure  # what the simulator's borrowers often pay: nothing overdue is left
                elif draw < 0.9:
                    amount = max(1, int(most * rng.random()))
                else:
                    amount = 1
                idx.append(i)
                amounts.append(amount)
            if not idx:
                continue
            rows, fen = np.array(idx, dtype=np.int64), np.array(amounts, dtype=np.int64)
            if batch == "buy":
                codes = book.purchase(today, rows, fen)
                for i, amount, code in zip(idx, amounts, codes.tolist(), strict=True):
                    state = states[i]
                    assert state is not None
                    try:
                        outcome = rules.purchase(state, on, amount)
                    except OverdueError as error:
                        assert code == (
                            OVER_LIMIT if error.code == "credit-limit-exceeded" else NOT_USABLE
                        ), (
                            error.code,
                            code,
                        )
                        refused += 1
                        continue
                    assert code == 0, (ids[i], on, code)
                    states[i] = outcome.state
                    domain_txns.extend(outcome.transactions)
            else:
                book.repay(today, rows, fen)
                for i, amount in zip(idx, amounts, strict=True):
                    state = states[i]
                    assert state is not None
                    outcome = rules.repay(state, on, amount)
                    states[i] = outcome.state
                    domain_txns.extend(outcome.transactions)

        for i in live:
            state = states[i]
            assert state is not None
            outcome = rules.end_of_day(state, on)
            states[i] = outcome.state
            domain_txns.extend(outcome.transactions)
        book.end_of_day(today)

        if on.day == 2:  # a limit review: new limits, a few lines frozen or closed
            chosen = [i for i in live if rng.random() < 0.2]
            new_limits, codes = [], []
            for i in chosen:
                state = states[i]
                assert state is not None
                limit = int(rng.integers(500, 50_000)) * 100
                status = state.status
                action = rng.random()
                if action < 0.1 and status is AccountStatus.ACTIVE:
                    status = AccountStatus.FROZEN
                elif action < 0.15 and status in (AccountStatus.ACTIVE, AccountStatus.FROZEN):
                    status = AccountStatus.CLOSED
                states[i] = dataclasses.replace(state, credit_limit=limit, status=status)
                new_limits.append(limit)
                codes.append({AccountStatus.ACTIVE: ACTIVE, AccountStatus.FROZEN: FROZEN}.get(status, CLOSED))
            if chosen:
                statuses = np.array(
                    [
                        c if states[i].status is not AccountStatus.WRITTEN_OFF else 3  # type: ignore[union-attr]
                        for i, c in zip(chosen, codes, strict=True)
                    ],
                    dtype=np.int8,
                )
                book.set_limit(
                    np.array(chosen, dtype=np.int64), np.array(new_limits, dtype=np.int64), statuses
                )

        _compare(book, states, ids, on)
        seen.update(str(s.status) for s in states if s is not None)
        on += timedelta(days=1)

    assert sorted(map(_key, book.transactions(ids))) == sorted(map(_key, domain_txns))
    return len(domain_txns), refused, seen


@pytest.mark.parametrize("seed", [1, 2])
def test_book_matches_the_domain_every_day(seed: int) -> None:
    compared, refused, seen = _run(seed, n=40, months=10)
    # The stream reaches every status and every refusal, so the comparison covers their rules.
    assert {"active", "frozen", "closed", "written_off"} <= seen
    assert refused > 0
    assert compared > 1000


def test_book_refuses_what_it_does_not_model() -> None:
    terms = dataclasses.replace(TERMS, statement_day=5)
    with pytest.raises(ValueError, match="statements on the 1st"):
        Book(terms, START, 2, np.array([100_000]), np.array([START.toordinal()]))
    book = Book(TERMS, START, 2, np.array([100_000]), np.array([START.toordinal()]))
    book.open(START.toordinal())
    with pytest.raises(ValueError, match="at most what can be repaid"):
        book.repay(START.toordinal(), np.array([0]), np.array([1]))


@given(st.lists(st.integers(min_value=-(10**15), max_value=10**15), min_size=1, max_size=20))
def test_carry_rounds_as_the_domain_rounds(units: list[int]) -> None:
    """Half away from zero, negative carries included (several statements' carries carried over into one
    can sum below -0.5 fen)."""
    unit = 10**8
    edges = [unit // 2, -unit // 2, unit // 2 - 1, -unit // 2 + 1, 3 * unit // 2, -3 * unit // 2]
    values = np.array(units + edges, dtype=np.int64)
    expected = [round_half_up(Decimal(v).scaleb(-8)) for v in values.tolist()]
    assert round_units(values, unit).tolist() == expected


def test_a_carry_below_minus_half_a_fen_is_kept_as_the_domain_keeps_it() -> None:
    """1.00 owed past its due date (0.05 fen of overdue interest a day) on a statement carrying -0.6 fen —
    the sum of earlier statements' carries can be that low: nothing is posted until the carry reaches half
    a fen, and no fen is made up; the book and the domain agree field by field and posting by posting."""
    ids = ["C1"]
    book = Book(TERMS, START, 3, np.array([500_000]), np.array([date(2026, 1, 5).toordinal()]))
    states: list[AccountState | None] = [None]
    domain_txns: list[object] = []
    on = START
    while on <= date(2026, 3, 10):
        today = on.toordinal()
        for i in book.open(today).tolist():
            states[i] = rules.open_account(ids[i], "huabei", TERMS, on, 500_000)
        state = states[0]
        if state is not None and on == date(2026, 1, 10):
            assert book.purchase(today, np.array([0]), np.array([100])).tolist() == [0]
            bought = rules.purchase(state, on, 100)
            domain_txns.extend(bought.transactions)
            state = bought.state
        if state is not None:
            ran = rules.end_of_day(state, on)
            domain_txns.extend(ran.transactions)
            state = states[0] = ran.state
        book.end_of_day(today)
        if on == date(2026, 2, 9):  # the statement of 1 February, due today and unpaid
            assert state is not None
            (statement,) = state.statements
            states[0] = dataclasses.replace(
                state, statements=(dataclasses.replace(statement, interest_carry=Decimal("-0.6")),)
            )
            (slot,) = np.flatnonzero(book.exists[0]).tolist()
            book.carry[0, slot] = -6 * book.unit // 10
        _compare(book, states, ids, on)
        on += timedelta(days=1)
    assert sorted(map(_key, book.transactions(ids))) == sorted(map(_key, domain_txns))
    final = states[0]
    assert final is not None
    assert final.statements[0].interest_carry == Decimal("-0.6") + Decimal("0.05") * 29 - 1
