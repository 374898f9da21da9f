"""A deterministic multi-month differential run, and what the set-based runner refuses.

Seven borrowers with fixed habits are run by the reference rules from January to 19 July; from then on the
set-based runner advances its own tables inside DuckDB, PostgreSQL or Spark, day after day, for five weeks
— a month end, a statement day, a due date, a write-off, an account opening — and after every day its
tables must equal the reference's states (the day's purchases and repayments, made through the domain,
are converted in).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import ibis
import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from ibis.backends import BaseBackend
from setbased_helpers import HUABEI, Borrower, Event, before_end_of_day, field_differences, open_portfolio

from overdue.domain import account as rules
from overdue.domain.calendar import is_month_end, iter_days
from overdue.domain.errors import InvalidDate
from overdue.domain.money import round_half_up
from overdue.domain.state import AccountStatus, BureauMonth
from overdue.domain.terms import with_overrides
from overdue.setbased import (
    TABLES,
    Portfolio,
    Unsupported,
    run_day,
    states_from_tables,
    tables_from_states,
    transactions_from_postings,
)
from overdue.setbased.backend import ANSI_MODE, table_name, workspace
from overdue.setbased.encode import ENGINE
from overdue.setbased.steps import int_sum
from overdue.setbased.steps import round_half_up as round_expr

START = date(2026, 1, 3)
HANDOVER = date(2026, 7, 20)
END = date(2026, 8, 23)
PORTFOLIO = [
    Borrower(0, 500_000, "statement", (Event(2, "purchase", 4_000, 3), Event(40, "purchase", 9_000, 3))),
    Borrower(0, 300_000, "minimum", (Event(5, "purchase", 10_000, 3), Event(70, "purchase", 2_000, 3))),
    # Never pays: the January statement is due on 9 February, DPD 180 (write-off) on 8 August.
    Borrower(1, 1_000_000, "none", (Event(7, "purchase", 6_172, 3),)),
    # Bill installments over 12 periods, and a repayment that cures after two months overdue.
    Borrower(3, 2_000_000, "none", (Event(6, "purchase", 5_000, 3), Event(30, "installments", 0, 12))),
    Borrower(3, 800_000, "none", (Event(8, "purchase", 7_777, 3), Event(100, "repay_all", 0, 3))),
    # Opens after the hand-over: a no-op in the set-based days before it opens.
    Borrower(205, 600_000, "minimum", (Event(206, "purchase", 5_000, 3),)),
    Borrower(2, 5_000_000, "minimum", (Event(4, "purchase", 9_999, 3), Event(33, "installments", 0, 6))),
]
CON = ibis.duckdb.connect()


def test_five_weeks_set_based_equal_the_reference_every_day(backend: BaseBackend) -> None:
    """The portfolio stays in the backend from day to day; it is loaded again only on the days when the
    borrowers' purchases and repayments (made through the domain) changed it."""
    states = open_portfolio(START, PORTFOLIO)
    for on in iter_days(START, HANDOVER - timedelta(days=1)):
        before_end_of_day(states, PORTFOLIO, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    portfolio = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, backend)
    seen: set[str] = set()
    converted = 0
    for on in iter_days(HANDOVER, END):
        before = list(states)
        before_end_of_day(states, PORTFOLIO, START, on)
        if states != before:
            tables = tables_from_states(states, HUABEI, portfolio.carry_scale)
            portfolio = Portfolio.load(tables, HUABEI, backend)
            converted += 1
        outcomes = [rules.end_of_day(s, on) for s in states]
        run = portfolio.run_day(on)
        tables = portfolio.tables()
        states = [o.state for o in outcomes]
        got = states_from_tables(tables, HUABEI)
        for g, w in zip(got, states, strict=True):
            assert g == w, f"{w.id} on {on}: " + "; ".join(field_differences(g, w))
        posting_rows, _, reported = portfolio.outputs()
        want = sorted(map(repr, (t for o in outcomes for t in o.transactions)))
        assert sorted(map(repr, transactions_from_postings(posting_rows, tables.accounts))) == want
        assert run.accounts_run == sum(1 for s in states if s.last_eod == on)
        assert reported.num_rows == (run.accounts_run if is_month_end(on) else 0)
        seen |= {t.kind.value for o in outcomes for t in o.transactions}
    assert states[2].status is AccountStatus.WRITTEN_OFF and states[2].written_off_on == date(2026, 8, 8)
    assert states[5].opened_on == START + timedelta(days=205)
    assert {"overdue_interest", "revolving_interest", "installment_fee", "write_off"} <= seen
    assert states[2].bureau[-1] == BureauMonth("2026-07", "6")
    assert converted < 10, "most days must run on the set-based tables alone"


