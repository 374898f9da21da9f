"""The US validation notice over tables (Regulation F §1006.34), as the reference sends it.

Under a rulebook that requires it (``us.validation_notice`` among its rules), the reference's end-of-day
(:func:`overdue.engine.collect.plan_collection` and ``collect``) sends the notice on an account's first day
past due, before anything else, when none was sent yet and the debt is neither sold nor under a request to
cease communication:

- the day's facts already read the notice as sent today (``validation_notice_on`` is the date), so the
  strategy's conditions and ``us.validation_notice`` see it (:func:`with_notice`);
- it records an action (treatment ``validation_notice``, a ``letter`` to the debtor, stage the decision's
  or ``validation``, priority 0, queued) ahead of the decision's actions, queues the notice's English text
  in the outbox, and records the notice (sent at the start of the day in the debtor's time zone, the
  validation period ending 5 + 30 days later) in ``validation_notices``.

Over tables: :func:`notices_sent` picks the accounts that send it from the day's decisions and the records
before the day; :func:`notice_rows` writes their action rows (``position`` -1: before the decision's
first), outbox rows and notice records at the edge. The text is the reference's
(:func:`overdue.engine.collect.validation_notice_text`), written one notice at a time: notices go out on
an account's first overdue day only, a small share of the day's accounts.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.engine.collect import VALIDATION_PERIOD_DAYS, VALIDATION_RECEIPT_DAYS, validation_notice_text
from overdue.setbased.collect_act import MESSAGES
from overdue.setbased.collect_tables import ACTIONS
from overdue.setbased.encode import DAY
from overdue.setbased.steps import Today

NOTICE_TREATMENT = "validation_notice"
"""The treatment id of the notice's action (a strategy may not use it under such a rulebook)."""
NOTICE_CHANNEL = "letter"
NOTICE_LOCALE = "en"
NOTICE_STAGE = "validation"
"""The notice action's stage when no stage of the strategy holds."""
NOTICE_REASON = "Reg F §1006.34: validation notice on the first day of delinquency"
NOTICES = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("period_ends_on", pa.date32(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
    ]
)
"""The validation notices sent on the day: one per account, sent at the start of ``business_date`` in the
debtor's time zone."""
SENT = pa.schema(
    [
        pa.field("account_key", pa.int64()),
        pa.field("stage_index", pa.int32()),
        pa.field("overdue_balance", pa.int64()),
    ]
)
"""What :func:`notices_sent` gives: the account, its decision's stage (index) and its overdue balance."""


def _sends(t: ir.Table, sent_before: ir.Value) -> ir.BooleanValue:
    """Whether the account sends the notice today: past due, none sent before, not sold, no cease."""
    sends: ir.BooleanValue = (t.days_past_due > 0) & sent_before.isnull() & ~t.hold_sold & ~t.hold_cease
    return sends


def with_notice(facts: ir.Table, day: Today) -> ir.Table:
    """The day's facts (:func:`overdue.setbased.collect_decide.account_facts`) with ``validation_notice_on``
    today for the accounts that send the notice today."""
    sends = _sends(facts, facts.validation_notice_on)
    noticed: ir.Table = facts.mutate(
        validation_notice_on=ibis.ifelse(sends, day.on, facts.validation_notice_on).cast(DAY)
    )
    return noticed


def notices_sent(decided: ir.Table, collections: ir.Table) -> ir.Table:
    """The accounts that send the notice today (:data:`SENT`): of the day's decisions, with the records
    ``collections`` holds before the day (an account without a row has sent none)."""
    before = collections.select(
        notice_key=collections.account_key, sent_before=collections.validation_notice_on
    )
    t = decided.left_join(before, decided.account_key == before.notice_key)
    sent: ir.Table = t.filter(_sends(t, t.sent_before)).select(
        "account_key",
        stage_index=t.stage_index.cast("int32"),
        overdue_balance=t.overdue_balance.cast("int64"),
    )
    return sent


def notice_rows(
    sent: pa.Table, on: date, stages: pa.Array, account_ids: pa.Table
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The action rows (:data:`~overdue.setbased.collect_tables.ACTIONS`), outbox rows
    (:data:`~overdue.setbased.collect_act.MESSAGES`) and notices (:data:`NOTICES`) of the notices sent on
    ``on``.

    sent: :func:`notices_sent`'s rows. stages: the strategy's stage names by index. account_ids:
    ``account_key`` and ``account_id`` of every account.
    """
    sent = sent.sort_by("account_key")
    count = sent.num_rows
    ends_on = on + timedelta(days=VALIDATION_RECEIPT_DAYS + VALIDATION_PERIOD_DAYS)
    where = pc.index_in(sent["account_key"], value_set=account_ids["account_key"])
    ids = pc.take(account_ids["account_id"], where).to_pylist()
    amounts = sent["overdue_balance"].to_pylist()
    bodies = [validation_notice_text(i, a, on, ends_on) for i, a in zip(ids, amounts, strict=True)]

    def repeat(value: object, kind: pa.DataType) -> pa.Array:
        return pa.repeat(pa.scalar(value, kind), count)

    keys = sent["account_key"]
    today = repeat(on, pa.date32())
    treatment = repeat(NOTICE_TREATMENT, pa.string())
    channel = repeat(NOTICE_CHANNEL, pa.string())
    stage = (
        pc.fill_null(pc.take(stages, sent["stage_index"]), NOTICE_STAGE) if count else repeat("", pa.string())
    )
    actions = pa.table(
        {
            "account_key": keys,
            "business_date": today,
            "position": repeat(-1, pa.int32()),
            "treatment": treatment,
            "type": channel,
            "stage": stage,
            "template": repeat(None, pa.string()),
            "party": repeat("debtor", pa.string()),
            "priority": repeat(0, pa.int32()),
            "experiment": repeat(None, pa.string()),
            "variant": repeat(None, pa.string()),
            "status": repeat("queued", pa.string()),
            "refused_rule": repeat(None, pa.string()),
            "reason": repeat(NOTICE_REASON, pa.string()),
            "channel": channel,
            "queue": repeat(None, pa.string()),
        }
    ).cast(ACTIONS)
    messages = pa.table(
        {
            "account_key": keys,
            "business_date": today,
            "treatment": treatment,
            "channel": channel,
            "template": repeat(None, pa.string()),
            "locale": repeat(NOTICE_LOCALE, pa.string()),
            "body": pa.array(bodies, pa.string()),
        }
    ).cast(MESSAGES)
    notices = pa.table(
        {
            "account_key": keys,
            "business_date": today,
            "period_ends_on": repeat(ends_on, pa.date32()),
            "channel": channel,
        }
    ).cast(NOTICES)
    return actions, messages, notices
