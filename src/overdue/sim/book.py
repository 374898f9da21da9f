"""The accounts of a simulated portfolio as arrays: the domain's daily rules over every account at once.

The reference simulator (:mod:`overdue.sim.shard`) keeps one :class:`~overdue.domain.state.AccountState`
per account and applies :func:`overdue.domain.account.purchase`, :func:`~overdue.domain.account.repay` and
:func:`~overdue.domain.account.end_of_day` to it, one account at a time. :class:`Book` holds the same
accounts as NumPy arrays and applies the same rules to a batch of accounts with a few array operations, so
that a day of the whole portfolio costs a fixed number of array operations instead of Python per account —
the first part of an array-based simulator (DESIGN §7: 100,000 accounts × 365 days in 60 s).

What it holds, for ``n`` accounts of one product, opened in a simulation that starts on ``start`` (the 1st
of a month) and runs ``months`` months:

- per account (arrays of length ``n``): limit, status, DPD, bucket and when it was entered, the unbilled
  purchases (:attr:`Book.unbilled`: the cycle the next statement bills; :attr:`Book.unbilled_next`: a
  statement day's own purchases, billed a month later), the dates of write-off and first negative notice,
  the last end-of-day, the bureau status of every month end;
- per statement (arrays of ``n`` × ``months + 1``): slot ``k`` is the statement of the ``k``-th 1st from
  ``start`` (every account's statements share their dates, the product's statement day): what was billed,
  the minimum, what is unpaid of each component, what was paid, the late charges, the interest carry as
  an integer of carry units (10⁻⁸ fen, as in :mod:`overdue.setbased.params`), the date it closed.

Money is ``int64`` fen throughout; nothing is a float. What the simulator never does is not covered and is
refused: installment purchases and bill installments, relief arrangements (a product whose statement day is
not the 1st, or with a fee-bearing rule, is refused by :class:`Book` itself). The rules covered are the
domain's own, and a differential test (``tests/sim/test_book.py``) applies one random stream of purchases,
repayments, limit changes and end-of-days to domain states and to a :class:`Book` and compares every field
of every account (:meth:`Book.state_of`) and every ledger transaction (:meth:`Book.transactions`) each day.

Order within a batch: every operation takes accounts once each (``idx`` without repeats); the simulator
applies a day's events in batches in a fixed order (promised repayments, other repayments, purchases), and
within one account the order of its events is the order of the batches, as in the reference simulator.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import overload

import numpy as np
import numpy.typing as npt

from overdue.domain.billing import statement_id
from overdue.domain.calendar import add_months, due_date_for, is_month_end, month_key, next_statement_date
from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount, Posting, Transaction, TransactionKind
from overdue.domain.state import (
    AccountState,
    AccountStatus,
    BucketSpell,
    BureauMonth,
    Statement,
    UnbilledCycle,
)
from overdue.domain.terms import ProductTerms
from overdue.setbased.params import day_terms

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

ACTIVE, FROZEN, CLOSED, WRITTEN = 0, 1, 2, 3
"""Status codes of :attr:`Book.status`."""
STATUS_OF = (AccountStatus.ACTIVE, AccountStatus.FROZEN, AccountStatus.CLOSED, AccountStatus.WRITTEN_OFF)
CODE_OF = {status: code for code, status in enumerate(STATUS_OF)}

NOT_USABLE, OVER_LIMIT = 1, 2
"""Why :meth:`Book.purchase` refused a purchase (0: accepted): the line is not active (frozen since
midnight, closed, written off), or the amount is over the available credit."""

BUREAU_NONE = 0
"""A month end with no end-of-day run (the account was not open yet) in :attr:`Book.bureau`."""

FEES, OVERDUE_INTEREST, INTEREST, CARRIED, NEW = range(5)
"""The components of a statement a repayment pays, in :mod:`overdue.domain.allocation`'s names."""
FEES_FIRST = (FEES, OVERDUE_INTEREST, INTEREST, CARRIED, NEW)
PRINCIPAL_FIRST = (CARRIED, NEW, OVERDUE_INTEREST, INTEREST, FEES)


@dataclass(frozen=True)
class Posted:
    """Transactions of one kind posted on one day, one per row: account, statement slot (-1: none) and the
    amounts moved by receivable (principal, interest, fees; a purchase or an interest posting moves one)."""

    kind: TransactionKind
    day: int
    """The business date's ordinal."""
    account: Ints
    slot: Ints
    principal: Ints
    interest: Ints
    fees: Ints
    days_past_due: Ints | None = None
    """DPD at a write-off (its memo)."""


