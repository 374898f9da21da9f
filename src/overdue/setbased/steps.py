"""The rules of one end-of-day as Ibis expressions over whole tables: accrue, age, bill, bureau month.

Each function is the rule of :func:`overdue.domain.account.end_of_day` written once for every row:

- :func:`accrue` (:mod:`overdue.domain.interest`), per statement row: the interest-bearing principal, the
  rate (overdue while delinquent, revolving otherwise), ``carry + principal × rate`` in integer carry units,
  rounded half-up to the fen and posted, the rest kept in the carry;
- :func:`age` (:mod:`overdue.domain.delinquency`), per account: DPD from the oldest delinquent statement (an
  aggregate over the accrued statements), the bucket (a ``CASE`` over the product's bounds), freeze and
  unfreeze, the negative-report notice, the write-off at the product's DPD — and on a month's last day the
  bureau status appended to the account's grid;
- :func:`new_statements` and :func:`rolled_statements` (:mod:`overdue.domain.billing`) on the statement
  day: unbilled purchases, installment periods due by the new due date and the statements paid to their
  minimum roll into one new statement per account.

The expressions read the engine's tables (:mod:`~overdue.setbased.encode`): dates are ``int32`` day
numbers, statuses and buckets small integer codes, so DPD is a subtraction and no string is read or
written on the hot path.

Exactness: amounts are ``int64`` fen and the interest carry ``int64`` carry units. The only divisions
(carry units to fen; 10 % of a principal) are exact ``DECIMAL`` multiplications by 10^-k rounded with SQL
``ROUND(x, 0)``, which rounds half away from zero on DuckDB, PostgreSQL and Spark, as the domain's
:func:`~overdue.domain.money.round_half_up` does. No float is involved anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ibis  # type: ignore[import-untyped]
import ibis.expr.datatypes as dt  # type: ignore[import-untyped]
import ibis.expr.operations as ops  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]

from overdue.setbased.encode import (
    ACTIVE,
    CLOSED,
    CODE,
    COMPLETED_ARRANGEMENT,
    DAY,
    FROZEN,
    SETTLEMENT_KIND,
    WRITTEN_OFF,
)
from overdue.setbased.params import DayTerms, decimal_places, to_units

STOPPED = (WRITTEN_OFF, CLOSED)
"""Statuses on which interest and billing stop (ageing and the bureau go on) — for a closed line only once
nothing is owed on it: while something is, it accrues, ages, bills and is written off like an open one
(:attr:`overdue.domain.state.AccountState.closed_with_nothing_owed`)."""
COMPONENTS = (
    "new_principal",
    "carried_principal",
    "installment_principal",
    "interest",
    "overdue_interest",
    "fees",
)
"""A statement's unpaid components."""


PLACEHOLDERS = {"on": 1_999_000_001, "cutoff": 1_999_000_002, "due": 1_999_000_003, "month": 1_999_000_004}
"""The integers that stand for the business date's numbers in compiled SQL, replaced by the day's values
before it runs (:meth:`overdue.setbased.plan.DayPlan.bind`): no real day or month number comes near them."""


@dataclass(frozen=True)
class Today:
    """The business date and what follows from it, as integer literals (day and month numbers).

    The expressions are compiled once with :data:`PLACEHOLDERS` in place of the numbers, and each day binds
    its own into the SQL text: one compiled plan serves every day, and the engine sees plain constants (a
    scalar subquery per use of the date would cost a join each)."""

    on: ir.IntegerScalar
    """The business date (a day number)."""
    cutoff: ir.IntegerScalar
    """``on`` less the grace days: a statement due before it is past due."""
    due: ir.IntegerScalar
    """The due date of a statement issued on ``on``."""
    month: ir.IntegerScalar
    """``on``'s month number (year * 12 + month - 1)."""

    @classmethod
    def placeholders(cls) -> Today:
        return cls(**{name: ibis.literal(value, type="int32") for name, value in PLACEHOLDERS.items()})


def written_as(value: ir.Value, dtype: dt.DataType | str) -> ir.Value:
    """``value`` cast to ``dtype`` in the SQL itself, even where Ibis takes it to be of that type already.

    Ibis leaves out a cast to the type it infers, and it infers ``int64`` for the sum of ``int64`` values,
    where DuckDB gives ``HUGEINT`` (128 bits) and PostgreSQL ``NUMERIC``. A table made from such a sum kept
    the engine's wider type: after a statement day every amount column of ``statements`` was ``HUGEINT``
    (and so every table made from it, day after day), and the postings' ``amount`` and the collection
    facts' balances were ``HUGEINT`` on every day, each fetched through Arrow's ``decimal128``
    (docs/PERFORMANCE.md, "The sums written as ``int64``")."""
    target = dt.dtype(dtype)
    if value.type() != target:
        return value.cast(target)
    cast: ir.Value = ops.Cast(value, to=target).to_expr()
    return cast


