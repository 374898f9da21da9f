"""The review of active relief arrangements as Ibis steps before the accrual
(:func:`overdue.domain.relief_arrangements.review`), and the pause of the accounts whose arrangement is still
active after it.

Only the accounts that run today with an active arrangement are reviewed (a few of a portfolio); a day with
none anywhere runs without these steps (:func:`overdue.setbased.plan.day_plan`'s ``review``). Per such account
:func:`review` decides the day's event:

- a settlement paid in full (``paid >= amount``): everything owed is forgiven (one waiver), the arrangement
  is completed and the account closed; not paid after its date: it lapses and the account resumes;
- a plan with nothing owed any more: completed (the line closed when the plan closes it); its first unpaid
  payment more than ``breach_days`` late: broken, the set-asides restored (the waiver reversed) and the
  account resumes; a payment due today with a next one: that next payment's interest is posted on the oldest
  open statement (else the latest);
- resuming (a broken plan, a lapsed settlement): every open statement's minimum becomes all it owes, and its
  due date moves by the days the arrangement was kept (the original due date kept).

A paid settlement forgives everything the account owes
(:func:`overdue.domain.relief_common.waive_everything`): its statements, its unbilled purchases (their rows
go) and the principal of its installment periods not billed yet. A settlement paid or a plan completed then
ends those installment plans (:func:`~overdue.domain.relief_common.finish_installments`): every period not
billed yet is marked billed with no principal and no fee (:func:`unbilled_reviewed`,
:func:`periods_reviewed`; the day rewrites those tables only when some account has such rows). A broken
plan's set-aside goes back on its own statement or, when the account's statements no longer hold it, on the
oldest open statement else the latest, as :func:`~overdue.domain.relief_common.restore` puts it back
(:func:`placed_asides`).

The statements of the accounts the review touches (open ones and settled ones alike, a few rows) are taken
out, changed, and put back where they now belong (:func:`review_pool`): those with something unpaid with the
statements the day runs on, the others with the settled statements. An account whose arrangement is still
active after the review is ``paused``: the accrual, ageing and billing leave it as it is.
"""

from __future__ import annotations

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]

from overdue.domain.ledger import WRITTEN_OFF as WRITTEN_OFF_CLAIM
from overdue.domain.ledger import LedgerAccount
from overdue.setbased import encode
from overdue.setbased.encode import (
    ACTIVE_ARRANGEMENT,
    BROKEN_ARRANGEMENT,
    CLOSED,
    CODE,
    COMPLETED_ARRANGEMENT,
    DAY,
    LAPSED_ARRANGEMENT,
    SETTLEMENT_KIND,
    WRITTEN_OFF,
    ledger_code,
)
from overdue.setbased.postings import posting_rows
from overdue.setbased.steps import (
    COMPONENTS,
    Today,
    int_sum,
    left_join,
    outstanding,
    principal,
    runs_on,
    written_as,
)

NONE, INTEREST, COMPLETED, BROKEN, SETTLED, LAPSED = range(6)
"""The review's event per account: nothing, plan interest posted, plan completed, plan broken, settlement
paid, settlement lapsed."""
TOUCHES_STATEMENTS = (INTEREST, BROKEN, SETTLED, LAPSED)
ENDS_INSTALLMENTS = (COMPLETED, SETTLED)
"""The events that end the account's installment plans (:func:`periods_reviewed`)."""


def _count(table: ir.Table, name: str) -> ir.Table:
    counted: ir.Table = table.group_by("account_key").aggregate(**{name: table.count()})
    return counted


