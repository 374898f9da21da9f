"""Month-end behaviour scores over tables (:mod:`overdue.setbased.behaviour`) are the reference's, exactly.

- the model as tables: on random and boundary feature values (caps, the first month on book, utilisation
  0, at and past its cap) the looked-up contributions, the log-odds, points, ppm and reasons equal
  :func:`overdue.risk.behaviour.score_behaviour`'s;
- the month ends: a year of borrowers (repeated delinquency episodes, cures, minimum payers, a late
  opener) scored at every month end over tables equals :func:`~overdue.risk.behaviour.month_end_score`
  (points, ppm, reasons), the closed spells and settled statements in the portfolio's tables or given
  apart (as the store's are);
- the strategy: ``setbased_behaviour_strategy.yaml`` (stages, a pause and a treatment's condition on
  ``behaviour_score``, a stage for the never scored) plans with the
  :class:`~overdue.setbased.collect.Collector` what the reference plans, over a month end, on DuckDB,
  PostgreSQL and Spark.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import setbased_collect_helpers
from ibis.backends import BaseBackend
from setbased_collect_helpers import assert_same, draw_collections, reference_day, set_based_day
from setbased_helpers import HUABEI, Borrower, Event, before_end_of_day, open_portfolio
from setbased_store_helpers import build_store, run_set_based, twin_stores
from sqlalchemy import Engine, text

from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import is_month_end, iter_days
from overdue.domain.state import AccountState
from overdue.engine.collect import plan_collection
from overdue.engine.reference import Collection, run_eod
from overdue.risk.behaviour import (
    FEATURES,
    BehaviourFacts,
    behaviour_facts,
    month_end_score,
    score_behaviour,
    scored_at_month_end,
    shipped_model,
)
from overdue.risk.behaviour import months_on_book as reference_months
from overdue.setbased import Portfolio, Unsupported, tables_from_states
from overdue.setbased.behaviour import FEATURE_COLUMNS, LATEST, BehaviourScorer, months_on_book, scores
from overdue.setbased.collect import Collector
from overdue.setbased.collect_tables import collection_tables
from overdue.setbased.encode import day_number
from overdue.setbased.layout import SPELLS
from overdue.setbased.limits import STATEMENT_HISTORY
from overdue.strategy import Strategy, load_strategy, parse_strategy

STRATEGY = load_strategy(Path(__file__).parent / "setbased_behaviour_strategy.yaml")
START = date(2025, 1, 6)
Score = tuple[int, int, str]


def episodes(first: int, every: int, cure_after: int, count: int, share: int = 4_000) -> tuple[Event, ...]:
    """A purchase every ``every`` days, repaid in full ``cure_after`` days later (an episode each time)."""
    drawn: list[Event] = []
    for n in range(count):
        day = first + n * every
        drawn += [Event(day, "purchase", share, 3), Event(day + cure_after, "repay_all", 0, 3)]
    return tuple(drawn)


BORROWERS = [
    Borrower(0, 2_000_000, "none", episodes(1, 60, 45, 8)),
    Borrower(0, 900_000, "none", episodes(10, 80, 70, 6, 9_000)),
    Borrower(3, 1_500_000, "none", episodes(2, 90, 75, 5)),
    Borrower(0, 700_000, "none", (Event(1, "purchase", 9_000, 3),)),
    Borrower(5, 600_000, "minimum", (Event(6, "purchase", 8_000, 3), Event(200, "repay_part", 3_000, 3))),
    Borrower(0, 800_000, "statement", (Event(4, "purchase", 5_000, 3),)),
    Borrower(150, 1_000_000, "none", (Event(151, "purchase", 9_000, 3), Event(300, "repay_all", 0, 3))),
    Borrower(20, 500_000, "minimum", (*episodes(21, 50, 42, 4), Event(250, "purchase", 9_999, 3))),
    Borrower(30, 1_200_000, "none", (Event(31, "purchase_installments", 6_000, 6),)),
    Borrower(40, 800_000, "minimum", (Event(41, "purchase", 9_999, 3), Event(43, "purchase", 9_999, 3))),
]
"""Borrowers who fall behind and cure again and again (M1 → M2 moves), never pay, pay the minimum (also
over the limit), pay in full, open late or buy in installments."""


def reference_scores(states: list[AccountState], on: date) -> dict[str, Score]:
    """The month-end scores the reference records of the accounts that ran on ``on``."""
    recorded: dict[str, Score] = {}
    for s in states:
        if s.last_eod == on and scored_at_month_end(s):
            score = month_end_score(s, s.statements, on)
            recorded[s.id] = (score.points, score.probability_bad_ppm, " ".join(score.reasons))
    return recorded


def got_scores(table: pa.Table, ids: list[str]) -> dict[str, Score]:
    return {
        ids[r["account_key"]]: (r["score_points"], r["probability_bad_ppm"], r["reasons"])
        for r in table.to_pylist()
    }


def apart(states: list[AccountState]) -> tuple[Any, pa.Table, pa.Table]:
    """The state tables without their closed spells and settled statements, and those two apart (the
    store's shape)."""
    tables = tables_from_states(states, HUABEI)
    s = tables.statements
    owed = pc.add(
        pc.add(pc.add(s["new_principal"], s["carried_principal"]), s["installment_principal"]),
        pc.add(pc.add(s["interest"], s["overdue_interest"]), s["fees"]),
    )
    unpaid = pc.greater(owed, 0)
    settled = s.filter(pc.invert(unpaid)).select(STATEMENT_HISTORY.names).cast(STATEMENT_HISTORY)
    spells = tables.bucket_spells
    tables = dataclasses.replace(tables, bucket_spells=SPELLS.empty_table(), statements=s.filter(unpaid))
    return tables, spells, settled


# --- the model as tables ----------------------------------------------------------------------------------


def _rows(
    facts: list[BehaviourFacts], opened: list[date], limits: list[int], principals: list[int]
) -> pa.Table:
    """:func:`~overdue.setbased.behaviour.features` rows of ``facts`` (their months on book and utilisation
    given by ``opened`` and ``principals`` over ``limits``)."""
    return pa.table(
        {
            "account_key": list(range(len(facts))),
            "opened_on": [day_number(d) for d in opened],
            "worst_dpd_6m": [f.worst_dpd_6m for f in facts],
            "worst_dpd_12m": [f.worst_dpd_12m for f in facts],
            "times_30_plus_12m": [f.times_30_plus_12m for f in facts],
            "principal": principals,
            "credit_limit": limits,
            "minimum_only_6m": [f.minimum_only_6m for f in facts],
        },
        schema=FEATURE_COLUMNS,
    )


def test_the_tables_score_as_the_model_at_the_boundaries() -> None:
    """Caps (60 months, 180 DPD, 6 moves and minimum-only cycles) and past them, the first month on book,
    utilisation 0, at its cap 1.2 and past it, and random values: points, ppm and reasons as the model's."""
    on = date(2025, 10, 31)
    rng = random.Random(5)
    # (unused, worst DPD 6 m, 12 m, times past 30, minimum-only cycles)
    cases = [(0, 0, 0, 0, 0), (0, 180, 180, 6, 6), (0, 999, 999, 40, 9), (0, 181, 181, 7, 7)]
    cases += [
        (0, d6, d6 + rng.randint(0, 60), rng.randint(0, 9), rng.randint(0, 8))
        for d6 in (rng.randint(0, 200) for _ in range(3_000))
    ]
    limits, principals = [], []
    for n in range(len(cases)):
        limit = rng.choice([50_000, 100_000, 333_333, 1_000_000, 7_777_777])
        principal = [0, limit, limit * 6 // 5, limit * 2, rng.randint(0, limit * 3 // 2)][n % 5]
        limits.append(limit)
        principals.append(principal)
    opened = [on - timedelta(days=rng.randint(0, 2_500)) for _ in cases]
    opened[:4] = [on, on - timedelta(days=29), date(2020, 10, 31), date(2020, 11, 1)]  # 1, 1, 60, 59 months
    rows = _rows([BehaviourFacts(1, *c[1:4], 0.0, c[4]) for c in cases], opened, limits, principals)
    got = scores(rows, on).to_pylist()
    model = shipped_model()
    ppms = set()
    for case, day, limit, principal, row in zip(cases, opened, limits, principals, got, strict=True):
        facts = BehaviourFacts(
            reference_months(day, on), case[1], case[2], case[3], principal / limit, case[4]
        )
        want = score_behaviour(facts, model)
        assert (row["score_points"], row["probability_bad_ppm"], row["reasons"]) == (
            want.points,
            want.probability_bad_ppm,
            " ".join(want.reasons),
        ), facts
        ppms.add(row["probability_bad_ppm"])
    assert len(ppms) > 1_000


def test_months_on_book_at_the_month_edges() -> None:
    on = date(2025, 3, 31)
    days = [date(2025, 3, 31), date(2025, 2, 28), date(2025, 1, 31), date(2024, 2, 29), date(2020, 3, 31)]
    days += [on - timedelta(days=n) for n in range(0, 800, 7)]
    got = months_on_book(np.array([day_number(d) for d in days], np.int32), on).tolist()
    assert got == [reference_months(d, on) for d in days]
    assert got[0] == 1


def test_every_feature_is_named_in_order() -> None:
    assert FEATURES[4] == "utilisation" and LATEST.names == ["account_key", "behaviour_score"]


# --- the month ends ---------------------------------------------------------------------------------------


def month_ends(history_apart: bool, through: date, backend: BaseBackend | None = None) -> Iterator[date]:
    """Every month end of a year of :data:`BORROWERS`: the portfolio loaded from the reference's states
    before the day, both runners' day, the scores compared."""
    states = open_portfolio(START, BORROWERS)
    ids = [s.id for s in states]
    for on in iter_days(START, through):
        before_end_of_day(states, BORROWERS, START, on)
        scorer = None
        if is_month_end(on):
            spells, settled = SPELLS.empty_table(), STATEMENT_HISTORY.empty_table()
            tables = tables_from_states(states, HUABEI)
            if history_apart:
                tables, spells, settled = apart(states)
            portfolio = Portfolio.load(tables, HUABEI, backend or ibis.duckdb.connect())
            scorer = BehaviourScorer(portfolio, spells, settled)
            portfolio.run_day(on)
        states = [rules.end_of_day(s, on).state for s in states]
        if scorer is not None:
            assert got_scores(scorer.run(on), ids) == reference_scores(states, on), on
            yield on


@pytest.mark.parametrize("history_apart", [False, True])
def test_every_month_end_scores_as_the_reference(history_apart: bool) -> None:
    assert len(list(month_ends(history_apart, date(2025, 12, 31)))) == 12


def test_the_histories_hold_what_the_score_reads() -> None:
    """The portfolio's month ends reach every feature: M1 → M2 moves, minimum-only cycles, over the limit."""
    states = open_portfolio(START, BORROWERS)
    seen: dict[str, set[float]] = {name: set() for name in FEATURES}
    for on in iter_days(START, date(2025, 12, 31)):
        before_end_of_day(states, BORROWERS, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
        if is_month_end(on):
            for s in states:
                if s.last_eod == on and scored_at_month_end(s):
                    facts = behaviour_facts(s, s.statements, on)
                    for name in FEATURES:
                        seen[name].add(float(getattr(facts, name)))
    assert max(seen["times_30_plus_12m"]) >= 2 and max(seen["minimum_only_6m"]) >= 3
    assert max(seen["worst_dpd_12m"]) > 60 and 1.0 in seen["months_on_book"]
    assert 0.0 in seen["utilisation"] and max(seen["utilisation"]) > 0.9


# --- the strategy: both runners ---------------------------------------------------------------------------


def run_both(
    backend: BaseBackend, first: date, days: int, seed: int, history_apart: bool, forget: bool = False
) -> set[str]:
    """A year of :data:`BORROWERS` through the day before ``first`` by the reference (its month-end scores
    kept), then ``days`` end-of-days and decide → comply → act by both runners from the same random
    records; scores, decisions, actions, messages, work and records equal every day. Returns the stages
    decided. forget: start with no score recorded (as on a store that never ran a month end)."""
    states = open_portfolio(START, BORROWERS)
    ids = [s.id for s in states]
    latest: dict[str, int] = {}
    for on in iter_days(START, first - timedelta(days=1)):
        before_end_of_day(states, BORROWERS, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
        if is_month_end(on):
            latest.update({i: score[0] for i, score in reference_scores(states, on).items()})
    if forget:
        latest.clear()
    rng = random.Random(seed)
    records = {s.id: draw_collections(rng, s.id, first, STRATEGY) for s in states}
    spells, settled = SPELLS.empty_table(), STATEMENT_HISTORY.empty_table()
    tables = tables_from_states(states, HUABEI)
    if history_apart:
        tables, spells, settled = apart(states)
    keys = {account_id: key for key, account_id in enumerate(ids)}
    portfolio = Portfolio.load(tables, HUABEI, backend)
    known = pa.table(
        {"account_key": [keys[i] for i in latest], "behaviour_score": list(latest.values())}, schema=LATEST
    )
    scorer = BehaviourScorer(portfolio, spells, settled, known)
    collector = Collector(portfolio, STRATEGY, rulebook("cn"))
    collector.load(
        *collection_tables(
            keys,
            {i: r[0] for i, r in records.items()},
            {i: r[1] for i, r in records.items()},
            {i: r[2] for i, r in records.items()},
        ),
        spell_history=spells,
        behaviour=scorer,
    )

    def with_behaviour(account: AccountState, *args: Any, **kwargs: Any) -> Any:
        return plan_collection(account, *args, behaviour_score=latest.get(account.id), **kwargs)

    stages: set[str] = set()
    patch = pytest.MonkeyPatch()
    patch.setattr(setbased_collect_helpers, "plan_collection", with_behaviour)
    try:
        for on in iter_days(first, first + timedelta(days=days - 1)):
            states = [rules.end_of_day(s, on).state for s in states]
            recorded = reference_scores(states, on) if is_month_end(on) else {}
            latest.update({i: score[0] for i, score in recorded.items()})
            want, records = reference_day(states, on, records, STRATEGY, rulebook("cn"))
            portfolio.run_day(on)
            got = set_based_day(collector, on, ids, {s.id for s in states if s.last_eod == on})
            assert_same(got, want, on)
            assert got_scores(scorer.recorded, ids) == recorded, on
            stages |= {str(stage) for stage, _ in want.decisions.values()}
    finally:
        patch.undo()
    return stages


def test_a_strategy_on_the_behaviour_score_plans_as_the_reference() -> None:
    stages: set[str] = set()
    for seed, history_apart in ((1, False), (2, True), (3, False)):
        stages |= run_both(ibis.duckdb.connect(), date(2025, 11, 28), 5, seed, history_apart)
    assert {"risky", "steady"} <= stages


def test_accounts_never_scored_have_a_null_fact_until_the_month_end() -> None:
    stages = run_both(ibis.duckdb.connect(), date(2025, 11, 28), 4, 7, False, forget=True)
    assert "unscored" in stages and ({"risky", "steady"} & stages)


def test_every_engine_plans_on_the_behaviour_score_as_the_reference(backend: BaseBackend) -> None:
    days = 2 if backend.name == "pyspark" else 3
    stages = run_both(backend, date(2025, 11, 29), days, 4, True)
    assert stages & {"risky", "steady"}


def test_a_strategy_on_the_behaviour_score_needs_the_scorer() -> None:
    on = date(2026, 3, 1)
    state = rules.open_account("A", "huabei", HUABEI, on, 100_000)
    portfolio = Portfolio.load(tables_from_states([state], HUABEI), HUABEI, ibis.duckdb.connect())
    portfolio.run_day(on)
    collector = Collector(portfolio, STRATEGY, rulebook("cn"))
    empty = collection_tables({}, {}, {}, {})
    with pytest.raises(Unsupported, match=r"strategy behaviour reads behaviour_score"):
        collector.load(*empty)


# --- the operational store ----------------------------------------------------------------------------------

STORE_BUILT = date(2026, 2, 25)
STORE_THROUGH = date(2026, 3, 3)
HUABEI_FILE = Path(__file__).parents[2] / "src" / "overdue" / "strategy" / "strategies" / "huabei.yaml"


def huabei_on_the_behaviour_score() -> Strategy:
    """The shipped huabei strategy with human calls only for accounts the month-end model scores low."""
    shipped = HUABEI_FILE.read_text(encoding="utf-8")
    call = "      - {id: call_human, type: call, priority: 10, every_days: $call_every_days}\n"
    assert call in shipped
    condition = ", when: {behaviour_score: {max: 545}}}\n"
    return parse_strategy(shipped.replace(call, call.replace("}\n", condition)))


@pytest.fixture
def store_twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores built alike through :data:`STORE_BUILT` (scored at the January month end)."""
    yield from twin_stores(db_url, tmp_path, lambda first: build_store(first, 31, STORE_BUILT, count=10))


def _store_rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "behaviour_scores": "SELECT account_id, month_end, score_points, probability_bad_ppm, model_version, "
        "reasons FROM behaviour_scores ORDER BY account_id, month_end",
        "collection_actions": "SELECT account_id, business_date, treatment, type, stage, status, "
        "refused_rule, reason FROM collection_actions ORDER BY account_id, business_date, treatment",
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(query))] for name, query in queries.items()}


def test_the_store_run_records_the_month_end_scores_as_the_reference(
    store_twins: tuple[Engine, Engine, str],
) -> None:
    """``overdue eod --store`` over a month end with the behaviour strategy: the scores recorded in
    ``behaviour_scores`` and the actions equal the reference's (the fact read from the store's January
    scores until the February month end)."""
    reference, set_based, url = store_twins
    strategy = huabei_on_the_behaviour_score()
    run_eod(reference, STORE_THROUGH, collection=Collection(strategy))
    summary = run_set_based(set_based, url, STORE_THROUGH, strategy=strategy)
    assert summary.to_json()["not_run"] == []
    mine, theirs = _store_rows(set_based), _store_rows(reference)
    assert mine == theirs
    assert {str(r[1]) for r in mine["behaviour_scores"]} == {"2026-01-31", "2026-02-28"}
    assert mine["collection_actions"]