def int_sum(value: ir.IntegerValue, where: ir.BooleanValue | None = None) -> ir.IntegerValue:
    """The sum of ``value`` (an ``int64`` amount: fen), over the rows ``where`` holds, written as ``int64``
    (:func:`written_as`): DuckDB would carry it on as ``HUGEINT`` and PostgreSQL as ``NUMERIC`` into every
    expression that reads it. A sum past ``int64`` is an error on every engine, not a wrap (on Spark because
    :class:`~overdue.setbased.backend.SparkWorkspace` turns ANSI mode on)."""
    summed: ir.IntegerValue = written_as(value.sum(where=where), "int64")
    return summed


def round_half_up(units: ir.IntegerValue, scale: int) -> ir.IntegerValue:
    """``units`` of 10^-scale fen rounded half away from zero to whole fen, exactly (no float).

    The integer becomes ``DECIMAL(18, 0)`` (callers keep it below 10¹⁸), is multiplied by 10^-scale as an
    exact ``DECIMAL(18, scale)`` and rounded with ``ROUND(x, 0)``.
    """
    if scale == 0:
        return units
    factor = ibis.literal(Decimal(1).scaleb(-scale), type=dt.Decimal(18, scale))
    rounded: ir.IntegerValue = (units.cast(dt.Decimal(18, 0)) * factor).round(0).cast("int64")
    return rounded


def share_of(amount: ir.IntegerValue, share: Decimal) -> ir.IntegerValue:
    """``amount × share`` rounded half-up to the fen (the minimum payment's share of principal)."""
    scale = decimal_places(share)
    return round_half_up(amount * to_units(share, scale), scale)


def bucket_of(dpd: ir.IntegerValue, params: DayTerms) -> ir.IntegerValue:
    """:func:`overdue.domain.delinquency.bucket_for` as a ``CASE`` over the product's bucket bounds, giving
    the bucket's code (its number: ``M0`` → 0, ``M7+`` → 7)."""
    branches = [(dpd <= 0, 0), *((dpd <= bound, n) for n, (bound, _) in enumerate(params.bucket_bounds(), 1))]
    result: ir.IntegerValue = ibis.cases(*branches, else_=params.terms.last_bucket).cast(CODE)
    return result


def principal(t: ir.Table) -> ir.IntegerValue:
    """A statement row's unpaid principal."""
    total: ir.IntegerValue = t.new_principal + t.carried_principal + t.installment_principal
    return total


def outstanding(t: ir.Table) -> ir.IntegerValue:
    """Everything unpaid on a statement row."""
    total: ir.IntegerValue = principal(t) + t.interest + t.overdue_interest + t.fees
    return total


def short_of_minimum(t: ir.Table) -> ir.BooleanValue:
    """Less than the minimum (and the late charges) paid: ``Statement.minimum_remaining > 0``."""
    short: ir.BooleanValue = t.minimum + t.late_charges - t.paid > 0
    return short


def past_due(t: ir.Table, day: Today) -> ir.BooleanValue:
    """Past the due date and the grace days."""
    past: ir.BooleanValue = t.due_date < day.cutoff
    return past


def left_join(left: ir.Table, right: ir.Table) -> ir.Table:
    """``left`` with the columns of ``right`` for the same ``account_key`` (nulls where it has none)."""
    right = right.rename(joined_key="account_key")
    joined: ir.Table = left.left_join(right, left.account_key == right.joined_key).drop("joined_key")
    return joined


def runs_on(accounts: ir.Table, day: Today) -> ir.BooleanValue:
    """The accounts whose end-of-day runs today: open by then, and not run for it yet."""
    on = day.on
    runs: ir.BooleanValue = (accounts.opened_on <= on) & (
        accounts.last_eod.isnull() | (accounts.last_eod < on)
    )
    return runs


