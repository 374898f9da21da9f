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


class KeyedDraws:
    """Uniform draws in [0, 1) for the accounts of one shard, keyed by (day, account).

    seed: the simulation's seed. stream: a number telling this use apart from the others (the same seed
    and shard give independent draws for each stream). shard: the shard's index. accounts: how many.
    """

    def __init__(self, seed: int, stream: int, shard: int, accounts: int) -> None:
        self._key = (seed, stream, shard)
        self._accounts = accounts
        self._day = -1
        self._block: npt.NDArray[np.float64] | None = None
        self._used = np.zeros(accounts, dtype=np.int64)
        self._beyond: dict[int, np.random.Generator] = {}

    def take(self, i: int, day: int, count: int) -> list[float]:
        """Account ``i``'s next ``count`` draws on ``day`` (a date's ordinal); days only move forward."""
        if day != self._day:
            self._day, self._block = day, None
            self._used[:] = 0
            self._beyond.clear()
        if self._block is None:
            self._block = np.random.default_rng([*self._key, day]).random((self._accounts, ROW))
        start = int(self._used[i])
        self._used[i] = start + count
        drawn: list[float] = self._block[i, start : start + count].tolist()
        if len(drawn) < count:
            beyond = self._beyond.get(i)
            if beyond is None:
                beyond = self._beyond[i] = np.random.default_rng([*self._key, day, i])
            drawn.extend(beyond.random(count - len(drawn)).tolist())
        return drawn

    def one(self, i: int, day: int) -> float:
        """Account ``i``'s next draw on ``day``."""
        return self.take(i, day, 1)[0]

    def next_many(self, rows: npt.NDArray[np.int64], day: int) -> npt.NDArray[np.float64]:
        """The next draw on ``day`` of each account of ``rows`` (no account twice): what :meth:`one` gives
        each of them, for a batch at once."""
        if day != self._day:
            self._day, self._block = day, None
            self._used[:] = 0
            self._beyond.clear()
        if self._block is None:
            self._block = np.random.default_rng([*self._key, day]).random((self._accounts, ROW))
        used = self._used[rows]
        inside = used < ROW
        drawn = np.empty(len(rows), dtype=np.float64)
        drawn[inside] = self._block[rows[inside], used[inside]]
        for j in np.flatnonzero(~inside).tolist():  # past the row's end: the account's own stream
            i = int(rows[j])
            beyond = self._beyond.get(i)
            if beyond is None:
                beyond = self._beyond[i] = np.random.default_rng([*self._key, day, i])
            drawn[j] = beyond.random()
        self._used[rows] = used + 1
        return drawn
