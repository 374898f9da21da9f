"""A trained application scorecard as a plain table: bins and points per feature, scored by lookup.

A :class:`ScorecardModel` is what ``overdue risk train`` writes into a versioned JSON file and what scoring
reads back: the binning table (numerical split points or categorical groups), the points of every bin, the
scaling, the dataset it was trained on (name and SHA-256) and its metrics. Scoring needs neither optbinning
nor pandas: a score is the sum, over features, of the points of the bin the applicant's value falls in.

Bins follow optbinning's conventions: a numerical bin ``i`` holds ``splits[i-1] <= x < splits[i]``; a value
that is missing, or a category never seen in training, gets the feature's ``missing_points`` (the points of
weight-of-evidence 0, the population average).

**Scaling** (points to double the odds): ``score = offset + factor × ln(good:bad odds)`` with
``factor = pdo / ln 2`` and ``offset = base_score - factor × ln(base_odds)``; with the defaults a score of 600
means odds of 50:1 and every 20 points double them. A higher score is a safer applicant.

**Reason codes** are the features whose points fall furthest below the most that feature can give (the usual
"points below maximum" method), largest shortfall first.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overdue.domain.errors import InvalidInput, NotFound

FORMAT = "overdue-scorecard"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Scaling:
    """Points to double the odds: ``base_score`` at good:bad odds of ``base_odds``, ``pdo`` points per
    doubling."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score(self, log_odds_good: float) -> float:
        """The score of an applicant whose good:bad log-odds are ``log_odds_good``."""
        return self.offset + self.factor * log_odds_good

    def probability_bad(self, score: float) -> float:
        """The probability of going bad that ``score`` stands for."""
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))


@dataclass(frozen=True)
class ScoreBin:
    """One bin of one feature: its label (as optbinning prints it), points and training statistics."""

    label: str
    points: float
    count: int
    event_rate: float
    """Share of bads among the training applicants in the bin."""
    woe: float
    categories: tuple[str, ...] = ()
    """The categories grouped in this bin (categorical features only)."""


@dataclass(frozen=True)
class ScorecardFeature:
    name: str
    kind: str
    """``numerical`` or ``categorical``."""
    bins: tuple[ScoreBin, ...]
    missing_points: float
    splits: tuple[float, ...] = ()
    """Numerical features: the ``len(bins) - 1`` split points, ascending."""

    def bin_index(self, value: object) -> int | None:
        """Which bin ``value`` falls in; ``None`` for a missing value or an unseen category."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self.kind == "numerical":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidInput(f"{self.name} must be a number, got {value!r}")
            return bisect.bisect_right(self.splits, float(value))
        text = str(value)
        for index, score_bin in enumerate(self.bins):
            if text in score_bin.categories:
                return index
        return None

    def points(self, value: object) -> float:
        index = self.bin_index(value)
        return self.missing_points if index is None else self.bins[index].points

    @property
    def max_points(self) -> float:
        return max([self.missing_points, *(b.points for b in self.bins)])


@dataclass(frozen=True)
class ScoreResult:
    score: float
    probability_bad: float
    points: Mapping[str, float]
    """Points per feature, in the model's feature order."""
    reasons: tuple[str, ...]
    """Reason codes ``LOW_POINTS:<feature>``, largest shortfall from the feature's maximum first."""


@dataclass(frozen=True)
class ScorecardModel:
    """A trained scorecard: everything scoring needs, and where it came from."""

    name: str
    """E.g. ``application-german``; the file is ``{name}-v{version}.json``."""
    version: int
    features: tuple[ScorecardFeature, ...]
    scaling: Scaling
    trained_on: str
    """ISO date of training."""
    dataset: Mapping[str, Any]
    """Name, rows, SHA-256 of the data, target, split (test share and seed)."""
    metrics: Mapping[str, Any]
    """AUC, KS and Gini on the held-out split, and the baseline's."""

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def score(self, applicant: Mapping[str, object], reasons: int = 3) -> ScoreResult:
        """Score ``applicant`` (feature name → value; a feature left out counts as missing)."""
        points = {f.name: f.points(applicant.get(f.name)) for f in self.features}
        total = sum(points.values())
        shortfall = sorted(
            ((f.max_points - points[f.name], f.name) for f in self.features), key=lambda item: -item[0]
        )
        codes = tuple(f"LOW_POINTS:{name}" for gap, name in shortfall[:reasons] if gap > 1e-9)
        return ScoreResult(total, self.scaling.probability_bad(total), points, codes)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "trained_on": self.trained_on,
            "dataset": dict(self.dataset),
            "scaling": {
                "base_score": self.scaling.base_score,
                "base_odds": self.scaling.base_odds,
                "pdo": self.scaling.pdo,
            },
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "splits": list(f.splits),
                    "missing_points": f.missing_points,
                    "bins": [
                        {
                            "label": b.label,
                            "categories": list(b.categories),
                            "points": b.points,
                            "count": b.count,
                            "event_rate": b.event_rate,
                            "woe": b.woe,
                        }
                        for b in f.bins
                    ],
                }
                for f in self.features
            ],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScorecardModel:
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise InvalidInput(f"not an overdue scorecard file (format {FORMAT} v{FORMAT_VERSION})")
        try:
            features = tuple(
                ScorecardFeature(
                    name=f["name"],
                    kind=f["kind"],
                    splits=tuple(float(s) for s in f["splits"]),
                    missing_points=float(f["missing_points"]),
                    bins=tuple(
                        ScoreBin(
                            label=b["label"],
                            categories=tuple(b["categories"]),
                            points=float(b["points"]),
                            count=int(b["count"]),
                            event_rate=float(b["event_rate"]),
                            woe=float(b["woe"]),
                        )
                        for b in f["bins"]
                    ),
                )
                for f in data["features"]
            )
            scaling = Scaling(**{k: float(v) for k, v in data["scaling"].items()})
            model = cls(
                name=data["name"],
                version=int(data["version"]),
                features=features,
                scaling=scaling,
                trained_on=data["trained_on"],
                dataset=data["dataset"],
                metrics=data["metrics"],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidInput(f"malformed scorecard file: {error}") from error
        for f in model.features:
            if f.kind not in ("numerical", "categorical"):
                raise InvalidInput(f"feature {f.name}: unknown kind {f.kind!r}")
            if f.kind == "numerical" and len(f.splits) != len(f.bins) - 1:
                raise InvalidInput(f"feature {f.name}: {len(f.bins)} bins need {len(f.bins) - 1} splits")
        return model


def save_scorecard(model: ScorecardModel, path: Path) -> None:
    """Write ``model`` as indented JSON (floats keep every digit, so a reload scores identically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def load_scorecard(path: Path) -> ScorecardModel:
    """Read a scorecard file written by :func:`save_scorecard`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise NotFound(f"no scorecard file at {path}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not JSON: {error}") from error
    return ScorecardModel.from_json(data)
