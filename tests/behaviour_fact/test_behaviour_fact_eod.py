"""The reference end-of-day scores every account at each month end, records the score once, and a strategy
segments on the latest score (the ``behaviour_score`` fact), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date

from behaviour_fact_helpers import FIRST_MONTH_END, REMINDER_DAY, run_eod, two_accounts, watch
from sqlalchemy import Engine, func, select

from overdue.engine.reference import score_month_end
from overdue.risk.accounts import all_statements
from overdue.risk.behaviour import month_end_score
from overdue.store import behaviour_repository, collections_repository, repository
from overdue.store.behaviour_tables import behaviour_scores
from overdue.store.limit_repository import bucket_spells


def _expected_points(engine: Engine, account_id: str, on: date) -> int:
    """The shipped model's score of the stored account on ``on`` (its state then: no change since)."""
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, account_id, full_history=True)
        return month_end_score(state, all_statements(conn, account_id, on), on).points


def _rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(behaviour_scores).order_by(behaviour_scores.c.month_end, behaviour_scores.c.account_id)
            ).mappings()
        ]


def _sms_accounts(engine: Engine, on: date) -> set[str]:
    with engine.connect() as conn:
        return {
            account_id
            for account_id in ("H1", "L1")
            for row in collections_repository.actions_on(conn, account_id, on)
            if row["treatment"] == "watch_sms"
        }


def test_each_month_end_records_one_score_per_account(engine: Engine) -> None:
    two_accounts(engine)
    run_eod(engine, date(2026, 1, 30))
    assert _rows(engine) == []
    run_eod(engine, FIRST_MONTH_END)
    rows = _rows(engine)
    assert [(r["account_id"], r["month_end"]) for r in rows] == [
        ("H1", FIRST_MONTH_END),
        ("L1", FIRST_MONTH_END),
    ]
    for row in rows:
        assert row["score_points"] == _expected_points(engine, str(row["account_id"]), FIRST_MONTH_END)
        assert isinstance(row["probability_bad_ppm"], int) and 0 < row["probability_bad_ppm"] < 1_000_000
        assert row["model_version"] == "behaviour-v1"
        assert all(code.startswith("RAISES_RISK:") for code in str(row["reasons"]).split())
    high, low = rows
    assert high["score_points"] < low["score_points"]  # 90 % utilisation is the riskier
    assert "RAISES_RISK:utilisation" in str(high["reasons"]).split()

    run_eod(engine, FIRST_MONTH_END)  # a closed date: nothing runs again
    with engine.begin() as conn:  # scoring the month end again records nothing more
        state, _ = repository.load_account(conn, "H1")
        assert score_month_end(conn, state, FIRST_MONTH_END) == high["score_points"]
        doubled = dataclasses.replace(state, credit_limit=2 * state.credit_limit)  # would score higher
        assert score_month_end(conn, doubled, FIRST_MONTH_END) == high["score_points"]
    assert _rows(engine) == rows

    run_eod(engine, date(2026, 2, 28))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(behaviour_scores)).scalar_one()
        assert count == 4
        assert behaviour_repository.latest_score(conn, "H1", date(2026, 1, 30)) is None
        assert behaviour_repository.latest_score(conn, "H1", date(2026, 2, 27)) == high["score_points"]
        latest = behaviour_repository.latest_scores(conn, date(2026, 2, 28))
        assert latest["L1"] == behaviour_repository.scores_of(conn, "L1")[-1]["score_points"]
        assert len(bucket_spells(conn, "H1")) >= 2  # past due since 2026-02-10: the score read the history
    assert latest["H1"] == _expected_points(engine, "H1", date(2026, 2, 28))


def test_a_strategy_sends_the_sms_only_under_the_score(engine: Engine) -> None:
    two_accounts(engine)
    run_eod(engine, FIRST_MONTH_END)
    scores = {str(r["account_id"]): int(str(r["score_points"])) for r in _rows(engine)}
    assert scores["H1"] < scores["L1"]
    summary = run_eod(engine, REMINDER_DAY, watch(scores["H1"]))
    assert _sms_accounts(engine, REMINDER_DAY) == {"H1"}
    assert summary.actions.get("sms") == 1
