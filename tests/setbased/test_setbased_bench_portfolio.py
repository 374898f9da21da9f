"""The benchmark's generated portfolio is a real end-of-day state: on it, both runners give the same day."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from types import ModuleType

import ibis
import pytest
from setbased_helpers import assert_same_day

from overdue.domain.state import AccountStatus
from overdue.setbased import states_from_tables


def bench_module(script: str = "eod.py") -> ModuleType:
    """A script of ``bench/`` loaded as a module (``bench/`` is not a package)."""
    path = Path(__file__).parents[2] / "bench" / script
    spec = importlib.util.spec_from_file_location(f"bench_{Path(script).stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("on", [date(2026, 3, 15), date(2026, 4, 1), date(2026, 3, 31)])
def test_both_runners_agree_on_the_benchmark_portfolio(on: date) -> None:
    bench = bench_module()
    states = states_from_tables(bench.generate(400, on, seed=11), bench.TERMS)
    statuses = {s.status for s in states}
    assert {AccountStatus.ACTIVE, AccountStatus.FROZEN, AccountStatus.WRITTEN_OFF} <= statuses
    assert any(s.plans for s in states) and any(s.unbilled for s in states)
    assert_same_day(states, on, bench.TERMS, ibis.duckdb.connect())