def review(
    accounts: ir.Table,
    arrangements: ir.Table,
    payments: ir.Table,
    statements: ir.Table,
    settled: ir.Table,
    unbilled: ir.Table,
    periods: ir.Table,
    day: Today,
) -> ir.Table:
    """One row per account that runs today with an active arrangement: its ``event``, what the later steps
    read (``new_status``, ``paused``, ``kept`` days, the interest posted and its payment number), what a paid
    settlement forgives outside the statements (``waived_elsewhere``: unbilled purchases and the principal of
    installment periods not billed yet) and whether the account's unbilled purchases go
    (``clears_unbilled``) and its installment periods not billed yet are ended (``clears_periods``)."""
    # the account's status under a name of its own (the arrangements have a ``status`` too)
    runs = accounts.filter(runs_on(accounts, day)).select("account_key", account_status=accounts.status)
    a = arrangements.filter(arrangements.status == ACTIVE_ARRANGEMENT).join(runs, "account_key")
    keys = a.select(active_key=a.account_key)
    p = payments.join(a.select("account_key", "paid"), "account_key")
    order = ibis.window(group_by=p.account_key, order_by=p.number)
    p = p.mutate(
        amount=p.principal + p.interest,
        upto=written_as(
            (p.principal + p.interest)
            .sum()
            .over(ibis.cumulative_window(group_by=p.account_key, order_by=p.number)),
            "int64",
        ),
        prev_number=p.number.lag().over(order),
        prev_due=p.due_date.lag().over(order),
    )
    unpaid = (p.paid < p.upto) & (p.paid >= p.upto - p.amount)
    starts = (p.prev_number >= 1) & (p.prev_due == day.on)
    schedule = p.group_by("account_key").aggregate(
        total=int_sum(p.amount),
        last_due=p.due_date.max(),
        unpaid_due=p.due_date.max(where=unpaid),
        starting_number=p.number.max(where=starts),
        starting_interest=p.interest.max(where=starts),
    )
    s = statements.join(keys, statements.account_key == keys.active_key)
    owed = s.group_by("account_key").aggregate(owed_statements=int_sum(outstanding(s)), open_rows=s.count())
    old = settled.join(keys, settled.account_key == keys.active_key)
    u = unbilled.join(keys, unbilled.account_key == keys.active_key)
    q = periods.filter(~periods.billed)
    q = q.join(keys, q.account_key == keys.active_key)
    t = left_join(a, schedule)
    t = left_join(t, owed)
    t = left_join(t, _count(old, "settled_rows"))
    t = left_join(
        t, u.group_by("account_key").aggregate(unbilled_rows=u.count(), owed_unbilled=int_sum(u.principal))
    )
    t = left_join(
        t,
        q.group_by("account_key").aggregate(
            period_rows=q.count(), owed_periods=int_sum(q.principal.cast("int64"))
        ),
    )
    owed_total = t.owed_statements.fill_null(0) + t.owed_unbilled.fill_null(0) + t.owed_periods.fill_null(0)
    settlement = t.kind == SETTLEMENT_KIND
    has_statements = (t.open_rows.fill_null(0) + t.settled_rows.fill_null(0)) > 0
    event = ibis.cases(
        (settlement & (t.paid >= t.total.fill_null(0)), SETTLED),
        (settlement & (day.on > t.last_due), LAPSED),
        (settlement, NONE),
        (owed_total == 0, COMPLETED),
        (t.unpaid_due.notnull() & (day.on - t.unpaid_due > t.breach_days), BROKEN),
        ((t.starting_interest.fill_null(0) > 0) & has_statements, INTEREST),
        else_=NONE,
    ).cast(CODE)
    t = t.mutate(event=event)
    settles = t.event == SETTLED
    closes = settles | ((t.event == COMPLETED) & t.closes_line)
    zero = ibis.literal(0, type="int64")
    reviewed: ir.Table = t.select(
        account_key=t.account_key,
        arrangement_id=t.arrangement_id,
        event=t.event,
        written_off=t.account_status == WRITTEN_OFF,
        new_status=ibis.ifelse(closes, CLOSED, t.account_status).cast(CODE),
        paused=t.event.isin([NONE, INTEREST]),
        kept=(day.on - t.started_on.fill_null(day.on)).cast("int32"),
        starting_number=t.starting_number,
        starting_interest=t.starting_interest.fill_null(0).cast("int64"),
        waived_elsewhere=ibis.ifelse(
            settles, t.owed_unbilled.fill_null(0) + t.owed_periods.fill_null(0), zero
        ).cast("int64"),
        clears_unbilled=settles & (t.unbilled_rows.fill_null(0) > 0),
        clears_periods=t.event.isin(list(ENDS_INSTALLMENTS)) & (t.period_rows.fill_null(0) > 0),
    )
    return reviewed


