"""The uplift of a human call by collection score: how much more an account repays because it was called.

The collection score estimates the chance that an account pays within 30 days; a collector's time is better
spent where a call *changes* that, which the score alone does not say (an account likely to pay anyway gains
little from a call, and so does one that cannot pay). The uplift is measured in the simulator the way a
collections department would measure it on its own floor: a **randomised call experiment**. With a binding
daily capacity and the ``random`` call order (:mod:`overdue.sim.calls`), whether a waiting call is made
today is decided by a keyed lot (:class:`~overdue.sim.draws.KeyedDraws`), not by anything about the
account, so among the waiting calls of one score band the ones made and the ones left over differ only by
the call. For every waiting call, :class:`UpliftLog` follows what the account repays of its past-due
amount over the next :data:`HORIZON_DAYS` days; per band,

    uplift = repaid / overdue balance (calls made) - repaid / overdue balance (calls left over)

is the share of the overdue balance a call brings back on top of what the account would have repaid
anyway. :class:`CallUplift` is that table (``models/call-uplift-v1.json``, shipped; written by
:func:`train_call_uplift` and ``overdue risk train --model call-uplift``), and the ``uplift`` call order
makes the day's calls by **predicted extra recovery**: the band's uplift × the account's overdue balance.

Rates are integers in parts per million (ppm) of the overdue balance, and the tallies are integer fen and
counts, so nothing here turns money into a float.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from overdue.domain.errors import InvalidInput

HORIZON_DAYS = 30
"""Days after a waiting call over which the account's repayments are counted (the score's own horizon)."""
BAND_WIDTH = 5
"""Score points per band: 0–4, 5–9, … 95–100."""
BANDS = tuple(str(low) for low in range(0, 100, BAND_WIDTH))
"""Band labels: the band's lowest score; a score of 100 falls in the last band."""
MODEL_FILE = "call-uplift-v1.json"
PPM = 1_000_000

MIN_CALLS = 100
"""A band with fewer waiting calls made (or left over) than this takes the uplift of all bands pooled: a
handful of calls says nothing about a band (one large repayment would put it first)."""

TRAINING_SEEDS = (101, 102, 103)
"""Seeds the shipped table was trained on; the experiments that compare call orders use other seeds."""
TRAINING_ACCOUNTS = 3_000
TRAINING_MONTHS = 4
TRAINING_CAPACITY = 6
"""Human calls a day per 1,000 accounts while training (binding, so the lot decides)."""