def accrue(statements: ir.Table, accounts: ir.Table, day: Today, params: DayTerms) -> ir.Table:
    """Statements after one day of interest, with the day's ``overdue_posted`` and ``revolving_posted``.

    Interest accrues on the statements of accounts that run today and are not written off (a closed line
    accrues while something is owed on it; with nothing owed its statements bear nothing anyway). Those
    that do not are few (accounts written off, closed, not open yet or already run), so the statements are
    joined with them alone, a small table, rather than with every account. The rows also carry
    ``account_written_off`` (the account's status before today) and ``account_closed`` (a closed line that
    runs today), which :func:`age` reads instead of joining the accounts again.
    """
    runs = runs_on(accounts, day)
    paused = accounts.paused if "paused" in accounts.columns else ibis.literal(False)
    quiet = accounts.filter(~runs | accounts.status.isin(STOPPED) | paused).select(
        "account_key",
        account_quiet=ibis.literal(True),
        account_written_off=accounts.status == WRITTEN_OFF,
        account_closed=runs & (accounts.status == CLOSED),
        account_paused=paused,
    )
    t = left_join(statements, quiet)
    # Each stage is a column of its own, so that the SQL names it once instead of repeating it.
    t = t.mutate(
        accrues=(t.account_quiet.isnull() | t.account_closed.fill_null(False))
        & ~t.account_paused.fill_null(False),
        account_written_off=t.account_written_off.fill_null(False),
        account_closed=t.account_closed.fill_null(False),
        past=past_due(t, day),
        # a deferred statement bears interest from its original due date (revolving: it is not delinquent)
        bears=t.original_due_date.fill_null(t.due_date) < day.cutoff,
        delinquent_today=short_of_minimum(t) & (outstanding(t) > 0),
    )
    t = t.mutate(
        delinquent_today=t.past & t.delinquent_today,
        base=ibis.ifelse(t.accrues, ibis.ifelse(t.bears, principal(t), t.carried_principal), 0),
    )
    rate = ibis.ifelse(t.delinquent_today, params.overdue_rate_units, params.revolving_rate_units)
    t = t.mutate(exact=t.interest_carry + t.base * rate)
    # Only a positive amount is posted; a carry below minus half a fen is kept (overdue.domain.interest).
    t = t.mutate(posted=ibis.greatest(round_half_up(t.exact, params.carry_scale), 0))
    counts = (t.base > 0) & (t.posted > 0)
    t = t.mutate(
        overdue_posted=ibis.ifelse(counts & t.delinquent_today, t.posted, 0),
        revolving_posted=ibis.ifelse(counts & ~t.delinquent_today, t.posted, 0),
    )
    accrued: ir.Table = t.mutate(
        interest_carry=ibis.ifelse(t.base > 0, t.exact - t.posted * params.carry_unit, t.interest_carry),
        overdue_interest=t.overdue_interest + t.overdue_posted,
        late_charges=t.late_charges + t.overdue_posted,
        interest=t.interest + t.revolving_posted,
    ).drop(
        "account_quiet",
        "account_paused",
        "accrues",
        "past",
        "bears",
        "delinquent_today",
        "base",
        "exact",
        "posted",
    )
    return accrued


def closed_lines_owing(accounts: ir.Table, unbilled: ir.Table, periods: ir.Table) -> ir.Table:
    """What the closed lines owe outside their statements: unbilled purchases and the principal of
    installment periods not billed yet (``account_key``, ``owed_elsewhere``; closed lines are few, so both
    tables are joined with them alone — an inner join on the closed lines' keys, which DuckDB builds on the
    closed lines, where for a semi-join it built on the 6 M unbilled cycles)."""
    closed = accounts.filter(accounts.status == CLOSED).select(closed_key=accounts.account_key)
    u = unbilled.join(closed, unbilled.account_key == closed.closed_key)
    p = periods.filter(~periods.billed)
    p = p.join(closed, p.account_key == closed.closed_key)
    rows = ibis.union(
        u.select("account_key", owed=u.principal), p.select("account_key", owed=p.principal.cast("int64"))
    )
    owing: ir.Table = rows.group_by("account_key").aggregate(owed_elsewhere=int_sum(rows.owed))
    return owing


