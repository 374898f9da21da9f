"""Running a simulation: borrowers, shards, worker processes, merging.

Accounts are independent, so the portfolio is cut into shards of :data:`SHARD_SIZE` accounts by index and
the shards run in parallel (:class:`concurrent.futures.ProcessPoolExecutor`). Each shard draws from random
streams seeded by ``(seed, shard index)``, and each account's draws are its own (:mod:`overdue.sim.draws`),
so the result depends on the seed alone, never on the number of workers, and two runs of one portfolio
share their random numbers.

Two runners give that result (``engine``): the reference runner (:func:`overdue.sim.shard.run_shard`, one
account at a time through the domain's rules) and the array runner (:func:`overdue.sim.array_shard.
run_array_shards`, the same rules over arrays, several shards at once), which gives the same result and is
many times faster; ``auto`` takes the array runner wherever it runs the configuration
(:func:`array_runner_refuses`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources

from overdue.domain.calendar import add_months
from overdue.sim.borrowers import make_borrowers
from overdue.sim.calls import CallPolicy
from overdue.sim.defaults import ENGINES
from overdue.sim.limits import Booking, book_borrowers
from overdue.sim.model import BehaviourModel
from overdue.sim.result import ShardResult, SimulationResult, merge
from overdue.sim.shard import NO_VARIANT, ShardSpec, run_shard, variants_for
from overdue.strategy import Strategy, parse_strategy

SHARD_SIZE = 250
GROUPS_PER_WORKER = 4
"""The array runner takes the shards in this many groups per worker (progress is reported per group)…"""
MIN_GROUP = 20
"""… of at least this many shards (5,000 accounts) where there are enough for every worker."""
DEFAULT_START = date(2026, 1, 1)

Progress = Callable[[int, int], None]
"""Called as ``progress(shards_done, shards_total)``."""


def default_strategy_text() -> str:
    """The YAML text of the shipped ``huabei`` strategy (workers parse it themselves)."""
    return (
        resources.files("overdue.strategy").joinpath("strategies", "huabei.yaml").read_text(encoding="utf-8")
    )


@dataclass(frozen=True)
class SimulationConfig:
    """accounts: portfolio size. months: whole calendar months simulated from ``start`` (the 1st of a month).
    seed: the one seed everything is drawn from. strategy_text: the collection strategy's YAML (None: the
    shipped ``huabei``). keep_records: keep what :mod:`overdue.sim.persist` writes (ledger, actions,
    contacts, month-end rows and behaviour scores). workers: processes (1 runs in this process).
    skip_quiet_days: skip the steps that provably change nothing (:mod:`overdue.sim.skips`). book_by_score:
    see below."""

    accounts: int = 10_000
    months: int = 12
    seed: int = 20260101
    start: date = DEFAULT_START
    strategy_text: str | None = None
    keep_records: bool = False
    workers: int = 2
    skip_quiet_days: bool = True
    model: BehaviourModel = field(default_factory=BehaviourModel)
    book_by_score: bool = False
    """True: applicants are scored and booked with limits by score band, the declined not booked
    (:mod:`overdue.sim.limits`; ``overdue demo`` does this). False: every drawn borrower is booked with the
    limit :func:`~overdue.sim.borrowers.make_borrowers` drew (the fixed portfolio strategy experiments
    compare on). Limits are reviewed monthly either way."""
    calls: CallPolicy = field(default_factory=CallPolicy)
    """A daily capacity of human calls and the order they are made in (:mod:`overdue.sim.calls`); the
    default is unlimited, every allowed call made as planned."""
    log_outcomes: bool = False
    """Sample the delinquent accounts' collection facts and whether they repaid within 30 days: the
    result's ``outcomes`` (:mod:`overdue.sim.outcomes`), the data a collection score is trained on."""
    engine: str = "auto"
    """``reference``, ``arrays`` (refused where :func:`array_runner_refuses`) or ``auto`` (the array runner
    where it runs the configuration, else the reference): the result is the same."""
    english_share: float = 0.0
    """The share (0–1) of borrowers who read English: their accounts carry (and are stored with) the
    language ``en`` (:mod:`overdue.sim.borrowers`), the others zh-CN, so the end-of-day writes to them in
    English once the portfolio is stored. The simulator itself counts messages without writing their texts.
    Drawn from a stream of its own, so the portfolio is otherwise the same."""

    @property
    def end(self) -> date:
        return add_months(self.start, self.months) - timedelta(days=1)


Sink = Callable[[ShardResult], None]
"""Takes each shard's result, in shard order, as soon as it and every shard before it are done."""


