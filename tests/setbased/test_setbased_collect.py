"""Differential tests of decide → comply over tables: the set-based
:class:`~overdue.setbased.collect.Collector` plans what the reference's
:func:`~overdue.engine.collect.plan_collection` plans.

Hypothesis draws small portfolios (as the end-of-day differential tests do) and advances them day by day
with the reference rules; on the drawn days each account gets random collection records (episode, stage and
escalation, promises, holds, placement, treatments done, contacts of the last days in the debtor's time
zone), the end-of-day runs with both runners, and both decide and comply — with the shipped huabei ladder
or a strategy using every compiled construct, under the CN rulebook or none. The decisions (stage, pause)
and every field of every planned action and its verdict, in order, must be equal: on DuckDB, PostgreSQL and
Spark, and on the benchmark portfolio.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_collect_helpers import FIXED, assert_same_plans, with_time_zones
from setbased_helpers import (
    HABITS,
    HUABEI,
    KINDS,
    SHARE_SCALE,
    SPARK_MARKS,
    Borrower,
    Event,
    before_end_of_day,
    open_portfolio,
)
from test_setbased_bench_portfolio import bench_module

from overdue.compliance import NoRulebook, RuleSetRulebook, rulebook
from overdue.compliance.rulebooks import CN_RULES
from overdue.compliance.rules import RULES, register
from overdue.domain import account as rules
from overdue.domain.calendar import add_months, iter_days
from overdue.domain.collections import CollectionState
from overdue.domain.errors import InvalidInput
from overdue.engine.collect import Collections
from overdue.setbased import Portfolio, Unsupported, collect, states_from_tables, tables_from_states
from overdue.setbased.backend import table_name
from overdue.setbased.collect import Collector
from overdue.setbased.collect_tables import collection_tables
from overdue.setbased.encode import account_slices, numbers_within
from overdue.strategy import Strategy, default_strategy, load_strategy, parse_strategy
from overdue.strategy.facts import CONTACTABILITY

CON = ibis.duckdb.connect()
SINK = load_strategy(Path(__file__).parent / "setbased_sink_strategy.yaml")
STRATEGIES = {"huabei": default_strategy(), "sink": SINK}
TIGHT = RuleSetRulebook(
    "tight",
    (*CN_RULES, "us.cease_communication"),
    {
        "max_voice_conversations_per_day": 1,
        "max_unanswered_per_number_per_day": 1,
        "max_field_visits_per_day": 0,
    },
)
"""The CN rules with the caps at their lowest, and the US cease rule: refusals of every kind."""
RULEBOOKS = {"cn": rulebook("cn"), "tight": TIGHT, "none": NoRulebook()}

events = st.builds(
    Event,
    day=st.one_of(st.integers(0, 70), st.integers(0, 300)),
    kind=st.sampled_from(KINDS),
    share=st.one_of(st.integers(1, SHARE_SCALE), st.sampled_from([1, SHARE_SCALE // 10, SHARE_SCALE])),
    periods=st.sampled_from([3, 6, 9, 12]),
)
FIRST_PURCHASE = Event(21, "purchase", 6_000, 3)
"""Every borrower buys on day 21 (all are open by then), so that most accounts have something to collect."""
borrowers = st.builds(
    Borrower,
    opened=st.integers(0, 20),
    limit=st.one_of(st.sampled_from([50_000, 500_000, 5_000_000]), st.integers(50_000, 5_000_000)),
    habit=st.sampled_from([*HABITS, "none"]),
    events=st.lists(events, min_size=0, max_size=10).map(lambda drawn: (FIRST_PURCHASE, *drawn)),
)
DAYS = ("statement_day", "due_date", "before_due", "just_before_due", "day_after_due", "any_day")


def check_day(start: date, kind: str, month: int, offset: int) -> date:
    first = add_months(date(start.year, start.month, 1), month)
    due = first.replace(day=HUABEI.due_day)
    return {
        "statement_day": first,
        "due_date": due,
        "before_due": due - timedelta(days=3),
        "just_before_due": due - timedelta(days=1),
        "day_after_due": due + timedelta(days=1),
        "any_day": first + timedelta(days=offset % 28),
    }[kind]


def run_and_check(
    start: date,
    portfolio: list[Borrower],
    checks: list[tuple[str, int, int]],
    strategy: str,
    book: str,
    seed: int,
    con: BaseBackend,
    days: int = 1,
) -> None:
    states = with_time_zones(open_portfolio(start, portfolio), seed)
    dates = {check_day(start, *check) for check in checks}
    for on in iter_days(start, max(dates)):
        before_end_of_day(states, portfolio, start, on)
        if on in dates:
            plans = assert_same_plans(
                states, on, HUABEI, STRATEGIES[strategy], RULEBOOKS[book], con, seed + on.toordinal(), days
            )
            event(f"stages: {sorted({str(stage) for stage, _ in plans.decisions.values()})}")
            event(f"refused: {sorted({str(r[9]) for rows in plans.actions.values() for r in rows if r[9]})}")
        states = [rules.end_of_day(s, on).state for s in states]


portfolios = st.lists(borrowers, min_size=1, max_size=5)
check_days = st.lists(
    st.tuples(st.sampled_from(DAYS), st.integers(1, 9), st.integers(0, 27)), min_size=1, max_size=2
)
starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
strategies = st.sampled_from(sorted(STRATEGIES))
rulebooks = st.sampled_from(["cn", "cn", "tight", "none"])
seeds = st.integers(0, 2**32)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=starts,
    portfolio=portfolios,
    checks=check_days,
    strategy=strategies,
    book=rulebooks,
    seed=seeds,
    days=st.sampled_from([1, 1, 4]),
)
def test_set_based_collection_equals_the_reference(
    start: date,
    portfolio: list[Borrower],
    checks: list[tuple[str, int, int]],
    strategy: str,
    book: str,
    seed: int,
    days: int,
) -> None:
    run_and_check(start, portfolio, checks, strategy, book, seed, CON, days)


@pytest.mark.parametrize(
    "engine",
    [
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=SPARK_MARKS),
    ],
)
def test_two_weeks_of_collection_in_the_engine_equal_the_reference(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """Fourteen days, the collection records kept in the engine from one day to the next: a due date, the
    first overdue days, early and call stages, promises breaking, placements, write-off territory.

    On Spark this once exhausted the driver's heap within the two weeks: the size estimates that
    checkpointed tables carried over multiplied day after day (``docs/setbased.md``, "The three
    backends")."""
    backend: BaseBackend = request.getfixturevalue(engine)
    start = date(2025, 11, 3)
    states = with_time_zones(open_portfolio(start, FIXED), 3)
    for on in iter_days(start, date(2026, 1, 31)):
        before_end_of_day(states, FIXED, start, on)
        states = [rules.end_of_day(s, on).state for s in states]
    plans = assert_same_plans(states, date(2026, 2, 1), HUABEI, SINK, TIGHT, backend, seed=7, days=14)
    assert plans.decisions


@pytest.mark.parametrize(
    "engine",
    [pytest.param("postgres", marks=pytest.mark.postgres), pytest.param("spark", marks=SPARK_MARKS)],
)
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(start=starts, portfolio=portfolios, checks=check_days, strategy=strategies, book=rulebooks, seed=seeds)
def test_postgres_and_spark_plan_as_the_reference_too(
    request: pytest.FixtureRequest,
    engine: str,
    start: date,
    portfolio: list[Borrower],
    checks: list[tuple[str, int, int]],
    strategy: str,
    book: str,
    seed: int,
) -> None:
    run_and_check(start, portfolio, checks, strategy, book, seed, request.getfixturevalue(engine))


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("on", [date(2026, 3, 15), date(2026, 4, 7)])
def test_both_runners_plan_the_same_on_the_benchmark_portfolio(on: date, strategy: str) -> None:
    bench = bench_module()
    states = with_time_zones(states_from_tables(bench.generate(300, on, seed=5), bench.TERMS), seed=5)
    plans = assert_same_plans(
        states,
        on,
        bench.TERMS,
        STRATEGIES[strategy],
        rulebook("cn"),
        ibis.duckdb.connect(),
        seed=on.toordinal(),
    )
    planned = [row for rows in plans.actions.values() for row in rows]
    assert len(plans.decisions) > 50 and len(planned) > 50
    assert {row[8] for row in planned} == {"queued", "refused"}
    assert any(plans.messages.values()) and any(plans.work.values())


def test_the_rows_put_together_a_slice_at_a_time_plan_as_the_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The day's actions, messages and work put together a few accounts at a time, on every core
    (:meth:`Collector._rows`), are the reference's, in the reference's order."""
    monkeypatch.setattr(collect, "ROWS_PER_SLICE", 5)
    made: list[int] = []

    def counted(rows: pa.Table, size: int) -> list[pa.Table]:
        slices = account_slices(rows, size)
        made.append(len(slices))
        return slices

    monkeypatch.setattr(collect, "account_slices", counted)
    bench = bench_module()
    on = date(2026, 3, 15)
    states = with_time_zones(states_from_tables(bench.generate(300, on, seed=5), bench.TERMS), seed=5)
    plans = assert_same_plans(
        states, on, bench.TERMS, default_strategy(), rulebook("cn"), ibis.duckdb.connect(), seed=11
    )
    assert made and made[0] > 10
    assert any(plans.messages.values()) and any(plans.work.values())


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), max_size=60), st.integers(1, 12))
def test_account_slices_keep_each_accounts_rows_together(accounts: list[int], size: int) -> None:
    """Slices of about ``size`` rows, in order, every row once, no account in two; chunked as the engine's
    rows come."""
    keys = sorted(accounts)
    rows = pa.table(
        {"account_key": pa.chunked_array([pa.array(keys[:7], pa.int64()), pa.array(keys[7:], pa.int64())])}
    )
    slices = account_slices(rows, size)
    got = [part["account_key"].to_pylist() for part in slices]
    assert [key for part in got for key in part] == keys
    assert all(part for part in got) or got == [[]]
    assert all(a[-1] != b[0] for a, b in pairwise(got))
    # each slice ends with the account of a row at a multiple of the size: no more slices than that
    assert len(got) <= max(1, -(-len(keys) // size))
    ends = {keys[k] for k in range(size - 1, len(keys), size)}
    assert all(part[-1] in ends for part in got[:-1])


def portfolio_of_one() -> Portfolio:
    on = date(2026, 3, 1)
    state = rules.open_account("A", "huabei", HUABEI, on, 100_000)
    portfolio = Portfolio.load(tables_from_states([state], HUABEI), HUABEI, ibis.duckdb.connect())
    portfolio.run_day(on)
    return portfolio


def test_a_strategy_reading_the_score_needs_the_bucket_history() -> None:
    text = (Path(__file__).parent / "setbased_sink_strategy.yaml").read_text()
    scored = text.replace("when: {agency: null}}", "when: {agency: null, score: {min: 40}}}")
    strategy: Strategy = parse_strategy(scored)
    collector = Collector(portfolio_of_one(), strategy, rulebook("cn"))
    with pytest.raises(Unsupported, match=r"strategy sink reads score: .* full bucket history"):
        collector.load(*collection_tables({}, {}, {}, {}))


def test_a_strategy_reading_the_behaviour_score_needs_the_month_end_scores() -> None:
    text = (Path(__file__).parent / "setbased_sink_strategy.yaml").read_text()
    scored = text.replace("when: {agency: null}}", "when: {agency: null, behaviour_score: {max: 600}}}")
    strategy: Strategy = parse_strategy(scored)
    collector = Collector(portfolio_of_one(), strategy, rulebook("cn"))
    with pytest.raises(Unsupported, match=r"strategy sink reads behaviour_score: .* BehaviourScorer"):
        collector.load(*collection_tables({}, {}, {}, {}))


def test_the_stages_and_the_contactability_go_in_by_their_index_and_come_back_as_written() -> None:
    portfolio = portfolio_of_one()
    key = portfolio.tables().accounts["account_key"][0].as_py()
    strategy = default_strategy()
    collector = Collector(portfolio, strategy, rulebook("cn"))
    stages = [stage.name for stage in strategy.stages]
    # a stage the strategy no longer has comes after the strategy's own
    state = CollectionState("A", stage="retired", escalated_from=stages[1], contactability="lost_contact")
    collector.load(*collection_tables({"A": key}, {"A": Collections(state, None, None)}, {}, {}))
    assert collector.stage_names == [*stages, "retired"]
    columns = ("stage", "escalated_from", "contactability")
    engine = portfolio.db.fetch(
        f"SELECT {', '.join(columns)} FROM {table_name('collections')}",
        pa.schema([(name, pa.int16()) for name in columns]),
    )
    assert engine.to_pylist() == [
        {"stage": len(stages), "escalated_from": 1, "contactability": CONTACTABILITY.index("lost_contact")}
    ]
    back = collector.state()[0].select(list(columns)).to_pylist()
    assert back == [{"stage": "retired", "escalated_from": stages[1], "contactability": "lost_contact"}]
    moved = Collections(CollectionState("A", contactability="moved_away"), None, None)
    with pytest.raises(
        InvalidInput, match="contactability 'moved_away' is not one of reachable, lost_contact"
    ):
        collector.load(*collection_tables({"A": key}, {"A": moved}, {}, {}))


def test_rules_that_are_not_compiled_are_refused() -> None:
    if "lender.quiet_sundays" not in RULES:  # a lender's own rule: never compiled
        register("lender.quiet_sundays")(lambda inp: None)
    own = RuleSetRulebook("mine", ["cn.quiet_hours", "us.seven_in_seven", "lender.quiet_sundays"])
    with pytest.raises(Unsupported, match=r"rulebook mine: .* lender.quiet_sundays$"):
        Collector(portfolio_of_one(), default_strategy(), own)


def test_the_rules_without_objection_to_unscheduled_plans_are_left_out() -> None:
    collector = Collector(portfolio_of_one(), default_strategy(), TIGHT)
    assert "cn.quiet_hours" not in collector.rulebook.rules
    assert "cn.field_visit_team" not in collector.rulebook.rules
    assert collector.rulebook.rules[-1] == "us.cease_communication"
    assert collector.rulebook.limit("cn.connected_voice_per_day") == 1


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), max_size=60))
def test_positions_number_each_accounts_run_from_zero(accounts: list[int]) -> None:
    """The positions put on the fetched actions (sorted by account, then by priority and treatment,
    :func:`~overdue.setbased.encode.numbers_within`) count 0, 1, … along each account's run, as the window
    they replace numbered them; chunked as the engine's rows come."""
    keys = sorted(accounts)
    want: list[int] = []
    for n, key in enumerate(keys):
        want.append(want[-1] + 1 if n and keys[n - 1] == key else 0)
    got = numbers_within(pa.chunked_array([pa.array(keys[:7], pa.int64()), pa.array(keys[7:], pa.int64())]))
    assert got.type == pa.int64()
    assert got.to_pylist() == want
