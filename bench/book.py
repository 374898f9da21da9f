"""Time the array book (overdue.sim.book): a portfolio's purchases, repayments and end-of-days for a year.

The behaviour here is a plain random stream (each day a tenth of the accounts spend up to 5 % of their
limit, 3 % of the current and 33 % of the overdue repay part of what they owe, weighted by a drawn
willingness), not the simulator's: it measures the rules' cost, not a portfolio's story. Prints seconds by
phase, account-days a second and the transactions posted.

    .venv/bin/python bench/book.py --accounts 100000 --months 12 --json
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from datetime import date, timedelta

import numpy as np

from overdue.domain.calendar import add_months
from overdue.domain.terms import product_terms
from overdue.sim.book import Book


def run(accounts: int, months: int, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    start = date(2026, 1, 1)
    opened = np.array([(start + timedelta(days=int(d))).toordinal() for d in rng.integers(0, 28, accounts)])
    limits = rng.integers(500, 50_000, accounts).astype(np.int64) * 100
    willing = rng.random(accounts)
    book = Book(product_terms("huabei"), start, months, limits, opened)
    seconds = {"repay": 0.0, "purchase": 0.0, "end_of_day": 0.0}
    days = (add_months(start, months) - start).days
    account_days = 0
    began, cpu = time.perf_counter(), time.process_time()
    for k in range(days):
        today = (start + timedelta(days=k)).toordinal()
        book.open(today)
        live = np.flatnonzero(book.opened)
        account_days += len(live)
        t0 = time.perf_counter()
        most = book.repayable(live)
        pays = (most > 0) & (rng.random(len(live)) < (0.03 + 0.3 * (book.dpd[live] > 0)) * willing[live])
        idx = live[pays]
        book.repay(today, idx, np.maximum(1, (most[pays] * rng.random(len(idx))).astype(np.int64)))
        t1 = time.perf_counter()
        buyers = live[rng.random(len(live)) < 0.1]
        spend = (book.limit[buyers] * 0.05 * rng.random(len(buyers))).astype(np.int64) + 100
        book.purchase(today, buyers, spend)
        t2 = time.perf_counter()
        book.end_of_day(today)
        seconds["repay"] += t1 - t0
        seconds["purchase"] += t2 - t1
        seconds["end_of_day"] += time.perf_counter() - t2
    wall = time.perf_counter() - began
    return {
        "accounts": accounts,
        "months": months,
        "account_days": account_days,
        "seconds": round(wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "by_phase": {name: round(value, 2) for name, value in seconds.items()},
        "account_days_per_second": round(account_days / wall),
        "transactions": sum(len(batch.account) for batch in book.posted),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "statuses": np.bincount(book.status, minlength=4).tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.accounts, args.months, args.seed)
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
