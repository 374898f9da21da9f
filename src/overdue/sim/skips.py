"""Provably quiet days: where a shard may skip the expensive steps without changing any result.

``plan_collection`` (decide → comply) and the domain's ``end_of_day`` are the expensive steps of a
simulated account-day. Each skip below is an argument that the skipped call could not have changed
anything; a test runs the same portfolio with and without the skips (``skip_quiet_days``) and checks that
actions, contacts, ledger, final states and every tally are identical.

1. **Quiet collection days** (:mod:`overdue.strategy.quiet`): an account at DPD 0, outside any episode,
   with no pending promise and no escalation, can only get treatments scheduled by ``on_days_to_due``; when
   every treatment that can fire at DPD 0 is so scheduled, such an account needs planning only on those days
   before a due date (the end-of-day does not decide for it on the other days either,
   :func:`overdue.engine.collect.needs_decision`). All the shard's accounts share one product, so every
   statement's due date is one of :func:`due_dates`; on a day no due date is that many days away, the shard
   does not even look at such accounts.
2. **Idle end-of-days** (:func:`idle_through`): on an ordinary day (not a statement day, not a month end)
   an active, current account whose unpaid statements carry no interest-bearing principal and are not yet
   past their due date (and grace) has nothing to accrue, age or bill: its end-of-day only closes the date.
   The shard closes such dates in bulk and writes ``last_eod`` into the state only when a domain operation
   (or the final result) needs it.

3. **Paid statements set aside** (:func:`paid_statements`): a statement with nothing unpaid, other than the
   latest, takes no part in any later rule — no interest accrues on it, it is never delinquent, billing
   carries nothing from it, a repayment allocates nothing to it and leaves it as it is, every total over
   statements counts it as zero — yet every rule iterates over it, so an account's daily cost grew with
   each month of history. The shard keeps such statements aside and puts them back (in date order, the
   order the rules keep) in the final state, which is what the store loads anyway: open statements and the
   latest.

What a skipped plan leaves behind: the collection state's ``stage`` of an account outside any episode is
the one its last *planned* day gave it. Nothing reads it there (escalation, which compares against it, is
reset with the episode, and a strategy's facts do not include it).
"""

from __future__ import annotations

from datetime import date

from overdue.domain.calendar import add_months, due_date_for
from overdue.domain.state import AccountState, AccountStatus, Statement
from overdue.domain.terms import ProductTerms

NEVER = -1
""":func:`idle_through` of an account whose end-of-day must run."""
FOREVER = date.max.toordinal()
""":func:`idle_through` of an account with nothing unpaid on its statements."""


def due_dates(terms: ProductTerms, start: date, end: date) -> frozenset[date]:
    """Every due date a statement issued between ``start`` and ``end`` (both included) can have.

    Statements are issued only by billing on the statement day, due on :func:`due_date_for` of it.
    """
    found = set()
    month = date(start.year, start.month, 1)
    while month <= end:
        issued = date(month.year, month.month, terms.statement_day)
        if start <= issued <= end:
            found.add(due_date_for(issued, terms.due_day))
        month = add_months(month, 1)
    return frozenset(found)


def planning_days(quiet_days: frozenset[int], due: frozenset[date]) -> frozenset[date]:
    """The dates on which some due date is one of ``quiet_days`` away: the only dates a quiet account (DPD 0,
    no episode, no pending promise) may need planning."""
    return frozenset(
        date.fromordinal(d.toordinal() - days) for d in due for days in quiet_days if d.toordinal() > days
    )


def idle_through(state: AccountState) -> int:
    """The last date (an ordinal) through which an ordinary day's end-of-day can only close the date of
    ``state``, or :data:`NEVER`.

    Such an account is active and current (DPD 0, M0), has no relief arrangement (which the end-of-day would
    review first), and every statement with something unpaid has no carried principal (only carried
    principal bears interest before the due date) and is not past its due date, nor its original due date
    when relief moved it, and grace (only then does principal bear interest, or DPD count). Until that date
    interest accrues nothing, ageing finds DPD 0 again (no freeze: ``freeze_at_dpd`` ≥ 1; no write-off), and
    billing waits for the statement day.
    """
    terms = state.terms
    if (
        state.status is not AccountStatus.ACTIVE
        or state.arrangement is not None
        or state.days_past_due != 0
        or state.bucket != "M0"
        or terms.freeze_at_dpd < 1
        or terms.write_off_at_dpd < 1
    ):
        return NEVER
    through = FOREVER
    for statement in state.statements:
        if statement.outstanding == 0:
            continue
        if statement.carried_principal:
            return NEVER
        bears_from = min(statement.due_date, statement.original_due_date or statement.due_date)
        through = min(through, bears_from.toordinal() + terms.grace_days)
    return through


def paid_statements(state: AccountState) -> list[Statement]:
    """The statements of ``state`` with nothing unpaid, the latest statement excepted."""
    if len(state.statements) < 2:
        return []
    latest = state.latest_statement()
    return [s for s in state.statements if s.outstanding == 0 and s is not latest]
