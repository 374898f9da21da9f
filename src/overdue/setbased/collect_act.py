"""Act over tables: what the day's decisions and verdicts change, and the outbox's messages.

The reference (:func:`overdue.engine.collect.collect`) records each planned action once per (account, date,
treatment), queues an allowed message in the outbox and allowed work in its queue, and saves the account's
collection state: the episode and promise reviews, the stage and escalation after the decision, the agency
after an allowed placement (``unassigned``, placed today) or recall (none). Over tables:

- :func:`collections_next`: the ``collections`` table after the day — the accounts that ran get their
  reviewed state (those decided, the placement of their last allowed placement or recall); the others keep
  their row;
- :func:`promises_next`: promises past their date broken (``resolved_on`` today) for the accounts that ran;
- :func:`done_next`: the last date each treatment was done, with today's queued actions;
- :func:`messages` (at the edge, with Arrow compute, one template at a time): the outbox's rows of the
  allowed messages, their text filled in as :func:`overdue.channels.templates.render` fills it;
- :func:`work_items`: the work queues' rows of the allowed human and back-office actions.
"""

from __future__ import annotations

import string
from datetime import date

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.channels.templates import placeholder_values
from overdue.engine.collect import DEFAULT_LOCALE, UNASSIGNED_AGENCY
from overdue.setbased.collect_tables import ENGINE, HOLDS
from overdue.setbased.encode import DAY, day_number
from overdue.setbased.params import Unsupported
from overdue.setbased.steps import Today, left_join
from overdue.strategy.model import Strategy

MESSAGES = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("template", pa.string()),
        pa.field("locale", pa.string(), nullable=False),
        pa.field("body", pa.string(), nullable=False),
    ]
)
"""The outbox's rows: one per allowed message action (``treatment`` names the action it belongs to)."""
WORK = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("queue", pa.string(), nullable=False),
        pa.field("priority", pa.int32(), nullable=False),
    ]
)
"""The work queues' rows: one per allowed action for people (calls, visits, agencies, legal, back office)."""
PLACING = ("agency_placement", "agency_recall")


def collections_next(
    decided: ir.Table, carried: ir.Table, actions: ir.Table, collections: ir.Table, day: Today
) -> ir.Table:
    """``collections`` after the day (the engine's columns): the accounts decided today (``decided``) with
    their reviewed records and the placement of their last allowed placement or recall, those that ran
    without a decision (``carried``: :func:`~overdue.setbased.collect_decide.carried_records`) with their
    reviewed records, the others as they were."""
    on = day.on
    allowed = actions.filter(actions.refused_rule.isnull() & actions.type.isin(list(PLACING)))
    ranked = allowed.mutate(
        n=ibis.row_number().over(group_by=allowed.account_key, order_by=ibis.desc(allowed.position))
    )
    last = ranked.filter(ranked.n == 0).select("account_key", placing=ranked.type)
    t = left_join(decided, last)
    placed = t.placing == "agency_placement"
    recalled = t.placing == "agency_recall"
    schema = ENGINE["collections"]
    ran = [
        _record(
            t,
            ibis.cases((placed, UNASSIGNED_AGENCY), (recalled, ibis.null("string")), else_=t.agency),
            ibis.cases((placed, on), (recalled, ibis.null(DAY)), else_=t.placed_on).cast(DAY),
        ),
        _record(carried, carried.agency, carried.placed_on),
    ]
    keys = carried.select(ran_key=carried.account_key).union(decided.select(ran_key=decided.account_key))
    kept = collections.anti_join(keys, collections.account_key == keys.ran_key)
    after: ir.Table = ibis.union(kept.select(*schema.names), *ran)
    return after


