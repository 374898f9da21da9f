"""Time `overdue simulate`'s simulation (DESIGN §7: 100,000 accounts × 365 days in 60 s).

Runs `overdue.sim.run.simulate` as `overdue simulate` does (the default strategy and behaviour model, the
array runner where it runs the configuration) and prints JSON: wall-clock seconds of the whole simulation
and of its parts (drawing the borrowers, the shards in the workers, merging, the summary), account-days
simulated and per second, CPU seconds of this process and of the workers, peak resident memory, the load
average before and after, and a digest of the summary (equal digests: equal results).

    .venv/bin/python bench/simulate.py --accounts 100000 --months 12 --workers 2
    .venv/bin/python bench/simulate.py --accounts 5000 --months 12 --engine reference
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import time
from typing import Any

import overdue.sim.run as run
from overdue.reports.metrics import full_report
from overdue.sim.defaults import ENGINES
from overdue.sim.run import SimulationConfig, simulate


def measure(accounts: int, months: int, workers: int, engine: str, seed: int) -> dict[str, Any]:
    seconds: dict[str, float] = {}

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started

        return wrapper

    # The parts of simulate(), timed where they are looked up (module attributes of overdue.sim.run).
    run.make_borrowers = timed("borrowers", run.make_borrowers)  # type: ignore[method-assign]
    run._run_arrays = timed("shards", run._run_arrays)  # type: ignore[method-assign]
    run._run_parallel = timed("shards", run._run_parallel)  # type: ignore[method-assign]
    run.merge = timed("merge", run.merge)  # type: ignore[method-assign]
    load_before = os.getloadavg()
    cpu_before = os.times()
    started = time.perf_counter()
    result = simulate(
        SimulationConfig(accounts=accounts, months=months, workers=workers, engine=engine, seed=seed)
    )
    simulated = time.perf_counter() - started
    summary = full_report(result)
    total = time.perf_counter() - started
    cpu = os.times()
    account_days = int(result.daily_buckets.sum())
    return {
        "accounts": accounts,
        "months": months,
        "workers": workers,
        "engine": engine,
        "seconds_simulate": round(simulated, 1),
        "seconds_with_summary": round(total, 1),
        "seconds_by_part": {name: round(value, 1) for name, value in seconds.items()},
        "account_days": account_days,
        "account_days_per_second": round(account_days / simulated),
        "cpu_seconds_main": round(cpu.user + cpu.system - cpu_before.user - cpu_before.system, 1),
        "cpu_seconds_workers": round(
            cpu.children_user + cpu.children_system - cpu_before.children_user - cpu_before.children_system, 1
        ),
        "peak_rss_mib": {
            "main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        },
        "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
        "summary_sha256": hashlib.sha256(
            json.dumps(summary, sort_keys=True, default=str).encode()
        ).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=ENGINES, default="auto")
    parser.add_argument("--seed", type=int, default=SimulationConfig().seed)
    args = parser.parse_args()
    print(json.dumps(measure(args.accounts, args.months, args.workers, args.engine, args.seed), indent=2))


if __name__ == "__main__":
    main()
