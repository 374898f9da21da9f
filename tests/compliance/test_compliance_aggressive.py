"""An aggressive strategy: its excess contacts are refused by the rulebook, counted, never queued."""

from datetime import date

from sqlalchemy import Engine, func, select

from overdue.engine.reference import Collection, run_eod
from overdue.services import accounts
from overdue.store.collection_tables import collection_actions, outbox, work_items
from overdue.strategy import parse_strategy

AGGRESSIVE = """
strategy: aggressive
description: calls the pre-agreed contacts every day from DPD 1, whether or not the debtor can be reached
templates:
  notice:
    zh-CN: "【{lender}】您的账单{amount}元已逾期，请通过{repay_channel}还款。"
    en: "{lender}: {amount} CNY is overdue. Please repay through {repay_channel}."
  restore:
    zh-CN: "您好，这里是{lender}客服，请转告{name}致电我们。"
    en: "Hello, this is {lender}. Please ask {name} to call us."
stages:
  - name: current
    when: {days_past_due: 0}
    treatments: []
  - name: overdue
    when: {days_past_due: {min: 1}}
    treatments:
      - {id: daily_sms, type: sms, template: notice, priority: 10}
      - {id: daily_contacts, type: contact_call, template: restore, party: contact, priority: 20}
"""


def _count(engine: Engine, query: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_excess_contacts_are_refused_counted_and_never_queued(engine: Engine) -> None:
    strategy = parse_strategy(AGGRESSIVE, name="aggressive.yaml")
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(engine, date(2026, 1, 9), collection=Collection(strategy))
    accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    summary = run_eod(engine, date(2026, 2, 19), collection=Collection(strategy))  # DPD 1 … 10

    assert summary.actions == {"sms": 10, "refused": 10}
    refused = (
        select(func.count())
        .select_from(collection_actions)
        .where(
            collection_actions.c.status == "refused",
            collection_actions.c.type == "contact_call",
            collection_actions.c.refused_rule == "cn.third_party",
        )
    )
    assert _count(engine, refused) == 10
    assert _count(engine, select(func.count()).select_from(work_items)) == 0
    assert _count(engine, select(func.count()).select_from(outbox).where(outbox.c.channel != "sms")) == 0
