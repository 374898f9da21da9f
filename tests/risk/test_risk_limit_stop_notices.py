"""The borrower told of a freeze and of a close (the reference end-of-day, on SQLite and PostgreSQL): the
review's freeze of a delinquent line and its close at 91 DPD each record one ``limit_notice`` action with
the ``limit_freeze`` or ``limit_close`` template and queue one outbox message in the borrower's language,
once however often the day is run."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from overdue.engine.limits import LimitReview, review_account
from overdue.engine.reference import run_eod
from overdue.risk.notices import NOTICE_TREATMENT, notice_text
from overdue.services import scenario as scenarios
from overdue.store import collections_repository, repository
from overdue.store.collection_tables import collection_actions, outbox

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FREEZE_DAY = date(2026, 3, 1)
"""The statement day the review freezes the line of the 1,000.00 not paid by 9 February (DPD 20)."""
CLOSE_DAY = date(2026, 6, 1)
"""The statement day the review closes it (DPD 112)."""


def run_until(engine: Engine, name: str, last: date, language: str) -> None:
    """Scenario ``name`` for a borrower reading ``language``, its events up to ``last`` (then each day's
    end-of-day through ``last``)."""
    scenario = scenarios.parse(SCENARIOS / name)
    events = [e for e in scenario.events if e.on <= last and e.kind != "snapshot"]
    scenario = dataclasses.replace(scenario, events=events, language=language)
    result = scenarios.run(scenario, engine)
    assert not result.unexpected_errors
    run_eod(engine, last)


def limit_notices(engine: Engine) -> list[dict[str, Any]]:
    """Every ``limit_notice`` action with its outbox message, by date."""
    a, o = collection_actions.c, outbox.c
    query = (
        select(
            a.business_date,
            a.type,
            a.stage,
            a.template.label("action_template"),
            a.reason,
            a.status,
            o.channel,
            o.template,
            o.locale,
            o.body,
        )
        .join_from(collection_actions, outbox, o.action_id == a.id)
        .where(a.treatment == "limit_notice")
        .order_by(a.business_date)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def told(on: date, action: str, reason: str, locale: str) -> dict[str, Any]:
    """The notice row the review leaves for a ``action`` of the 5,000.00 line on ``on``."""
    return {
        "business_date": on,
        "type": "sms",
        "stage": "limit_review",
        "action_template": f"limit_{action}",
        "reason": reason,
        "status": "queued",
        "channel": "sms",
        "template": f"limit_{action}",
        "locale": locale,
        "body": notice_text(
            action, locale, old_limit=500_000, new_limit=500_000, effective_on=on, reasons=(reason,)
        ),
    }


def rerun_review(engine: Engine, on: date) -> None:
    """A resumed run reviewing the account again on ``on``: it records and tells nothing."""
    with engine.begin() as conn:
        state, version = repository.load_account(conn, "A1")
        again = review_account(conn, state, version, on, LimitReview())
    assert again.recorded == ()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_freeze_is_told_once_in_the_borrowers_language(engine: Engine, language: str) -> None:
    run_until(engine, "limit-review-freeze-delinquent.yaml", FREEZE_DAY, language)
    want = [told(FREEZE_DAY, "freeze", "FREEZE_DELINQUENT", language)]
    assert limit_notices(engine) == want
    rerun_review(engine, FREEZE_DAY)
    run_eod(engine, FREEZE_DAY)  # a date already run: nothing more
    assert limit_notices(engine) == want
    # repaid in full on 5 March, the line unfreezes; the review of 1 April records nothing, so tells nothing
    run_eod(engine, date(2026, 3, 4))
    scenarios.accounts.repay(engine, "A1", 101_150, on=date(2026, 3, 5))
    summary = run_eod(engine, date(2026, 4, 1))
    assert summary.limit_changes == {}
    assert limit_notices(engine) == want


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_close_is_told_once_in_the_borrowers_language(engine: Engine, language: str) -> None:
    run_until(engine, "limit-close-stays-closed.yaml", CLOSE_DAY, language)
    want = [
        told(FREEZE_DAY, "freeze", "FREEZE_DELINQUENT", language),
        told(CLOSE_DAY, "close", "CLOSE_SEVERE_DELINQUENCY", language),
    ]
    assert limit_notices(engine) == want
    rerun_review(engine, CLOSE_DAY)
    run_eod(engine, CLOSE_DAY)
    assert limit_notices(engine) == want
    if language == "en":
        assert "closed for good from 2026-06-01" in want[1]["body"]
    else:
        assert "自2026-06-01起永久关闭" in want[1]["body"]


def test_the_treatments_done_leave_the_notices_out(engine: Engine) -> None:
    """The end-of-day reads the strategy's treatments done without the review's notices, as the set-based
    store path does (``store_collect._done``)."""
    run_until(engine, "limit-review-freeze-delinquent.yaml", FREEZE_DAY, "zh-CN")
    with engine.connect() as conn:
        everything = collections_repository.last_done(conn, "A1", None)
        strategy_only = collections_repository.last_done(conn, "A1", None, leave_out=(NOTICE_TREATMENT,))
    assert everything[NOTICE_TREATMENT] == FREEZE_DAY
    assert NOTICE_TREATMENT not in strategy_only
    assert strategy_only == {k: v for k, v in everything.items() if k != NOTICE_TREATMENT} != {}
