"""The limit review as Ibis expressions over whole tables: the same rules as the reference's
:mod:`overdue.engine.limits`, for every account that ran the day at once.

After a day's accrue → age → bill (:class:`~overdue.setbased.day.Portfolio`), for the accounts that ran:

1. :func:`subjects` — the accounts concerned today (those with a recorded change whose effective date has
   come, and on a review day every account that ran) with what the rules read: status, DPD, limit, the
   principal owed (billed, unbilled and of future installment periods: ``AccountState.principal``), and the
   change due (at most one: :meth:`overdue.setbased.limits_run.LimitReviewer.run_day` refuses more);
2. :func:`applied` — the change due applied (:func:`overdue.risk.changes.limit_to_apply`: a cut at most down
   to what is owed then, ``CUT_LIMITED_BY_BALANCE`` added when it stops there; a freeze freezes an active
   line, a close closes an active or frozen one);
3. :func:`cycles` — on a review day, the finished cycles of each account from every statement it has had
   (the unpaid ones, the settled ones and the older ``history`` the state does not hold): on time when no
   delinquent bucket spell covers the day after the due date and grace, minimum only when paid on time but
   rolled (partly paid and not installed, or the next statement carries principal), each with the limit in
   force on its statement date (:func:`overdue.risk.changes.limit_in_force`), ranked from the latest;
4. :func:`decisions` — :func:`overdue.risk.review.review_limit` as one ``CASE`` per account over the cycles'
   aggregates (:func:`cycle_facts`) and the account's past changes and bucket history
   (:func:`history_facts`), and :func:`overdue.risk.changes.is_change` (a raise or cut always; a freeze or
   close once per delinquency episode): one row per change to record, with its reason codes as the
   reference joins them;
5. :func:`settled_today`, :func:`changes_after`, :func:`with_settled` — the accounts' status and limit after
   both, the ``limit_changes`` table with the changes applied today marked and today's recorded, and the
   accounts and facts tables rewritten with them.

Exactness: limits and amounts are integer fen; shares of a limit are rounded down exactly (``DECIMAL`` times
10^-k, ``FLOOR``), steps by integer remainders. Utilisation is compared without dividing: a cycle is near
full when ``amount × 10^k ≥ units × limit``, and the mean utilisation of the raise window — cycles measured
against up to three different limits — is compared with the healthy range over a common denominator in
``DECIMAL(38, 0)``; the rare window with more limits is measured in Python by
:class:`~overdue.setbased.limits_run.LimitReviewer`, as the reference measures it. The reference
divides ``Decimal``\\ s to 28 digits, which agrees with the exact comparison except for a mean that lies
within 10^-27 of a bound without being equal to it.
"""

from __future__ import annotations

from decimal import Decimal

import ibis  # type: ignore[import-untyped]
import ibis.expr.datatypes as dt  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]

from overdue.risk.review import ReviewParameters
from overdue.setbased.collect_act import MESSAGES
from overdue.setbased.encode import ACTIVE, CLOSED, CODE, DAY, FROZEN, WRITTEN_OFF
from overdue.setbased.params import decimal_places, to_units
from overdue.setbased.steps import Today, int_sum, left_join, principal

LIMIT_CHANGE_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("account_key", pa.int64(), "the account"),
    ("review_date", pa.date32(), "the review that decided the change; with the account, its key"),
    ("effective_on", pa.date32(), "when the change takes effect (a cut after its notice period)"),
    ("action", pa.string(), "raise | cut | freeze | close"),
    ("old_limit", pa.int64(), "the limit when it was decided, fen"),
    ("new_limit", pa.int64(), "the limit it sets, fen (once applied: the limit it did set)"),
    ("reasons", pa.string(), "reason codes, space-separated (overdue.risk.reasons)"),
    ("model_version", pa.string(), "the review policy's version"),
    ("applied_on", pa.date32(), "when it was applied (null: waiting for its effective date)"),
)
"""``limit_changes``: every change the review recorded, as the store keeps it (fen, dates)."""
HISTORY_COLUMNS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("account_key", pa.int64(), "the account"),
    ("statement_date", pa.date32(), "statement date"),
    ("due_date", pa.date32(), "its due date"),
    ("amount", pa.int64(), "what was billed, fen"),
    ("carried_principal", pa.int64(), "principal it carries from earlier statements, unpaid now, fen"),
    ("paid", pa.int64(), "what repayments allocated to it, fen"),
    ("installed", pa.bool_(), "put into bill installments"),
)
"""``statement_history``: statements the state tables do not hold (settled ones before the run), with the
fields the review reads; empty when the state holds every statement (as states built by the domain do)."""