def age(
    accounts: ir.Table,
    accrued: ir.Table,
    day: Today,
    params: DayTerms,
    elsewhere: ir.Table | None = None,
    statement_day: bool = False,
) -> ir.Table:
    """Accounts after DPD, bucket, freeze/unfreeze and write-off.

    Besides the engine's account columns the rows carry what the later steps and outputs read: ``runs``,
    ``writes_off``, ``bucket_changed``, ``old_bucket`` and ``old_bucket_entered``; on a statement day
    ``bills``, and on a statement day or a month end ``closed_owing``. They stay on the table (the next day
    ignores them): copying the account columns into a table of their own would cost more than carrying
    them.

    Only the statements that matter are aggregated: the delinquent ones (for DPD), those with overdue
    interest unpaid (which keeps a line frozen) and those of closed lines (whether something is still owed
    on them) — on an ordinary portfolio a small share of all statements, so the aggregate and the join with
    the accounts stay small.

    elsewhere: :func:`closed_lines_owing`, on the days that bill or report to the bureau (where a closed
    line owing nothing stops); on other days ``closed_owing`` counts the statements only, and nothing reads
    it, and the rows do not carry it.

    statement_day: the rows carry ``bills`` (read by billing alone; on other days they do not carry it:
    each column the step writes costs, and most of a day's cost is writing its rows).
    """
    terms = params.terms
    # Once written off the whole claim is due: any statement past due with something unpaid is overdue.
    a = accrued.mutate(
        delinquent=past_due(accrued, day)
        & (outstanding(accrued) > 0)
        & (accrued.account_written_off | short_of_minimum(accrued))
    )
    flagged = a.filter(a.delinquent | (a.overdue_interest != 0) | a.account_closed)
    per_account = flagged.group_by("account_key").aggregate(
        oldest_due=flagged.due_date.min(where=flagged.delinquent),
        unpaid_overdue_interest=int_sum(flagged.overdue_interest),
        closed_owed=int_sum(outstanding(flagged), where=flagged.account_closed),
    )
    t = left_join(accounts.mutate(runs=runs_on(accounts, day)), per_account)
    owed = t.closed_owed.fill_null(0)
    if elsewhere is not None:
        t = left_join(t, elsewhere)
        owed = t.closed_owed.fill_null(0) + t.owed_elsewhere.fill_null(0)
    t = t.mutate(closed_owing=(t.status == CLOSED) & (owed > 0))
    # Each stage is a column of its own, so that the SQL names it once instead of repeating it.
    days_late = t.oldest_due.notnull().ifelse(day.on - t.oldest_due, 0)
    # an account under an active relief arrangement runs but does not age (nor bill)
    ages = t.runs & ~t.paused if "paused" in t.columns else t.runs
    t = t.mutate(ages=ages)
    t = t.mutate(new_dpd=ibis.ifelse(t.ages, days_late, t.days_past_due).cast("int32"))
    t = t.mutate(
        new_bucket=ibis.ifelse(t.ages, bucket_of(t.new_dpd, params), t.bucket),
        # a closed line owing nothing has no DPD, so it never reaches the write-off
        going=t.ages & (t.status != WRITTEN_OFF),
    )
    t = t.mutate(writes_off=t.going & (t.new_dpd >= terms.write_off_at_dpd))
    freezes = t.going & ~t.writes_off & (t.status == ACTIVE) & (t.new_dpd >= terms.freeze_at_dpd)
    cured = (t.new_dpd == 0) & (t.unpaid_overdue_interest.fill_null(0) == 0)
    unfreezes = t.going & ~t.writes_off & (t.status == FROZEN) & cured
    t = t.mutate(
        new_status=ibis.cases(
            (t.writes_off, WRITTEN_OFF), (freezes, FROZEN), (unfreezes, ACTIVE), else_=t.status
        ).cast(CODE),
        bucket_changed=t.ages & (t.new_bucket != t.bucket),
    )
    aged = t.mutate(
        old_bucket=t.bucket,
        old_bucket_entered=t.bucket_entered,
        days_past_due=t.new_dpd,
        bucket=t.new_bucket,
        bucket_entered=ibis.ifelse(t.bucket_changed, day.on, t.bucket_entered),
        negative_notice_on=ibis.ifelse(
            t.ages & (t.new_dpd > 0) & t.negative_notice_on.isnull(), day.on, t.negative_notice_on
        ),
        status=t.new_status,
        written_off_on=ibis.ifelse(t.writes_off, day.on, t.written_off_on),
        bills=t.ages & (t.new_status != WRITTEN_OFF) & ((t.new_status != CLOSED) | t.closed_owing),
        last_eod=ibis.ifelse(t.runs, day.on, t.last_eod),
    ).drop(
        "ages",
        *(["paused"] if "paused" in t.columns else []),
        "new_dpd",
        "new_bucket",
        "going",
        "new_status",
        "oldest_due",
        "unpaid_overdue_interest",
        "closed_owed",
    )
    # closed_owing is read only where elsewhere is given (billing, the bureau)
    aged = aged.drop("owed_elsewhere") if elsewhere is not None else aged.drop("closed_owing")
    if not statement_day:
        aged = aged.drop("bills")
    return aged


