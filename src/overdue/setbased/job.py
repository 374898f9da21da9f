"""The nightly job as a script for ``spark-submit`` (or plain ``python``): the set-based end-of-day over a
Parquet state folder, on the Spark session that ``spark-submit`` configures.

::

    spark-submit --master local[2] --driver-memory 6g \\
        "$(python -c 'import overdue.setbased.job as j; print(j.__file__)')" \\
        --state /data/overdue/state --through 2026-03-31 --strategy huabei.yaml

It runs :func:`overdue.setbased.nightly.run_nightly` from the newest snapshot (or ``--from`` a date, to run
days again) and prints the summary as JSON on the last line of its output. With ``--strategy FILE`` (a
strategy file, or ``huabei`` for the shipped one) each day also runs decide → comply → act over the tables,
as ``overdue eod --engine spark --state DIR --strategy FILE`` does; without it the job stops after the
accounts' day, the limit review and, at a month end, the behaviour scores. ``--engine duckdb`` runs the
same job without Spark. ``--checkpoint-dir DIR`` (a directory every executor reaches: HDFS, an object
store) checkpoints the tables reliably there instead of locally, as a cluster needs. ``docs/setbased.md``
describes a cluster run and what it still lacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from overdue.domain.errors import OverdueError
from overdue.setbased.nightly import connect, run_nightly
from overdue.strategy import default_strategy, load_strategy
from overdue.strategy.model import Strategy

SHIPPED = "huabei"
"""``--strategy huabei`` names the shipped strategy (a file called so is given as ``./huabei``)."""


def _strategy(value: str | None) -> Strategy | None:
    if value is None:
        return None
    return default_strategy() if value == SHIPPED else load_strategy(Path(value))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="overdue's set-based end-of-day over a Parquet state folder")
    parser.add_argument("--state", type=Path, required=True, help="the state folder")
    parser.add_argument("--through", type=date.fromisoformat, required=True, help="the last date to run")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, help="run again from this date")
    parser.add_argument("--engine", choices=("spark", "duckdb"), default="spark")
    parser.add_argument(
        "--strategy", help=f"a collection strategy file, or {SHIPPED} for the shipped one (default: none)"
    )
    parser.add_argument(
        "--checkpoint-dir",
        help="Spark: checkpoint the tables reliably in this directory (default: local checkpoints)",
    )
    args = parser.parse_args(argv)
    try:
        strategy = _strategy(args.strategy)
        summary = run_nightly(
            args.state,
            args.through,
            connect(args.engine, checkpoint_dir=args.checkpoint_dir),
            engine=args.engine,
            start=args.start,
            strategy=strategy,
        )
    except OverdueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary.to_json(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
