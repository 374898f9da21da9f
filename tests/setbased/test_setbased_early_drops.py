"""State tables dropped before the day's end (:func:`overdue.setbased.day.early_drops`): on every kind of
day no step reads a table after it is dropped, and each goes right after its last reader; a day stopped
after such a drop leaves the portfolio refusing to go on, one stopped before any can simply run again."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import ibis
import pyarrow as pa
import pytest
from setbased_helpers import HUABEI, before_end_of_day, open_portfolio
from test_setbased_months import PORTFOLIO, START

from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.errors import InvalidInput
from overdue.domain.state import AccountState
from overdue.setbased import Portfolio, states_from_tables, tables_from_states
from overdue.setbased.collect import Collector
from overdue.setbased.day import APPENDED, RENAMED, early_drops
from overdue.setbased.limits_run import LimitReviewer
from overdue.setbased.plan import aged_schema, day_plan
from overdue.strategy import default_strategy

KINDS = list(itertools.product([False, True], repeat=3))
"""(statement day, month end, review) for every kind of day."""


@pytest.mark.parametrize(("statement_day", "month_end", "review"), KINDS)
def test_no_step_reads_a_state_table_after_it_is_dropped(
    statement_day: bool, month_end: bool, review: bool
) -> None:
    queries = day_plan(HUABEI, 4, statement_day, month_end, "duckdb", review).steps
    drops = early_drops(queries, statement_day)
    order = list(queries)
    # the state tables the day replaces, and on a statement day the accrued statements (billing's input)
    replaced = {state for step, state in RENAMED.items() if step in queries} | (
        {"accrued"} if statement_day else set()
    )
    assert drops, "every kind of day drops something early"
    for before, states in drops.items():
        at = order.index(before)
        for state in states:
            assert state in replaced
            # no step from the drop on reads it (the rows appended to a state table included)
            assert not [name for name in order[at:] if state in queries[name].reads]
            # and the step just before the drop does: it goes as early as it can
            assert state in queries[order[at - 1]].reads
    if statement_day:
        # billing's settled statements go in in their turn, and the accrued ones go after the new ones
        assert set(APPENDED) <= set(queries)
        assert "accrued" in drops[order[order.index("statements_next") + 1]]


def test_an_ordinary_day_drops_the_statements_and_the_accounts_after_their_last_readers() -> None:
    queries = day_plan(HUABEI, 4, False, False, "duckdb", False).steps
    assert list(queries) == ["accrued", "aged", "day_postings", "day_spells"]
    assert early_drops(queries, False) == {"aged": ("statements",), "day_postings": ("accounts",)}


ON = date(2026, 3, 11)


def _stopped_at(step: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Portfolio, list[AccountState]]:
    """A small portfolio (run by the reference to the day before :data:`ON`) whose day of ``ON`` stopped
    when the engine failed to create ``step``'s table (out of memory, an interrupt); and its states."""
    states = open_portfolio(START, PORTFOLIO[:3])
    for on in iter_days(START, ON - timedelta(days=1)):
        before_end_of_day(states, PORTFOLIO[:3], START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    portfolio = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, ibis.duckdb.connect())
    create = portfolio.db.create

    def failing(name: str, sql: str, joins_as_written: bool = False) -> None:
        if name == step:
            raise RuntimeError(f"{name}: out of memory")
        create(name, sql, joins_as_written)

    monkeypatch.setattr(portfolio.db, "create", failing)
    with pytest.raises(RuntimeError, match="out of memory"):
        portfolio.run_day(ON)
    monkeypatch.undo()
    return portfolio, states


def test_a_day_stopped_after_a_drop_leaves_the_portfolio_refusing_to_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portfolio, _ = _stopped_at("day_postings", monkeypatch)
    assert portfolio.interrupted == ON
    collector = Collector(portfolio, default_strategy(), rulebook("cn"))
    uses = (
        portfolio.tables,
        portfolio.outputs,
        lambda: portfolio.run_day(ON),
        # the collection half and the limit review too: they read the day's tables
        lambda: collector.run(ON),
        lambda: collector.load(*(pa.table({}) for _ in range(4))),
        lambda: LimitReviewer(portfolio).run_day(ON),
    )
    for use in uses:
        with pytest.raises(InvalidInput, match="end-of-day of 2026-03-11 stopped after it had dropped"):
            use()


def test_a_day_stopped_before_any_drop_runs_again(monkeypatch: pytest.MonkeyPatch) -> None:
    portfolio, states = _stopped_at("accrued", monkeypatch)
    assert portfolio.interrupted is None
    portfolio.run_day(ON)
    assert states_from_tables(portfolio.tables(), HUABEI) == [rules.end_of_day(s, ON).state for s in states]


@pytest.mark.parametrize("carry_scale", [4, 8])
def test_the_limit_reviews_aged_columns_are_the_ordinary_days(carry_scale: int) -> None:
    """The limit review takes the ``aged`` columns from :func:`aged_schema` (no query compiled), which must
    be those of an ordinary day's compiled ``aged`` step."""
    plan = day_plan(HUABEI, carry_scale, False, False, "duckdb", False)
    assert aged_schema(HUABEI, carry_scale) == plan.steps["aged"].schema
