"""The ``score`` fact: a delinquent account's collection score, for strategy segments, shown by explain."""

from datetime import date

from sqlalchemy import Engine

from overdue.engine.collect import account_facts
from overdue.engine.reference import Collection, run_eod
from overdue.risk.collection import collection_facts, score_fact, shipped_model
from overdue.services import accounts
from overdue.services.collections import explain
from overdue.store import collections_repository, repository
from overdue.strategy import Strategy, default_strategy, parse_strategy

ON = date(2026, 3, 16)

SEGMENTED = """\
strategy: by_score
description: calls for the likely payers, letters for the others
templates:
  notice: {{zh-CN: "{{lender}}：请还款{{amount}}元，{{repay_channel}}",
           en: "{{lender}}: please repay {{amount}} CNY, {{repay_channel}}"}}
stages:
  - name: likely_payer
    when: {{days_past_due: {{min: 1}}, score: {{min: {low}, max: 100}}}}
    treatments:
      - {{id: likely_call, type: call, every_days: 3}}
  - name: others
    when: {{days_past_due: {{min: 1}}, score: {{min: 0, max: {below}}}}}
    treatments:
      - {{id: others_letter, type: letter, template: notice, once: true}}
"""


def _segmented(low: int) -> Strategy:
    """Calls from a score of ``low`` up (1 to 100), a letter below it."""
    return parse_strategy(SEGMENTED.format(low=low, below=low - 1), name="by_score")


def _overdue_account(engine: Engine) -> None:
    accounts.open_account(engine, "C1", date(2026, 1, 5), 300_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "C1", 100_000, on=date(2026, 1, 10))


def _score_on(engine: Engine, on: date) -> int:
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, "C1", full_history=True)
        cs, _, _ = collections_repository.load_collection_state(conn, "C1")
    score = score_fact(state, cs, on)
    assert score is not None
    return score


def test_the_score_fact_is_the_collection_models_propensity_in_percent(engine: Engine) -> None:
    _overdue_account(engine)
    run_eod(engine, ON)
    with engine.connect() as conn:
        state, _ = repository.load_account(conn, "C1", full_history=True)
        cs, _, _ = collections_repository.load_collection_state(conn, "C1")
    facts = collection_facts(state, cs, ON)
    assert facts is not None and facts.days_past_due == state.days_past_due > 0
    propensity = shipped_model().probability({k: float(v) for k, v in vars(facts).items()})
    assert score_fact(state, cs, ON) == round(propensity * 100)
    current = state.__class__(**{**vars(state), "days_past_due": 0})
    assert score_fact(current, cs, ON) is None


def test_a_segment_on_score_matches_its_range_and_not_outside_it(engine: Engine) -> None:
    _overdue_account(engine)
    run_eod(engine, ON)
    score = _score_on(engine, ON)
    matching = _segmented(score)
    missing = _segmented(score + 1)
    shown = explain(engine, "C1", ON, matching)
    assert shown["facts"]["score"] == score
    assert shown["stage"] == "likely_payer"
    assert {a["type"] for a in shown["actions"]} == {"call"}
    other = explain(engine, "C1", ON, missing)
    assert other["stage"] == "others"
    assert {a["type"] for a in other["actions"]} == {"letter"}


def test_the_end_of_day_decides_on_the_score(engine: Engine) -> None:
    _overdue_account(engine)
    run_eod(engine, date(2026, 3, 15))
    score = _score_on(engine, date(2026, 3, 15))
    segmented = _segmented(max(1, score - 30))
    summary = run_eod(engine, ON, collection=Collection(segmented, Collection.default().rulebook))
    assert summary.actions.get("call") == 1 and "letter" not in summary.actions


def test_a_current_account_has_no_score() -> None:
    from overdue.domain import account as rules
    from overdue.domain.collections import CollectionState
    from overdue.domain.terms import product_terms
    from overdue.engine.collect import Collections

    state = rules.open_account("C2", "huabei", product_terms("huabei"), ON, 300_000, "Asia/Shanghai")
    facts = account_facts(state, Collections(CollectionState("C2"), None, None), ON, {})
    assert facts.score is None
    assert default_strategy().name