def bureau_month(
    bureau: ir.Table, aged: ir.Table, day: Today, months: int, arrangements: ir.Table | None = None
) -> ir.Table:
    """The ``bureau`` table after a month end: this month's status
    (:func:`overdue.domain.delinquency.bureau_status`) appended to the grid of every account that ran,
    keeping the last ``months``; a month already on the grid is replaced. ``bureau_status`` is the status
    reported today (null: the account did not run).

    arrangements: the relief arrangements (engine ``arrangements``): an account whose settlement was
    completed is reported ``G`` (settled for less)."""
    b = bureau.join(aged.select("account_key", "runs", "status", "bucket", "closed_owing"), "account_key")
    settled = ibis.literal(False)
    if arrangements is not None:
        done = arrangements.filter(
            (arrangements.kind == SETTLEMENT_KIND) & (arrangements.status == COMPLETED_ARRANGEMENT)
        )
        b = left_join(b, done.select("account_key", settled=ibis.literal(True)))
        settled = b.settled.fill_null(False)
    this = day.month
    code = ibis.cases(
        (settled, "G"),
        (b.status == WRITTEN_OFF, "B"),
        ((b.status == CLOSED) & ~b.closed_owing, "C"),
        (b.bucket == 0, "N"),
        else_=b.bucket.cast("string"),
    )
    grid = b.bureau_grid.fill_null("")
    kept = ibis.ifelse(b.bureau_last_month == this, grid.substr(0, grid.length() - 1), grid)
    after: ir.Table = b.select(
        account_key=b.account_key,
        bureau_grid=ibis.ifelse(b.runs, (kept + code).right(months), b.bureau_grid),
        bureau_last_month=ibis.ifelse(b.runs, this, b.bureau_last_month).cast("int32"),
        bureau_status=ibis.ifelse(b.runs, code, ibis.null("string")),
    )
    return after


def billed_unbilled(unbilled: ir.Table, day: Today) -> ir.BooleanValue:
    """Unbilled cycles that today's statement bills where the account bills (the callers add its
    ``bills``: :func:`with_bills`)."""
    billed: ir.BooleanValue = unbilled.statement_date <= day.on
    return billed


def due_periods(periods: ir.Table, day: Today) -> ir.BooleanValue:
    """Installment periods that today's statement bills where the account bills (the callers add its
    ``bills``)."""
    billed: ir.BooleanValue = ~periods.billed & (periods.due_date <= day.due)
    return billed


def rolls(statements: ir.Table, day: Today) -> ir.BooleanValue:
    """Statements that roll into today's statement where the account bills (the callers add its
    ``bills``): unpaid, due before today, and not short of their minimum past their due date (and
    grace)."""
    s = statements
    delinquent = past_due(s, day) & short_of_minimum(s)
    rolled: ir.BooleanValue = (outstanding(s) > 0) & (s.due_date < day.on) & ~delinquent
    return rolled


def with_bills(table: ir.Table, aged: ir.Table) -> ir.Table:
    """``table`` with each row's account's ``bills`` flag.

    Nearly every account bills on a statement day; those that do not (not run, written off, paused, a
    closed line owing nothing) are few, so the rows are joined with them alone, a small table, rather than
    with all the accounts (as :func:`accrue` joins the statements with the quiet accounts)."""
    idle = aged.filter(~aged.bills).select(idle_key=aged.account_key, idle=ibis.literal(True))
    joined = table.left_join(idle, table.account_key == idle.idle_key).drop("idle_key")
    flagged: ir.Table = joined.mutate(bills=joined.idle.isnull()).drop("idle")
    return flagged