def _record(t: ir.Table, agency: ir.StringValue, placed_on: ir.IntegerValue) -> ir.Table:
    """A ``collections`` row of each row of ``t`` (reviewed records, as
    :func:`~overdue.setbased.collect_decide.account_facts` names them)."""
    schema = ENGINE["collections"]
    row = t.select(
        "account_key",
        "episode_started_on",
        stage=t.previous_stage,
        escalation=t.escalation,
        escalated_from=t.escalated_from,
        contactability=t.contactability,
        dispute_open=t.collection_dispute_open,
        litigation_hold=t.collection_litigation_hold,
        attempts=t.attempts,
        connects=t.connects,
        last_contact_on=t.last_contact_on,
        agency=agency,
        placed_on=placed_on,
        **{f"hold_{kind}": t[f"hold_{kind}"] for kind in HOLDS},
        validation_notice_on=t.validation_notice_on,
    )
    cast: ir.Table = row.select(**{f.name: row[f.name].cast(ibis.dtype(f.type)) for f in schema})
    return cast


def reviewed_promises(promises: ir.Table, day: Today, among: ir.BooleanValue | None = None) -> ir.Table:
    """``promises`` after today's review (:func:`overdue.domain.collections.review_promises`): one pending
    past its date is broken today (``status``, ``resolved_on``), marked ``breaks``. among: only the rows it
    holds for are reviewed (default: all)."""
    p = promises
    breaks = (p.status == "pending") & (day.on > p.due_on)
    if among is not None:
        breaks = among & breaks
    reviewed: ir.Table = p.mutate(
        breaks=breaks,
        status=ibis.ifelse(breaks, "broken", p.status),
        resolved_on=ibis.ifelse(breaks, day.on, p.resolved_on).cast(DAY),
    )
    return reviewed


def promises_next(promises: ir.Table, accounts: ir.Table, day: Today) -> ir.Table:
    """Promises of the accounts that ran, those pending past their date broken today."""
    ran = accounts.filter(accounts.last_eod == day.on)
    keys = ran.select(ran_key=ran.account_key, ran=ibis.literal(True))
    p = promises.left_join(keys, promises.account_key == keys.ran_key).drop("ran_key")
    after: ir.Table = reviewed_promises(p, day, among=p.ran.fill_null(False)).select(
        *ENGINE["promises"].names
    )
    return after


def done_next(done: ir.Table, actions: ir.Table, day: Today) -> ir.Table:
    """The last date each treatment was done, with today's queued actions."""
    queued = actions.filter(actions.refused_rule.isnull()).select(
        "account_key", "treatment_index", last_done=day.on.cast(DAY)
    )
    both = ibis.union(done.select("account_key", "treatment_index", "last_done"), queued)
    after: ir.Table = both.group_by(["account_key", "treatment_index"]).aggregate(
        last_done=both.last_done.max()
    )
    return after


def template_parts(strategy: Strategy) -> dict[str, list[tuple[str, str | None]]]:
    """Each template's zh-CN text as (literal, placeholder) pieces; refuses what :func:`messages` cannot
    fill in over a whole column: format specs and conversions, and ``{agency}`` (the reference fills it
    with the agency as the day's earlier placements leave it, action by action)."""
    parts: dict[str, list[tuple[str, str | None]]] = {}
    for template in strategy.templates.values():
        text = template.texts[DEFAULT_LOCALE]
        pieces = list(string.Formatter().parse(text))
        for _, name, spec, conversion in pieces:
            if name is not None and (spec or conversion):
                raise Unsupported(f"template {template.id}: a format spec or conversion in {{{name}}}")
            if name == "agency":
                raise Unsupported(f"template {template.id}: {{agency}} in a message of the set-based day")
        parts[template.id] = [(literal, name) for literal, name, _, _ in pieces]
    return parts


def _yuan(fen: pa.Array) -> pa.Array:
    """:func:`overdue.domain.money.format_yuan` over a column."""
    size = pc.abs(fen)
    whole = pc.cast(pc.divide(size, 100), pa.string())
    cents = pc.utf8_lpad(
        pc.cast(pc.subtract(size, pc.multiply(pc.divide(size, 100), 100)), pa.string()), 2, "0"
    )
    sign = pc.if_else(pc.less(fen, 0), pa.scalar("-"), pa.scalar(""))
    joined: pa.Array = pc.binary_join_element_wise(sign, whole, ".", cents, "")
    return joined


