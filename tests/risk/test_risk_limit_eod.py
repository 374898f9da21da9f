"""The limit review in the reference end-of-day, on SQLite and PostgreSQL: recorded once, applied on its
effective date, told through the outbox, and the limit in force at a month end for the bureau."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, Table, func, select

from overdue.engine.limits import LimitReview, limit_on, review_account
from overdue.engine.reference import Collection, run_eod
from overdue.risk.changes import ReviewSchedule
from overdue.services import scenario as scenarios
from overdue.store import limit_repository, repository
from overdue.store.account_tables import accounts
from overdue.store.collection_tables import collection_actions, outbox
from overdue.store.limit_tables import limit_changes

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def run_until(engine: Engine, name: str, last: date) -> None:
    scenario = scenarios.parse(SCENARIOS / name)
    scenario = dataclasses.replace(scenario, events=[e for e in scenario.events if e.on <= last])
    result = scenarios.run(scenario, engine)
    assert not result.unexpected_errors


def count(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def notices(engine: Engine) -> tuple[int, int]:
    """Limit notices: (actions, outbox messages)."""
    return (
        count(engine, collection_actions, collection_actions.c.treatment == "limit_notice"),
        count(engine, outbox, outbox.c.template.in_(["limit_raise", "limit_cut"])),
    )


def test_a_cut_is_recorded_and_told_once_then_applied_on_its_effective_date(engine: Engine) -> None:
    run_until(engine, "limit-review-cut-minimum-only.yaml", date(2026, 5, 1))
    with engine.connect() as conn:
        rows = limit_repository.changes_of(conn, "A1")
        message = conn.execute(select(outbox).where(outbox.c.template == "limit_cut")).mappings().one()
    assert [(r["action"], r["old_limit_fen"], r["new_limit_fen"], r["applied_on"]) for r in rows] == [
        ("cut", 500_000, 350_000, None)
    ]
    assert rows[0]["reasons"] == "CUT_MINIMUM_ONLY" and rows[0]["model_version"] == "limit-review-v1"
    assert (message["channel"], message["template"], message["locale"]) == ("sms", "limit_cut", "zh-CN")
    assert "3500.00" in message["body"] and "2026-05-08" in message["body"]

    # A resumed run reviewing the same account and date again records and tells nothing twice.
    with engine.begin() as conn:
        state, version = repository.load_account(conn, "A1")
        again = review_account(conn, state, version, date(2026, 5, 1), LimitReview())
    assert again.recorded == () and again.state == state
    assert count(engine, limit_changes) == 1 and notices(engine) == (1, 1)
    assert (
        count(
            engine,
            collection_actions.select().where(collection_actions.c.treatment == "limit_notice").subquery(),
        )
        == 1
    )

    run_eod(engine, date(2026, 5, 7))
    with engine.connect() as conn:
        assert conn.execute(select(accounts.c.credit_limit_fen)).scalar_one() == 500_000
    run_eod(engine, date(2026, 5, 31))
    with engine.connect() as conn:
        assert conn.execute(select(accounts.c.credit_limit_fen)).scalar_one() == 350_000
        (row,) = limit_repository.changes_of(conn, "A1")
        assert row["applied_on"] == date(2026, 5, 8)
        assert limit_on(conn, "A1", 350_000, date(2026, 4, 30)) == 500_000
        assert limit_on(conn, "A1", 350_000, date(2026, 5, 31)) == 350_000
    run_eod(engine, date(2026, 5, 31))  # a date already closed: nothing more
    assert count(engine, limit_changes) == 1 and notices(engine) == (1, 1)


def test_the_review_can_be_turned_off(engine: Engine) -> None:
    scenario = scenarios.parse(SCENARIOS / "limit-review-freeze-delinquent.yaml")
    scenarios.accounts.open_account(engine, "A1", scenario.opened, scenario.limit, product="huabei")
    off = dataclasses.replace(
        Collection.default(), limits=LimitReview(schedule=ReviewSchedule(enabled=False))
    )
    run_eod(engine, date(2026, 1, 9), collection=off)
    scenarios.accounts.purchase(engine, "A1", 100_000, on=date(2026, 1, 10))
    summary = run_eod(engine, date(2026, 3, 1), collection=off)
    assert summary.limit_changes == {} and count(engine, limit_changes) == 0
    summary = run_eod(engine, date(2026, 4, 1))  # on again: the freeze on 1 April (DPD 51)
    assert summary.limit_changes == {"freeze": 1}
    with engine.connect() as conn:
        (row,) = limit_repository.changes_of(conn, "A1")
    assert (row["review_date"], row["reasons"], row["applied_on"]) == (
        date(2026, 4, 1),
        "FREEZE_DELINQUENT",
        date(2026, 4, 1),
    )
