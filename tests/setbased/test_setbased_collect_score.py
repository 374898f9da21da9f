"""The collection score over tables (:mod:`overdue.setbased.collect_score`) is the reference's, exactly.

- the thresholds: the score as the number of thresholds at or below the log-odds equals
  :func:`~overdue.setbased.collect_score.score_of` (the reference's ``round(100 / (1 + exp(-z)))``) on
  random log-odds and around every threshold; the contribution tables add up to the model's own log-odds;
- the engines: DuckDB, PostgreSQL and Spark add the looked-up contributions to the very double Python's
  ``sum`` gives, and count the same thresholds;
- the strategy: a strategy segmenting on ``score`` (``setbased_score_strategy.yaml``: calls for a score of
  70 or less, SMS otherwise, a pause and treatment conditions on it) plans with the
  :class:`~overdue.setbased.collect.Collector` what the reference's
  :func:`~overdue.engine.collect.plan_collection` plans, and the score of each account is
  :func:`overdue.risk.collection.score_fact`'s — on a portfolio a year old with repeated delinquency
  episodes, cures, promises kept and broken (some a year old, around the 12-month edge) and unreachable
  borrowers, the closed bucket spells in the portfolio's tables or given apart (as the store's are).
"""

from __future__ import annotations

import dataclasses
import math
import random
import struct
from datetime import date, timedelta
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_collect_helpers import (
    Plans,
    Records,
    assert_same,
    draw_collections,
    reference_day,
    set_based_day,
    with_time_zones,
)
from setbased_helpers import HUABEI, Borrower, Event, before_end_of_day, open_portfolio
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.compliance import Rulebook, rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import add_months, iter_days
from overdue.domain.collections import CollectionState, Promise, review_promises, start_or_end_episode
from overdue.domain.state import AccountState
from overdue.engine.collect import Collections, needs_decision
from overdue.risk.collection import FEATURES, delinquency_entries, score_fact, shipped_model
from overdue.setbased import Portfolio, Unsupported, tables_from_states
from overdue.setbased.backend import table_name, workspace
from overdue.setbased.collect import Collector
from overdue.setbased.collect_score import (
    CONTRIBUTIONS,
    SEARCH_HIGH,
    SEARCH_LOW,
    THRESHOLDS,
    contributions_table,
    log_odds,
    score_of,
    shipped,
    thresholds_table,
)
from overdue.setbased.collect_tables import collection_tables
from overdue.setbased.layout import SPELLS
from overdue.setbased.snapshots import read_outputs, write_state
from overdue.strategy import Strategy, load_strategy
from overdue.strategy.quiet import quiet_days_of

SCORED_FILE = Path(__file__).parent / "setbased_score_strategy.yaml"
SCORED = load_strategy(SCORED_FILE)
MODEL = shipped()
REFERENCE = shipped_model()


# --- the thresholds -------------------------------------------------------------------------------------


def test_each_threshold_is_where_the_score_steps_up() -> None:
    assert len(MODEL.thresholds) == 100
    assert list(MODEL.thresholds) == sorted(MODEL.thresholds)
    for k, t in enumerate(MODEL.thresholds, 1):
        assert score_of(t) >= k > score_of(math.nextafter(t, -math.inf)), k
    assert score_of(SEARCH_LOW) == 0 and score_of(SEARCH_HIGH) == 100
    assert MODEL.thresholds[49] < 0 < MODEL.thresholds[50]  # 0.5 rounds half to even: 50


@given(st.floats(min_value=-40.0, max_value=40.0, allow_nan=False))
def test_counting_thresholds_gives_the_reference_score(z: float) -> None:
    assert MODEL.score(z) == score_of(z)


@given(k=st.integers(1, 100), ulps=st.integers(-4, 4))
def test_counting_thresholds_gives_the_reference_score_at_the_boundaries(k: int, ulps: int) -> None:
    z = MODEL.thresholds[k - 1]
    for _ in range(abs(ulps)):
        z = math.nextafter(z, math.inf if ulps > 0 else -math.inf)
    assert MODEL.score(z) == score_of(z)


values = st.tuples(
    st.integers(0, 400),
    st.integers(0, 12),
    st.integers(0, 120),
    st.integers(0, 40),
    st.integers(0, 9),
    st.integers(0, 9),
    st.integers(0, 1),
)


@given(values)
def test_the_contribution_tables_give_the_model_log_odds_and_score(raw: tuple[int, ...]) -> None:
    facts = {name: float(v) for name, v in zip(FEATURES, raw, strict=True)}
    z = MODEL.log_odds(raw)
    assert struct.pack("<d", z) == struct.pack("<d", REFERENCE.log_odds(facts))
    assert MODEL.score(z) == round(REFERENCE.probability(facts) * 100)


