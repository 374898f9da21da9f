"""The model files: where the shipped ones live, and training a model into a file.

Shipped files (``src/overdue/risk/models/``), each ``{name}-v{version}.json``:

- ``application-german-v1.json`` and ``application-sim-v1.json``: application scorecards
  (:mod:`overdue.risk.scorecard`);
- ``behaviour-v1.json`` and ``collection-v1.json``: logistic models (:mod:`overdue.risk.logistic`);
- ``call-uplift-v1.json``: the uplift of a human call by collection-score band, measured by a randomised
  call experiment in the simulator (:mod:`overdue.sim.uplift`).

``overdue risk train`` rewrites them (or writes elsewhere with ``--out``); training is deterministic, so a
retrained file differs only in its ``trained_on`` date. ``--model collection --dataset sim --out FILE``
trains the collection model on the simulator's outcomes instead (:mod:`overdue.sim.outcomes`), never over
the shipped file.
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


def shipped_path(file_name: str) -> Path:
    """The path of a model file shipped in the package."""
    return Path(str(resources.files("overdue.risk").joinpath("models", file_name)))


def application_file(dataset: str) -> str:
    return f"application-{dataset}-v1.json"


def shipped_scorecard(dataset: str = "german") -> ScorecardModel:
    """The shipped application scorecard trained on ``dataset``."""
    return load_scorecard(shipped_path(application_file(dataset)))


@dataclass(frozen=True)
class TrainResult:
    model: str
    path: Path
    metrics: dict[str, Any]
    dataset: dict[str, Any]


def train_to_file(model: str, dataset: str = "german", out: Path | None = None) -> TrainResult:
    """Train ``model`` (application on ``dataset``, behaviour, or collection: on its generator, or on the
    simulator's outcomes with ``dataset`` ``sim``) and write its file to ``out`` (default: the shipped file;
    required for a collection model trained on the simulator)."""
    if model == "application":
        if dataset not in DATASETS:
            raise InvalidInput(f"unknown dataset {dataset!r} (german or sim)")
        from overdue.risk.data import load_dataset
        from overdue.risk.training import train_application

        trained = train_application(load_dataset(dataset))
        path = out or shipped_path(application_file(dataset))
        save_scorecard(trained.model, path)
        return TrainResult(model, path, dict(trained.model.metrics), dict(trained.model.dataset))
    if model == "collection" and dataset == "sim":
        if out is None:
            raise InvalidInput(
                "a collection model trained on the simulator's outcomes is not the shipped one: "
                "give --out FILE (and OVERDUE_COLLECTION_MODEL=FILE to use it)"
            )
        from overdue.sim.outcomes import train_on_simulation

        fitted = train_on_simulation()
        save_model(fitted, out)
        return TrainResult(model, out, dict(fitted.metrics), dict(fitted.dataset))
    if model in ("behaviour", "collection"):
        module = behaviour if model == "behaviour" else collection
        trainer = behaviour.train_behaviour if model == "behaviour" else collection.train_collection
        fitted, _, _ = trainer()
        path = out or shipped_path(module.MODEL_FILE)
        save_model(fitted, path)
        return TrainResult(model, path, dict(fitted.metrics), dict(fitted.dataset))
    if model == "call-uplift":
        from overdue.sim import uplift

        table = uplift.train_call_uplift()
        path = out or shipped_path(uplift.MODEL_FILE)
        uplift.save_uplift(table, path)
        metrics = {f"uplift_ppm_{b.low}_{b.high}": b.uplift_ppm for b in table.bands}
        return TrainResult(model, path, metrics, dict(table.trained))
    raise InvalidInput(f"unknown model {model!r} ({', '.join(MODELS)})")