def _schema(columns: tuple[tuple[str, pa.DataType, str], ...]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind, _ in columns])


LIMIT_CHANGES = _schema(LIMIT_CHANGE_COLUMNS)
STATEMENT_HISTORY = _schema(HISTORY_COLUMNS)
ENGINE_LIMIT_CHANGES = pa.schema(
    [pa.field(f.name, pa.int32() if f.type == pa.date32() else f.type) for f in LIMIT_CHANGES]
)
ENGINE_STATEMENT_HISTORY = pa.schema(
    [pa.field(f.name, pa.int32() if f.type == pa.date32() else f.type) for f in STATEMENT_HISTORY]
)
NOTICE_ACTION_ROWS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("template", pa.string(), nullable=False),
        pa.field("party", pa.string(), nullable=False),
        pa.field("priority", pa.int32(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)
"""The ``limit_notice`` actions, one per change recorded today (the reference's ``collection_actions``
row: type ``sms``, stage ``limit_review``, queued, its reason codes)."""
NOTICE_MESSAGES = MESSAGES
"""The outbox's rows of the notices (the collection half's message layout)."""
REVIEW_STATEMENT_COLUMNS = tuple(STATEMENT_HISTORY.names)
RAISE_CUT = ("raise", "cut")
LIMITED = "CUT_LIMITED_BY_BALANCE"


def _int(value: int) -> ir.IntegerScalar:
    return ibis.literal(value, type="int64")


def _down_to_step(amount: ir.IntegerValue, step: int) -> ir.IntegerValue:
    """``amount`` (not negative) rounded down to a whole ``step``."""
    down: ir.IntegerValue = amount - amount % step
    return down


def _up_to_step(amount: ir.IntegerValue, step: int) -> ir.IntegerValue:
    """``amount`` (not negative) rounded up to a whole ``step`` (:func:`overdue.risk.review.up_to_step`)."""
    up: ir.IntegerValue = amount + (step - amount % step) % step
    return up


def _share_down(amount: ir.IntegerValue, share: Decimal) -> ir.IntegerValue:
    """``amount × share`` rounded down to whole fen, exactly (:func:`overdue.risk.review._share`)."""
    scale = decimal_places(share)
    units = amount * to_units(share, scale)
    if scale == 0:
        return units
    factor = ibis.literal(Decimal(1).scaleb(-scale), type=dt.Decimal(38, scale))
    floored: ir.IntegerValue = (units.cast(dt.Decimal(38, 0)) * factor).floor().cast("int64")
    return floored


def _greatest(a: ir.IntegerValue, b: ir.IntegerValue | int) -> ir.IntegerValue:
    return ibis.ifelse(a >= b, a, b)


def _least(a: ir.IntegerValue, b: ir.IntegerValue | int) -> ir.IntegerValue:
    return ibis.ifelse(a <= b, a, b)


def cut_floor(owed: ir.IntegerValue, p: ReviewParameters) -> ir.IntegerValue:
    """:func:`overdue.risk.review.cut_floor`: the minimum limit, and never below what is owed (rounded up)."""
    return _greatest(_up_to_step(owed, p.limit_step), p.minimum_limit)


def owed_principal(statements: ir.Table, unbilled: ir.Table, periods: ir.Table) -> ir.Table:
    """Per account: the principal owed, billed, unbilled and of installment periods not billed yet
    (``AccountState.principal``): a cut never goes below it."""
    s = statements.select("account_key", owed=principal(statements))
    u = unbilled.select("account_key", owed=unbilled.principal)
    p = periods.filter(~periods.billed)
    p = p.select("account_key", owed=p.principal.cast("int64"))
    rows = ibis.union(s, u, p, distinct=False)
    sums: ir.Table = rows.group_by("account_key").aggregate(principal_owed=int_sum(rows.owed))
    return sums


def subjects(
    accounts: ir.Table,
    facts: ir.Table,
    owed: ir.Table,
    changes: ir.Table,
    day: Today,
    review_day: bool,
) -> ir.Table:
    """The accounts the review concerns today, with the change due on each (``due_*``, null: none): when
    several are due, the first by effective date (then review date), as the reference applies them in turn
    (:class:`~overdue.setbased.limits_run.LimitReviewer` applies the others in further rounds).

    accounts: the accounts after the day (``runs`` says which ran); facts: their limits; owed:
    :func:`owed_principal`."""
    ran = accounts.filter(accounts.runs)
    due = changes.filter(changes.applied_on.isnull() & (changes.effective_on <= day.on))
    due = due.mutate(
        turn=ibis.row_number().over(group_by=due.account_key, order_by=[due.effective_on, due.review_date])
    )
    due = due.filter(due.turn == 0)
    due = due.select(
        "account_key",
        due_review_date=due.review_date,
        due_action=due.action,
        due_new_limit=due.new_limit,
        due_reasons=due.reasons,
    )
    if not review_day:
        ran = ran.semi_join(due, ran.account_key == due.account_key)
    t = ran.select("account_key", "status", "days_past_due")
    t = t.join(facts.select("account_key", "credit_limit"), "account_key")
    t = left_join(t, owed)
    t = left_join(t, due)
    picked: ir.Table = t.mutate(principal_owed=t.principal_owed.fill_null(0))
    return picked


def _apply_status(status: ir.IntegerValue, action: ir.StringValue) -> ir.IntegerValue:
    """:func:`overdue.risk.changes.apply_change`'s status: a freeze freezes an active line, a close closes an
    active or frozen one."""
    after: ir.IntegerValue = ibis.cases(
        ((action == "freeze") & (status == ACTIVE), FROZEN),
        ((action == "close") & status.isin([ACTIVE, FROZEN]), CLOSED),
        else_=status,
    ).cast(CODE)
    return after


def applied(subject: ir.Table, p: ReviewParameters) -> ir.Table:
    """The subjects after the change due is applied: ``limit_now``, ``status_now``, and for the change
    ``due_applied_limit`` and ``due_applied_reasons`` (:func:`overdue.risk.changes.limit_to_apply`)."""
    t = subject
    has = t.due_action.notnull()
    floor = _least(cut_floor(t.principal_owed, p), t.credit_limit)
    held = has & (t.due_new_limit < t.credit_limit) & (floor > t.due_new_limit)
    t = t.mutate(
        due_applied_limit=ibis.ifelse(held, floor, t.due_new_limit),
        due_applied_reasons=ibis.ifelse(
            held & ~t.due_reasons.contains("LIMITED"), t.due_reasons + " " + LIMITED, t.due_reasons
        ),
    )
    after: ir.Table = t.mutate(
        limit_now=ibis.ifelse(has, t.due_applied_limit, t.credit_limit),
        status_now=ibis.ifelse(has, _apply_status(t.status, t.due_action), t.status),
    )
    return after


def changes_in_force(changes: ir.Table, subject: ir.Table, day: Today) -> ir.Table:
    """``changes`` with the changes due today marked applied (what the review then reads)."""
    done = subject.filter(subject.due_action.notnull()).select(
        done_key=subject.account_key,
        done_review_date=subject.due_review_date,
        done_limit=subject.due_applied_limit,
        done_reasons=subject.due_applied_reasons,
    )
    c = changes.left_join(
        done, (changes.account_key == done.done_key) & (changes.review_date == done.done_review_date)
    )
    hit = c.done_key.notnull()
    marked: ir.Table = c.select(
        "account_key",
        "review_date",
        "effective_on",
        "action",
        "old_limit",
        new_limit=ibis.ifelse(hit, c.done_limit, c.new_limit),
        reasons=ibis.ifelse(hit, c.done_reasons, c.reasons),
        model_version=c.model_version,
        applied_on=ibis.ifelse(hit, day.on, c.applied_on).cast(DAY),
    )
    return marked


def all_spells(closed: ir.Table, accounts: ir.Table) -> ir.Table:
    """Every bucket spell: the closed ones and each account's open spell."""
    open_spells = accounts.filter(accounts.bucket_entered.notnull()).select(
        "account_key", bucket=accounts.bucket, entered=accounts.bucket_entered, left=ibis.null(DAY)
    )
    spells: ir.Table = ibis.union(closed.select("account_key", "bucket", "entered", "left"), open_spells)
    return spells


def marked_cycles(s: ir.Table, spells: ir.Table) -> ir.Table:
    """Finished cycles ``s`` (statements with ``checked_on``, the day after the due date and grace, and
    ``following_carried``, the next statement's carried principal) marked as
    :func:`overdue.risk.review.cycles_from_history` marks them: ``on_time`` (no delinquent spell of
    ``spells`` covers ``checked_on``) and ``rolled`` (partly paid and not installed, or the next statement
    carries principal)."""
    late = spells.filter(spells.bucket != 0)
    covered = (
        s.join(
            late,
            (s.account_key == late.account_key)
            & (late.entered <= s.checked_on)
            & (late.left.isnull() | (s.checked_on < late.left)),
        )
        .select(late_key=s.account_key, late_date=s.statement_date)
        .distinct()
        .mutate(is_late=ibis.literal(True))
    )
    s = s.left_join(covered, (s.account_key == covered.late_key) & (s.statement_date == covered.late_date))
    s = s.drop("late_key", "late_date")
    partly_paid = (s.paid > 0) & (s.paid < s.amount) & ~s.installed
    marked: ir.Table = s.mutate(
        on_time=s.is_late.isnull(), rolled=partly_paid | (s.following_carried.fill_null(0) > 0)
    ).drop("is_late")
    return marked


def cycles(
    statements: ir.Table,
    spells: ir.Table,
    changes: ir.Table,
    reviewed: ir.Table,
    day: Today,
    grace_days: int,
    window: int,
) -> ir.Table:
    """The last ``window`` finished cycles of each reviewed account, ranked ``n`` from the latest (0), with
    ``on_time``, ``minimum_only`` and the ``cycle_limit`` in force on the statement date; ``finished``
    counts all the account's finished cycles.

    statements: every statement (the review's columns); spells: :func:`all_spells`; changes:
    :func:`changes_in_force`; reviewed: the accounts reviewed, with their ``limit_now``."""
    keys = reviewed.select(review_key=reviewed.account_key)
    s = statements.semi_join(keys, statements.account_key == keys.review_key)
    s = s.mutate(
        following_carried=s.carried_principal.lead().over(group_by=s.account_key, order_by=s.statement_date),
        checked_on=s.due_date + (grace_days + 1),
    )
    s = s.filter(s.checked_on <= day.on)
    s = s.mutate(
        n=ibis.row_number().over(group_by=s.account_key, order_by=ibis.desc(s.statement_date)),
        finished=s.account_key.count().over(group_by=s.account_key),
    )
    s = marked_cycles(s.filter(s.n < window), spells)
    s = s.mutate(minimum_only=s.on_time & s.rolled).drop("rolled")
    moved = changes.filter(changes.applied_on.notnull() & (changes.new_limit != changes.old_limit))
    moved = moved.select(
        moved_key=moved.account_key,
        moved_on=moved.applied_on,
        moved_review=moved.review_date,
        moved_old=moved.old_limit,
    )
    later = s.select("account_key", "statement_date").join(
        moved, (s.account_key == moved.moved_key) & (moved.moved_on > s.statement_date)
    )
    later = later.mutate(
        first=ibis.row_number().over(
            group_by=[later.account_key, later.statement_date], order_by=[later.moved_on, later.moved_review]
        )
    )
    then = later.filter(later.first == 0).select(
        then_key=later.account_key, then_date=later.statement_date, then_limit=later.moved_old
    )
    s = s.left_join(then, (s.account_key == then.then_key) & (s.statement_date == then.then_date))
    limits = reviewed.select(limit_key=reviewed.account_key, current_limit=reviewed.limit_now)
    s = s.join(limits, s.account_key == limits.limit_key)
    ranked: ir.Table = s.mutate(cycle_limit=s.then_limit.fill_null(s.current_limit)).drop(
        "then_key", "then_date", "then_limit", "limit_key", "current_limit", "following_carried"
    )
    return ranked


def _count(t: ir.Table, where: ir.BooleanValue) -> ir.IntegerValue:
    counted: ir.IntegerValue = t.account_key.count(where=where).cast("int64")
    return counted


def _decimal(value: ir.IntegerValue | int) -> ir.DecimalValue:
    if isinstance(value, int):
        return ibis.literal(value, type=dt.Decimal(38, 0))
    as_decimal: ir.DecimalValue = value.cast(dt.Decimal(38, 0))
    return as_decimal


def cycle_facts(cyc: ir.Table, p: ReviewParameters) -> ir.Table:
    """Per account, what the rules read of its last cycles: counts over the cut and raise windows, and the
    mean utilisation of the raise window against the healthy range (``healthy``), exactly; ``limits`` is the
    number of different limits in the raise window (the common denominator holds three;
    :class:`~overdue.setbased.limits_run.LimitReviewer` measures the windows with more)."""
    near_scale = decimal_places(p.near_full_utilisation)
    near = cyc.amount * 10**near_scale >= to_units(p.near_full_utilisation, near_scale) * cyc.cycle_limit
    counts = cyc.group_by("account_key").aggregate(
        finished=cyc.finished.max().cast("int64"),
        full_n=_count(cyc, cyc.n < p.near_full_cycles),
        full_hits=_count(cyc, (cyc.n < p.near_full_cycles) & near),
        minimum_only=_count(cyc, (cyc.n < p.minimum_only_window) & cyc.minimum_only),
        raise_n=_count(cyc, cyc.n < p.raise_after_cycles),
        on_time_n=_count(cyc, (cyc.n < p.raise_after_cycles) & cyc.on_time),
    )
    w = cyc.filter(cyc.n < p.raise_after_cycles)
    w = w.mutate(r=ibis.dense_rank().over(group_by=w.account_key, order_by=w.cycle_limit))
    sums = w.group_by("account_key").aggregate(
        limits=(w.r.max() + 1).cast("int64"),
        **{f"s{k}": int_sum(w.amount, where=w.r == k) for k in range(3)},
        **{f"l{k}": w.cycle_limit.max(where=w.r == k) for k in range(3)},
    )
    scale = max(decimal_places(p.healthy_utilisation_min), decimal_places(p.healthy_utilisation_max))
    s = [_decimal(sums[f"s{k}"].fill_null(0)) for k in range(3)]
    lim = [_decimal(sums[f"l{k}"].fill_null(1)) for k in range(3)]
    # sum of s_k / l_k over a common denominator, times 10^scale: exact in DECIMAL(38, 0)
    numerator = (s[0] * lim[1] * lim[2] + s[1] * lim[0] * lim[2] + s[2] * lim[0] * lim[1]) * _decimal(
        10**scale
    )
    denominator = lim[0] * lim[1] * lim[2] * _decimal(p.raise_after_cycles)
    low = _decimal(to_units(p.healthy_utilisation_min, scale)) * denominator
    high = _decimal(to_units(p.healthy_utilisation_max, scale)) * denominator
    mean = sums.select("account_key", "limits", healthy=(numerator >= low) & (numerator <= high))
    facts: ir.Table = counts.join(mean, "account_key")
    return facts


def history_facts(changes: ir.Table, spells: ir.Table, reviewed: ir.Table) -> ir.Table:
    """Per reviewed account: the latest recorded change (``last_action``, ``last_review``), the effective
    date of the latest raise or cut (``last_move``), and when the current delinquency episode began
    (``episode_start``, :func:`overdue.risk.changes.delinquent_since`; null: current)."""
    keys = reviewed.select("account_key")
    c = changes.semi_join(keys, changes.account_key == keys.account_key)
    c = c.mutate(k=ibis.row_number().over(group_by=c.account_key, order_by=ibis.desc(c.review_date)))
    last = c.filter(c.k == 0).select("account_key", last_action=c.action, last_review=c.review_date)
    moves = c.filter(c.action.isin(list(RAISE_CUT)))
    moved = moves.group_by("account_key").aggregate(last_move=moves.effective_on.max())
    sp = spells.semi_join(keys, spells.account_key == keys.account_key)
    sp = sp.mutate(
        last_current=ibis.ifelse(sp.bucket == 0, sp.entered, ibis.null(DAY))
        .max()
        .over(group_by=sp.account_key)
    )
    episode = sp.group_by("account_key").aggregate(
        episode_start=sp.entered.min(where=sp.last_current.isnull() | (sp.entered > sp.last_current))
    )
    t = left_join(left_join(left_join(keys, last), moved), episode)
    return t


def decisions(
    reviewed: ir.Table, facts: ir.Table, history: ir.Table, day: Today, p: ReviewParameters
) -> ir.Table:
    """The review's changes to record today: one row per account whose decision
    (:func:`overdue.risk.review.review_limit`) is a change (:func:`overdue.risk.changes.is_change`) —
    ``action``, ``old_limit``, ``new_limit``, ``effective_on`` and ``reasons`` as the reference joins them.

    reviewed: the accounts reviewed (after the change due, not closed) with ``limit_now``, ``status_now``,
    ``days_past_due`` and ``principal_owed``; facts: :func:`cycle_facts` (an account without a finished
    cycle has none and is not reviewed); history: :func:`history_facts`."""
    t = reviewed.join(facts, "account_key")
    t = left_join(t, history)
    limit = t.limit_now
    cut_near = (t.full_n == p.near_full_cycles) & (t.full_hits == p.near_full_cycles)
    cut_min = t.minimum_only >= p.minimum_only_cycles
    cut_to = _greatest(_down_to_step(limit - _share_down(limit, p.cut_share), p.limit_step), p.minimum_limit)
    floor = cut_floor(t.principal_owed, p)
    raise_by = _least(
        _greatest(_down_to_step(_share_down(limit, p.raise_share), p.limit_step), p.limit_step),
        p.raise_step_max,
    )
    recent = t.last_move.notnull() & (day.on - t.last_move < p.min_days_between_changes)
    raises = (
        (t.raise_n == p.raise_after_cycles)
        & (t.on_time_n == p.raise_after_cycles)
        & t.healthy.fill_null(False)
        & ~recent
        & (limit < p.raise_cap)
    )
    t = t.mutate(
        action=ibis.cases(
            (t.status_now == WRITTEN_OFF, "close"),
            (t.days_past_due >= p.close_dpd, "close"),
            (t.days_past_due >= p.freeze_dpd, "freeze"),
            (t.status_now == FROZEN, "freeze"),
            ((cut_near | cut_min) & (cut_to < limit) & (floor < limit), "cut"),
            (cut_near | cut_min, "keep"),
            (raises, "raise"),
            else_="keep",
        ),
        cut_reasons=ibis.cases(
            (cut_near & cut_min, "CUT_NEAR_FULL_UTILISATION CUT_MINIMUM_ONLY"),
            (cut_near, "CUT_NEAR_FULL_UTILISATION"),
            else_="CUT_MINIMUM_ONLY",
        ),
        capped=limit + raise_by > p.raise_cap,
    )
    t = t.mutate(
        new_limit=ibis.cases(
            (t.action == "cut", _greatest(cut_to, floor)),
            ((t.action == "raise") & t.capped, _int(p.raise_cap)),
            (t.action == "raise", limit + raise_by),
            else_=limit,
        ).cast("int64"),
        reasons=ibis.cases(
            ((t.action == "close") & (t.status_now == WRITTEN_OFF), "CLOSE_STATUS"),
            (t.action == "close", "CLOSE_SEVERE_DELINQUENCY"),
            ((t.action == "freeze") & (t.days_past_due >= p.freeze_dpd), "FREEZE_DELINQUENT"),
            (t.action == "freeze", "FREEZE_STATUS"),
            ((t.action == "cut") & (floor > cut_to), t.cut_reasons + " " + LIMITED),
            (t.action == "cut", t.cut_reasons),
            ((t.action == "raise") & t.capped, "RAISE_ON_TIME RAISE_CAPPED"),
            else_="RAISE_ON_TIME",
        ),
        effective_on=ibis.ifelse(t.action == "cut", day.on + p.cut_notice_days, day.on).cast(DAY),
    )
    moves = t.action.isin(list(RAISE_CUT)) & (t.new_limit != limit)
    episode = t.episode_start.notnull() & (t.last_review < t.episode_start)
    stops = t.action.isin(["freeze", "close"]) & (
        t.last_action.isnull() | (t.last_action != t.action) | episode.fill_null(False)
    )
    recorded: ir.Table = t.filter(moves | stops).select(
        "account_key",
        "action",
        "effective_on",
        "new_limit",
        "reasons",
        old_limit=limit,
    )
    return recorded


def settled_today(subject: ir.Table, recorded: ir.Table | None, day: Today) -> ir.Table:
    """Per subject account: its ``credit_limit`` and ``status`` after the change due and today's recorded
    change when that takes effect today."""
    t = subject
    if recorded is None:
        return t.select("account_key", credit_limit=t.limit_now, status=t.status_now)
    r = recorded.select(
        "account_key",
        today_action=recorded.action,
        today_limit=recorded.new_limit,
        today_on=recorded.effective_on,
    )
    t = left_join(t, r)
    now = t.today_action.notnull() & (t.today_on <= day.on)
    after: ir.Table = t.select(
        "account_key",
        credit_limit=ibis.ifelse(now, t.today_limit, t.limit_now),
        status=ibis.ifelse(now, _apply_status(t.status_now, t.today_action), t.status_now),
    )
    return after


def changes_after(in_force: ir.Table, recorded: ir.Table | None, day: Today, p: ReviewParameters) -> ir.Table:
    """``limit_changes`` after today: the changes due marked applied, and today's recorded (applied at once
    when they take effect today: a raise, freeze or close; a cut after its notice)."""
    columns = ENGINE_LIMIT_CHANGES.names
    if recorded is None:
        return in_force.select(*columns)
    new = recorded.select(
        "account_key",
        review_date=day.on.cast(DAY),
        effective_on=recorded.effective_on,
        action=recorded.action,
        old_limit=recorded.old_limit,
        new_limit=recorded.new_limit,
        reasons=recorded.reasons,
        model_version=ibis.literal(p.model_version),
        applied_on=ibis.ifelse(recorded.effective_on <= day.on, day.on, ibis.null(DAY)).cast(DAY),
    )
    after: ir.Table = ibis.union(in_force.select(*columns), new.select(*columns))
    return after


def with_settled(table: ir.Table, settled: ir.Table, column: str) -> ir.Table:
    """``table`` (the accounts or their facts) with ``column`` as :func:`settled_today` leaves it."""
    s = settled.select(settled_key=settled.account_key, settled_value=settled[column])
    t = table.left_join(s, table.account_key == s.settled_key)
    after: ir.Table = t.mutate(
        **{column: t.settled_value.fill_null(t[column]).cast(table[column].type())}
    ).drop("settled_key", "settled_value")
    return after