def _touched(reviewed: ir.Table) -> ir.Table:
    t = reviewed.filter(reviewed.event.isin(list(TOUCHES_STATEMENTS)))
    touched: ir.Table = t.select(
        touched_key=t.account_key, event=t.event, kept=t.kept, starting_interest=t.starting_interest
    )
    return touched


def placed_asides(set_asides: ir.Table, reviewed: ir.Table, rows: ir.Table) -> ir.Table:
    """The set-asides of the plans broken today, summed per statement they go back on (``account_key``,
    ``statement_date``), as :func:`overdue.domain.relief_common.restore` puts them back.

    rows: every statement of the accounts (open and settled), before the review changes them. A set-aside
    goes back on its own statement; when the rows no longer hold that one, on the oldest open statement
    (something unpaid), else the latest. ``restore`` puts the set-asides back one after another, and each
    statement it puts one on is open from then on: so "the oldest open" of a set-aside is the oldest of the
    statements open before the review and those whose own set-aside comes earlier (a set-aside put on the
    oldest open one, or on the latest, adds no statement older than these). An account without any statement
    gets nothing back (nor does ``restore`` reverse its waiver)."""
    broken = reviewed.filter(reviewed.event == BROKEN).select(broken_key=reviewed.account_key)
    x = set_asides.join(broken, set_asides.account_key == broken.broken_key).drop("broken_key")
    bounds = rows.group_by("account_key").aggregate(
        open_from=rows.statement_date.min(where=outstanding(rows) > 0), latest=rows.statement_date.max()
    )
    held = rows.select(held_key=rows.account_key, held_date=rows.statement_date)
    x = x.join(bounds, "account_key")
    x = x.left_join(held, (x.account_key == held.held_key) & (x.statement_date == held.held_date))
    x = x.mutate(found=x.held_key.notnull()).drop("held_key", "held_date")
    own = ibis.ifelse(x.found, x.statement_date, ibis.null(DAY))
    x = x.mutate(earlier=own.min().over(ibis.cumulative_window(group_by=x.account_key, order_by=x.position)))
    oldest_open = ibis.cases(
        (x.open_from.isnull(), x.earlier),
        (x.earlier.isnull() | (x.open_from <= x.earlier), x.open_from),
        else_=x.earlier,
    )
    x = x.mutate(placed=ibis.ifelse(x.found, x.statement_date, oldest_open.fill_null(x.latest)))
    summed: ir.Table = x.group_by(["account_key", x.placed.name("statement_date")]).aggregate(
        aside_interest=int_sum(x.interest),
        aside_overdue_interest=int_sum(x.overdue_interest),
        aside_fees=int_sum(x.fees),
        aside_late_charges=int_sum(x.late_charges),
        aside_minimum=int_sum(x.minimum),
    )
    return summed


