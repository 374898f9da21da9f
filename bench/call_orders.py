"""The call-priority experiment over many seeds: each order's recovery on the same portfolios, and each
order's paired difference in recovery rate from the first order given (the champion), with its noise.

Run from the repository root (docs/risk.md "Call priority by score" records what it printed; no test
asserts it):

    .venv/bin/python bench/call_orders.py --accounts 10000 --months 4 --seeds 201-210 \\
        --orders balance,expected,oracle --json

The orders read the shipped collection score (``collection-v2.json``: trained on the simulator's outcomes
at the default fraud share, 1 %). With ``--train-score`` the score is first trained again on portfolios of
this run's size and fraud share (``--train-seeds``, 6 months each, the champion order:
:mod:`overdue.sim.outcomes`) and used instead:

    .venv/bin/python bench/call_orders.py --accounts 5000 --months 4 --seeds 201-210 \\
        --orders balance,expected --fraud-share 0.005 --train-score --json

Every run simulates the same strategy (:func:`overdue.sim.uplift.experiment_strategy_text`: the shipped
``huabei`` ladder with human calls from DPD 1 every 2 days) with a binding daily capacity of human calls
(``--capacity`` per 1,000 accounts) made in the order named (:mod:`overdue.sim.calls`). A seed is one
portfolio: the orders run on it share its borrowers and their random draws, so the difference between two
orders on one seed is a paired comparison; over the seeds, its mean, standard deviation and standard error,
and an exact two-sided sign test (on how many seeds the challenger was ahead, against a fair coin), say
whether one order recovers more than the other beyond the runs' noise. ``--fraud-share`` sets the share of
fraudulent borrowers (:attr:`overdue.sim.model.BehaviourModel.fraud_share`, default 1 %; 0 for none;
docs/risk.md "Fraudulent borrowers").
Recovered and exposure are integer fen; rates and differences (in points of recovery rate) are ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from overdue.risk.collection import MODEL_ENV, shipped_model, shipped_propensity
from overdue.risk.logistic import save_model
from overdue.sim.call_compare import run_order
from overdue.sim.calls import PRIORITIES
from overdue.sim.model import DEFAULT_FRAUD_SHARE
from overdue.sim.outcomes import train_on_simulation


def seeds_of(text: str) -> list[int]:
    """``"201-205"`` or ``"7,11,13"`` (or both, comma-separated) as a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    if not seeds:
        raise ValueError("no seeds given")
    return seeds


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=4)
    parser.add_argument("--seeds", default="201-210", help="e.g. 201-210 or 7,11")
    parser.add_argument("--orders", default="balance,expected", help=f"first is the champion; {PRIORITIES}")
    parser.add_argument("--capacity", type=int, default=6, help="human calls a day per 1,000 accounts")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--fraud-share",
        type=float,
        default=DEFAULT_FRAUD_SHARE,
        help=f"share (0–1) of fraudulent borrowers (default {DEFAULT_FRAUD_SHARE})",
    )
    parser.add_argument(
        "--train-score",
        action="store_true",
        help="first train the collection score on the simulator's outcomes (--train-seeds) and use it",
    )
    parser.add_argument("--train-seeds", default="101-103", help="portfolios the score is trained on")
    parser.add_argument(
        "--model-out", default=None, help="where to write the trained model (default: a temp file)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args(argv)
    args.seeds = seeds_of(args.seeds)
    args.train_seeds = seeds_of(args.train_seeds)
    args.orders = [o.strip() for o in args.orders.split(",")]
    unknown = [o for o in args.orders if o not in PRIORITIES]
    if unknown or len(args.orders) < 2:
        parser.error(f"--orders: at least two of {', '.join(PRIORITIES)} (unknown: {unknown})")
    return args


def run_one(
    accounts: int,
    months: int,
    seed: int,
    order: str,
    capacity: int,
    workers: int,
    fraud_share: float = DEFAULT_FRAUD_SHARE,
) -> dict[str, Any]:
    """One simulation: the calls made and the recovery of the given order on the seed's portfolio
    (:func:`overdue.sim.call_compare.run_order`)."""
    run = run_order(accounts, months, seed, order, capacity, workers, fraud_share)
    return {
        "seed": seed,
        "order": order,
        "calls_made": run.calls_made,
        "calls_left_over": run.calls_left_over,
        "recovered_fen": run.recovered_fen,
        "exposure_fen": run.exposure_fen,
        "left_past_due_fen": run.left_past_due_fen,
        "recovery_rate": float(run.recovery_rate or 0),
        "seconds": round(run.seconds, 1),
    }


def paired(runs: list[dict[str, Any]], champion: str, challenger: str) -> dict[str, Any]:
    """The challenger's recovery rate minus the champion's on each seed (points), and over the seeds: the
    mean, the standard deviation and standard error of the mean, on how many seeds it was ahead, and the
    exact two-sided sign test's p-value (:func:`sign_test`)."""
    rate = {(r["seed"], r["order"]): r["recovery_rate"] for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    points = [100 * (rate[(s, challenger)] - rate[(s, champion)]) for s in seeds]
    mean = statistics.fmean(points)
    out: dict[str, Any] = {
        "challenger": challenger,
        "champion": champion,
        "seeds": len(points),
        "points_by_seed": [round(p, 3) for p in points],
        "mean_points": round(mean, 3),
        "ahead_on": sum(p > 0 for p in points),
        "behind_on": sum(p < 0 for p in points),
    }
    out["sign_test_p"] = round(sign_test(out["ahead_on"], out["behind_on"]), 4)
    if len(points) > 1:
        sd = statistics.stdev(points)
        out["sd_points"] = round(sd, 3)
        out["se_points"] = round(sd / math.sqrt(len(points)), 3)
    return out


def sign_test(ahead: int, behind: int) -> float:
    """Two-sided exact sign test: the chance, were each seed a fair coin, of a split at least as uneven as
    ``ahead`` against ``behind`` (ties left out)."""
    n = ahead + behind
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(ahead, behind) + 1)) / (1 << n)
    return min(1.0, 2 * tail)


