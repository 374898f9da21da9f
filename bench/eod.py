"""Benchmark one whole end-of-day: set-based on DuckDB, PostgreSQL or Spark, or the reference rules.

    python bench/eod.py --accounts N [--engine duckdb|postgres|spark|reference] [--db URL]
                        [--date YYYY-MM-DD] [--days-of-history N] [--seed S] [--json]

The portfolio is generated directly as tables (vectorised NumPy/Arrow, seeded), as it stands after the
end-of-day of the day before ``--date`` (default 2026-03-15, an ordinary day; 2026-04-01 is a statement
day, 2026-03-31 a month end):

- about 85 % current: the 1 March statement paid in full, paid to its minimum (the rest revolving), or
  not due yet; most with purchases waiting for the next statement;
- about 15 % delinquent across the buckets: the oldest unpaid statement due 1 to 6 months ago, every later
  statement unpaid too, the line frozen, overdue interest posted; about 1 % written off;
- about 5 % with a 12-period bill-installment plan; a 24-month bureau grid on every account.

``--engine duckdb`` runs in-process; ``postgres`` in the database of ``--db URL`` (temporary tables of the
session, so any database the user may connect to); ``spark`` on a ``local[2]`` session started by the
benchmark. The portfolio is loaded into the engine first (``load_seconds``) and the day's queries are
compiled (``compile_seconds``, once per process and kind of day); ``seconds`` is the day alone — checks,
accrue, age, bill, bureau, postings, spells — with its results left in the engine, as a nightly run over
state kept in the engine does. ``--days-of-history N`` gives the portfolio the history N days of
end-of-days leave behind (a settled statement per month since opening, closed bucket spells of past
delinquencies): the day must cost the same with it as without, since it never reads them.

``--engine reference`` turns the same tables into ``AccountState`` objects and times
:func:`overdue.domain.account.end_of_day` on each (the domain rules alone: no database, no collections), so
keep N small there. Prints one JSON object with ``--json``: accounts, engine, seconds, accounts_per_s,
peak_rss_mb (the process's peak, generation included).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.domain import account as rules
from overdue.domain.calendar import add_months, due_date_for, month_key
from overdue.domain.terms import PRESETS
from overdue.setbased import Portfolio, PortfolioTables, layout, states_from_tables

TERMS = PRESETS["huabei"]
CARRY_SCALE = 4
DELINQUENT_SHARE = 0.15
WRITTEN_OFF_SHARE = 0.01
PLAN_SHARE = 0.05
MONTHS_BACK = 6
"""The oldest unpaid statement of a delinquent account is due 1 to this many months ago."""


def _days(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[D]"), pa.date32())


def _day(on: date) -> np.datetime64:
    return np.datetime64(on.isoformat(), "D")


def generate(n: int, on: date, seed: int = 7, history_days: int = 0) -> PortfolioTables:
    """A portfolio of ``n`` accounts as it stands after the end-of-day of the day before ``on``.

    history_days: add the history that many days of end-of-days leave behind them: a settled statement
    for every month before the unpaid ones since the account opened (paid in full and closed), and the
    closed bucket spells of a short delinquency every 90 days for one account in ten.
    """
    rng = np.random.default_rng(seed)
    keys = np.arange(n, dtype=np.int64)
    latest = date(on.year, on.month, TERMS.statement_day)
    if latest >= on:
        latest = add_months(latest, -1)
    statement_dates = [add_months(latest, -j) for j in range(MONTHS_BACK + 1)]
    due_dates = [due_date_for(d, TERMS.due_day) for d in statement_dates]
    past_dues = [j for j, d in enumerate(due_dates) if d < on]

    # Delinquency: the oldest unpaid statement is ``oldest`` months back (-1: current).
    roll = rng.random(n)
    oldest = np.full(n, -1, dtype=np.int64)
    delinquent = roll < DELINQUENT_SHARE
    weights = np.array([0.45, 0.18, 0.1, 0.08, 0.07, 0.06, 0.06])[: len(past_dues)]
    oldest[delinquent] = rng.choice(past_dues, size=int(delinquent.sum()), p=weights / weights.sum())
    dpd = np.where(oldest >= 0, [(on - timedelta(days=1) - due_dates[0]).days] * n, 0)
    for j in past_dues:
        dpd = np.where(oldest == j, (on - timedelta(days=1) - due_dates[j]).days, dpd)
    dpd = np.maximum(dpd, 0)
    written_off = (dpd >= TERMS.write_off_at_dpd) | (rng.random(n) < WRITTEN_OFF_SHARE) & delinquent
    bounds = [n_ * TERMS.bucket_days for n_ in range(1, TERMS.last_bucket)]
    bucket_number = np.minimum(np.searchsorted(bounds, dpd, side="left") + 1, TERMS.last_bucket)
    names = np.array(["M0"] + [f"M{b}" for b in range(1, TERMS.last_bucket)] + [f"M{TERMS.last_bucket}+"])
    bucket = np.where(dpd > 0, names[bucket_number], "M0")
    status = np.where(written_off, "written_off", np.where(dpd > 0, "frozen", "active"))
    limit = rng.choice([50_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000], size=n)
    opened = _day(on) - rng.integers(200, 730, size=n)
    status_char = np.where(written_off, "B", np.where(dpd > 0, np.char.lstrip(bucket, "M").astype(str), "N"))
    grid = np.char.add(np.full(n, "N" * (TERMS.bureau_grid_months - 1)), np.char.rstrip(status_char, "+"))
    ids = pc.binary_join_element_wise("A", pc.cast(pa.array(keys), pa.string()), "")
    last_eod = _day(on - timedelta(days=1))
    accounts = pa.table(
        {
            "account_key": keys,
            "account_id": ids,
            "product": pa.array(np.full(n, TERMS.name)),
            "opened_on": _days(opened),
            "timezone": pa.array(np.full(n, "Asia/Shanghai")),
            "credit_limit": limit,
            "status": pa.array(status),
            "last_eod": _days(np.full(n, last_eod)),
            "days_past_due": dpd,
            "bucket": pa.array(bucket),
            "bucket_entered": _days(last_eod - np.where(dpd > 0, (dpd - 1) % TERMS.bucket_days, 60)),
            "written_off_on": _days(np.where(written_off, last_eod - np.maximum(dpd - 180, 0), last_eod)),
            "negative_notice_on": _days(last_eod - np.maximum(dpd - 1, 0)),
            "bureau_grid": pa.array(grid),
            "bureau_last_month": pa.array(np.full(n, month_key(add_months(latest, -1)))),
            "last_deferral_on": pa.nulls(n, pa.date32()),
        }
    )
    no_date = accounts["written_off_on"].type
    accounts = accounts.set_column(
        accounts.schema.get_field_index("written_off_on"),
        "written_off_on",
        pc.if_else(pa.array(written_off), accounts["written_off_on"], pa.nulls(n, no_date)),
    )
    accounts = accounts.set_column(
        accounts.schema.get_field_index("negative_notice_on"),
        "negative_notice_on",
        pc.if_else(pa.array(dpd > 0), accounts["negative_notice_on"], pa.nulls(n, no_date)),
    )

    # Statements: one per month from the oldest unpaid (delinquent), else the latest only.
    parts = []
    for j, (statement_date, due) in enumerate(zip(statement_dates, due_dates, strict=True)):
        has = (oldest >= j) if j > 0 else np.ones(n, dtype=bool)
        k = keys[has]
        m = len(k)
        late = (oldest[has] >= j) & (due < on)
        principal = rng.integers(1_000, 800_000, size=m)
        minimum = (principal + 5) // 10
        days_late = max((on - timedelta(days=1) - due).days, 0)
        overdue_interest = np.where(late, principal * 5 * days_late // 10_000, 0)
        current = oldest[has] < 0
        paid_in_full = current & (rng.random(m) < 0.55)
        minimum_paid = current & ~paid_in_full & (rng.random(m) < 0.8) & (due < on)
        paid = np.where(paid_in_full, principal, np.where(minimum_paid, minimum, 0))
        unpaid = principal - paid
        parts.append(
            pa.table(
                {
                    "account_key": k,
                    "statement_date": _days(np.full(m, _day(statement_date))),
                    "due_date": _days(np.full(m, _day(due))),
                    "amount": principal,
                    "minimum": minimum,
                    "new_principal": unpaid,
                    "carried_principal": np.zeros(m, dtype=np.int64),
                    "installment_principal": np.zeros(m, dtype=np.int64),
                    "interest": np.where(minimum_paid, unpaid * 5 * days_late // 10_000, 0),
                    "overdue_interest": overdue_interest,
                    "fees": np.zeros(m, dtype=np.int64),
                    "paid": paid,
                    "late_charges": overdue_interest,
                    "interest_carry": rng.integers(-5_000, 5_000, size=m),
                    "installed": np.zeros(m, dtype=bool),
                    "closed_on": pc.if_else(
                        pa.array(paid_in_full), _days(np.full(m, _day(due))), pa.nulls(m, pa.date32())
                    ),
                }
            )
        )
    history = _settled_history(keys, opened, statement_dates[-1], history_days, rng)
    statements = pa.concat_tables([*parts, *history]).cast(parts[0].schema)

    buying = (oldest < 0) & (rng.random(n) < 0.7)
    k = keys[buying]
    unbilled = pa.table(
        {
            "account_key": k,
            "statement_date": _days(np.full(len(k), _day(add_months(latest, 1)))),
            "principal": rng.integers(500, 300_000, size=len(k)),
        }
    )

    with_plan = keys[(oldest < 0) & (rng.random(n) < PLAN_SHARE)]
    p = len(with_plan)
    plan_date = add_months(latest, -3)
    plan_principal = rng.integers(10_000, 2_000_000, size=p)
    fee_total = (plan_principal * 88 + 500) // 1000
    plans = pa.table(
        {
            "account_key": with_plan,
            "statement_date": _days(np.full(p, _day(plan_date))),
            "created_on": _days(np.full(p, _day(plan_date + timedelta(days=3)))),
            "fee_rate": pa.array([Decimal("0.088")] * p, layout.PLAN_FEE_RATE),
            "principal": plan_principal,
            "fee_total": fee_total,
        }
    )
    period_parts = []
    for number in range(1, 13):
        due = add_months(due_date_for(plan_date, TERMS.due_day), number - 1)
        period_parts.append(
            pa.table(
                {
                    "account_key": with_plan,
                    "plan_statement_date": _days(np.full(p, _day(plan_date))),
                    "number": np.full(p, number, dtype=np.int64),
                    "due_date": _days(np.full(p, _day(due))),
                    "principal": plan_principal // 12 + np.where(number == 1, plan_principal % 12, 0),
                    "fee": fee_total // 12 + np.where(number == 1, fee_total % 12, 0),
                    "billed": np.full(p, due <= due_date_for(latest, TERMS.due_day)),
                }
            )
        )
    return PortfolioTables(
        accounts=accounts,
        statements=statements,
        unbilled=unbilled,
        plans=plans,
        periods=pa.concat_tables(period_parts),
        bucket_spells=_spell_history(keys, on, history_days, rng),
        carry_scale=CARRY_SCALE,
    ).conform()


def _settled_history(
    keys: np.ndarray, opened: np.ndarray, before: date, history_days: int, rng: np.random.Generator
) -> list[pa.Table]:
    """Paid-in-full statements of the months of ``history_days`` before ``before``."""
    out = []
    for k in range(1, history_days // 30 + 1):
        statement_date = add_months(before, -k)
        due = due_date_for(statement_date, TERMS.due_day)
        k_keys = keys[opened <= _day(statement_date)]
        m = len(k_keys)
        amount = rng.integers(1_000, 800_000, size=m)
        zero = np.zeros(m, dtype=np.int64)
        out.append(
            pa.table(
                {
                    "account_key": k_keys,
                    "statement_date": _days(np.full(m, _day(statement_date))),
                    "due_date": _days(np.full(m, _day(due))),
                    "amount": amount,
                    "minimum": (amount + 5) // 10,
                    "new_principal": zero,
                    "carried_principal": zero,
                    "installment_principal": zero,
                    "interest": zero,
                    "overdue_interest": zero,
                    "fees": zero,
                    "paid": amount,
                    "late_charges": zero,
                    "interest_carry": zero,
                    "installed": np.zeros(m, dtype=bool),
                    "closed_on": _days(np.full(m, _day(due))),
                }
            )
        )
    return out


def _spell_history(keys: np.ndarray, on: date, history_days: int, rng: np.random.Generator) -> pa.Table:
    """Closed spells of past short delinquencies: M1 for twelve days, then back to M0 for a while."""
    parts = [layout.SPELLS.empty_table()]
    for k in range(1, history_days // 90 + 1):
        who = keys[rng.random(len(keys)) < 0.1]
        m = len(who)
        entered = _day(on) - 90 * k - 200
        for bucket, start, end in (("M1", entered, entered + 12), ("M0", entered + 12, entered + 40)):
            parts.append(
                pa.table(
                    {
                        "account_key": who,
                        "bucket": pa.array(np.full(m, bucket)),
                        "entered": _days(np.full(m, start)),
                        "left": _days(np.full(m, end)),
                    },
                    schema=layout.SPELLS,
                )
            )
    return pa.concat_tables(parts)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def connect(engine: str, db: str | None) -> Any:
    """An Ibis connection for ``engine``."""
    import ibis

    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "postgres":
        if not db:
            raise SystemExit("--engine postgres needs --db postgresql://USER@HOST:PORT/DATABASE")
        return ibis.connect(db.replace("postgresql+psycopg://", "postgres://"))
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("overdue-eod-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def bench(
    n: int, engine: str, on: date, seed: int, history: int = 0, db: str | None = None
) -> dict[str, Any]:
    tables = generate(n, on, seed, history)
    out: dict[str, Any] = {
        "accounts": n,
        "engine": engine,
        "date": on.isoformat(),
        "days_of_history": history,
        "statement_rows": tables.statements.num_rows,
        "spell_rows": tables.bucket_spells.num_rows,
    }
    if engine == "reference":
        states = states_from_tables(tables, TERMS)
        del tables
        started = time.perf_counter()
        for state in states:
            rules.end_of_day(state, on)
        seconds = time.perf_counter() - started
    else:
        con = connect(engine, db)
        started = time.perf_counter()
        portfolio = Portfolio.load(tables, TERMS, con)
        out["load_seconds"] = round(time.perf_counter() - started, 3)
        del tables
        started = time.perf_counter()
        portfolio.plan(on)
        out["compile_seconds"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        run = portfolio.run_day(on)
        seconds = time.perf_counter() - started
        out["accounts_run"] = run.accounts_run
        if engine == "postgres":
            con.disconnect()
    out.update(
        seconds=round(seconds, 3),
        accounts_per_s=round(n / seconds) if seconds else None,
        peak_rss_mb=peak_rss_mb(),
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--engine", choices=["duckdb", "postgres", "spark", "reference"], default="duckdb")
    parser.add_argument("--db", help="PostgreSQL URL for --engine postgres")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 15))
    parser.add_argument("--days-of-history", type=int, default=0, metavar="N")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.accounts < 1:
        parser.error("--accounts must be at least 1")
    if args.days_of_history < 0:
        parser.error("--days-of-history must be at least 0")
    out = bench(args.accounts, args.engine, args.date, args.seed, args.days_of_history, args.db)
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
