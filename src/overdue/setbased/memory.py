"""How a set-based run's process takes memory: Arrow's jemalloc pool and NumPy in ordinary pages; DuckDB
keeping the memory of the blocks it frees.

A set-based day over millions of accounts moves gigabytes through Arrow (the results fetched from the
engine, the outbox's texts) and NumPy. By default Arrow allocates from mimalloc and NumPy, and both ask
the kernel for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on their large buffers. On the
project's machines (virtual machines whose kernel sets transparent huge pages to ``madvise``, defrag
``madvise``) a huge page is dear to fault in: 2 GB of fresh memory took 3.0–5.9 s in huge pages against
1.0–1.4 s in ordinary ones, and the 10 M-account day with collections 15.0–17.4 s against 13.0–13.6 s
(``docs/PERFORMANCE.md``). :func:`use_ordinary_pages` makes the process take Arrow's memory from jemalloc
(which does not ask for huge pages) and turns NumPy's request off; DuckDB's own allocator is left as it is
(the accounts' day was slower with huge pages refused to it as well).

The libraries' own settings win: with ``ARROW_DEFAULT_MEMORY_POOL`` set, Arrow's pool is left alone; with
``NUMPY_MADVISE_HUGEPAGE`` set, NumPy's. ``overdue eod --engine …``, the nightly job and the benchmarks
call it before their first large allocation.

DuckDB gives a block's memory back to the system when the block is freed (a table dropped or replaced, a
query's hash table done), and the next table faults fresh pages in again — on these machines about 0.5 s
a gigabyte in ordinary pages. A day replaces its largest tables (the accounts, the statements, the
collection records) and builds others it drops: :func:`keep_freed_blocks` has DuckDB's block allocator
keep up to :data:`KEPT_SHARE` of the machine's memory for the blocks it allocates next
(``block_allocator_memory``; kept until the connection closes). ``overdue eod --engine duckdb``, the
nightly job and the benchmarks call it on the connection they open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
NUMPY_HUGEPAGE_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"

KEPT_SHARE = 0.4
"""The share of the machine's memory DuckDB's block allocator keeps for reuse (half its default memory
limit, 80 %)."""


@dataclass(frozen=True)
class MemorySettings:
    """What the process uses after :func:`use_ordinary_pages`: Arrow's pool by name (``jemalloc``,
    ``mimalloc`` or ``system``) and whether NumPy asks for huge pages."""

    arrow_pool: str
    numpy_huge_pages: bool


def use_ordinary_pages() -> MemorySettings:
    """Arrow's default pool becomes jemalloc (or the system allocator where this pyarrow was built without
    it) and NumPy stops asking for huge pages, unless the process's environment set either itself. The
    arrays made before keep their memory; idempotent."""
    if ARROW_POOL_VARIABLE not in os.environ:
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:
            pool = pa.system_memory_pool()
        pa.set_memory_pool(pool)
    # NumPy's setter gives the setting it replaces: put that back where the environment chose it.
    set_hugepage = np._core.multiarray._set_madvise_hugepage  # type: ignore[attr-defined]
    previous: bool = set_hugepage(False)
    huge = previous if NUMPY_HUGEPAGE_VARIABLE in os.environ else False
    set_hugepage(huge)
    return MemorySettings(pa.default_memory_pool().backend_name, huge)


def kept_block_memory() -> int:
    """The bytes :func:`keep_freed_blocks` lets DuckDB keep: :data:`KEPT_SHARE` of the machine's memory."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * KEPT_SHARE)


def keep_freed_blocks(con: Any) -> int:
    """Have the in-process DuckDB of ``con`` (an Ibis DuckDB connection) keep the memory of the blocks it
    frees, up to :func:`kept_block_memory` bytes, for the blocks it allocates next, instead of giving it
    back to the system; the bytes. The setting is the database's, for as long as it is open."""
    kept = kept_block_memory()
    con.raw_sql(f"SET block_allocator_memory = '{kept}B'")
    return kept
