"""Benchmark of ``overdue demo``: the same pipeline (:func:`overdue.sim.demo.run_demo`), timed by phase.

Run from the repository root (numbers are recorded in docs/PERFORMANCE.md; no test asserts them):

    .venv/bin/python bench/demo.py --accounts 10000 --months 12 --workers 2 --json
    .venv/bin/python bench/demo.py --accounts 1000 --months 6 --db postgresql+psycopg://... --json

It prints wall-clock seconds by phase (``prepare``, ``simulate``, ``store`` — the writing, mostly while
shards are still simulated — ``store_after_simulate``, ``call_priority`` — the call-priority comparison,
as ``overdue demo`` runs it (``--compare-calls 0`` leaves it out) — ``report``, ``total``), the writing
time by table,
account-days simulated and account-days per second (over the simulate phase), the rows stored, the peak
resident memory of this process and of its worker processes (``resource.getrusage``: the largest single
process of each), CPU seconds, and the machine (cores, load average before and after).

``--db`` defaults to a new SQLite file in a temporary folder, removed afterwards; a database given with
``--db`` is emptied first (``--fresh``), so never point it at one that matters.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from overdue.sim.contacts import contact_summary
from overdue.sim.defaults import COMPARISON_ACCOUNTS as CALL_COMPARISON_ACCOUNTS
from overdue.sim.demo import run_demo
from overdue.sim.run import SimulationConfig
from overdue.store.db import make_engine


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--no-report", action="store_true", help="skip the HTML report")
    parser.add_argument(
        "--compare-calls",
        type=int,
        default=CALL_COMPARISON_ACCOUNTS,
        help="accounts in the call-priority comparison, as overdue demo's option (0: none)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    return parser.parse_args(argv)


def _peak_mib(who: int) -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(who).ru_maxrss * scale / 2**20, 1)


def bench(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="overdue-bench-") as folder:
        url = args.db or f"sqlite:///{folder}/bench.db"
        engine = make_engine(url)
        dialect = engine.dialect.name
        config = SimulationConfig(
            accounts=args.accounts,
            months=args.months,
            seed=args.seed,
            workers=args.workers,
            keep_records=True,
        )
        cpu_started = time.process_time()
        try:
            report = None if args.no_report else Path(folder) / "report"
            run = run_demo(engine, config, report, fresh=True, compare_calls=args.compare_calls)
        finally:
            engine.dispose()
        db_bytes = os.path.getsize(f"{folder}/bench.db") if args.db is None else None
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run.result
    days = (result.end - result.start + timedelta(days=1)).days
    account_days = sum((result.end - b.opened_on).days + 1 for b in result.borrowers)
    return {
        "accounts": args.accounts,
        "months": args.months,
        "days": days,
        "workers": args.workers,
        "database": dialect,
        "seconds": {k: round(v, 1) for k, v in run.seconds.items()},
        "store_seconds": {k: round(v, 1) for k, v in run.store_seconds.items()},
        "account_days": account_days,
        "account_days_per_second": round(account_days / run.seconds["simulate"]),
        "stored": run.stored,
        "contacts": contact_summary(result.tallies),
        "database_mib": None if db_bytes is None else round(db_bytes / 2**20, 1),
        "peak_rss_mib": {
            "main": _peak_mib(resource.RUSAGE_SELF),
            "largest_worker": _peak_mib(resource.RUSAGE_CHILDREN),
        },
        "cpu_seconds": {
            "main": round(time.process_time() - cpu_started, 1),
            "workers": round(children.ru_utime + children.ru_stime, 1),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
    }


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    numbers = bench(args)
    if args.json:
        print(json.dumps(numbers, indent=2))
        return
    print(
        f"overdue demo: {numbers['accounts']} accounts × {numbers['months']} months, {args.workers} workers"
    )
    for phase, seconds in numbers["seconds"].items():
        print(f"  {phase:<22} {seconds:>8.1f} s")
    print(f"  account-days/s         {numbers['account_days_per_second']:>8}")
    print(f"  peak RSS (MiB)         {numbers['peak_rss_mib']}")


if __name__ == "__main__":
    main()
