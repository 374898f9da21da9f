"""``bench/call_orders.py``: the call-priority experiment over many seeds, with paired differences."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest


def _bench() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "call_orders.py"
    spec = importlib.util.spec_from_file_location("bench_call_orders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeds_are_read_as_ranges_and_lists() -> None:
    bench = _bench()
    assert bench.seeds_of("201-203") == [201, 202, 203]
    assert bench.seeds_of("7,11,20-21") == [7, 11, 20, 21]
    with pytest.raises(ValueError):
        bench.seeds_of("x")


def test_the_sign_test_is_exact() -> None:
    bench = _bench()
    assert bench.sign_test(10, 0) == pytest.approx(2 / 1024)
    assert bench.sign_test(0, 10) == pytest.approx(2 / 1024)
    assert bench.sign_test(5, 5) == 1.0
    assert bench.sign_test(8, 2) == pytest.approx(2 * (1 + 10 + 45) / 1024)
    assert bench.sign_test(0, 0) == 1.0


def test_each_order_runs_on_each_seed_and_is_compared_with_the_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = _bench()
    argv = ["--accounts", "300", "--months", "2", "--seeds", "3-4", "--orders", "balance,random"]
    bench.main([*argv, "--capacity", "2", "--workers", "1", "--json"])
    out = json.loads(capsys.readouterr().out)
    runs = {(r["seed"], r["order"]): r for r in out["runs"]}
    assert set(runs) == {(3, "balance"), (3, "random"), (4, "balance"), (4, "random")}
    for run in runs.values():
        assert run["calls_made"] > 0 and run["calls_left_over"] > 0  # the capacity binds
        assert run["left_past_due_fen"] == run["exposure_fen"] - run["recovered_fen"]
        assert run["recovery_rate"] == pytest.approx(run["recovered_fen"] / run["exposure_fen"], abs=1e-6)
    (difference,) = out["differences"]
    assert difference["champion"] == "balance" and difference["challenger"] == "random"
    by_seed = [
        100 * (runs[(s, "random")]["recovery_rate"] - runs[(s, "balance")]["recovery_rate"]) for s in (3, 4)
    ]
    assert difference["points_by_seed"] == pytest.approx(by_seed, abs=1e-3)
    assert difference["mean_points"] == pytest.approx(sum(by_seed) / 2, abs=1e-3)
    assert difference["ahead_on"] + difference["behind_on"] <= 2
    assert "se_points" in difference and 0 < difference["sign_test_p"] <= 1


def test_unknown_orders_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _bench().main(["--orders", "balance,loudest"])
    assert "loudest" in capsys.readouterr().err
