"""The demo pipeline (``overdue demo``, and ``bench/demo.py`` which times it): prepare the database,
simulate the portfolio — booked by application score, limits reviewed monthly (:mod:`overdue.sim.limits`) —
while each finished shard is written into the database, then write the report.

Writing overlaps simulating: the worker processes simulate shards while this process writes the ones
already done, in shard order (:class:`overdue.sim.persist.PortfolioWriter`). The phases it times:

- ``prepare``: migrating (and with ``fresh``, emptying) the database;
- ``simulate``: from the start of the simulation until the last shard is simulated;
- ``store``: time spent writing, in total (most of it while shards are still simulated), and
  ``store_after_simulate``: the writing left once the last shard is simulated (it is on the critical path);
- ``call_priority``: the call-priority comparison (:mod:`overdue.sim.call_compare`), when asked for: a
  portfolio of ``compare_calls`` accounts (its own, whatever the demo's size; over the demo's months, at
  most :data:`~overdue.sim.call_compare.MONTHS`) drawn with its seed and fraud share but not booked by score,
  simulated once with the calls made largest balance first and once largest expected recovery first,
  with a binding daily call capacity; nothing of it is stored;
- ``report``: the HTML report.

With one worker the shards are simulated in this process, and each is written before the next starts.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from overdue.sim.call_compare import MONTHS as COMPARISON_MONTHS
from overdue.sim.call_compare import CallComparison, compare_call_orders
from overdue.sim.persist import PortfolioWriter, prepare
from overdue.sim.result import ShardResult, SimulationResult
from overdue.sim.run import SHARD_SIZE, SimulationConfig, simulate

Tick = Callable[[int, int], None]
"""Called as ``tick(done, total)``."""


@dataclass
class DemoRun:
    """What a demo run made: the simulation's result, the rows stored by table, the report, and timings."""

    result: SimulationResult
    stored: dict[str, int]
    report: Path | None
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall-clock seconds by phase (see the module docstring), and ``total``."""
    store_seconds: dict[str, float] = field(default_factory=dict)
    """Seconds of writing by table group: accounts, ledger, actions, contacts, month ends, behaviour
    scores."""
    call_priority: CallComparison | None = None
    """The call-priority comparison, when the demo ran one."""


def run_demo(
    engine: Engine,
    config: SimulationConfig,
    out: Path | None,
    *,
    fresh: bool,
    simulated: Tick | None = None,
    stored: Tick | None = None,
    compare_calls: int = 0,
    compared: Tick | None = None,
) -> DemoRun:
    """Run the demo: ``config`` (with ``keep_records``) into ``engine``'s database, the report into ``out``
    (None: no report). ``simulated`` and ``stored`` are told of the shards simulated and written.
    ``compare_calls``: accounts in the call-priority comparison (0: none); ``compared`` is told of its
    shards simulated."""
    from overdue.reports.html import write_report

    started = time.perf_counter()
    config = dataclasses.replace(config, book_by_score=True)  # the demo books its accounts by score
    prepare(engine, fresh=fresh)
    prepared = time.perf_counter()
    shards = -(-config.accounts // SHARD_SIZE)
    last_simulated = [prepared]
    written = [0]

    def on_simulated(done: int, total: int) -> None:
        last_simulated[0] = time.perf_counter()
        if simulated:
            simulated(done, total)

    with PortfolioWriter(engine) as writer:

        def sink(shard: ShardResult) -> None:
            writer.write(shard)
            written[0] += 1
            if stored:
                stored(written[0], shards)

        result = simulate(config, on_simulated, sink)
        counts = writer.finish(result.borrowers, result.start, result.end)
    finished_store = time.perf_counter()
    calls = None
    if compare_calls > 0:
        calls = compare_call_orders(
            compare_calls,
            min(COMPARISON_MONTHS, config.months),
            config.seed,
            workers=config.workers,
            fraud_share=config.model.fraud_share,
            progress=compared,
        )
    compared_at = time.perf_counter()
    path = write_report(result, out, calls=calls) if out is not None else None
    ended = time.perf_counter()
    return DemoRun(
        result,
        counts,
        path,
        seconds={
            "prepare": prepared - started,
            "simulate": last_simulated[0] - prepared,
            "store": writer.times.total(),
            "store_after_simulate": finished_store - last_simulated[0],
            "call_priority": compared_at - finished_store,
            "report": ended - compared_at,
            "total": ended - started,
        },
        store_seconds=dict(writer.times.seconds),
        call_priority=calls,
    )