def test_a_day_without_events_runs_on_its_own_tables() -> None:
    """Chained without any conversion in between: the state stays in the engine from day to day (through
    a month end and a statement day), and one run over Arrow tables gives the same next day."""
    states = open_portfolio(START, PORTFOLIO[:3])
    for on in iter_days(START, date(2026, 2, 27)):
        before_end_of_day(states, PORTFOLIO[:3], START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    portfolio = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, ibis.duckdb.connect())
    for on in iter_days(date(2026, 2, 28), date(2026, 3, 10)):
        portfolio.run_day(on)
        states = [rules.end_of_day(s, on).state for s in states]
    tables = portfolio.tables()
    assert states_from_tables(tables, HUABEI) == states
    on = date(2026, 3, 11)
    assert states_from_tables(run_day(tables, on, HUABEI, CON).tables, HUABEI) == [
        rules.end_of_day(s, on).state for s in states
    ]


TYPE_NAMES = {
    pa.int64(): {"bigint"},
    pa.int32(): {"integer", "int"},
    pa.int16(): {"smallint"},
    pa.bool_(): {"boolean"},
    pa.string(): {"varchar", "character varying", "text", "string"},
}
"""The names each engine's ``typeof`` (PostgreSQL: ``pg_typeof``) gives a column of each engine type."""


def test_the_tables_keep_the_engines_types_through_a_statement_day(backend: BaseBackend) -> None:
    """A sum of ``int64`` is ``HUGEINT`` on DuckDB and ``NUMERIC`` on PostgreSQL: the tables the day writes
    (the new statements' sums, the write-off postings) must still hold every column in the engine's type,
    or every later day would carry the wider one."""
    states = open_portfolio(START, PORTFOLIO[:3])
    for on in iter_days(START, date(2026, 2, 27)):
        before_end_of_day(states, PORTFOLIO[:3], START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    portfolio = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, backend)
    db = workspace(backend)
    typeof = "pg_typeof({})::text" if db.dialect == "postgres" else "typeof({})"
    for on in iter_days(date(2026, 2, 28), date(2026, 3, 2)):  # a month end, a statement day, the day after
        portfolio.run_day(on)
        for name, engine in (
            ("accounts", "accounts"),
            ("statements", "statements"),
            ("day_postings", "postings"),
        ):
            schema = ENGINE[engine]
            sql = f"SELECT {', '.join(typeof.format(c) + f' AS t{i}' for i, c in enumerate(schema.names))} "
            sql += f"FROM {table_name(name)} LIMIT 1"
            row = db.fetch(sql, pa.schema([(f"t{i}", pa.string()) for i in range(len(schema))])).to_pylist()
            assert row, f"{name} is empty on {on}"
            got = {c: row[0][f"t{i}"].lower() for i, c in enumerate(schema.names)}
            wrong = {c: got[c] for c in schema.names if got[c] not in TYPE_NAMES[schema.field(c).type]}
            assert not wrong, f"{name} on {on}: {wrong}"