# --- the engines ------------------------------------------------------------------------------------------


def feature_rows(count: int, seed: int) -> pa.Table:
    """Random feature values (some past the caps) and the corners: all zero, all at or past the caps."""
    rng = random.Random(seed)
    highs = (400, 12, 120, 40, 9, 9, 1)
    rows = [tuple(0 for _ in highs), MODEL.caps, highs]
    rows += [tuple(rng.randint(0, h) for h in highs) for _ in range(count)]
    columns = {"row": list(range(len(rows)))}
    columns.update({name: [r[n] for r in rows] for n, name in enumerate(FEATURES)})
    return pa.table(columns, schema=pa.schema([(name, pa.int64()) for name in ["row", *FEATURES]]))


def test_the_engine_adds_the_contributions_to_pythons_double(backend: BaseBackend) -> None:
    """Bit for bit: the log-odds as the engine adds the looked-up contributions, on each backend."""
    db = workspace(backend)
    features = feature_rows(3_000, seed=11)
    db.load("score_features", features)
    db.load("score_contributions", contributions_table(MODEL))
    db.load("score_thresholds", thresholds_table(MODEL))
    f = ibis.table(ibis.Schema.from_pyarrow(features.schema), name=table_name("score_features"))
    c = ibis.table(ibis.Schema.from_pyarrow(CONTRIBUTIONS), name=table_name("score_contributions"))
    th = ibis.table(ibis.Schema.from_pyarrow(THRESHOLDS), name=table_name("score_thresholds"))
    expr = log_odds(f, {name: f[name] for name in FEATURES}, c, th).select("row", "score_z", "score_value")
    got = db.fetch(
        str(ibis.to_sql(expr, dialect=db.dialect)),
        pa.schema([("row", pa.int64()), ("score_z", pa.float64()), ("score_value", pa.int64())]),
    ).sort_by("row")
    assert got.num_rows == features.num_rows
    for row, z, score in zip(
        features.to_pylist(), got["score_z"].to_pylist(), got["score_value"].to_pylist(), strict=True
    ):
        facts = {name: float(row[name]) for name in FEATURES}
        assert struct.pack("<d", z) == struct.pack("<d", REFERENCE.log_odds(facts)), row
        assert score == round(REFERENCE.probability(facts) * 100), row
    assert len(set(got["score_value"].to_pylist())) > 30


# --- the strategy: both runners ---------------------------------------------------------------------------

START = date(2025, 1, 6)


def episodes(first: int, every: int, cure_after: int, count: int) -> tuple[Event, ...]:
    """A purchase every ``every`` days from day ``first``, each repaid in full ``cure_after`` days later
    (after its due date: a delinquency episode each time)."""
    drawn: list[Event] = []
    for n in range(count):
        day = first + n * every
        drawn += [Event(day, "purchase", 4_000, 3), Event(day + cure_after, "repay_all", 0, 3)]
    return tuple(drawn)


BORROWERS = [
    Borrower(0, 2_000_000, "none", episodes(1, 60, 45, 8)),
    Borrower(0, 900_000, "none", episodes(10, 55, 48, 9)),
    Borrower(3, 1_500_000, "none", episodes(2, 90, 75, 5)),
    Borrower(0, 700_000, "none", (Event(1, "purchase", 9_000, 3),)),
    Borrower(5, 600_000, "minimum", (Event(6, "purchase", 8_000, 3), Event(200, "repay_part", 3_000, 3))),
    Borrower(0, 800_000, "statement", (Event(4, "purchase", 5_000, 3),)),
    Borrower(150, 1_000_000, "none", (Event(151, "purchase", 9_000, 3), Event(300, "repay_all", 0, 3))),
    Borrower(20, 500_000, "none", episodes(21, 50, 42, 10)),
    Borrower(30, 1_200_000, "none", episodes(31, 65, 55, 7)),
]
"""A year of borrowers: some fall behind and cure again and again (earlier episodes), one never pays, one
pays the minimum, one the whole statement, one opens late."""