class Book:
    """``n`` accounts of one product as arrays (see the module's docstring).

    terms: the product (its statement day must be the 1st). start: the simulation's first day (a 1st).
    months: how many months it runs. limits: each account's opening credit limit (fen). opened: each
    account's opening date (ordinal), within the simulation.
    """

    def __init__(self, terms: ProductTerms, start: date, months: int, limits: Ints, opened: Ints) -> None:
        if terms.statement_day != 1 or start.day != 1:
            raise ValueError("the array book needs statements on the 1st and a start on a 1st")
        self.terms = terms
        day = day_terms(terms)
        self.unit = day.carry_unit
        self.overdue_rate = day.overdue_rate_units
        self.revolving_rate = day.revolving_rate_units
        share = Fraction(terms.minimum_principal_share)
        self.minimum_share = (share.numerator, share.denominator)
        self.start = start
        self.months = months
        n = self.n = len(limits)
        slots = months + 1
        self.statement_ord = np.array(
            [add_months(start, k).toordinal() for k in range(slots)], dtype=np.int64
        )
        self.due_ord = np.array(
            [due_date_for(add_months(start, k), terms.due_day).toordinal() for k in range(slots)],
            dtype=np.int64,
        )
        self.month_end_ord = np.array(
            [(add_months(start, k + 1).toordinal() - 1) for k in range(months)], dtype=np.int64
        )

        def zeros() -> Ints:
            return np.zeros(n, dtype=np.int64)

        def grid() -> Ints:
            return np.zeros((n, slots), dtype=np.int64)

        self.open_ord = np.asarray(opened, dtype=np.int64)
        self.opened = np.zeros(n, dtype=bool)
        self.limit = np.asarray(limits, dtype=np.int64).copy()
        self.status = np.zeros(n, dtype=np.int8)
        self.last_eod = zeros()
        self.dpd = zeros()
        self.bucket = zeros()
        """Bucket number: 0 for M0 … ``terms.last_bucket`` for the last (open-ended) one."""
        self.bucket_entered = zeros()
        self.written_off_on = zeros()
        self.notice_on = zeros()
        self.unbilled = zeros()
        self.unbilled_cycle = zeros()
        """The statement date (ordinal) that bills :attr:`unbilled`."""
        self.unbilled_next = zeros()
        self.next_cycle = zeros()
        self.bureau = np.zeros((n, months), dtype=np.int8)
        """The bureau status character's code (``ord``) of each month end, :data:`BUREAU_NONE` before."""
        self.spells: list[list[BucketSpell]] = [[] for _ in range(n)]
        """Each account's closed bucket spells, in order (the open one is :attr:`bucket` since
        :attr:`bucket_entered`)."""

        self.exists = np.zeros((n, slots), dtype=bool)
        self.amount, self.minimum, self.paid, self.late = grid(), grid(), grid(), grid()
        self.new, self.carried, self.interest, self.overdue_interest, self.fees = (
            grid(),
            grid(),
            grid(),
            grid(),
            grid(),
        )
        self.carry = grid()
        """Interest accrued but not posted, in carry units (``10 ** -carry_scale`` fen)."""
        self.owed = grid()
        """What is unpaid of each statement (its ``outstanding``), kept as the components change."""
        self.remaining = grid()
        """``minimum + late_charges - paid`` of each statement (its ``minimum_remaining`` where positive)."""
        self.statement_owed = zeros()
        """What is unpaid of all the account's statements (the row sums of :attr:`owed`)."""
        self.closed_on = grid()
        self.on_time = np.zeros((n, slots), dtype=bool)
        """Whether the account was current (M0) at the end of the day after each statement's due date and
        grace (:func:`overdue.risk.review.bucket_on` of that day): the cycle was paid on time."""
        self.posted: list[Posted] = []
        self._dates: list[date] | None = None
        self._dues: list[date] = []
        self._months: list[str] = []
        self._scale = 0
        """Every transaction so far (:meth:`transactions` turns them into the domain's)."""

    # --- what the rules read ------------------------------------------------------------------------------

    def slots(self, today: int) -> int:
        """How many statement slots can hold a statement on ``today`` (the later ones are empty)."""
        return int(np.searchsorted(self.statement_ord, today, side="right"))

    def _delinquent(self, rows: Ints | slice, upto: int, today: int) -> Mask:
        """Each statement's :meth:`~overdue.domain.state.Statement.is_delinquent` on ``today``."""
        s = (rows, slice(0, upto))
        past = today - self.due_ord[:upto] > self.terms.grace_days
        delinquent: Mask = past & (self.remaining[s] > 0) & (self.owed[s] > 0)
        return delinquent

    def _overdue(self, rows: Ints | slice, upto: int, today: int) -> Mask:
        """The statements overdue on ``today`` (``AccountState.delinquent_statements``): after a write-off,
        every statement past its due date with something unpaid."""
        s = (rows, slice(0, upto))
        written = (self.status[rows] == WRITTEN)[:, None]
        past = today - self.due_ord[:upto] > self.terms.grace_days
        after = past & (self.owed[s] > 0)
        overdue: Mask = np.where(written, after, self._delinquent(rows, upto, today))
        return overdue

    def days_past_due(self, rows: Ints | slice, today: int) -> Ints:
        """DPD on ``today`` (:func:`overdue.domain.delinquency.days_past_due`)."""
        upto = self.slots(today)
        late = np.where(self._overdue(rows, upto, today), today - self.due_ord[:upto], 0)
        dpd: Ints = late.max(axis=1, initial=0)
        return dpd

    def statement_principal(self, rows: Ints | slice) -> Ints:
        total: Ints = (self.new[rows] + self.carried[rows]).sum(axis=1)
        return total

    def principal(self, rows: Ints | slice) -> Ints:
        """All principal owed: billed and unbilled."""
        total: Ints = self.unbilled[rows] + self.unbilled_next[rows] + self.statement_principal(rows)
        return total

    def repayable(self, rows: Ints | slice) -> Ints:
        """The most a repayment can be (:func:`overdue.domain.allocation.repayable`)."""
        total: Ints = self.unbilled[rows] + self.unbilled_next[rows] + self.statement_owed[rows]
        return total

    def nothing_owed_and_closed(self, rows: Ints | slice) -> Mask:
        closed: Mask = (self.status[rows] == CLOSED) & (self.repayable(rows) == 0)
        return closed

    def available_credit(self, rows: Ints | slice) -> Ints:
        available: Ints = np.maximum(0, self.limit[rows] - self.principal(rows))
        return available

    def overdue_balance(self, rows: Ints, today: int) -> Ints:
        """What is overdue (fen), as :func:`overdue.sim.tallies.overdue_balance` reads it."""
        upto = self.slots(today)
        owed = np.where(self._overdue(rows, upto, today), self.owed[rows, :upto], 0).sum(axis=1)
        balance: Ints = np.where(self.dpd[rows] == 0, 0, owed)
        return balance

    def cure_amount(self, rows: Ints, today: int) -> Ints:
        """The past-due amount (fen), as :func:`overdue.sim.tallies.cure_amount` reads it: every delinquent
        statement but the newest in full, the newest to its minimum; after write-off, everything."""
        upto = self.slots(today)
        delinquent = self._delinquent(rows, upto, today)
        owed = self.owed[rows, :upto]
        newest = upto - 1 - np.argmax(delinquent[:, ::-1], axis=1) if upto else np.zeros(len(rows), np.int64)
        any_delinquent = delinquent.any(axis=1)
        older = delinquent & (np.arange(upto)[None, :] < newest[:, None])
        last = self.remaining[rows, newest] if upto else np.zeros(len(rows), np.int64)
        cure = np.where(any_delinquent, np.where(older, owed, 0).sum(axis=1) + last, 0)
        amount: Ints = np.where(self.status[rows] == WRITTEN, self.repayable(rows), cure)
        return amount

    def latest(self, rows: Ints | slice) -> Ints:
        """Each account's latest statement slot (-1: none yet)."""
        exists = self.exists[rows]
        slots = exists.shape[1]
        latest: Ints = np.where(exists.any(axis=1), slots - 1 - np.argmax(exists[:, ::-1], axis=1), -1)
        return latest

    # --- the day's events ---------------------------------------------------------------------------------

    def open(self, today: int) -> Ints:
        """Open the accounts whose opening date is ``today``; returns them."""
        new = np.flatnonzero((self.open_ord == today) & ~self.opened)
        self.opened[new] = True
        self.bucket_entered[new] = today
        return new

    def purchase(self, today: int, idx: Ints, amounts: Ints) -> npt.NDArray[np.int8]:
        """Plain purchases of ``amounts`` fen (positive) by accounts ``idx``; returns 0 for each accepted,
        :data:`NOT_USABLE` or :data:`OVER_LIMIT` for each refused
        (:func:`overdue.domain.account.purchase`)."""
        refused = np.zeros(len(idx), dtype=np.int8)
        if not len(idx):
            return refused
        usable = (self.status[idx] == ACTIVE) & (self.days_past_due(idx, today) < self.terms.freeze_at_dpd)
        refused[~usable] = NOT_USABLE
        refused[usable & (amounts > self.available_credit(idx))] = OVER_LIMIT
        ok = refused == 0
        rows, paid = idx[ok], amounts[ok]
        cycle = next_statement_date(date.fromordinal(today), self.terms.statement_day).toordinal()
        if date.fromordinal(today).day == self.terms.statement_day:
            self.unbilled_next[rows] += paid  # billed by next month's statement, not tonight's
            self.next_cycle[rows] = cycle
        else:
            self.unbilled[rows] += paid
            self.unbilled_cycle[rows] = cycle
        none = np.zeros(len(rows), dtype=np.int64)
        self._post(TransactionKind.PURCHASE, today, rows, none - 1, paid, none, none)
        return refused

    def repay(self, today: int, idx: Ints, amounts: Ints) -> None:
        """Repayments of ``amounts`` fen (each positive and at most :meth:`repayable`) by accounts ``idx``,
        allocated as :mod:`overdue.domain.allocation` does, then aged for the time of day."""
        if not len(idx):
            return
        if np.any(amounts <= 0) or np.any(amounts > self.repayable(idx)):
            raise ValueError("a repayment must be positive and at most what can be repaid")
        left = amounts.copy()
        principal = np.zeros(len(idx), dtype=np.int64)
        interest, fees = principal.copy(), principal.copy()
        upto = self.slots(today)
        delinquent = self._delinquent(idx, upto, today)
        late = today - self.due_ord[:upto] > self.terms.principal_first_after_dpd
        owed_now = self.owed[idx, :upto]
        by_component = (principal, interest, interest, principal, principal)  # fees handled apart
        for k in range(upto):
            r = np.flatnonzero((owed_now[:, k] > 0) & (left > 0))  # oldest statement first
            if not len(r):
                continue
            rows = idx[r]
            components = [
                self.fees[rows, k],
                self.overdue_interest[rows, k],
                self.interest[rows, k],
                self.carried[rows, k],
                self.new[rows, k],
            ]
            first = delinquent[r, k] & late[k]
            still = left[r]
            paid_here = np.zeros(len(r), dtype=np.int64)
            for order, group in (
                (FEES_FIRST, np.flatnonzero(~first)),
                (PRINCIPAL_FIRST, np.flatnonzero(first)),
            ):
                if not len(group):
                    continue
                for c in order:
                    take = np.minimum(components[c][group], still[group])
                    components[c][group] -= take
                    still[group] -= take
                    paid_here[group] += take
                    target = fees if c == FEES else by_component[c]
                    target[r[group]] += take
            left[r] = still
            self.fees[rows, k], self.overdue_interest[rows, k], self.interest[rows, k] = components[:3]
            self.carried[rows, k], self.new[rows, k] = components[3], components[4]
            self.paid[rows, k] += paid_here
            self.remaining[rows, k] -= paid_here
            self.owed[rows, k] -= paid_here
            self.statement_owed[rows] -= paid_here
            cleared = (paid_here > 0) & (self.owed[rows, k] == 0)
            self.closed_on[rows[cleared], k] = today
        for unbilled in (self.unbilled, self.unbilled_next):
            take = np.minimum(unbilled[idx], left)
            unbilled[idx] -= take
            left -= take
            principal += take
        assert not left.any(), "repayable() and the allocation disagree"
        written = self.status[idx] == WRITTEN
        for kind, rows in ((TransactionKind.REPAYMENT, ~written), (TransactionKind.RECOVERY, written)):
            if rows.any():
                slot = np.full(int(rows.sum()), -1, dtype=np.int64)
                self._post(kind, today, idx[rows], slot, principal[rows], interest[rows], fees[rows])
        self._age(today, idx, end_of_day=False)

    def set_limit(self, idx: Ints, limits: Ints, statuses: npt.NDArray[np.int8] | None = None) -> None:
        """A limit review's outcome (:func:`overdue.risk.changes.apply_change`): new limits, and statuses."""
        self.limit[idx] = limits
        if statuses is not None:
            self.status[idx] = statuses

    # --- the end-of-day -----------------------------------------------------------------------------------

    def end_of_day(self, today: int) -> None:
        """accrue → age → bill → bureau on every open account (:func:`overdue.domain.account.end_of_day`)."""
        rows = np.flatnonzero(self.opened)
        if not len(rows):
            return
        if np.any(self.last_eod[rows] >= today):
            raise ValueError("an end-of-day runs once per date, in date order")
        self._accrue(today, rows)
        self._age(today, rows[self._may_age(today, rows)], end_of_day=True)
        for k in np.flatnonzero(today - self.due_ord == self.terms.grace_days + 1).tolist():
            self.on_time[rows, k] = self.bucket[rows] == 0
        on = date.fromordinal(today)
        if on.day == self.terms.statement_day:
            self._bill(today, rows)
        if is_month_end(on):
            self._report_month(today, rows)
        self.last_eod[rows] = today

    def _may_age(self, today: int, rows: Ints) -> Mask:
        """The accounts whose ageing may change something tonight; for the others it provably changes
        nothing. DPD is positive only while some statement is overdue, and a statement becomes overdue only
        on the day after its due date and grace (what is unpaid or short of the minimum only grows by the
        overdue interest of a statement that is overdue already; a repayment ages the account itself). So an
        account at DPD 0 needs ageing only on such a day, with something unpaid, or while frozen (it may
        unfreeze)."""
        first_day = np.any(today - self.due_ord == self.terms.grace_days + 1)
        may: Mask = (self.dpd[rows] > 0) | (self.status[rows] == FROZEN)
        if first_day:
            may |= self.statement_owed[rows] > 0
        return may

    def _accrue(self, today: int, rows: Ints) -> None:
        # Interest needs unpaid principal on a statement: a written-off line (or a closed one with nothing
        # owed) accrues nothing.
        rows = rows[(self.status[rows] != WRITTEN) & (self.statement_owed[rows] > 0)]
        upto = self.slots(today)
        if not len(rows) or not upto:
            return
        carried = self.carried[rows, :upto]
        past = today - self.due_ord[:upto] > self.terms.grace_days
        base = np.where(past, self.new[rows, :upto] + carried, carried)
        r, k = np.nonzero(base)  # the statements bearing interest tonight
        if not len(r):
            return
        i, base = rows[r], base[r, k]
        delinquent = (today - self.due_ord[k] > self.terms.grace_days) & (self.remaining[i, k] > 0)
        carry = self.carry[i, k] + base * np.where(delinquent, self.overdue_rate, self.revolving_rate)
        # Only a positive amount is posted; a carry below minus half a fen (the carries of statements
        # carried over) is kept as it is (overdue.domain.interest).
        posted = np.maximum(round_units(carry, self.unit), 0)
        self.carry[i, k] = carry - posted * self.unit
        overdue = posted * delinquent
        revolving = posted - overdue
        self.overdue_interest[i, k] += overdue
        self.late[i, k] += overdue
        self.remaining[i, k] += overdue
        self.interest[i, k] += revolving
        self.owed[i, k] += posted
        np.add.at(self.statement_owed, i, posted)
        for kind, amounts in (
            (TransactionKind.OVERDUE_INTEREST, overdue),
            (TransactionKind.REVOLVING_INTEREST, revolving),
        ):
            some = amounts > 0
            if some.any():
                none = np.zeros(int(some.sum()), dtype=np.int64)
                self._post(kind, today, i[some], k[some].astype(np.int64), none, amounts[some], none)

    def _age(self, today: int, rows: Ints, *, end_of_day: bool) -> None:
        """:func:`overdue.domain.delinquency.age` for ``rows`` on ``today``."""
        terms = self.terms
        dpd = self.days_past_due(rows, today)
        bucket = np.where(dpd <= 0, 0, np.minimum(terms.last_bucket, (dpd - 1) // terms.bucket_days + 1))
        moved = bucket != self.bucket[rows]
        if moved.any():
            changed = rows[moved]
            left = date.fromordinal(today)
            for i, number, entered in zip(
                changed.tolist(),
                self.bucket[changed].tolist(),
                self.bucket_entered[changed].tolist(),
                strict=True,
            ):
                self.spells[i].append(BucketSpell(self.bucket_name(number), date.fromordinal(entered), left))
            self.bucket[changed] = bucket[moved]
            self.bucket_entered[changed] = today
        self.dpd[rows] = dpd
        told = rows[(dpd > 0) & (self.notice_on[rows] == 0)]
        self.notice_on[told] = today

        status = self.status[rows]
        settled = (status == WRITTEN) | self.nothing_owed_and_closed(rows)
        off = ~settled & (dpd >= terms.write_off_at_dpd) & end_of_day
        if off.any():
            self._write_off(today, rows[off], dpd[off])
        rest = ~settled & ~off
        freeze = rest & (status == ACTIVE) & (dpd >= terms.freeze_at_dpd)
        self.status[rows[freeze]] = FROZEN
        frozen = rest & (status == FROZEN) & (dpd == 0)
        if frozen.any():
            candidates = rows[frozen]
            cured = self.overdue_interest[candidates].sum(axis=1) == 0
            self.status[candidates[cured]] = ACTIVE

    def _write_off(self, today: int, rows: Ints, dpd: Ints) -> None:
        self.status[rows] = WRITTEN
        self.written_off_on[rows] = today
        principal = self.principal(rows)
        interest = (self.interest[rows] + self.overdue_interest[rows]).sum(axis=1)
        fees = self.fees[rows].sum(axis=1)
        owed = (principal + interest + fees) > 0
        if owed.any():
            slot = np.full(int(owed.sum()), -1, dtype=np.int64)
            self.posted.append(
                Posted(
                    TransactionKind.WRITE_OFF,
                    today,
                    rows[owed],
                    slot,
                    principal[owed],
                    interest[owed],
                    fees[owed],
                    dpd[owed],
                )
            )

    def _bill(self, today: int, rows: Ints) -> None:
        """:func:`overdue.domain.billing.bill` on a statement day (no installments here)."""
        rows = rows[(self.status[rows] != WRITTEN) & ~self.nothing_owed_and_closed(rows)]
        # The others bill nothing and have no statement day's purchases to move on.
        rows = rows[
            (self.statement_owed[rows] > 0) | (self.unbilled[rows] > 0) | (self.unbilled_next[rows] > 0)
        ]
        k = self.slots(today) - 1
        if not len(rows) or k < 0:
            return
        s = (rows[:, None], np.arange(k)[None, :])
        due_before = self.due_ord[:k] < today
        carry_over = (self.owed[s] > 0) & due_before & ~self._delinquent(rows, k, today)
        carried = np.where(carry_over, self.new[s] + self.carried[s], 0).sum(axis=1)
        interest = np.where(carry_over, self.interest[s], 0).sum(axis=1)
        overdue_interest = np.where(carry_over, self.overdue_interest[s], 0).sum(axis=1)
        fees = np.where(carry_over, self.fees[s], 0).sum(axis=1)
        carry = np.where(carry_over, self.carry[s], 0).sum(axis=1)
        for column in (
            self.new,
            self.carried,
            self.interest,
            self.overdue_interest,
            self.fees,
            self.carry,
            self.owed,
        ):
            column[s] = np.where(carry_over, 0, column[s])
        self.closed_on[s] = np.where(carry_over, today, self.closed_on[s])

        new = self.unbilled[rows]
        self.unbilled[rows] = self.unbilled_next[rows]
        self.unbilled_cycle[rows] = self.next_cycle[rows]
        self.unbilled_next[rows] = 0
        amount = new + carried + interest + overdue_interest + fees
        billed = amount > 0
        r = rows[billed]
        numerator, denominator = self.minimum_share
        share = ((new + carried) * numerator * 2 + denominator) // (2 * denominator)
        self.exists[r, k] = True
        self.amount[r, k] = amount[billed]
        self.minimum[r, k] = (share + interest + overdue_interest + fees)[billed]
        self.new[r, k] = new[billed]
        self.carried[r, k] = carried[billed]
        self.interest[r, k] = interest[billed]
        self.overdue_interest[r, k] = overdue_interest[billed]
        self.fees[r, k] = fees[billed]
        self.carry[r, k] = carry[billed]
        self.owed[r, k] = amount[billed]
        self.remaining[r, k] = self.minimum[r, k]
        self.statement_owed[rows] += new  # what was carried over stays on the statements

    def _report_month(self, today: int, rows: Ints) -> None:
        """The bureau status of the month (:func:`overdue.domain.delinquency.bureau_status`)."""
        month = int(np.searchsorted(self.month_end_ord, today))
        code = np.where(self.bucket[rows] == 0, ord("N"), ord("0") + np.minimum(self.bucket[rows], 9)).astype(
            np.int8
        )
        code[self.nothing_owed_and_closed(rows)] = ord("C")
        code[self.status[rows] == WRITTEN] = ord("B")
        self.bureau[rows, month] = code

    def _post(
        self,
        kind: TransactionKind,
        today: int,
        rows: Ints,
        slot: Ints,
        principal: Ints,
        interest: Ints,
        fees: Ints,
    ) -> None:
        if len(rows):
            self.posted.append(Posted(kind, today, rows, slot, principal, interest, fees))

    # --- the domain's view ----------------------------------------------------------------------------------

    STATEMENT_COLUMNS = (
        "amount",
        "minimum",
        "new",
        "carried",
        "interest",
        "overdue_interest",
        "fees",
        "paid",
        "late",
        "carry",
        "closed_on",
    )

    def state_of(
        self, i: int, account_id: str, timezone: str = "Asia/Shanghai", language: str = "zh-CN"
    ) -> AccountState:
        """Account ``i`` as the domain holds it: every statement it has had, its full bucket history."""
        slots = np.flatnonzero(self.exists[i]).tolist()
        values = [getattr(self, name)[i, slots].tolist() for name in self.STATEMENT_COLUMNS]
        return self._state(i, account_id, timezone, language, slots, list(zip(*values, strict=True)))

    def states(
        self, account_ids: list[str], timezones: list[str], languages: list[str]
    ) -> list[AccountState]:
        """Every account as the domain holds it (:meth:`state_of` of each, the columns read once)."""
        columns = [getattr(self, name).tolist() for name in self.STATEMENT_COLUMNS]
        exists = self.exists.tolist()
        out = []
        for i in range(self.n):
            slots = [k for k, there in enumerate(exists[i]) if there]
            rows = [tuple(column[i][k] for column in columns) for k in slots]
            out.append(self._state(i, account_ids[i], timezones[i], languages[i], slots, rows))
        return out

    def final_states(self, account_ids: list[str], timezones: list[str], languages: list[str]) -> BookStates:
        """Every account's state, built as it is read (:class:`BookStates`); the book is not used after."""
        self.posted = []  # the ledger's batches are not part of the states
        return BookStates(self, account_ids, timezones, languages)

    def _state(
        self,
        i: int,
        account_id: str,
        timezone: str,
        language: str,
        slots: list[int],
        rows: list[tuple[int, ...]],
    ) -> AccountState:
        terms = self.terms
        if self._dates is None:
            self._dates = [date.fromordinal(int(d)) for d in self.statement_ord.tolist()]
            self._dues = [date.fromordinal(int(d)) for d in self.due_ord.tolist()]
            self._months = [month_key(date.fromordinal(int(d))) for d in self.month_end_ord.tolist()]
            self._scale = day_terms(terms).carry_scale
        statements = []
        for k, (amount, minimum, new, carried, interest, overdue, fees, paid, late, carry, closed) in zip(
            slots, rows, strict=True
        ):
            on = self._dates[k]
            statements.append(
                Statement(
                    id=f"{account_id}/{on.isoformat()}",
                    statement_date=on,
                    due_date=self._dues[k],
                    amount=amount,
                    minimum=minimum,
                    new_principal=new,
                    carried_principal=carried,
                    interest=interest,
                    overdue_interest=overdue,
                    fees=fees,
                    paid=paid,
                    late_charges=late,
                    interest_carry=Decimal(carry).scaleb(-self._scale),
                    closed_on=date.fromordinal(closed) if closed else None,
                )
            )
        last = int(self.last_eod[i])
        cycles = [
            UnbilledCycle(date.fromordinal(int(cycle[i])), int(principal[i]))
            for principal, cycle in (
                (self.unbilled, self.unbilled_cycle),
                (self.unbilled_next, self.next_cycle),
            )
            if principal[i]
        ]
        codes = self.bureau[i].tolist()
        months = [BureauMonth(self._months[m], chr(c)) for m, c in enumerate(codes) if c != BUREAU_NONE]
        written = int(self.written_off_on[i])
        notice = int(self.notice_on[i])
        return AccountState(
            id=account_id,
            product=terms.name,
            terms=terms,
            opened_on=date.fromordinal(int(self.open_ord[i])),
            timezone=timezone,
            language=language,
            credit_limit=int(self.limit[i]),
            status=STATUS_OF[int(self.status[i])],
            last_eod=date.fromordinal(last) if last else None,
            unbilled=tuple(cycles),
            statements=tuple(statements),
            days_past_due=int(self.dpd[i]),
            bucket=self.bucket_name(int(self.bucket[i])),
            bucket_history=self.bucket_history(i),
            bureau=tuple(months[-terms.bureau_grid_months :]),
            written_off_on=date.fromordinal(written) if written else None,
            negative_notice_on=date.fromordinal(notice) if notice else None,
        )

    def bucket_history(self, i: int) -> tuple[BucketSpell, ...]:
        """Account ``i``'s bucket spells, the open one last."""
        entered = date.fromordinal(int(self.bucket_entered[i]))
        return (*self.spells[i], BucketSpell(self.bucket_name(int(self.bucket[i])), entered))

    def bucket_name(self, number: int) -> str:
        if number == 0:
            return "M0"
        return f"M{number}+" if number == self.terms.last_bucket else f"M{number}"

    def transactions(self, account_ids: list[str]) -> list[Transaction]:
        """Every transaction posted so far as the domain writes it (credits of a repayment in the order
        principal, interest, fees; the domain orders them as its allocation met them)."""
        out: list[Transaction] = []
        for batch in self.posted:
            on = date.fromordinal(batch.day)
            for j, i in enumerate(batch.account.tolist()):
                slot = int(batch.slot[j])
                statement = (
                    statement_id(account_ids[i], date.fromordinal(int(self.statement_ord[slot])))
                    if slot >= 0
                    else None
                )
                amounts = {
                    LedgerAccount.PRINCIPAL: int(batch.principal[j]),
                    LedgerAccount.INTEREST: int(batch.interest[j]),
                    LedgerAccount.FEES: int(batch.fees[j]),
                }
                moved = [(account, amount) for account, amount in amounts.items() if amount]
                memo = None
                if batch.kind is TransactionKind.PURCHASE:
                    postings = [Posting(LedgerAccount.PRINCIPAL, moved[0][1])]
                    postings.append(Posting(LedgerAccount.MERCHANT_PAYABLE, -moved[0][1]))
                elif batch.kind in INCOME:
                    postings = [Posting(LedgerAccount.INTEREST, moved[0][1])]
                    postings.append(Posting(INCOME[batch.kind], -moved[0][1]))
                elif batch.kind is TransactionKind.WRITE_OFF:
                    assert batch.days_past_due is not None
                    postings = [p for a, v in moved for p in (Posting(WRITTEN_OFF[a], v), Posting(a, -v))]
                    memo = f"written off at {int(batch.days_past_due[j])} days past due"
                else:
                    written = batch.kind is TransactionKind.RECOVERY
                    postings = [Posting(LedgerAccount.REPAYMENT_CLEARING, sum(v for _, v in moved))]
                    postings += [Posting(WRITTEN_OFF[a] if written else a, -v) for a, v in moved]
                out.append(Transaction(account_ids[i], on, batch.kind, tuple(postings), statement, memo))
        return out


def round_units(units: Ints, unit: int) -> Ints:
    """``units`` (integers of ``1 / unit`` fen) rounded to whole fen half away from zero, as
    :func:`overdue.domain.money.round_half_up` rounds (``unit`` even)."""
    half = unit // 2
    rounded: Ints = np.where(units >= 0, (units + half) // unit, -((half - units) // unit))
    return rounded


INCOME = {
    TransactionKind.OVERDUE_INTEREST: LedgerAccount.OVERDUE_INTEREST_INCOME,
    TransactionKind.REVOLVING_INTEREST: LedgerAccount.REVOLVING_INTEREST_INCOME,
}
"""The income account of each interest posting."""


class StateSequence(Sequence[AccountState]):
    """Account states read through, built when read (:meth:`_at`); equal to any sequence of the same
    states."""

    @overload
    def __getitem__(self, index: int) -> AccountState: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[AccountState]: ...

    def __getitem__(self, index: int | slice) -> AccountState | Sequence[AccountState]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._at(index)

    def _at(self, index: int) -> AccountState:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class BookStates(StateSequence):
    """The accounts of a finished :class:`Book` as the domain holds them, each built when it is read
    (:meth:`Book.state_of`). It moves between processes as the book's arrays, not as objects."""

    def __init__(
        self, book: Book, account_ids: list[str], timezones: list[str], languages: list[str]
    ) -> None:
        self._book = book
        self._ids, self._zones, self._languages = account_ids, timezones, languages

    def __len__(self) -> int:
        return self._book.n

    def _at(self, index: int) -> AccountState:
        return self._book.state_of(index, self._ids[index], self._zones[index], self._languages[index])

    def __iter__(self) -> Iterator[AccountState]:
        yield from self._book.states(self._ids, self._zones, self._languages)

    def count_status(self, status: str) -> int:
        """How many accounts are in ``status`` (an :class:`AccountStatus` value), without building them."""
        return int(np.count_nonzero(self._book.status == CODE_OF[AccountStatus(status)]))
