"""The model files: where the shipped ones live, and training a model into a file.

Shipped files (``src/overdue/risk/models/``), each ``{name}-v{version}.json``:

- ``application-german-v1.json`` and ``application-sim-v1.json``: application scorecards
  (:mod:`overdue.risk.scorecard`);
- ``behaviour-v1.json``, ``collection-v2.json`` (the collection score in use: trained on the simulator's
  outcomes, :mod:`overdue.sim.outcomes`) and ``collection-v1.json`` (its predecessor, trained on a seeded
  generator, :func:`overdue.risk.collection.synthetic_delinquents`): logistic models
  (:mod:`overdue.risk.logistic`);
- ``call-uplift-v1.json``: the uplift of a human call by collection-score band, measured by a randomised
  call experiment in the simulator (:mod:`overdue.sim.uplift`).

``overdue risk train`` rewrites them (or writes elsewhere with ``--out``); training is deterministic, so a
retrained file differs only in its ``trained_on`` date (and, from one CPU to another, in the last bits of
its numbers). ``--model collection`` trains on the simulator's
outcomes (``--dataset sim``, the default: ``collection-v2.json``; ``--accounts N`` a smaller or larger
simulation, :data:`overdue.sim.outcomes.TRAIN_ACCOUNTS` by default) or on the generator
(``--dataset generator``: ``collection-v1.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from overdue.domain.errors import InvalidInput
from overdue.risk import behaviour, collection
from overdue.risk.logistic import save_model
from overdue.risk.scorecard import ScorecardModel, load_scorecard, save_scorecard

MODELS = ("application", "behaviour", "collection", "call-uplift")
DATASETS = ("german", "sim")
"""The application scorecard's datasets (the first the default)."""
COLLECTION_DATASETS = ("sim", "generator")
"""The collection model's training data (the first the default): the simulator's outcomes, or the seeded
generator of :func:`overdue.risk.collection.synthetic_delinquents`."""


def shipped_path(file_name: str) -> Path:
    """The path of a model file shipped in the package."""
    return Path(str(resources.files("overdue.risk").joinpath("models", file_name)))


def application_file(dataset: str) -> str:
    return f"application-{dataset}-v1.json"


def shipped_scorecard(dataset: str = "german") -> ScorecardModel:
    """The shipped application scorecard trained on ``dataset``."""
    return load_scorecard(shipped_path(application_file(dataset)))


_ACCOUNTS_ONLY = "--accounts sizes the simulation a collection model trains on (--dataset sim)"


@dataclass(frozen=True)
class TrainResult:
    model: str
    path: Path
    metrics: dict[str, Any]
    dataset: dict[str, Any]


def train_to_file(
    model: str, dataset: str | None = None, out: Path | None = None, accounts: int | None = None
) -> TrainResult:
    """Train ``model`` (application on ``dataset``: :data:`DATASETS`; collection on ``dataset``:
    :data:`COLLECTION_DATASETS`, the simulator's outcomes of ``accounts`` accounts a portfolio by default;
    behaviour; call-uplift) and write its file to ``out`` (default: the shipped file)."""
    if model not in MODELS:
        raise InvalidInput(f"unknown model {model!r} ({', '.join(MODELS)})")
    if accounts is not None and model != "collection":
        raise InvalidInput(_ACCOUNTS_ONLY)
    if model == "application":
        dataset = dataset or DATASETS[0]
        if dataset not in DATASETS:
            raise InvalidInput(f"unknown dataset {dataset!r} for the application scorecard (german or sim)")
        from overdue.risk.data import load_dataset
        from overdue.risk.training import train_application

        trained = train_application(load_dataset(dataset))
        path = out or shipped_path(application_file(dataset))
        save_scorecard(trained.model, path)
        return TrainResult(model, path, dict(trained.model.metrics), dict(trained.model.dataset))
    if model == "collection":
        dataset = dataset or COLLECTION_DATASETS[0]
        if dataset not in COLLECTION_DATASETS:
            raise InvalidInput(f"unknown dataset {dataset!r} for the collection model (sim or generator)")
        if dataset == "generator" and accounts is not None:
            raise InvalidInput(_ACCOUNTS_ONLY)
        if dataset == "sim":
            from overdue.sim.outcomes import TRAIN_ACCOUNTS, train_on_simulation

            if accounts is not None and accounts < 100:
                raise InvalidInput(f"--accounts must be at least 100, got {accounts}")
            fitted = train_on_simulation(accounts=accounts or TRAIN_ACCOUNTS)
            path = out or shipped_path(collection.MODEL_FILE)
        else:
            fitted, _, _ = collection.train_collection()
            path = out or shipped_path(collection.GENERATOR_MODEL_FILE)
        save_model(fitted, path)
        return TrainResult(model, path, dict(fitted.metrics), dict(fitted.dataset))
    if dataset is not None:
        raise InvalidInput(
            f"--dataset is for the application scorecard and the collection model, not {model}"
        )
    if model == "behaviour":
        fitted, _, _ = behaviour.train_behaviour()
        path = out or shipped_path(behaviour.MODEL_FILE)
        save_model(fitted, path)
        return TrainResult(model, path, dict(fitted.metrics), dict(fitted.dataset))
    from overdue.sim import uplift  # call-uplift: the only model left

    table = uplift.train_call_uplift()
    path = out or shipped_path(uplift.MODEL_FILE)
    uplift.save_uplift(table, path)
    metrics = {f"uplift_ppm_{b.low}_{b.high}": b.uplift_ppm for b in table.bands}
    return TrainResult(model, path, metrics, dict(table.trained))