def band_of(score: int | None) -> str | None:
    """The band label of a score fact (None: not scored, the account is not delinquent)."""
    if score is None:
        return None
    return BANDS[min(score // BAND_WIDTH, len(BANDS) - 1)]


@dataclass(frozen=True)
class UpliftBand:
    """One score band of the experiment: how many waiting calls were made and left over, and the share of
    their overdue balance repaid within the horizon (ppm) in each group."""

    band: str
    made: int
    over: int
    made_ppm: int
    over_ppm: int
    pooled: bool = False
    """True: too few calls in the band (:data:`MIN_CALLS`); the rates are those of all bands pooled."""

    @property
    def low(self) -> int:
        return int(self.band)

    @property
    def high(self) -> int:
        return 100 if self.band == BANDS[-1] else self.low + BAND_WIDTH - 1

    @property
    def uplift_ppm(self) -> int:
        """The share of the overdue balance a call brings back on top of what would be repaid anyway."""
        return self.made_ppm - self.over_ppm

    def to_json(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "scores": [self.low, self.high],
            "made": self.made,
            "over": self.over,
            "made_ppm": self.made_ppm,
            "over_ppm": self.over_ppm,
            "uplift_ppm": self.uplift_ppm,
            "pooled": self.pooled,
        }


@dataclass(frozen=True)
class CallUplift:
    """The uplift table: each score band's uplift, and how it was measured."""

    bands: tuple[UpliftBand, ...]
    horizon_days: int = HORIZON_DAYS
    trained: dict[str, Any] = field(default_factory=dict)
    """How the table was made: seeds, accounts, months, capacity, the strategy's SHA-256, the date."""
    version: int = 1

    def ppm(self, score: int | None) -> int:
        """The predicted uplift (ppm of the overdue balance) of calling an account with this score; 0 when
        it is not scored or its band was never observed."""
        band = band_of(score)
        for row in self.bands:
            if row.band == band:
                return row.uplift_ppm
        return 0

    def extra_fen_ppm(self, score: int | None, overdue_balance: int) -> int:
        """Predicted extra recovery of a call, in fen × ppm (an integer: the order compares these)."""
        return self.ppm(score) * overdue_balance

    def to_json(self) -> dict[str, Any]:
        return {
            "model": "call-uplift",
            "version": self.version,
            "horizon_days": self.horizon_days,
            "band_width": BAND_WIDTH,
            "trained": self.trained,
            "bands": [b.to_json() for b in self.bands],
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> CallUplift:
        try:
            if data["model"] != "call-uplift":
                raise InvalidInput(f"not a call-uplift model file (model {data['model']!r})")
            bands = tuple(
                UpliftBand(
                    str(b["band"]),
                    int(b["made"]),
                    int(b["over"]),
                    int(b["made_ppm"]),
                    int(b["over_ppm"]),
                    bool(b.get("pooled", False)),
                )
                for b in data["bands"]
            )
            return CallUplift(bands, int(data["horizon_days"]), dict(data["trained"]), int(data["version"]))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(f"malformed call-uplift model file: {error}") from error


def save_uplift(table: CallUplift, path: Path) -> None:
    path.write_text(json.dumps(table.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_uplift(path: Path) -> CallUplift:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InvalidInput(f"cannot read the call-uplift model {path}: {error}") from error
    return CallUplift.from_json(data)


def shipped_path() -> Path:
    return Path(str(resources.files("overdue.risk").joinpath("models", MODEL_FILE)))


def shipped_uplift() -> CallUplift:
    """The shipped table (``overdue/risk/models/call-uplift-v1.json``), read from the package."""
    return load_uplift(shipped_path())


T = TypeVar("T")


@dataclass(frozen=True)
class _Followed(Generic[T]):
    account: int
    day: int
    repaid_before: int
    item: T


class Follower(Generic[T]):
    """Follows accounts for ``horizon_days`` days from a day: what each was followed for (an item) comes back
    once its horizon has ended, with the past-due fen its account repaid in between. Days are ordinals and
    arrive in order."""

    def __init__(self, horizon_days: int = HORIZON_DAYS) -> None:
        self.horizon = horizon_days
        self.pending: deque[_Followed[T]] = deque()

    def follow(self, account: int, day: int, repaid: int, item: T) -> None:
        """Follow ``account`` from ``day``; ``repaid``: its past-due fen repaid so far."""
        self.pending.append(_Followed(account, day, repaid, item))

    def ended(self, today: int, repaid: npt.NDArray[np.int64]) -> Iterator[tuple[T, int]]:
        """The items whose horizon ended before ``today``, each with the fen its account repaid since
        (``repaid``: each account's past-due fen repaid so far)."""
        while self.pending and self.pending[0].day + self.horizon < today:
            f = self.pending.popleft()
            yield f.item, int(repaid[f.account]) - f.repaid_before


@dataclass(frozen=True)
class _Call:
    band: str
    made: str
    balance: int


class UpliftLog(Follower[_Call]):
    """Follows a shard's waiting calls over :data:`HORIZON_DAYS` days and tallies, per score band and
    ``made``/``over``: ``("uplift_calls", band, made)`` waiting calls, ``("uplift_fen", band, made)`` their
    overdue balances and ``("uplift_repaid", band, made)`` the past-due fen their accounts repaid within the
    horizon. A call whose horizon runs past the simulation's end is not counted."""

    def __init__(self, counts: Counter[tuple[str, ...]], horizon_days: int = HORIZON_DAYS) -> None:
        super().__init__(horizon_days)
        self.counts = counts

    def wait(self, account: int, day: int, score: int | None, made: bool, balance: int, repaid: int) -> None:
        """A waiting call on ``day`` (ordinal); ``repaid``: the account's past-due fen repaid so far."""
        band = band_of(score)
        if band is None or balance <= 0:
            return
        self.follow(account, day, repaid, _Call(band, "made" if made else "over", balance))

    def settle(self, today: int, repaid: npt.NDArray[np.int64]) -> None:
        """Count the calls whose horizon ended before ``today`` (``repaid``: each account's past-due fen
        repaid so far)."""
        for call, fen in self.ended(today, repaid):
            self.counts[("uplift_calls", call.band, call.made)] += 1
            self.counts[("uplift_fen", call.band, call.made)] += call.balance
            self.counts[("uplift_repaid", call.band, call.made)] += fen


def table_from_tallies(
    tallies: Counter[tuple[str, ...]], trained: dict[str, Any], min_calls: int = MIN_CALLS
) -> CallUplift:
    """The uplift table of an experiment's tallies: every band with calls both made and left over; a band
    with fewer than ``min_calls`` of either takes the pooled rates of all bands."""

    def rate(bands: Iterable[str], made: str) -> int:
        bands = tuple(bands)
        fen = sum(tallies[("uplift_fen", band, made)] for band in bands)
        repaid = sum(tallies[("uplift_repaid", band, made)] for band in bands)
        return repaid * PPM // fen if fen else 0

    def calls(band: str, made: str) -> int:
        return tallies[("uplift_calls", band, made)]

    pooled_made, pooled_over = rate(BANDS, "made"), rate(BANDS, "over")
    rows = []
    for band in BANDS:
        made, over = calls(band, "made"), calls(band, "over")
        if not (made and over):
            continue
        if min(made, over) < min_calls:
            rows.append(UpliftBand(band, made, over, pooled_made, pooled_over, pooled=True))
        else:
            rows.append(UpliftBand(band, made, over, rate((band,), "made"), rate((band,), "over")))
    return CallUplift(tuple(rows), HORIZON_DAYS, trained)


def strategy_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def experiment_strategy_text() -> str:
    """The strategy the call experiments run: the shipped ``huabei`` ladder with human calls from DPD 1,
    every 2 days, for every account (so the day's waiting calls outnumber a small floor's capacity)."""
    from overdue.sim.run import default_strategy_text

    text = default_strategy_text()
    marker = "      - {id: early_sms, type: sms,"
    if marker not in text:
        raise AssertionError("the shipped huabei strategy no longer has its early_sms treatment")
    return text.replace(
        marker, "      - {id: early_call, type: call, priority: 10, from_dpd: 1, every_days: 2}\n" + marker
    )


def train_call_uplift(
    seeds: Iterable[int] = TRAINING_SEEDS,
    accounts: int = TRAINING_ACCOUNTS,
    months: int = TRAINING_MONTHS,
    capacity_per_1000: int = TRAINING_CAPACITY,
    strategy_text: str | None = None,
    workers: int = 2,
    on_seed: Callable[[int], None] | None = None,
) -> CallUplift:
    """Run the randomised call experiment on each seed (``random`` order, binding capacity) and build the
    table from all of them together."""
    from overdue.sim.calls import CallPolicy
    from overdue.sim.run import SimulationConfig, simulate

    text = strategy_text or experiment_strategy_text()
    seeds = tuple(seeds)
    tallies: Counter[tuple[str, ...]] = Counter()
    for seed in seeds:
        config = SimulationConfig(
            accounts=accounts,
            months=months,
            seed=seed,
            strategy_text=text,
            workers=workers,
            calls=CallPolicy(capacity_per_1000, "random"),
        )
        tallies.update(simulate(config).tallies)
        if on_seed is not None:
            on_seed(seed)
    trained = {
        "method": "randomised call order under a binding capacity (overdue.sim.uplift)",
        "seeds": list(seeds),
        "accounts": accounts,
        "months": months,
        "capacity_per_1000": capacity_per_1000,
        "strategy_sha256": strategy_sha(text),
        "trained_on": date.today().isoformat(),
    }
    return table_from_tallies(tallies, trained)