def simulate(
    config: SimulationConfig, progress: Progress | None = None, sink: Sink | None = None
) -> SimulationResult:
    """Run the simulation described by ``config`` and return the merged result.

    sink: called with each shard's result in shard order while later shards are still running (the demo
    writes them into the database meanwhile); the records it was given (ledger, actions, contacts, month
    ends, behaviour scores) are then dropped, so the returned result holds none.
    """
    if config.accounts < 1 or config.months < 1:
        raise ValueError("a simulation needs at least one account and one month")
    if config.start.day != 1:
        raise ValueError("a simulation starts on the 1st of a month")
    if config.engine not in ENGINES:
        raise ValueError(f"unknown engine {config.engine!r}; one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    text = config.strategy_text or default_strategy_text()
    strategy = parse_strategy(text, name="simulated strategy")
    refusal = array_runner_refuses(config, strategy)
    if config.engine == "arrays" and refusal:
        raise ValueError(f"the array runner does not run this simulation: {refusal}")
    arrays = config.engine == "arrays" or (config.engine == "auto" and not refusal)
    if config.book_by_score:
        booking = book_borrowers(
            config.accounts, config.seed, config.start, config.english_share, config.model.fraud_share
        )
    else:
        drawn = make_borrowers(
            config.accounts, config.seed, config.start, config.english_share, config.model.fraud_share
        )
        booking = Booking(drawn, [], [], len(drawn))
    borrowers = booking.borrowers
    specs = [
        ShardSpec(
            index=k,
            seed=config.seed,
            borrowers=tuple(borrowers[lo : lo + SHARD_SIZE]),
            start=config.start,
            end=config.end,
            strategy_text=text,
            model=config.model,
            keep_records=config.keep_records,
            skip_quiet_days=config.skip_quiet_days,
            calls=config.calls,
            log_outcomes=config.log_outcomes,
        )
        for k, lo in enumerate(range(0, config.accounts, SHARD_SIZE))
    ]
    results: list[ShardResult] = []
    if arrays:
        results = [_hand_over(r, sink) for r in _run_arrays(specs, config.workers, progress)]
    elif config.workers <= 1 or len(specs) == 1:
        for spec in specs:
            results.append(_hand_over(run_shard(spec), sink))
            if progress:
                progress(len(results), len(specs))
    else:
        with ProcessPoolExecutor(max_workers=min(config.workers, len(specs))) as pool:
            results = _run_parallel(pool, specs, progress, sink)
    merged = merge(results, config.accounts)
    merged["tallies"][("applicants",)] += booking.applicants
    merged["tallies"].update(("limit_band", band) for band in booking.bands)
    experiment = strategy.experiments[0] if strategy.experiments else None
    variant_of = variants_for([b.account_id for b in borrowers], strategy)
    return SimulationResult(
        seed=config.seed,
        start=config.start,
        end=config.end,
        strategy=strategy.name,
        experiment=experiment.name if experiment else None,
        variants=tuple(v.name for v in experiment.variants) if experiment else (NO_VARIANT,),
        borrowers=borrowers,
        variant_of=variant_of,
        daily_dates=[config.start + timedelta(days=k) for k in range((config.end - config.start).days + 1)],
        seconds=time.perf_counter() - started,
        **merged,
    )


def array_runner_refuses(config: SimulationConfig, strategy: Strategy | None = None) -> str | None:
    """Why the array runner cannot run ``config`` (None: it can); ``strategy``: its strategy, parsed (None:
    parsed here)."""
    if config.keep_records:
        return "it keeps no records to store yet (overdue demo stores them)"
    if config.log_outcomes:
        return "it samples no collection outcomes yet"
    from overdue.sim.decide import ArrayStrategy

    if strategy is None:
        strategy = parse_strategy(config.strategy_text or default_strategy_text(), name="simulated strategy")
    if "score" in ArrayStrategy(strategy).fields:
        return "the strategy reads the collection score, which it does not compute yet"
    return None


def _run_arrays(specs: list[ShardSpec], workers: int, progress: Progress | None) -> list[ShardResult]:
    """The shards in groups of consecutive ones, each group over arrays in one worker."""
    from overdue.sim.array_shard import run_array_shards

    workers = max(1, workers)
    # Groups big enough for the arrays to pay (MIN_GROUP shards), small enough to keep every worker busy.
    size = max(-(-len(specs) // (workers * GROUPS_PER_WORKER)), min(-(-len(specs) // workers), MIN_GROUP))
    groups = [specs[k : k + size] for k in range(0, len(specs), size)]
    results: list[ShardResult] = []
    if workers <= 1 or len(groups) == 1:
        for group in groups:
            results.append(run_array_shards(group))
            if progress:
                progress(sum(len(g) for g in groups[: len(results)]), len(specs))
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(groups))) as pool:
        futures = [pool.submit(run_array_shards, group) for group in groups]
        done = 0
        for future, group in zip(futures, groups, strict=True):
            results.append(future.result())
            done += len(group)
            if progress:
                progress(done, len(specs))
    return results


def _run_parallel(
    pool: Executor, specs: list[ShardSpec], progress: Progress | None, sink: Sink | None
) -> list[ShardResult]:
    futures = {pool.submit(run_shard, spec): k for k, spec in enumerate(specs)}
    done: dict[int, ShardResult] = {}
    results: list[ShardResult] = []
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            done[futures[future]] = future.result()
        if progress:
            progress(len(done), len(specs))
        while len(results) in done:
            results.append(_hand_over(done.pop(len(results)), sink))
    return results


def _hand_over(shard: ShardResult, sink: Sink | None) -> ShardResult:
    """Give ``shard`` to ``sink``, then drop the records it took."""
    if sink is not None:
        sink(shard)
        shard.ledger, shard.actions, shard.contacts, shard.days, shard.scores = [], [], [], [], []
    return shard