def messages(actions: pa.Table, on: date, strategy: Strategy) -> pa.Table:
    """The outbox's rows of the allowed message actions, in the order of ``actions``.

    actions: the day's action rows with the facts a text quotes (``overdue_balance``, ``total_due``,
    ``days_to_due``, ``days_past_due``, ``minimum_remaining``). Each template is filled in over its own
    rows only, and the texts are put back in the rows' order at the end."""
    parts = template_parts(strategy)
    rows = actions.filter(pc.and_(pc.is_valid(actions["channel"]), pc.is_null(actions["refused_rule"])))
    fixed = placeholder_values(
        DEFAULT_LOCALE, name=None, amount=0, due_date=None, days_past_due=0, minimum=0, total_due=0
    )
    texts: list[pa.Array] = []
    where: list[pa.Array] = []
    templates = pc.fill_null(rows["template"], "")
    quoted = rows.select(
        ["overdue_balance", "total_due", "days_to_due", "days_past_due", "minimum_remaining"]
    )
    for template, pieces in parts.items():
        mine = pc.indices_nonzero(pc.equal(templates, template))
        if len(mine) == 0:
            continue
        subset = quoted.take(mine)
        columns: list[pa.Array | str] = []
        for literal, name in pieces:
            columns.append(literal)
            if name is not None:
                columns.append(
                    _placeholder(name, subset, on) if name in ACCOUNT_PLACEHOLDERS else fixed[name]
                )
        text = pc.binary_join_element_wise(*columns, "") if len(columns) > 1 else pa.scalar(columns[0])
        if isinstance(text, pa.Scalar):
            texts.append(pa.repeat(text, len(mine)))
        else:
            texts += text.chunks if isinstance(text, pa.ChunkedArray) else [text]
        where.append(mine)
    others = pc.indices_nonzero(pc.invert(pc.is_in(templates, value_set=pa.array(list(parts), pa.string()))))
    texts.append(pa.repeat(pa.scalar("", pa.string()), len(others)))
    where.append(others)
    order = pc.sort_indices(pa.chunked_array(where, pa.uint64()))
    body = pa.chunked_array(texts, pa.string()).take(order)
    return pa.table(
        {
            "account_key": rows["account_key"],
            "business_date": rows["business_date"],
            "treatment": rows["treatment"],
            "channel": rows["channel"],
            "template": rows["template"],
            "locale": pa.repeat(pa.scalar(DEFAULT_LOCALE, pa.string()), rows.num_rows),
            "body": body,
        },
        schema=MESSAGES,
    )


ACCOUNT_PLACEHOLDERS = ("amount", "due_date", "days_past_due", "minimum", "total_due")
"""The placeholders whose value depends on the account (the others are fixed texts)."""


def _placeholder(name: str, rows: pa.Table, on: date) -> pa.Array:
    """The value of placeholder ``name`` on each of ``rows``, as :func:`placeholder_values` writes it."""
    if name == "amount":
        overdue = rows["overdue_balance"]
        return _yuan(pc.if_else(pc.not_equal(overdue, 0), overdue, rows["total_due"]))
    if name == "due_date":
        due = pc.add(pa.scalar(day_number(on), pa.int32()), pc.cast(rows["days_to_due"], pa.int32()))
        filled: pa.Array = pc.fill_null(pc.cast(pc.cast(due, pa.date32()), pa.string()), "")
        return filled
    if name == "days_past_due":
        return pc.cast(rows["days_past_due"], pa.string())
    return _yuan(rows["minimum_remaining" if name == "minimum" else "total_due"])


def work_items(actions: pa.Table) -> pa.Table:
    """The work queues' rows of the allowed actions for people."""
    rows = actions.filter(pc.and_(pc.is_valid(actions["queue"]), pc.is_null(actions["refused_rule"])))
    return rows.select(WORK.names).cast(WORK)
