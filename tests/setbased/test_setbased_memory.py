"""A set-based run's process takes Arrow's memory from jemalloc and NumPy's in ordinary pages
(:mod:`overdue.setbased.memory`), unless its environment chose otherwise, and its DuckDB keeps the memory
of the blocks it frees. Each case runs in a fresh process: the settings are the process's."""

from __future__ import annotations

import functools
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
from overdue.setbased import memory, nightly
con = nightly.connect("duckdb")
blocks = con.raw_sql("SELECT current_setting('block_allocator_memory')").fetchone()[0]
pool = pa.default_memory_pool()
start = pool.bytes_allocated()
made = pc.add(pa.array(np.arange(1_000_000, dtype=np.int64)), 1)
grown = pool.bytes_allocated() - start
previous = np._core.multiarray._set_madvise_hugepage(True)
print(json.dumps({"before": before, "pool": pool.backend_name, "grown": grown, "numpy_huge": previous,
                  "sum": pc.sum(made).as_py(), "blocks": blocks, "kept": memory.kept_block_memory()}))
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


@functools.cache
def _default_probe() -> dict[str, object]:
    """The probe in the environment as it is (once per worker: two tests read it)."""
    return _probe()


def test_connecting_an_engine_moves_arrow_to_jemalloc_and_numpy_off_huge_pages() -> None:
    result = _default_probe()
    assert result["before"] == "mimalloc"
    assert result["pool"] == "jemalloc"
    # The arrays computed afterwards come from the new pool (8 MB of int64 at least).
    assert isinstance(result["grown"], int) and result["grown"] >= 8_000_000
    assert result["numpy_huge"] is False
    assert result["sum"] == sum(range(1, 1_000_001))


UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def test_the_duckdb_engine_keeps_the_memory_of_the_blocks_it_frees() -> None:
    result = _default_probe()
    number, unit = str(result["blocks"]).split()
    kept = result["kept"]
    assert isinstance(kept, int)
    # 40 % of the machine's memory, as DuckDB shows it (to a tenth of its unit)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert kept == int(total * 0.4)
    assert abs(float(number) * UNITS[unit] - kept) <= 0.05 * UNITS[unit]


def test_the_libraries_own_settings_win() -> None:
    result = _probe(ARROW_DEFAULT_MEMORY_POOL="system", NUMPY_MADVISE_HUGEPAGE="1")
    assert result["before"] == "system"
    assert result["pool"] == "system"
    assert result["numpy_huge"] is True
