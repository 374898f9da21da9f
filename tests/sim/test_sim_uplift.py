"""The uplift of a call by score band: the randomised experiment's bookkeeping, the table, its file, and the
``uplift`` and ``random`` call orders."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from overdue.domain.errors import InvalidInput
from overdue.engine.collect import PlannedStep
from overdue.sim import SimulationConfig, simulate
from overdue.sim.calls import CallPolicy, CallQueue, WaitingCall
from overdue.sim.uplift import (
    BANDS,
    CallUplift,
    UpliftBand,
    UpliftLog,
    band_of,
    experiment_strategy_text,
    load_uplift,
    save_uplift,
    shipped_uplift,
    table_from_tallies,
)
from overdue.strategy import PlannedAction, parse_strategy

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _call(account: int, balance: int, score: int | None, lot: float = 0.0, extra: int = 0) -> WaitingCall:
    action = PlannedAction("call", "call", "call", None, 10, "debtor", None, None, "test")
    step = PlannedStep(action, True, None, "test", None, "call", None)
    return WaitingCall(account, step, AT, balance, score, lot, extra)


def _order(policy: CallPolicy, calls: list[WaitingCall]) -> list[int]:
    queue = CallQueue(policy)
    for call in calls:
        queue.wait(call)
    return [c.account for c in queue.take_day()]


def test_bands_are_five_points_wide_and_a_hundred_falls_in_the_last() -> None:
    assert band_of(None) is None
    assert band_of(0) == "0" and band_of(4) == "0" and band_of(5) == "5"
    assert band_of(77) == "75" and band_of(99) == "95" and band_of(100) == "95"
    assert len(BANDS) == 20
    band = UpliftBand("95", 1, 1, 0, 0)
    assert (band.low, band.high) == (95, 100)
    assert (UpliftBand("70", 1, 1, 0, 0).low, UpliftBand("70", 1, 1, 0, 0).high) == (70, 74)


def test_the_log_counts_what_each_waiting_call_s_account_repaid_within_the_horizon() -> None:
    counts: Counter[tuple[str, ...]] = Counter()
    log = UpliftLog(counts, horizon_days=3)
    repaid = np.zeros(3, dtype=np.int64)
    repaid[0] = 500  # repaid before the call: not counted
    log.wait(0, 10, 72, True, 10_000, int(repaid[0]))
    log.wait(1, 10, 73, False, 20_000, 0)
    log.wait(2, 10, None, True, 5_000, 0)  # not scored: not followed
    log.wait(2, 11, 40, False, 0, 0)  # nothing overdue: not followed
    repaid[0] += 2_000
    repaid[1] += 1_000
    log.settle(13, repaid)  # day 13: the horizon (days 11–13) is not over yet
    assert not counts
    repaid[1] += 3_000  # still within the horizon of day 10's calls
    log.settle(14, repaid)
    assert counts == Counter(
        {
            ("uplift_calls", "70", "made"): 1,
            ("uplift_fen", "70", "made"): 10_000,
            ("uplift_repaid", "70", "made"): 2_000,
            ("uplift_calls", "70", "over"): 1,
            ("uplift_fen", "70", "over"): 20_000,
            ("uplift_repaid", "70", "over"): 4_000,
        }
    )
    table = table_from_tallies(counts, {"seeds": []}, min_calls=1)
    (band,) = table.bands
    assert (band.made_ppm, band.over_ppm, band.uplift_ppm, band.pooled) == (200_000, 200_000, 0, False)
    assert table.ppm(71) == 0 and table.ppm(10) == 0 and table.ppm(None) == 0


def test_a_band_with_too_few_calls_takes_the_pooled_rates() -> None:
    counts: Counter[tuple[str, ...]] = Counter()
    for band, made, calls, fen, repaid in (
        ("70", "made", 200, 1_000_000, 300_000),
        ("70", "over", 800, 4_000_000, 800_000),
        ("85", "made", 3, 10_000, 9_000),  # three calls, one large repayment
        ("85", "over", 9, 30_000, 3_000),
    ):
        counts[("uplift_calls", band, made)] = calls
        counts[("uplift_fen", band, made)] = fen
        counts[("uplift_repaid", band, made)] = repaid
    seventy, eighty_five = table_from_tallies(counts, {}, min_calls=100).bands
    assert (seventy.made_ppm, seventy.over_ppm, seventy.pooled) == (300_000, 200_000, False)
    assert eighty_five.pooled and (eighty_five.made, eighty_five.over) == (3, 9)
    assert (eighty_five.made_ppm, eighty_five.over_ppm) == (305_940, 199_255)


def test_the_table_predicts_extra_recovery_and_the_uplift_order_follows_it() -> None:
    bands = (UpliftBand("60", 10, 40, 150_000, 140_000), UpliftBand("70", 10, 40, 300_000, 200_000))
    table = CallUplift(bands)
    assert table.ppm(62) == 10_000 and table.ppm(74) == 100_000
    assert table.extra_fen_ppm(74, 5_000) == 500_000_000
    calls = [
        _call(0, 40_000, 61, extra=table.extra_fen_ppm(61, 40_000)),  # 1.0 % of 400.00
        _call(1, 5_000, 72, extra=table.extra_fen_ppm(72, 5_000)),  # 10 % of 50.00
        _call(2, 90_000, None),
        _call(3, 30_000, 70, extra=table.extra_fen_ppm(70, 30_000)),
    ]
    assert _order(CallPolicy(1, "uplift", table), calls) == [3, 1, 0, 2]
    assert _order(CallPolicy(1, "balance"), calls) == [2, 0, 3, 1]


def test_the_random_order_is_the_lot_s() -> None:
    calls = [_call(0, 1_000, 50, lot=0.7), _call(1, 9_000, 90, lot=0.1), _call(2, 5_000, None, lot=0.4)]
    assert _order(CallPolicy(1, "random"), calls) == [1, 2, 0]


def test_the_file_round_trips_and_bad_files_are_refused(tmp_path: Path) -> None:
    table = CallUplift((UpliftBand("75", 3, 9, 250_000, 150_000),), 30, {"seeds": [1]})
    path = tmp_path / "uplift.json"
    save_uplift(table, path)
    assert load_uplift(path) == table
    assert json.loads(path.read_text())["bands"][0]["uplift_ppm"] == 100_000
    path.write_text(json.dumps({"model": "collection", "bands": []}))
    with pytest.raises(InvalidInput, match="not a call-uplift model"):
        load_uplift(path)
    path.write_text(json.dumps({"model": "call-uplift", "bands": [{"band": "70"}]}))
    with pytest.raises(InvalidInput, match="malformed call-uplift"):
        load_uplift(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_uplift(tmp_path / "missing.json")


def test_the_shipped_table_loads_and_says_how_it_was_trained() -> None:
    table = shipped_uplift()
    assert table.bands and table.horizon_days == 30
    assert table.trained["seeds"] and table.trained["method"].startswith("randomised call order")
    assert all(b.made > 0 and b.over > 0 for b in table.bands)


def test_the_experiment_strategy_calls_from_the_first_overdue_day() -> None:
    strategy = parse_strategy(experiment_strategy_text())
    calls = [t for s in strategy.stages for t in s.treatments if t.id == "early_call"]
    assert len(calls) == 1 and calls[0].type == "call"


def test_a_random_order_run_fills_the_experiment_s_tallies() -> None:
    result = simulate(
        SimulationConfig(
            accounts=250,
            months=3,
            seed=11,
            workers=1,
            strategy_text=experiment_strategy_text(),
            calls=CallPolicy(4, "random"),
        )
    )
    tallies = result.tallies
    made = sum(v for k, v in tallies.items() if k[0] == "uplift_calls" and k[2] == "made")
    over = sum(v for k, v in tallies.items() if k[0] == "uplift_calls" and k[2] == "over")
    assert made > 0 and over > made  # the capacity binds, and the waiting calls are followed
    # Only calls whose 30-day horizon ended within the run are counted.
    assert made + over < tallies[("call_queue", "made")] + tallies[("call_queue", "over")]
    repaid = sum(v for k, v in tallies.items() if k[0] == "uplift_repaid")
    assert repaid > 0
    table = table_from_tallies(tallies, {})
    assert table.bands and all(b.made and b.over for b in table.bands)
