"""Negotiated repayment plans (协商还款 / 个性化分期) and settlements: quote, accept, approve, keep or break.

**Plan.** What is owed now, less the interest and fees the plan sets aside, is repaid in up to
``plan_max_periods`` (60) monthly payments, after an optional down payment due ``plan_down_payment_days``
after agreement. Principal is split evenly (remainder in the first payment); each payment adds the plan's
interest for its month, ``monthly_rate`` × what is left to repay (0 by default: interest stopped), posted as
the month begins. Setting fees (and optionally interest) aside is a waiver: it needs an approval.
While the plan is kept:

- no interest accrues but the plan's own, nothing new is billed, and the delinquency clock stands still:
  DPD, bucket and bureau status stay as they were the day the plan began;
- the line stays closed (frozen), and the account's collection pauses (a ``plan`` hold; ``plan: active``);
- every repayment counts toward the schedule; payments are covered in order.

Completed (nothing owed any more): the set-aside waiver stands for good, and the line is closed for good
(``plan_closes_line``). **Broken**: at the end-of-day on which a payment is more than ``breach_days`` late,
what was set aside is restored (the waiver reversed), what is owed on the open statements is due at once,
interest resumes at the normal rates, DPD resumes where it stopped (the open statements' due dates move by
the days the plan was kept, their original due dates kept), and the collection ladder resumes one stage up.

**Settlement.** Pay an agreed part of everything owed (at least ``settlement_min_share``) by an agreed date
(within ``settlement_max_days``); the rest is forgiven. It needs an approval covering the forgiven part.
While it is pending the balance is frozen as for a plan. Paid by the date: the rest is waived, the account
closes, and the bureau reports ``G`` (settled for less). Not paid by the date: it lapses, nothing is waived,
and interest and DPD resume as after a broken plan (without escalation).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from overdue.domain.calendar import add_months
from overdue.domain.installments import annual_rate
from overdue.domain.ledger import LedgerAccount, Transaction, TransactionKind, transfer
from overdue.domain.money import Fen, format_yuan, round_half_up, split_evenly
from overdue.domain.relief_common import (
    Effect,
    QuotedPayment,
    ReliefQuote,
    check_fresh,
    check_no_arrangement,
    check_open_account,
    fingerprint,
    finish_installments,
    refuse,
    restore,
    waive_everything,
    waive_interest_and_fees,
)
from overdue.domain.relief_state import (
    ACTIVE,
    BROKEN,
    COMPLETED,
    LAPSED,
    PENDING,
    PLAN,
    SETTLEMENT,
    Arrangement,
    ScheduledPayment,
)
from overdue.domain.relief_terms import ReliefTerms
from overdue.domain.relief_waivers import check_approval
from overdue.domain.state import AccountState, AccountStatus, Statement


def plan_schedule(
    amount: Fen,
    periods: int,
    monthly_rate: Decimal,
    agreed_on: date,
    down_payment: Fen = 0,
    down_payment_days: int = 7,
) -> tuple[ScheduledPayment, ...]:
    """The payments of a plan restructuring ``amount`` (fen, after the down payment) over ``periods`` months.

    The down payment (if any) is payment 0, due ``down_payment_days`` after ``agreed_on``; payment k is due k
    months after ``agreed_on``. Principal is split evenly, the remainder in the first payment; each payment's
    interest is ``monthly_rate`` × the principal still to repay when its month begins, half-up to the fen.
    """
    if periods < 1 or amount < 0 or down_payment < 0:
        raise ValueError("a plan needs at least one period and no negative amounts")
    payments: list[ScheduledPayment] = []
    if down_payment:
        payments.append(ScheduledPayment(0, agreed_on + timedelta(days=down_payment_days), down_payment))
    left = amount
    for number, part in enumerate(split_evenly(amount, periods), start=1):
        interest = round_half_up(Decimal(left) * monthly_rate)
        payments.append(ScheduledPayment(number, add_months(agreed_on, number), part, interest))
        left -= part
    return tuple(payments)


def _quoted(schedule: tuple[ScheduledPayment, ...]) -> tuple[QuotedPayment, ...]:
    return tuple(
        QuotedPayment(p.number, p.due_date, p.amount, principal=p.principal, interest=p.interest)
        for p in schedule
    )


def offer_plan(
    state: AccountState,
    on: date,
    terms: ReliefTerms,
    periods: int,
    down_payment: Fen = 0,
    *,
    waive_fees: bool = True,
    waive_interest: bool = False,
    monthly_rate: Decimal | None = None,
) -> tuple[ReliefQuote, Arrangement]:
    """The quote of a plan and the arrangement it would make (not yet accepted); changes nothing."""
    check_open_account(state, "plan")
    check_no_arrangement(state, "plan")
    if state.days_past_due < terms.plan_min_dpd:
        raise refuse(
            "relief.plan.not_overdue",
            f"a repayment plan is for accounts at least {terms.plan_min_dpd} days past due "
            f"(this one: {state.days_past_due})",
        )
    if not 1 <= periods <= terms.plan_max_periods:
        raise refuse(
            "relief.plan.max_periods",
            f"a plan has 1 to {terms.plan_max_periods} monthly payments, not {periods}",
        )
    rate = terms.plan_monthly_rate if monthly_rate is None else monthly_rate
    if not Decimal(0) <= rate <= terms.plan_max_monthly_rate:
        raise refuse(
            "relief.plan.rate",
            f"a plan's monthly rate is between 0 and {terms.plan_max_monthly_rate}, not {rate}",
        )
    interest = state.interest if waive_interest else 0
    fees = state.fees if waive_fees else 0
    owed = state.outstanding - interest - fees
    if not 0 <= down_payment < owed:
        raise refuse(
            "relief.plan.down_payment",
            f"the down payment must be at least 0.00 and less than the {format_yuan(owed)} restructured",
        )
    schedule = plan_schedule(
        owed - down_payment, periods, rate, on, down_payment, terms.plan_down_payment_days
    )
    financed = owed - down_payment
    plan_interest = sum(p.interest for p in schedule)
    balance = fingerprint(state)
    arrangement = Arrangement(
        id="",
        kind=PLAN,
        status=PENDING,
        agreed_on=on,
        schedule=schedule,
        waived=interest + fees,
        waived_interest=interest,
        maker="",
        fingerprint=balance,
        monthly_rate=rate,
        breach_days=terms.plan_breach_days,
        closes_line=terms.plan_closes_line,
    )
    after = (
        "closed for good once the plan is completed"
        if terms.plan_closes_line
        else "usable again once completed"
    )
    after_zh = "还清后额度永久关闭" if terms.plan_closes_line else "还清后额度恢复"
    quote = ReliefQuote(
        kind=PLAN,
        account_id=state.id,
        quoted_on=on,
        fingerprint=balance,
        payments=_quoted(schedule),
        total_cost=plan_interest,
        annual_rate=annual_rate(financed, [p.amount for p in schedule if p.number > 0]),
        waived=interest + fees,
        line=Effect(
            "closed",
            f"the line stays closed while the plan is kept, and is {after}",
            f"协商还款期间额度关闭，{after_zh}",
        ),
        bureau=Effect(
            "held",
            f"days past due stop at {state.days_past_due} and the monthly status stays "
            f"{_bureau_word(state)} while the plan is kept; a broken plan resumes them",
            f"履约期间逾期天数停在{state.days_past_due}天，征信月度状态保持为{_bureau_word(state)}；违约后恢复计算",
        ),
        details=(
            ("periods", str(periods)),
            ("down_payment", format_yuan(down_payment)),
            ("restructured", format_yuan(owed)),
            ("monthly_rate", str(rate)),
            ("set_aside_interest", format_yuan(interest)),
            ("set_aside_fees", format_yuan(fees)),
            ("breach_days", str(terms.plan_breach_days)),
        ),
    )
    return quote, arrangement


def _bureau_word(state: AccountState) -> str:
    return "N" if state.bucket == "M0" else state.bucket[1:].rstrip("+")


def offer_settlement(
    state: AccountState, on: date, terms: ReliefTerms, amount: Fen, pay_by: date
) -> tuple[ReliefQuote, Arrangement]:
    """A settlement of ``amount`` (fen) paid by ``pay_by``: its quote and arrangement; changes nothing."""
    check_open_account(state, "settlement", written_off_allowed=True)
    check_no_arrangement(state, "settlement")
    if state.days_past_due < terms.settlement_min_dpd:
        raise refuse(
            "relief.settlement.not_overdue",
            f"a settlement is for accounts at least {terms.settlement_min_dpd} days past due "
            f"(this one: {state.days_past_due})",
        )
    owed = state.outstanding
    if amount >= owed:
        raise refuse(
            "relief.settlement.not_less",
            f"{format_yuan(amount)} is not less than the {format_yuan(owed)} owed: repay it instead",
        )
    least = round_half_up(Decimal(owed) * terms.settlement_min_share)
    if amount < least:
        raise refuse(
            "relief.settlement.min_share",
            f"a settlement is at least {terms.settlement_min_share} of the {format_yuan(owed)} owed "
            f"({format_yuan(least)}), not {format_yuan(amount)}",
        )
    if not on <= pay_by <= on + timedelta(days=terms.settlement_max_days):
        raise refuse(
            "relief.settlement.pay_by",
            f"the agreed amount must be paid between {on.isoformat()} and "
            f"{(on + timedelta(days=terms.settlement_max_days)).isoformat()}",
        )
    schedule = (ScheduledPayment(1, pay_by, amount),)
    balance = fingerprint(state)
    arrangement = Arrangement(
        id="",
        kind=SETTLEMENT,
        status=PENDING,
        agreed_on=on,
        schedule=schedule,
        waived=owed - amount,
        maker="",
        fingerprint=balance,
        closes_line=True,
    )
    quote = ReliefQuote(
        kind=SETTLEMENT,
        account_id=state.id,
        quoted_on=on,
        fingerprint=balance,
        payments=_quoted(schedule),
        total_cost=0,
        annual_rate=None,
        waived=owed - amount,
        line=Effect("closed", "the account closes once the agreed amount is paid", "按约还款后账户关闭"),
        bureau=Effect(
            "G",
            "reported as settled for less (G) once paid; if not paid by the date nothing is waived",
            "按约还清后征信报送为“协商结清”(G)；逾期未付则不减免",
        ),
        details=(
            ("owed", format_yuan(owed)),
            ("amount", format_yuan(amount)),
            ("pay_by", pay_by.isoformat()),
        ),
    )
    return quote, arrangement


def accept(
    state: AccountState, on: date, offer: Arrangement, arrangement_id: str, maker: str, quoted: str
) -> tuple[AccountState, list[Transaction]]:
    """Accept an offer made on the balance ``quoted`` (its fingerprint): it waits for approval when it
    forgives anything, else it takes effect at once."""
    check_fresh(state, quoted)
    if not maker.strip():
        raise refuse("relief.request.maker_missing", "a relief request needs the name of the user making it")
    arrangement = dataclasses.replace(offer, id=arrangement_id, maker=maker)
    state = dataclasses.replace(state, arrangement=arrangement)
    if arrangement.waived == 0:
        return activate(state, on, None, None)
    return state, []


def approve(
    state: AccountState, on: date, terms: ReliefTerms, arrangement_id: str, approver: str, role: str
) -> tuple[AccountState, list[Transaction]]:
    """A checker approves the pending arrangement ``arrangement_id``: it takes effect, or nothing changes."""
    arrangement = state.arrangement
    if arrangement is None or arrangement.id != arrangement_id or arrangement.status != PENDING:
        raise refuse("relief.approval.not_pending", f"{arrangement_id} is not waiting for approval")
    check_approval(terms, arrangement.maker, approver, role, arrangement.waived)
    check_fresh(state, arrangement.fingerprint)
    return activate(state, on, approver, role)


def activate(
    state: AccountState, on: date, approver: str | None, role: str | None
) -> tuple[AccountState, list[Transaction]]:
    """The arrangement takes effect: a plan sets its interest and fees aside and posts its first month's
    interest; the line is frozen while it is kept."""
    arrangement = state.arrangement
    assert arrangement is not None
    transactions: list[Transaction] = []
    if arrangement.kind == PLAN:
        interest = arrangement.waived_interest
        fees = arrangement.waived - interest
        state, set_aside, waiver = waive_interest_and_fees(
            state, on, interest, fees, f"set aside by plan {arrangement.id}"
        )
        transactions += [waiver] if waiver else []
        arrangement = dataclasses.replace(arrangement, set_aside=set_aside)
    arrangement = dataclasses.replace(
        arrangement, status=ACTIVE, started_on=on, approver=approver, approver_role=role, paid=0
    )
    status = AccountStatus.FROZEN if state.status is AccountStatus.ACTIVE else state.status
    state = dataclasses.replace(state, arrangement=arrangement, status=status)
    first = next((p for p in arrangement.schedule if p.number == 1), None)
    if arrangement.kind == PLAN and first is not None:
        state, posted = _post_plan_interest(state, on, first)
        transactions += posted
    return state, transactions


def _post_plan_interest(
    state: AccountState, on: date, payment: ScheduledPayment
) -> tuple[AccountState, list[Transaction]]:
    """Post the plan's interest of ``payment``'s month on the oldest open statement (else the latest)."""
    if not payment.interest or not state.statements:
        return state, []
    statements = sorted(state.statements, key=lambda s: s.statement_date)
    target = next((s for s in statements if s.outstanding > 0), statements[-1])
    changed = dataclasses.replace(target, interest=target.interest + payment.interest, closed_on=None)
    state = dataclasses.replace(
        state, statements=tuple(changed if s.id == target.id else s for s in state.statements)
    )
    txn = transfer(
        state.id,
        on,
        TransactionKind.REVOLVING_INTEREST,
        LedgerAccount.INTEREST,
        LedgerAccount.REVOLVING_INTEREST_INCOME,
        payment.interest,
        statement_id=target.id,
        memo=f"plan interest, payment {payment.number}",
    )
    return state, [txn]


def count_repayment(state: AccountState, amount: Fen) -> AccountState:
    """A repayment made while an arrangement is active counts toward it."""
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active:
        return state
    return dataclasses.replace(
        state, arrangement=dataclasses.replace(arrangement, paid=arrangement.paid + amount)
    )


def review(state: AccountState, on: date) -> tuple[AccountState, list[Transaction]]:
    """The arrangement's part of the end-of-day of ``on``, before interest and aging: complete, break or
    lapse it, or post the plan interest of a month beginning today."""
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active:
        return state, []
    if arrangement.kind == SETTLEMENT:
        if arrangement.paid >= arrangement.amount:
            state, waiver = waive_everything(
                state, on, f"settlement {arrangement.id} paid: the rest forgiven"
            )
            return _end(state, on, COMPLETED, AccountStatus.CLOSED), [waiver] if waiver else []
        if on > arrangement.schedule[-1].due_date:
            return _resume(_end(state, on, LAPSED), on, arrangement), []
        return state, []
    if state.outstanding == 0:
        state = dataclasses.replace(state, plans=finish_installments(state.plans))
        return _end(state, on, COMPLETED, AccountStatus.CLOSED if arrangement.closes_line else None), []
    unpaid = arrangement.first_unpaid()
    if unpaid is not None and (on - unpaid.due_date).days > arrangement.breach_days:
        state, restored = restore(
            state,
            on,
            arrangement.set_aside,
            f"plan {arrangement.id} broken: set-aside interest and fees restored",
        )
        return _resume(_end(state, on, BROKEN), on, arrangement), [restored] if restored else []
    starting = next(
        (
            later
            for earlier, later in zip(arrangement.schedule, arrangement.schedule[1:], strict=False)
            if earlier.number >= 1 and earlier.due_date == on
        ),
        None,
    )
    return _post_plan_interest(state, on, starting) if starting is not None else (state, [])


def _end(
    state: AccountState, on: date, status: str, account_status: AccountStatus | None = None
) -> AccountState:
    assert state.arrangement is not None
    arrangement = dataclasses.replace(state.arrangement, status=status, ended_on=on)
    return dataclasses.replace(state, arrangement=arrangement, status=account_status or state.status)


def _resume(state: AccountState, on: date, arrangement: Arrangement) -> AccountState:
    """After a broken plan or a lapsed settlement what is owed on the open statements is due at once (their
    minimum becomes all of it), and DPD resumes where it stopped: every open statement's due date moves by
    the days the arrangement was kept (its original due date is kept)."""
    kept = timedelta(days=(on - (arrangement.started_on or on)).days)

    def moved(s: Statement) -> Statement:
        if s.outstanding == 0:
            return s
        s = dataclasses.replace(s, minimum=max(s.minimum, s.paid + s.outstanding - s.late_charges))
        if not kept:
            return s
        return dataclasses.replace(
            s, due_date=s.due_date + kept, original_due_date=s.original_due_date or s.due_date
        )

    return dataclasses.replace(state, statements=tuple(moved(s) for s in state.statements))


def pauses_delinquency(state: AccountState) -> bool:
    """While a plan or settlement is active, interest (but the plan's), billing and aging stand still."""
    return state.arrangement is not None and state.arrangement.is_active


def plan_fact(state: AccountState) -> str:
    """What a strategy sees as ``plan``: ``active`` while a plan or settlement is kept, ``broken`` after a
    plan broke, else ``none``."""
    arrangement = state.arrangement
    if arrangement is None:
        return "none"
    if arrangement.is_active:
        return "active"
    return "broken" if arrangement.kind == PLAN and arrangement.status == BROKEN else "none"


def plan_json(state: AccountState) -> dict[str, object] | None:
    """The snapshot's ``plan``: the latest arrangement, its status, next payment due and what remains."""
    arrangement = state.arrangement
    if arrangement is None:
        return None
    unpaid = arrangement.first_unpaid() if arrangement.is_active else None
    return {
        "id": arrangement.id,
        "kind": arrangement.kind,
        "status": arrangement.status,
        "next_due": None if unpaid is None else unpaid.due_date.isoformat(),
        "next_amount": None if unpaid is None else format_yuan(_left_of(arrangement, unpaid)),
        "remaining": format_yuan(0 if arrangement.status == COMPLETED else arrangement.remaining),
        "amount": format_yuan(arrangement.amount),
        "paid": format_yuan(arrangement.paid),
        "waived": format_yuan(arrangement.waived),
    }


def _left_of(arrangement: Arrangement, payment: ScheduledPayment) -> Fen:
    """What is still to pay of ``payment`` (the first one not covered)."""
    before = sum(p.amount for p in arrangement.schedule if p.number < payment.number)
    return payment.amount - max(0, arrangement.paid - before)