def adjusted_records(rng: random.Random, records: Records, states: list[AccountState], on: date) -> Records:
    """The records with promises resolved around the 12-month edge added to some accounts (the score
    counts those resolved on or after the same date a year before), and for some delinquent accounts the
    episode opened when it really did (on the day of the last M0 → M1 move: the edge of the earlier
    episodes' window)."""
    edge = add_months(on, -12)
    entered = {s.id: delinquency_entries(s.bucket_history) for s in states}
    changed: Records = {}
    for account_id, (collection, done, history) in records.items():
        resolved_on = [edge + timedelta(days=rng.randint(-2, 6)) for _ in range(rng.randint(0, 3))]
        extra = [
            Promise(
                f"Y{n}",
                d - timedelta(days=20),
                10_000,
                d - timedelta(days=1),
                rng.choice(["kept", "broken"]),
                0,
                d,
            )
            for n, d in enumerate(resolved_on)
        ]
        state = dataclasses.replace(collection.state, promises=(*collection.state.promises, *extra))
        if entered[account_id] and rng.random() < 0.5:
            state = dataclasses.replace(state, episode_started_on=entered[account_id][-1])
        changed[account_id] = (dataclasses.replace(collection, state=state), done, history)
    return changed


def reference_scores(
    states: list[AccountState], on: date, records: Records, strategy: Strategy
) -> dict[str, int | None]:
    """The ``score`` fact the reference's decision reads, of each account that ran and needs one."""
    scores: dict[str, int | None] = {}
    quiet = quiet_days_of(strategy)
    for account in states:
        if account.last_eod != on or not needs_decision(account, on, records[account.id][0].state, quiet):
            continue
        cs = start_or_end_episode(records[account.id][0].state, account.days_past_due, on)
        scores[account.id] = score_fact(account, review_promises(cs, on), on)
    return scores


def run_both(
    states: list[AccountState],
    on: date,
    strategy: Strategy,
    book: Rulebook,
    con: BaseBackend,
    seed: int,
    days: int,
    history_apart: bool,
) -> tuple[dict[str, int | None], set[str]]:
    """The end-of-days of ``on`` and the ``days - 1`` after it, then decide → comply → act by both runners
    from the same random records; every day the scores, decisions, actions, messages, work and records
    after it must be equal. Returns every score seen and the stages decided."""
    rng = random.Random(seed)
    drawn = {s.id: draw_collections(rng, s.id, on, strategy) for s in states}
    records = adjusted_records(rng, drawn, states, on)
    tables = tables_from_states(states, HUABEI)
    spell_history = SPELLS.empty_table()
    if history_apart:  # as read from the store: the closed spells beside the state tables
        spell_history = tables.bucket_spells
        tables = dataclasses.replace(tables, bucket_spells=SPELLS.empty_table())
    ids = tables.accounts["account_id"].to_pylist()
    keys = {account_id: key for key, account_id in enumerate(ids)}
    portfolio = Portfolio.load(tables, HUABEI, con)
    collector: Collector | None = None
    seen: dict[str, int | None] = {}
    stages: set[str] = set()
    for n in range(days):
        day = on + timedelta(days=n)
        states = [rules.end_of_day(s, day).state for s in states]
        want, records_after = reference_day(states, day, records, strategy, book)
        portfolio.run_day(day)
        if collector is None:
            collector = Collector(portfolio, strategy, book)
            collector.load(
                *collection_tables(
                    keys,
                    {i: r[0] for i, r in records.items()},
                    {i: r[1] for i, r in records.items()},
                    {i: r[2] for i, r in records.items()},
                ),
                spell_history=spell_history,
            )
        scores = {ids[r["account_key"]]: r["score"] for r in collector.scores(day).to_pylist()}
        assert scores == reference_scores(states, day, records, strategy), f"scores on {day}"
        got = set_based_day(collector, day, ids, {s.id for s in states if s.last_eod == day})
        assert_same(got, want, day)
        seen.update({f"{i}@{day}": s for i, s in scores.items()})
        stages |= {str(stage) for stage, _ in want.decisions.values()}
        records = records_after
    return seen, stages


