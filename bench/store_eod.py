"""Benchmark: the set-based end-of-day on the operational store (``overdue eod --engine E --store``).

    .venv/bin/python bench/store_eod.py --accounts 10000 --months 3 --days 3 --reference --json
    .venv/bin/python bench/store_eod.py --accounts 10000 --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

1. **The store** (not timed): the demo's simulated portfolio (:func:`overdue.sim.demo.run_demo`, no report)
   of ``--accounts`` accounts over ``--months`` months, written into ``--db`` (default: a SQLite file in a
   temporary folder; a PostgreSQL database is emptied first, and refused once an earlier run has written to
   its audit log, which is append-only: give a new database). Every account is then at the demo's last date.
2. With ``--reference``, a copy of it (SQLite: the file; PostgreSQL: ``CREATE DATABASE … TEMPLATE``).
3. **Timed**: :func:`overdue.setbased.store_run.run_on_store` for the next ``--days`` dates, in process, as
   ``overdue eod --engine E --store`` runs them: ``read_seconds`` (the store read in bulk and loaded into the
   engine) and, per date, the run in the engine and the write back in one transaction.
   Both decide, comply and act with the shipped ``huabei`` strategy after each date (``--no-collections``:
   the set-based day and limit review alone), so the two are like for like.
4. With ``--reference``, the reference end-of-day (:func:`overdue.engine.reference.run_eod`) for the same
   dates on the copy: ``reference_seconds`` is the reference's whole day.

Prints one JSON object (``--json``) or one line per field: accounts, engine, store (``sqlite`` or
``postgresql``), dates, ``read_seconds``, ``day_seconds`` (per date), ``seconds`` (read + days),
``accounts_per_s`` (account-days / seconds), ``actions`` (the set-based run's, by status),
``reference_seconds`` and ``reference_accounts_per_s`` when run, ``peak_rss_mb`` of this process (the engine
in process included) and the load average before the timed part.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from overdue.engine.reference import first_open_date, run_eod
from overdue.setbased import nightly, store_run
from overdue.sim import SimulationConfig
from overdue.sim.demo import run_demo
from overdue.store.db import make_engine
from overdue.strategy import default_strategy


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build_store(url: str, accounts: int, months: int, seed: int) -> Engine:
    """The demo's portfolio written into ``url`` (emptied first)."""
    engine = make_engine(url)
    config = SimulationConfig(accounts=accounts, months=months, seed=seed, workers=2, keep_records=True)
    run_demo(engine, config, None, fresh=True)
    return engine


def copy_store(engine: Engine, url: str) -> str:
    """A copy of the store at ``url``; returns the copy's URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        copy = Path(parsed.database).with_suffix(".reference.db")
        copy.unlink(missing_ok=True)
        with engine.connect() as conn:
            conn.exec_driver_sql(f"VACUUM INTO '{copy}'")
        return str(parsed.set(database=str(copy)))
    source = parsed.database
    target = f"{source}_reference"
    engine.dispose()  # a template database must have no other connections
    admin = make_engine(str(parsed.set(database="postgres")), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}"'))
        conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))
    admin.dispose()
    return str(parsed.set(database=target))


def bench(
    accounts: int,
    months: int,
    days: int,
    engine_name: str,
    url: str,
    seed: int,
    reference: bool,
    collections: bool = True,
) -> dict[str, Any]:
    store = build_store(url, accounts, months, seed)  # the demo's preparation migrates the schema
    first = first_open_date(store)
    assert first is not None, "the demo left no open date"
    through = first + timedelta(days=days - 1)
    reference_url = copy_store(store, url) if reference else None
    out: dict[str, Any] = {
        "accounts": accounts,
        "months": months,
        "engine": engine_name,
        "store": make_url(url).get_backend_name(),
        "collections": collections,
        "load_average": round(os.getloadavg()[0], 2),
    }
    backend = nightly.connect(engine_name, url)
    began = time.perf_counter()
    strategy = default_strategy() if collections else None
    summary = store_run.run_on_store(store, through, backend, engine_name=engine_name, strategy=strategy)
    seconds = time.perf_counter() - began
    out.update(
        dates=[d.isoformat() for d in summary.dates],
        read_seconds=round(summary.read_seconds, 3),
        day_seconds=[round(s, 3) for s in summary.seconds],
        seconds=round(seconds, 3),
        accounts_per_s=round(summary.accounts_run / seconds) if seconds else None,
        transactions=summary.transactions,
        actions=summary.actions,
    )
    if reference_url is not None:
        copy = make_engine(reference_url)
        began = time.perf_counter()
        ran = run_eod(copy, through)
        reference_seconds = time.perf_counter() - began
        out.update(
            reference_seconds=round(reference_seconds, 3),
            reference_accounts_per_s=round(accounts * days / reference_seconds),
            reference_actions=ran.actions,
        )
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--months", type=int, default=3, help="months the demo simulates first (default 3)")
    parser.add_argument("--days", type=int, default=3, help="dates to run after the demo's last (default 3)")
    parser.add_argument("--engine", choices=["duckdb", "postgres", "spark"], default="duckdb")
    parser.add_argument("--db", help="the store's URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--reference", action="store_true", help="also time the reference on a copy")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-collections", action="store_true", help="the set-based day without decide → comply → act"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.accounts < 1 or args.days < 1 or args.months < 1:
        parser.error("--accounts, --months and --days must be at least 1")
    if args.engine == "postgres" and not (args.db or "").startswith("postgresql"):
        parser.error("--engine postgres runs inside the store: give --db postgresql+psycopg://…")
    with tempfile.TemporaryDirectory(prefix="overdue-store-bench-") as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'store.db'}"
        out = bench(
            args.accounts,
            args.months,
            args.days,
            args.engine,
            url,
            args.seed,
            args.reference,
            collections=not args.no_collections,
        )
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