def test_a_sum_of_amounts_is_an_int64_on_every_backend(backend: BaseBackend) -> None:
    """``int_sum`` writes the sum as ``int64`` in the engine itself (a plain ``sum`` of ``int64`` is
    ``HUGEINT`` on DuckDB and ``NUMERIC`` on PostgreSQL, and so is every expression reading it), exact
    past a double's 53 bits, with or without a filter."""
    db = workspace(backend)
    big = 2**61
    db.load(
        "summed",
        pa.table(
            {
                "k": pa.array([1, 1, 1, 2], pa.int64()),
                "v": pa.array([big, big, 1, 5], pa.int64()),
                "flag": [True, True, False, True],
            }
        ),
    )
    table = ibis.table({"k": "int64", "v": "int64", "flag": "boolean"}, name=table_name("summed"))
    sums = table.group_by("k").aggregate(total=int_sum(table.v), flagged=int_sum(table.v, where=table.flag))
    typeof = "pg_typeof({})::text" if db.dialect == "postgres" else "typeof({})"
    sql = (
        f"SELECT k, total, flagged, {typeof.format('total')} AS total_type, "
        f"{typeof.format('flagged')} AS flagged_type FROM ({ibis.to_sql(sums, dialect=db.dialect)}) AS s"
    )
    schema = pa.schema(
        [(n, pa.int64()) for n in ("k", "total", "flagged")]
        + [(n, pa.string()) for n in ("total_type", "flagged_type")]
    )
    got = db.fetch(sql, schema).sort_by("k").to_pylist()
    db.drop("summed")
    assert [(r["k"], r["total"], r["flagged"]) for r in got] == [(1, 2 * big + 1, 2 * big), (2, 5, 5)]
    assert {r["total_type"].lower() for r in got} | {r["flagged_type"].lower() for r in got} <= TYPE_NAMES[
        pa.int64()
    ]


OVERFLOW_ERRORS = {"duckdb": "out of range", "postgres": "out of range", "pyspark": "ARITHMETIC_OVERFLOW"}
"""How each engine words a sum past ``int64``."""


def test_a_sum_past_int64_stops_the_step_on_every_backend(backend: BaseBackend) -> None:
    """``int_sum`` past ``int64`` is an error on every engine, not a wrap to a negative amount; on Spark even
    where the session had ANSI mode off (the workspace turns it on)."""
    if backend.name == "pyspark":
        backend._session.conf.set(ANSI_MODE, "false")
    db = workspace(backend)
    db.load(
        "summed", pa.table({"k": pa.array([1, 1], pa.int64()), "v": pa.array([2**62, 2**62], pa.int64())})
    )
    table = ibis.table({"k": "int64", "v": "int64"}, name=table_name("summed"))
    sums = table.group_by("k").aggregate(total=int_sum(table.v))
    with pytest.raises(Exception, match=OVERFLOW_ERRORS[backend.name]):
        db.create("sums", ibis.to_sql(sums, dialect=db.dialect))
    db.drop("summed")
    db.drop("sums")
    if backend.name == "pyspark":
        assert backend._session.conf.get(ANSI_MODE) == "true"


def test_rounding_is_the_domains_half_up_on_every_backend(backend: BaseBackend) -> None:
    """``ROUND`` of an exact decimal rounds half away from zero on DuckDB, PostgreSQL and Spark alike."""
    exact = ["0.5", "-0.5", "1.5", "-1.5", "0.4999", "-0.4999", "2.0001", "61.7285", "-61.7285"]
    units = [int(Decimal(value).scaleb(4)) for value in exact]
    db = workspace(backend)
    db.load("rounding", pa.table({"n": pa.array(range(len(units)), pa.int64()), "units": units}))
    table = ibis.table({"n": "int64", "units": "int64"}, name=table_name("rounding"))
    sql = str(ibis.to_sql(table.select("n", posted=round_expr(table.units, 4)), dialect=db.dialect))
    got = db.fetch(sql, pa.schema([("n", pa.int64()), ("posted", pa.int64())])).sort_by("n")
    db.drop("rounding")
    assert got["posted"].to_pylist() == [round_half_up(Decimal(value)) for value in exact]