def year_of_states(through: date) -> list[AccountState]:
    """:data:`BORROWERS` run day by day by the reference from :data:`START` through the day before
    ``through``, the borrowers in several time zones."""
    states = with_time_zones(open_portfolio(START, BORROWERS), 5)
    for on in iter_days(START, through - timedelta(days=1)):
        before_end_of_day(states, BORROWERS, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    before_end_of_day(states, BORROWERS, START, through)
    return states


@pytest.fixture(scope="module")
def a_year() -> list[AccountState]:
    return year_of_states(date(2025, 12, 12))


def test_the_portfolio_has_the_histories_the_score_reads(a_year: list[AccountState]) -> None:
    """Earlier delinquency episodes within the 12 months, as the score counts them."""
    entries = {s.id: len(delinquency_entries(s.bucket_history)) for s in a_year}
    assert max(entries.values()) >= 5 and min(entries.values()) == 0


@pytest.mark.parametrize("history_apart", [False, True])
def test_a_strategy_on_the_score_plans_as_the_reference(
    a_year: list[AccountState], history_apart: bool
) -> None:
    on = date(2025, 12, 12)
    seen: dict[str, int | None] = {}
    stages: set[str] = set()
    for seed in range(4):
        scores, decided = run_both(
            a_year,
            on,
            SCORED,
            rulebook("cn"),
            ibis.duckdb.connect(),
            seed,
            days=3,
            history_apart=history_apart,
        )
        seen.update({f"{seed}:{k}": v for k, v in scores.items()})
        stages |= decided
    assert {"low", "high"} <= stages
    known = {v for v in seen.values() if v is not None}
    assert None in seen.values() and len(known) > 5


@pytest.mark.parametrize(
    "on", [date(2025, 6, 20), date(2025, 9, 11), date(2026, 2, 10)], ids=["june", "september", "february"]
)
def test_the_score_follows_the_reference_through_the_year(on: date) -> None:
    """On 10 February 2026 the earliest M0 → M1 moves (10 February 2025) are on the 12-month edge, then
    past it."""
    states = year_of_states(on)
    scores, _ = run_both(states, on, SCORED, rulebook("cn"), ibis.duckdb.connect(), on.toordinal(), 2, False)
    assert any(v is not None for v in scores.values())


def test_every_engine_scores_as_the_reference(a_year: list[AccountState], backend: BaseBackend) -> None:
    """One day on Spark (each day's queries take it seconds), two elsewhere."""
    days = 1 if backend.name == "pyspark" else 2
    scores, _ = run_both(a_year, date(2025, 12, 12), SCORED, rulebook("cn"), backend, 9, days, True)
    assert any(v is not None for v in scores.values())


def test_a_strategy_on_the_score_needs_the_bucket_history() -> None:
    on = date(2026, 3, 1)
    state = rules.open_account("A", "huabei", HUABEI, on, 100_000)
    portfolio = Portfolio.load(tables_from_states([state], HUABEI), HUABEI, ibis.duckdb.connect())
    portfolio.run_day(on)
    collector = Collector(portfolio, SCORED, rulebook("cn"))
    empty = collection_tables({}, {}, {}, {})
    with pytest.raises(Unsupported, match=r"strategy scored reads score: .* full bucket history"):
        collector.load(*empty)
    collector.load(*empty, spell_history=SPELLS.empty_table())
    assert collector.scores(on).to_pylist() == []


def test_the_nightly_job_decides_on_the_score_as_the_reference(tmp_path: Path) -> None:
    """``overdue eod --engine duckdb --state DIR --strategy FILE`` with the score strategy: the state
    folder's closed spells are the whole bucket history, and the actions equal the reference's."""
    snapshot, through = date(2025, 12, 11), date(2025, 12, 13)
    states = with_time_zones(open_portfolio(START, BORROWERS), 5)
    for on in iter_days(START, snapshot):
        before_end_of_day(states, BORROWERS, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    root = tmp_path / "state"
    write_state(root, snapshot, tables_from_states(states, HUABEI), HUABEI)
    command = ["eod", "--engine", "duckdb", "--state", str(root), "--date", through.isoformat()]
    result = CliRunner().invoke(app, [*command, "--strategy", str(SCORED_FILE)])
    assert result.exit_code == 0, result.output

    records: Records = {s.id: (Collections(CollectionState(s.id), None, None), {}, []) for s in states}
    ids = [s.id for s in states]
    stages: set[str] = set()
    want = Plans()
    for on in iter_days(snapshot + timedelta(days=1), through):
        states = [rules.end_of_day(s, on).state for s in states]
        want, records = reference_day(states, on, records, SCORED, rulebook("cn"))
        got: dict[str, list[tuple[object, ...]]] = {}
        for r in read_outputs(root, "actions", on).to_pylist():
            got.setdefault(ids[r["account_key"]], []).append(
                (r["treatment"], r["stage"], r["status"], r["refused_rule"], r["reason"])
            )
        expected = {
            account_id: [(row[0], row[2], row[8], row[9], row[10]) for row in rows]
            for account_id, rows in want.actions.items()
            if rows
        }
        assert got == expected, on
        stages |= {str(stage) for stage, _ in want.decisions.values()}
    assert "low" in stages  # new records: no contact yet, and the earlier episodes weigh
