"""Relief for a borrower who cannot pay for now (逾期暂时还不上怎么办): the options, quoted and accepted.

Every option has eligibility rules (each refusal names its rule), a quote (:class:`ReliefQuote`: what is
paid when, total cost, annualised rate, effect on the line and the bureau, and the fingerprint of the balance
it was made on), an acceptance, and its effect on the ledger, the ladder and the bureau:

- **minimum payment** (:func:`quote_minimum`): pay the statement's minimum by its due date; the rest bears
  revolving interest (0.05 % a day, 18.25 % a year) and the line stays usable. Accepting it is a repayment.
- **bill installments** (:func:`quote_installments`): :mod:`overdue.domain.installments`, quoted here with
  its effects; accepting it goes through the installments request.
- **deferral** (:func:`quote_deferral`, :func:`defer`): move one statement's due date by up to
  ``deferral_max_days``, at most once per ``deferral_window_months`` per account. *Interest rule*: the
  statement's unpaid principal bears revolving interest at the normal rate from the day after its original
  due date (as if the minimum had been paid); there is no overdue interest, no DPD, no freeze and no negative
  bureau status until the new due date. The minimum is unchanged: if less is paid by the new due date, the
  statement is overdue from the day after it, with overdue interest from then on.
- **waivers** of interest and fees with maker-checker approval: :mod:`overdue.domain.relief_waivers`;
- **negotiated plans** and **settlements**: :mod:`overdue.domain.relief_arrangements`.

The end-of-day calls :func:`review` before accruing, and skips interest, aging and billing while
:func:`pauses_delinquency` holds (an active plan or settlement); a repayment calls :func:`count_repayment`.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from overdue.domain import installments
from overdue.domain.calendar import add_months, due_date_for
from overdue.domain.errors import NotFound
from overdue.domain.money import Fen, format_yuan, round_half_up
from overdue.domain.relief_arrangements import (
    count_repayment,
    offer_plan,
    offer_settlement,
    pauses_delinquency,
    plan_fact,
    plan_json,
    review,
)
from overdue.domain.relief_common import (
    Effect,
    QuotedPayment,
    ReliefQuote,
    annual_rate_of_daily,
    check_fresh,
    check_no_arrangement,
    check_open_account,
    fingerprint,
    quote_json,
    refuse,
)
from overdue.domain.relief_terms import ReliefTerms
from overdue.domain.state import AccountState, Statement

__all__ = [
    "ReliefQuote",
    "count_repayment",
    "defer",
    "offer_plan",
    "offer_settlement",
    "pauses_delinquency",
    "plan_fact",
    "plan_json",
    "quote_deferral",
    "quote_installments",
    "quote_json",
    "quote_minimum",
    "review",
]

USABLE = Effect("usable", "the credit line stays usable", "额度可继续使用")


def _next_due(statement: Statement, due_day: int) -> date:
    return due_date_for(add_months(statement.statement_date, 1), due_day)


def _revolving_principal_after(statement: Statement, paid: Fen) -> Fen:
    """Principal left on ``statement`` after paying ``paid`` (fees and interest are paid first)."""
    charges = statement.fees + statement.overdue_interest + statement.interest
    return max(0, statement.principal - max(0, paid - charges))


def quote_minimum(state: AccountState, on: date) -> ReliefQuote:
    """Paying only the minimum of the latest statement by its due date, and what the rest then costs."""
    check_open_account(state, "minimum")
    statement = state.latest_statement()
    if statement is None or statement.outstanding == 0:
        raise refuse("relief.minimum.no_statement", f"account {state.id} has no unpaid statement")
    if on > statement.due_date:
        raise refuse(
            "relief.minimum.past_due",
            f"statement {statement.id} was due on {statement.due_date.isoformat()}: what is overdue must be "
            "repaid (or a plan agreed)",
        )
    terms = state.terms
    pay = statement.minimum_remaining
    rest = statement.outstanding - pay
    next_due = _next_due(statement, terms.due_day)
    # Paid on the next due date (before that night's end-of-day), interest runs from the day after this due
    # date to the day before the next one.
    days = (next_due - statement.due_date).days - 1
    principal = _revolving_principal_after(statement, pay)
    cost = round_half_up(Decimal(principal) * terms.revolving_daily_rate * days)
    payments = [QuotedPayment(1, statement.due_date, pay, principal=pay)]
    if rest:
        payments.append(QuotedPayment(2, next_due, rest + cost, principal=rest, interest=cost))
    return ReliefQuote(
        kind="minimum",
        account_id=state.id,
        quoted_on=on,
        fingerprint=fingerprint(state),
        payments=tuple(payments),
        total_cost=cost,
        annual_rate=annual_rate_of_daily(terms.revolving_daily_rate) if rest else None,
        waived=0,
        line=USABLE,
        bureau=Effect(
            "N",
            "paying the minimum by the due date is not overdue: reported as normal (N)",
            "到期日前还清最低还款额不算逾期，征信报送正常(N)",
        ),
        details=(
            ("statement", statement.id),
            ("due_date", statement.due_date.isoformat()),
            ("minimum", format_yuan(pay)),
            ("revolving_principal", format_yuan(principal)),
            ("interest_days", str(days)),
        ),
    )


def quote_installments(state: AccountState, on: date, statement_id: str, periods: int) -> ReliefQuote:
    """Bill installments of a statement (:func:`overdue.domain.installments.quote`) as a relief quote."""
    offer = installments.quote(state, statement_id, periods, on)
    return ReliefQuote(
        kind="installments",
        account_id=state.id,
        quoted_on=on,
        fingerprint=fingerprint(state),
        payments=tuple(
            QuotedPayment(p.number, p.due_date, p.principal + p.fee, principal=p.principal, fee=p.fee)
            for p in offer.schedule
        ),
        total_cost=offer.fee_total,
        annual_rate=offer.annual_rate,
        waived=0,
        line=Effect(
            "usable",
            "the line stays usable; the plan keeps using the limit and each repaid period frees it",
            "额度可继续使用；分期本金占用额度，每还一期释放一期",
        ),
        bureau=Effect(
            "N", "reported as normal (N) while each period is paid by its due date", "按期还款征信报送正常(N)"
        ),
        details=(
            ("statement", offer.statement_id),
            ("periods", str(offer.periods)),
            ("fee_rate", str(offer.fee_rate)),
        ),
    )


def _statement(state: AccountState, statement_id: str) -> Statement:
    statement = next((s for s in state.statements if s.id == statement_id), None)
    if statement is None:
        raise NotFound(f"account {state.id} has no open statement {statement_id}")
    return statement


def quote_deferral(
    state: AccountState, on: date, terms: ReliefTerms, statement_id: str, days: int
) -> ReliefQuote:
    """Moving the due date of ``statement_id`` by ``days``: what it costs; changes nothing."""
    check_open_account(state, "deferral")
    check_no_arrangement(state, "deferral")
    statement = _statement(state, statement_id)
    if statement.outstanding == 0:
        raise refuse("relief.deferral.nothing_due", f"statement {statement_id} is paid")
    if statement.original_due_date is not None:
        raise refuse(
            "relief.deferral.already_deferred",
            f"statement {statement_id}'s due date was already moved from "
            f"{statement.original_due_date.isoformat()}",
        )
    if on > statement.due_date:
        raise refuse(
            "relief.deferral.past_due",
            f"statement {statement_id} was due on {statement.due_date.isoformat()}: a deferral is asked for "
            "on or before the due date",
        )
    if not 1 <= days <= terms.deferral_max_days:
        raise refuse(
            "relief.deferral.max_days",
            f"a due date moves by 1 to {terms.deferral_max_days} days, not {days}",
        )
    if state.last_deferral_on is not None:
        allowed = add_months(state.last_deferral_on, terms.deferral_window_months)
        if on < allowed:
            raise refuse(
                "relief.deferral.once_per_window",
                f"one deferral per {terms.deferral_window_months} months: the last was on "
                f"{state.last_deferral_on.isoformat()}, the next is possible from {allowed.isoformat()}",
            )
    new_due = statement.due_date + timedelta(days=days)
    rate = state.terms.revolving_daily_rate
    # Paid in full on the new due date (before that night's end-of-day), interest was posted for the days
    # from the day after the original due date to the day before the new one.
    cost = round_half_up(Decimal(statement.principal) * rate * (days - 1))
    return ReliefQuote(
        kind="deferral",
        account_id=state.id,
        quoted_on=on,
        fingerprint=fingerprint(state),
        payments=(
            QuotedPayment(
                1, new_due, statement.outstanding + cost, principal=statement.principal, interest=cost
            ),
        ),
        total_cost=cost,
        annual_rate=annual_rate_of_daily(rate),
        waived=0,
        line=USABLE,
        bureau=Effect(
            "N",
            f"nothing is overdue before {new_due.isoformat()}; paying at least the minimum by then keeps the "
            "report normal (N)",
            f"{new_due.isoformat()}前不算逾期；届时至少还清最低还款额，征信报送正常(N)",
        ),
        details=(
            ("statement", statement.id),
            ("days", str(days)),
            ("due_date", statement.due_date.isoformat()),
            ("new_due_date", new_due.isoformat()),
            ("minimum", format_yuan(statement.minimum_remaining)),
            ("interest_rule", "revolving interest from the day after the original due date; none overdue"),
        ),
    )


def defer(
    state: AccountState, on: date, terms: ReliefTerms, statement_id: str, days: int, quoted: str
) -> tuple[AccountState, ReliefQuote]:
    """Accept a deferral quoted on the balance ``quoted`` (its fingerprint): the due date moves."""
    check_fresh(state, quoted)
    offer = quote_deferral(state, on, terms, statement_id, days)
    statement = _statement(state, statement_id)
    moved = dataclasses.replace(
        statement,
        due_date=statement.due_date + timedelta(days=days),
        original_due_date=statement.due_date,
    )
    statements = tuple(moved if s.id == statement_id else s for s in state.statements)
    return dataclasses.replace(state, statements=statements, last_deferral_on=on), offer