def test_an_account_behind_the_date_is_refused_as_the_reference_refuses_it() -> None:
    state = open_portfolio(START, PORTFOLIO[:1])[0]
    with pytest.raises(InvalidDate, match="must wait for 2026-01-03"):
        rules.end_of_day(state, START + timedelta(days=2))
    with pytest.raises(InvalidDate, match="must wait for 2026-01-03"):
        run_day(tables_from_states([state], HUABEI), START + timedelta(days=2), HUABEI, CON)


def test_accounts_on_other_terms_are_refused() -> None:
    other = with_overrides(HUABEI, {"due_day": 10})
    states = [*open_portfolio(START, PORTFOLIO[:1]), *open_portfolio(START, PORTFOLIO[:1], other)]
    with pytest.raises(Unsupported, match="other product terms"):
        tables_from_states(states, HUABEI)


def test_rates_finer_than_the_carry_allows_are_refused() -> None:
    fine = with_overrides(HUABEI, {"overdue_daily_rate": "0.000000001"})
    with pytest.raises(Unsupported, match="decimal places"):
        tables_from_states(open_portfolio(START, PORTFOLIO[:1], fine), fine)


def test_a_bureau_grid_with_a_gap_is_refused() -> None:
    state = open_portfolio(START, PORTFOLIO[:1])[0]
    gap = dataclasses.replace(state, bureau=(BureauMonth("2025-10", "N"), BureauMonth("2025-12", "N")))
    with pytest.raises(Unsupported, match="gaps"):
        tables_from_states([gap], HUABEI)


def test_a_month_end_refuses_a_bureau_grid_that_stops_before_last_month(backend: BaseBackend) -> None:
    """At a month end each account that runs adds this month's status to its grid, which must then end
    last month (or this one): a grid that ends earlier would leave a month out of the bureau's record."""
    states = open_portfolio(START, PORTFOLIO[:3])
    for on in iter_days(START, date(2026, 2, 27)):
        before_end_of_day(states, PORTFOLIO[:3], START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    tables = tables_from_states(states, HUABEI)
    last = tables.accounts["bureau_last_month"].to_pylist()
    assert last == ["2026-01"] * 3
    stale = tables.accounts.set_column(
        tables.accounts.schema.get_field_index("bureau_last_month"),
        "bureau_last_month",
        pa.array(["2026-01", "2025-12", "2026-01"], pa.string()),
    )
    portfolio = Portfolio.load(dataclasses.replace(tables, accounts=stale), HUABEI, backend)
    with pytest.raises(Unsupported, match="bureau grids that stop before 2026-01"):
        portfolio.run_day(date(2026, 2, 28))
    # the grids as they were, all ending last month, pass
    assert Portfolio.load(tables, HUABEI, backend).run_day(date(2026, 2, 28)).accounts_run == 3


def test_deferred_statements_go_to_tables_and_back() -> None:
    """(Their days are compared with the reference in ``test_setbased_deferrals.py``.)"""
    states = open_portfolio(START, PORTFOLIO[:1])
    for on in iter_days(START, date(2026, 2, 2)):
        before_end_of_day(states, PORTFOLIO[:1], START, on)
        states = [rules.end_of_day(s, on).state for s in states]
    statement = states[0].statements[-1]
    moved = dataclasses.replace(statement, due_date=date(2026, 3, 9), original_due_date=statement.due_date)
    deferred = dataclasses.replace(states[0], statements=(*states[0].statements[:-1], moved))
    tables = tables_from_states([deferred], HUABEI)
    assert tables.statements["original_due_date"].to_pylist()[-1] == statement.due_date
    assert states_from_tables(tables, HUABEI) == [deferred]


def test_every_table_and_column_is_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "setbased.md").read_text(encoding="utf-8")
    for table, columns in TABLES.items():
        assert f"`{table}`" in text, table
        for name, _, what in columns:
            assert what, (table, name)
            assert f"`{name}`" in text, (table, name)