def new_statements(
    aged: ir.Table, accrued: ir.Table, unbilled: ir.Table, periods: ir.Table, day: Today, params: DayTerms
) -> ir.Table:
    """The statement of ``on`` of every account that bills today and has anything to bill
    (:func:`overdue.domain.billing.bill`). The installment fees it bills are posted from
    :func:`installment_fees_billed`."""
    terms = params.terms
    # Only the rows billed today are summed (filtered first), and only the accounts with such rows get a
    # statement. The three kinds of rows are put under one set of columns (zero where a kind has none)
    # and summed in one grouping: cheaper than a grouping per kind, the union of their accounts and a
    # join of each kind's sums back onto it. Each column summed costs on every row, so the fees carried
    # and the installment fees share one. The accounts that do not bill are left out after the grouping,
    # not before: DuckDB's grouping of the rows coming out of a join took twice as long as of the same
    # rows read from tables (docs/PERFORMANCE.md, "A statement day's billing").
    zero = ibis.literal(0, type="int64")
    parts = {
        "new_principal": zero,
        "installment_principal": zero,
        "carried_principal": zero,
        "carried_interest": zero,
        "carried_overdue_interest": zero,
        "fees": zero,
        "carried_carry": zero,
    }
    u = unbilled.filter(billed_unbilled(unbilled, day))
    p = periods.filter(due_periods(periods, day))
    s = accrued.filter(rolls(accrued, day))
    rows = ibis.union(
        u.select("account_key", **(parts | {"new_principal": u.principal})),
        p.select("account_key", **(parts | {"installment_principal": p.principal, "fees": p.fee})),
        s.select(
            "account_key",
            **(
                parts
                | {
                    "carried_principal": principal(s),
                    "carried_interest": s.interest,
                    "carried_overdue_interest": s.overdue_interest,
                    "fees": s.fees,
                    "carried_carry": s.interest_carry,
                }
            ),
        ),
    )
    sums = rows.group_by("account_key").aggregate(**{name: int_sum(rows[name]) for name in parts})
    t = with_bills(sums, aged)
    t = t.filter(t.bills)
    f = {name: t[name].fill_null(0) for name in parts}
    interest_billed = f["carried_interest"] + f["carried_overdue_interest"]
    purchases = f["new_principal"] + f["carried_principal"]
    new = t.select(
        account_key=t.account_key,
        statement_date=day.on,
        due_date=day.due,
        amount=purchases + f["installment_principal"] + interest_billed + f["fees"],
        minimum=share_of(purchases, terms.minimum_principal_share)
        + f["installment_principal"]
        + interest_billed
        + f["fees"],
        new_principal=f["new_principal"],
        carried_principal=f["carried_principal"],
        installment_principal=f["installment_principal"],
        interest=f["carried_interest"],
        overdue_interest=f["carried_overdue_interest"],
        fees=f["fees"],
        paid=zero,
        late_charges=zero,
        interest_carry=f["carried_carry"],
        installed=ibis.literal(False),
        closed_on=ibis.null(DAY),
        original_due_date=ibis.null(DAY),
    )
    filtered: ir.Table = new.filter(new.amount > 0)
    return filtered


def installment_fees_billed(periods: ir.Table, aged: ir.Table, day: Today) -> ir.Table:
    """The installment fees today's statements bill, per account (``account_key``, ``installment_fee``;
    accounts billing none left out).

    Read apart from :func:`new_statements`, so that the new statements need not be written as a table of
    their own for the postings to read them (they go into ``statements_next`` directly): an account billing
    a fee has a statement, since the fee is part of its amount and no component is negative."""
    p = periods.filter(due_periods(periods, day) & (periods.fee != 0))
    fees = with_bills(p.group_by("account_key").aggregate(installment_fee=int_sum(p.fee)), aged)
    billed: ir.Table = fees.filter(fees.bills & (fees.installment_fee > 0)).drop("bills")
    return billed


def rolled_statements(accrued: ir.Table, aged: ir.Table, day: Today) -> ir.Table:
    """The accrued statements with those that rolled into today's statement emptied and closed."""
    s = with_bills(accrued, aged)
    rolled = s.bills & rolls(s, day)
    zero = ibis.literal(0, type="int64")
    emptied: ir.Table = s.mutate(
        **{name: ibis.ifelse(rolled, zero, s[name]) for name in COMPONENTS},
        interest_carry=ibis.ifelse(rolled, zero, s.interest_carry),
        closed_on=ibis.ifelse(rolled, day.on, s.closed_on),
    )
    return emptied


def unbilled_after(unbilled: ir.Table, aged: ir.Table, day: Today) -> ir.Table:
    """The unbilled cycles left after today's statements."""
    u = with_bills(unbilled, aged)
    left: ir.Table = u.filter(~(u.bills & billed_unbilled(u, day)))
    return left


def periods_after(periods: ir.Table, aged: ir.Table, day: Today) -> ir.Table:
    """The installment periods with those billed today marked billed."""
    p = with_bills(periods, aged)
    marked: ir.Table = p.mutate(billed=p.billed | (p.bills & due_periods(p, day)))
    return marked
