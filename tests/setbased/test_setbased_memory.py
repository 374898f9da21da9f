"""A set-based run's process takes Arrow's memory from jemalloc and NumPy's in ordinary pages
(:mod:`overdue.setbased.memory`), unless its environment chose otherwise. Each case runs in a fresh
process: the settings are the process's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = """
import json
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
before = pa.default_memory_pool().backend_name
from overdue.setbased import nightly
nightly.connect("duckdb")
pool = pa.default_memory_pool()
start = pool.bytes_allocated()
made = pc.add(pa.array(np.arange(1_000_000, dtype=np.int64)), 1)
grown = pool.bytes_allocated() - start
previous = np._core.multiarray._set_madvise_hugepage(True)
print(json.dumps({"before": before, "pool": pool.backend_name, "grown": grown, "numpy_huge": previous,
                  "sum": pc.sum(made).as_py()}))
"""


def _probe(**environment: str) -> dict[str, object]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ARROW_DEFAULT_MEMORY_POOL", "NUMPY_MADVISE_HUGEPAGE")
    }
    env.update(environment)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_connecting_an_engine_moves_arrow_to_jemalloc_and_numpy_off_huge_pages() -> None:
    result = _probe()
    assert result["before"] == "mimalloc"
    assert result["pool"] == "jemalloc"
    # The arrays computed afterwards come from the new pool (8 MB of int64 at least).
    assert isinstance(result["grown"], int) and result["grown"] >= 8_000_000
    assert result["numpy_huge"] is False
    assert result["sum"] == sum(range(1, 1_000_001))


def test_the_libraries_own_settings_win() -> None:
    result = _probe(ARROW_DEFAULT_MEMORY_POOL="system", NUMPY_MADVISE_HUGEPAGE="1")
    assert result["before"] == "system"
    assert result["pool"] == "system"
    assert result["numpy_huge"] is True