def review_pool(
    statements: ir.Table, settled: ir.Table, reviewed: ir.Table, set_asides: ir.Table, day: Today
) -> ir.Table:
    """Every statement (open or settled) of the accounts whose statements the review changes, after it,
    with what it owed before (``was_principal``, ``was_interest``, ``was_fees``), ``target`` (it takes the
    plan interest), ``restored`` (a set-aside put back on it) and what was put back (``aside_*``)."""
    touched = _touched(reviewed)
    rows = ibis.union(
        statements.mutate(from_settled=ibis.literal(False)),
        settled.mutate(from_settled=ibis.literal(True)),
    )
    rows = rows.join(touched, rows.account_key == touched.touched_key).drop("touched_key")
    w = ibis.window(group_by=rows.account_key)
    rows = rows.mutate(
        was_principal=principal(rows),
        was_interest=rows.interest + rows.overdue_interest,
        was_fees=rows.fees,
        oldest_open=ibis.ifelse(outstanding(rows) > 0, rows.statement_date, ibis.null(DAY)).min().over(w),
        latest=rows.statement_date.max().over(w),
    )
    asides = placed_asides(set_asides, reviewed, rows).rename(
        aside_key="account_key", aside_date="statement_date"
    )
    rows = rows.left_join(
        asides, (rows.account_key == asides.aside_key) & (rows.statement_date == asides.aside_date)
    ).drop("aside_key")
    target = (rows.event == INTEREST) & (rows.statement_date == rows.oldest_open.fill_null(rows.latest))
    restored = rows.aside_date.notnull()
    rows = rows.mutate(target=target, restored=restored).drop("aside_date")
    zero = ibis.literal(0, type="int64")
    rows = rows.mutate(
        interest=rows.interest
        + ibis.ifelse(rows.target, rows.starting_interest, zero)
        + rows.aside_interest.fill_null(0),
        overdue_interest=rows.overdue_interest + rows.aside_overdue_interest.fill_null(0),
        fees=rows.fees + rows.aside_fees.fill_null(0),
        late_charges=rows.late_charges + rows.aside_late_charges.fill_null(0),
        minimum=rows.minimum + rows.aside_minimum.fill_null(0),
        closed_on=ibis.ifelse(rows.target | rows.restored, ibis.null(DAY), rows.closed_on),
    )
    # resuming: the open statements' minimum is all they owe, their due dates move by the days kept
    resumes = rows.event.isin([BROKEN, LAPSED]) & (outstanding(rows) > 0)
    moves = resumes & (rows.kept > 0)
    rows = rows.mutate(
        minimum=ibis.ifelse(
            resumes,
            ibis.greatest(rows.minimum, rows.paid + outstanding(rows) - rows.late_charges),
            rows.minimum,
        ),
        original_due_date=ibis.ifelse(
            moves, rows.original_due_date.fill_null(rows.due_date), rows.original_due_date
        ),
        due_date=ibis.ifelse(moves, rows.due_date + rows.kept, rows.due_date),
    )
    # a paid settlement forgives everything
    settles = rows.event == SETTLED
    rows = rows.mutate(
        **{name: ibis.ifelse(settles, zero, rows[name]) for name in COMPONENTS},
        interest_carry=ibis.ifelse(settles, zero, rows.interest_carry),
    )
    rows = rows.mutate(
        minimum=ibis.ifelse(settles, ibis.least(rows.minimum, rows.paid + outstanding(rows)), rows.minimum)
    )
    pool: ir.Table = rows.mutate(
        closed_on=ibis.ifelse(
            settles & (outstanding(rows) == 0) & rows.closed_on.isnull(), day.on, rows.closed_on
        )
    )
    return pool


def unbilled_reviewed(unbilled: ir.Table, reviewed: ir.Table) -> ir.Table:
    """The unbilled purchases after the review: those of an account whose settlement was paid go (forgiven,
    ``unbilled=()``)."""
    gone = reviewed.filter(reviewed.clears_unbilled).select(gone_key=reviewed.account_key)
    left: ir.Table = unbilled.anti_join(gone, unbilled.account_key == gone.gone_key)
    return left


def periods_reviewed(periods: ir.Table, reviewed: ir.Table) -> ir.Table:
    """The installment periods after the review: those not billed yet of an account whose settlement was
    paid (their principal forgiven) or whose plan was completed (nothing owed: none left) end as
    :func:`overdue.domain.relief_common.finish_installments` ends them, billed, with no principal and no
    fee (every plan of such an account has no principal left to bill)."""
    ends = reviewed.filter(reviewed.clears_periods).select(ends_key=reviewed.account_key)
    p = periods.left_join(ends, periods.account_key == ends.ends_key)
    ended = p.ends_key.notnull() & ~p.billed
    zero = ibis.literal(0, type="int64")
    after: ir.Table = p.mutate(
        principal=ibis.ifelse(ended, zero, p.principal),
        fee=ibis.ifelse(ended, zero, p.fee),
        billed=p.billed | ended,
    ).drop("ends_key")
    return after


def accounts_after(accounts: ir.Table, reviewed: ir.Table) -> ir.Table:
    """The accounts with their status after the review and ``paused`` (still under an active
    arrangement)."""
    r = reviewed.select("account_key", "new_status", "paused")
    t = left_join(accounts, r)
    after: ir.Table = t.mutate(
        status=t.new_status.fill_null(t.status).cast(CODE), paused=t.paused.fill_null(False)
    ).drop("new_status")
    return after