def train_score(args: argparse.Namespace) -> dict[str, Any]:
    """Train the collection model on the simulator's outcomes (:func:`overdue.sim.outcomes.
    train_on_simulation`: ``--train-seeds``, the champion order, this run's size and fraud share), write
    it, and point this process and its workers at it (``OVERDUE_COLLECTION_MODEL``); returns what was
    trained."""
    model = train_on_simulation(
        args.train_seeds,
        accounts=args.accounts,
        fraud_share=args.fraud_share,
        capacity=args.capacity,
        order=args.orders[0],
        workers=args.workers,
    )
    path = Path(args.model_out) if args.model_out else Path(tempfile.mkdtemp()) / "collection-sim.json"
    save_model(model, path)
    os.environ[MODEL_ENV] = str(path)
    shipped_model.cache_clear()
    shipped_propensity.cache_clear()
    return {**model.dataset, "file": str(path), "metrics": dict(model.metrics)}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    trained = train_score(args) if args.train_score else None
    runs = []
    for seed in args.seeds:
        for order in args.orders:
            run = run_one(
                args.accounts, args.months, seed, order, args.capacity, args.workers, args.fraud_share
            )
            runs.append(run)
            if not args.json:
                print(f"seed {seed} {order:>8}: recovery rate {run['recovery_rate']:.4f}", file=sys.stderr)
    champion = args.orders[0]
    return {
        "accounts": args.accounts,
        "months": args.months,
        "capacity_per_1000": args.capacity,
        "strategy": "overdue.sim.uplift.experiment_strategy_text",
        "fraud_share": args.fraud_share,
        "collection_model": trained or "shipped",
        "runs": [{**r, "recovery_rate": round(r["recovery_rate"], 6)} for r in runs],
        "differences": [paired(runs, champion, o) for o in args.orders[1:]],
    }


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    result = bench(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for d in result["differences"]:
        print(
            f"{d['challenger']} minus {d['champion']}: {d['mean_points']:+.3f} points of recovery rate over "
            f"{d['seeds']} seeds (standard error {d.get('se_points', '-')}; ahead on {d['ahead_on']}, behind "
            f"on {d['behind_on']}; sign test p = {d['sign_test_p']})"
        )


if __name__ == "__main__":
    main()
