"""Decide → comply → act in the end-of-day: actions recorded once, refusals named, work queued."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, func, select

from overdue.compliance import PlannedContact, Verdict
from overdue.engine.collect import collect
from overdue.engine.reference import Collection, run_eod
from overdue.services import accounts
from overdue.store import repository
from overdue.store.collection_tables import collection_actions, outbox, work_items
from overdue.strategy import AccountFacts, default_strategy


class RefuseCalls:
    """A rulebook that refuses every human call and allows everything else."""

    name = "test-no-calls"

    def check(self, contact: PlannedContact, facts: AccountFacts, history: Sequence[object]) -> Verdict:
        if contact.action_type == "call":
            return Verdict(False, rule="test.no_calls", reason="calls are refused in this test")
        return Verdict(True)


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _overdue_account(engine: Engine) -> None:
    accounts.open_account(engine, "C1", date(2026, 1, 5), 300_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "C1", 100_000, on=date(2026, 1, 10))


def test_a_repeated_collect_records_nothing_twice(engine: Engine) -> None:
    _overdue_account(engine)
    run_eod(engine, date(2026, 3, 16))  # DPD 35: a human call in the queue stage
    before = (_count(engine, collection_actions), _count(engine, outbox), _count(engine, work_items))
    assert before[0] > 0 and before[1] > 0 and before[2] > 0
    with engine.begin() as conn:
        state, _ = repository.load_account(conn, "C1")
        _, recorded = collect(
            conn, state, date(2026, 3, 16), default_strategy(), Collection.default().rulebook
        )
    assert recorded == []
    assert (_count(engine, collection_actions), _count(engine, outbox), _count(engine, work_items)) == before
    run_eod(engine, date(2026, 3, 16))  # the date is closed: a no-op
    assert (_count(engine, collection_actions), _count(engine, outbox), _count(engine, work_items)) == before


def test_a_refused_contact_is_recorded_with_its_rule_and_not_queued(engine: Engine) -> None:
    _overdue_account(engine)
    summary = run_eod(engine, date(2026, 3, 16), collection=Collection(default_strategy(), RefuseCalls()))
    assert summary.actions.get("refused", 0) > 0
    assert "call" not in summary.actions
    with engine.connect() as conn:
        refused = conn.execute(
            select(collection_actions.c.type, collection_actions.c.refused_rule).where(
                collection_actions.c.status == "refused"
            )
        ).all()
        queued_calls = conn.execute(
            select(func.count()).select_from(work_items).where(work_items.c.queue == "call")
        ).scalar_one()
    assert refused and all(row.type == "call" and row.refused_rule == "test.no_calls" for row in refused)
    assert queued_calls == 0


def test_messages_are_filled_in_and_work_goes_to_its_queue(engine: Engine) -> None:
    _overdue_account(engine)
    run_eod(engine, date(2026, 3, 16))
    with engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.channel, outbox.c.body)).all()
        queues = set(conn.execute(select(work_items.c.queue)).scalars())
        first_overdue_sms = conn.execute(
            select(outbox.c.body)
            .join(collection_actions, collection_actions.c.id == outbox.c.action_id)
            .where(
                collection_actions.c.treatment == "early_sms",
                collection_actions.c.business_date == date(2026, 2, 10),
            )
        ).scalar_one()
    assert all("{" not in body for _, body in bodies)
    # DPD 1: 1,000.00 unpaid plus one day of overdue interest (0.50), due on 9 February, in zh-CN.
    assert (
        "1000.50" in first_overdue_sms and "2026-02-09" in first_overdue_sms and "花呗" in first_overdue_sms
    )
    assert queues == {"call"}
