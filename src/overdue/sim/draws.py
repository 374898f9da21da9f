"""Random draws keyed by account and day, so that two runs of one portfolio share their random numbers.

Comparing two strategies (or two call orders) on the same portfolio is only fair when a borrower draws the
same random numbers in both runs wherever their own story is the same: *common random numbers*. One random
stream per shard, consumed in the order things happen, breaks that: one extra call to one account shifts
every later draw of every account in the shard, and the two runs differ by noise as much as by the strategy.

So the simulator draws in two ways:

- **daily draws for the whole shard** (:meth:`overdue.sim.behaviour.Behaviour.draw_day` and the others it
  lists), one value per account whatever the account's state, in the same order every day: account ``i``'s
  value is the ``i``-th of the day's array, the same in every run;
- **event draws** (:class:`KeyedDraws`), for what happens only to some accounts on some days — how a
  contact is answered, at what time it is made: they come from a block of uniforms keyed by the seed, the
  stream, the shard and the day, one row per account. Account ``i``'s draws on a day are its row's values
  in order, then, past the row's end, values from a stream keyed by the account too. What account ``i``
  draws depends on the seed, the day and how many draws it made itself that day: never on other accounts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ROW = 8
"""Draws kept per account and day in a block; a day needing more draws from the account's own stream."""


class BlockKeyedDraws:
    """Keyed draws of several consecutive shards, addressed by the account's index among them all: each
    shard's block of the day is drawn from the shard's key and the day (as :class:`KeyedDraws`, the one-shard
    case, draws it), and the blocks are kept end to end, so a batch of accounts of many shards draws with a
    few array operations. An account's draws past its row of the block come from a stream keyed by its shard
    and its place in it.

    blocks: the shards, each as (shard index, number of accounts), in account order.
    """

    def __init__(self, seed: int, stream: int, blocks: list[tuple[int, int]]) -> None:
        self._keys = [(seed, stream, index) for index, _ in blocks]
        self._sizes = [size for _, size in blocks]
        self._starts = np.cumsum([0, *self._sizes[:-1]]).astype(np.int64)
        self._accounts = sum(self._sizes)
        self._day = -1
        self._block: npt.NDArray[np.float64] | None = None
        self._used = np.zeros(self._accounts, dtype=np.int64)
        self._beyond: dict[int, np.random.Generator] = {}

    def _today(self, day: int) -> npt.NDArray[np.float64]:
        if day != self._day:
            self._day, self._block = day, None
            self._used[:] = 0
            self._beyond.clear()
        if self._block is None:
            self._block = np.concatenate(
                [
                    np.random.default_rng([*key, day]).random((size, ROW))
                    for key, size in zip(self._keys, self._sizes, strict=True)
                ]
            )
        return self._block

    def _own(self, i: int, day: int) -> np.random.Generator:
        """Account ``i``'s stream past its row's end (keyed by its shard and its place in it)."""
        beyond = self._beyond.get(i)
        if beyond is None:
            k = int(np.searchsorted(self._starts, i, side="right")) - 1
            beyond = self._beyond[i] = np.random.default_rng([*self._keys[k], day, i - int(self._starts[k])])
        return beyond

    def take(self, i: int, day: int, count: int) -> list[float]:
        """Account ``i``'s next ``count`` draws on ``day`` (a date's ordinal); days only move forward."""
        block = self._today(day)
        start = int(self._used[i])
        self._used[i] = start + count
        drawn: list[float] = block[i, start : start + count].tolist()
        if len(drawn) < count:
            drawn.extend(self._own(i, day).random(count - len(drawn)).tolist())
        return drawn

    def one(self, i: int, day: int) -> float:
        """Account ``i``'s next draw on ``day``."""
        return self.take(i, day, 1)[0]

    def next_many(self, rows: npt.NDArray[np.int64], day: int) -> npt.NDArray[np.float64]:
        """The next draw on ``day`` of each account of ``rows`` (no account twice): what :meth:`one` gives
        each of them, for a batch at once."""
        block = self._today(day)
        used = self._used[rows]
        inside = used < ROW
        drawn = np.empty(len(rows), dtype=np.float64)
        drawn[inside] = block[rows[inside], used[inside]]
        for j in np.flatnonzero(~inside).tolist():
            drawn[j] = self._own(int(rows[j]), day).random()
        self._used[rows] = used + 1
        return drawn


class KeyedDraws(BlockKeyedDraws):
    """Uniform draws in [0, 1) for the accounts of one shard, keyed by (day, account).

    seed: the simulation's seed. stream: a number telling this use apart from the others (the same seed
    and shard give independent draws for each stream). shard: the shard's index. accounts: how many.
    """

    def __init__(self, seed: int, stream: int, shard: int, accounts: int) -> None:
        super().__init__(seed, stream, [(shard, accounts)])


class BlockRng:
    """The daily draws of several consecutive shards side by side.

    Each shard of the reference simulator draws its day from a generator of its own
    (:class:`~overdue.sim.behaviour.Behaviour`), one value per account of the shard. An array runner that
    holds several shards at once draws from each shard's generator exactly what that shard would, and puts the
    values end to end: account ``i`` of shard ``k`` gets the value it gets in the reference.

    blocks: the shards, each as (shard index, number of accounts), in account order.
    """

    def __init__(self, seed: int, stream: int, blocks: list[tuple[int, int]]) -> None:
        self._generators = [np.random.default_rng([seed, stream, index]) for index, _ in blocks]
        self._sizes = [size for _, size in blocks]
        self._total = sum(self._sizes)

    def _each(self, n: int, draw: str, *args: float) -> npt.NDArray[np.generic]:
        if n != self._total:
            raise ValueError(f"draws come one per account: {self._total}, not {n}")
        return np.concatenate(
            [getattr(g, draw)(*args, size) for g, size in zip(self._generators, self._sizes, strict=True)]
        )

    def random(self, n: int) -> npt.NDArray[np.float64]:
        return self._each(n, "random")  # type: ignore[return-value]

    def uniform(self, low: float, high: float, n: int) -> npt.NDArray[np.float64]:
        return self._each(n, "uniform", low, high)  # type: ignore[return-value]

    def lognormal(self, mean: float, sigma: float, n: int) -> npt.NDArray[np.float64]:
        return self._each(n, "lognormal", mean, sigma)  # type: ignore[return-value]

    def geometric(self, p: float, n: int) -> npt.NDArray[np.int64]:
        return self._each(n, "geometric", p)  # type: ignore[return-value]