def arrangements_after(arrangements: ir.Table, reviewed: ir.Table, day: Today) -> ir.Table:
    """The arrangements with the status and end date the review gave them."""
    r = reviewed.select("account_key", "event")
    t = left_join(arrangements, r)
    ends = t.event.isin([COMPLETED, BROKEN, SETTLED, LAPSED]).fill_null(False)
    status = ibis.cases(
        (t.event.isin([COMPLETED, SETTLED]), COMPLETED_ARRANGEMENT),
        (t.event == BROKEN, BROKEN_ARRANGEMENT),
        (t.event == LAPSED, LAPSED_ARRANGEMENT),
        else_=t.status,
    )
    after: ir.Table = t.mutate(
        status=ibis.ifelse(ends, status, t.status).cast(CODE),
        ended_on=ibis.ifelse(ends, day.on, t.ended_on).cast(DAY),
    ).drop("event")
    return after


def _receivable(written_off: ir.BooleanValue, account: LedgerAccount) -> ir.IntegerValue:
    code: ir.IntegerValue = ibis.ifelse(
        written_off, ledger_code(WRITTEN_OFF_CLAIM[account]), ledger_code(account)
    )
    return code


def postings(pool: ir.Table, reviewed: ir.Table, day: Today) -> list[ir.Table]:
    """The review's postings: the plan interest posted, the waiver of a paid settlement, the reversed waiver
    of a broken plan (:func:`overdue.domain.relief_common.waiver_transaction`)."""
    make = posting_rows
    out: list[ir.Table] = []
    t = pool.filter(pool.target & (pool.starting_interest > 0))
    t = t.join(reviewed.select("account_key", "starting_number"), "account_key")
    memo = ibis.literal("plan interest, payment ") + t.starting_number.cast("string")
    kind = encode.REVOLVING_INTEREST
    out.append(
        make(
            t, day, kind, t.statement_date, memo, 0, ledger_code(LedgerAccount.INTEREST), t.starting_interest
        )
    )
    income = ledger_code(LedgerAccount.REVOLVING_INTEREST_INCOME)
    out.append(make(t, day, kind, t.statement_date, memo, 1, income, -t.starting_interest))
    # the waiver of a settlement paid: what the statements owed before, the unbilled purchases and the
    # principal of the installment periods not billed yet
    s = pool.filter(pool.event == SETTLED)
    owed = s.group_by("account_key").aggregate(
        s_principal=int_sum(s.was_principal), s_interest=int_sum(s.was_interest), s_fees=int_sum(s.was_fees)
    )
    paid = left_join(
        reviewed.filter(reviewed.event == SETTLED).select("account_key", "waived_elsewhere"), owed
    )
    before = paid.select(
        "account_key",
        w_principal=paid.s_principal.fill_null(0) + paid.waived_elsewhere,
        w_interest=paid.s_interest.fill_null(0),
        w_fees=paid.s_fees.fill_null(0),
    )
    # the reversed waiver of a broken plan: everything set aside (put back on the statements)
    a = pool.filter(pool.restored)
    back = a.group_by("account_key").aggregate(
        w_principal=int_sum(a.aside_fees * 0),
        w_interest=int_sum(a.aside_interest + a.aside_overdue_interest),
        w_fees=int_sum(a.aside_fees),
    )
    r = reviewed.select("account_key", "arrangement_id", "written_off")
    no_date = ibis.null(DAY)
    waiver = encode.WAIVER
    for sums, sign, text in (
        (before, 1, ("settlement ", " paid: the rest forgiven")),
        (back, -1, ("plan ", " broken: set-aside interest and fees restored")),
    ):
        w = sums.join(r, "account_key")
        w = w.mutate(total=w.w_principal + w.w_interest + w.w_fees)
        w = w.filter(w.total != 0)
        memo = ibis.literal(text[0]) + w.arrangement_id + ibis.literal(text[1])
        expense = ledger_code(LedgerAccount.WAIVER_EXPENSE)
        out.append(make(w, day, waiver, no_date, memo, 0, expense, sign * w.total))
        for n, (account, column) in enumerate(
            (
                (LedgerAccount.PRINCIPAL, "w_principal"),
                (LedgerAccount.INTEREST, "w_interest"),
                (LedgerAccount.FEES, "w_fees"),
            ),
            start=1,
        ):
            x = w.filter(w[column] != 0)
            claim = _receivable(x.written_off, account)
            out.append(make(x, day, waiver, no_date, memo, n, claim, -sign * x[column]))
    return out
