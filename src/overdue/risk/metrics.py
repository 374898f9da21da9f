"""Discrimination and stability measures: AUC, KS, Gini and the population stability index.

All take plain sequences of numbers (NumPy does the arithmetic); none needs scikit-learn, so monitoring can
run wherever scoring runs. Scores follow one convention everywhere: a **higher score means a lower risk**, and
``bad`` is 1 for a borrower who went bad (0 otherwise).

- **AUC**: the chance that a randomly chosen good borrower scores higher than a randomly chosen bad one (ties
  count half), computed from ranks (the Mann–Whitney statistic).
- **KS**: the largest gap between the cumulative score distributions of bads and goods.
- **Gini** (accuracy ratio): ``2 × AUC - 1``.
- **PSI**: ``Σ (actual% - expected%) × ln(actual% / expected%)`` over score bins cut at the expected
  sample's deciles. The usual reading: below 0.10 stable, 0.10–0.25 a moderate shift worth a look, above 0.25
  a significant shift (rebuild or recalibrate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PSI_STABLE = 0.10
PSI_SIGNIFICANT = 0.25
PSI_FLOOR = 0.0001
"""Share put into an empty bin so that the logarithm stays finite (a common convention)."""

FloatArray = npt.NDArray[np.float64]


def _arrays(
    scores: Sequence[float] | FloatArray, bad: Sequence[int] | npt.NDArray[np.int64]
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    s = np.asarray(scores, dtype=np.float64)
    b = np.asarray(bad, dtype=np.int64)
    if s.shape != b.shape or s.ndim != 1:
        raise ValueError("scores and outcomes must be one-dimensional and of the same length")
    if not np.isin(b, (0, 1)).all():
        raise ValueError("outcomes must be 0 (good) or 1 (bad)")
    if b.sum() == 0 or b.sum() == len(b):
        raise ValueError("AUC and KS need both good and bad outcomes")
    return s, b


def _ranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


def auc(scores: Sequence[float] | FloatArray, bad: Sequence[int] | npt.NDArray[np.int64]) -> float:
    """Area under the ROC curve of ``scores`` (higher = safer) against ``bad`` outcomes (1 = bad)."""
    s, b = _arrays(scores, bad)
    ranks = _ranks(s)
    goods = int((b == 0).sum())
    bads = int(b.sum())
    good_rank_sum = float(ranks[b == 0].sum())
    return (good_rank_sum - goods * (goods + 1) / 2.0) / (goods * bads)


def ks(scores: Sequence[float] | FloatArray, bad: Sequence[int] | npt.NDArray[np.int64]) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the bads' and goods' cumulative shares."""
    s, b = _arrays(scores, bad)
    order = np.argsort(s, kind="mergesort")
    s_sorted, b_sorted = s[order], b[order]
    cum_bad = np.cumsum(b_sorted) / b_sorted.sum()
    cum_good = np.cumsum(1 - b_sorted) / (1 - b_sorted).sum()
    # Only compare at the end of each run of tied scores: a cut cannot fall between equal scores.
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    return float(np.max(np.abs(cum_bad - cum_good)[last_of_tie]))


def gini(scores: Sequence[float] | FloatArray, bad: Sequence[int] | npt.NDArray[np.int64]) -> float:
    """The Gini coefficient (accuracy ratio), ``2 × AUC - 1``."""
    return 2.0 * auc(scores, bad) - 1.0


@dataclass(frozen=True)
class PsiBin:
    lower: float
    """Lower edge (``-inf`` for the first bin); a score falls in the bin when lower <= score < upper."""
    upper: float
    expected_share: float
    actual_share: float
    contribution: float


@dataclass(frozen=True)
class PsiResult:
    value: float
    reading: str
    """``stable`` (< 0.10), ``moderate shift`` (0.10–0.25) or ``significant shift`` (> 0.25)."""
    bins: tuple[PsiBin, ...]


def psi_reading(value: float) -> str:
    """The usual reading of a PSI value."""
    if value < PSI_STABLE:
        return "stable"
    if value <= PSI_SIGNIFICANT:
        return "moderate shift"
    return "significant shift"


def psi(
    expected: Sequence[float] | FloatArray, actual: Sequence[float] | FloatArray, bins: int = 10
) -> PsiResult:
    """Population stability index of ``actual`` scores against ``expected`` (e.g. the training sample).

    The bin edges are the ``expected`` sample's quantiles (deciles for ``bins=10``); repeated edges (many
    equal scores) are merged, so there may be fewer bins than asked for.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.size == 0 or a.size == 0:
        raise ValueError("PSI needs two non-empty samples")
    if bins < 2:
        raise ValueError("PSI needs at least two bins")
    inner = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    edges = np.r_[-np.inf, inner, np.inf]
    count = len(edges) - 1
    e_share = np.bincount(np.searchsorted(inner, e, side="right"), minlength=count) / e.size
    a_share = np.bincount(np.searchsorted(inner, a, side="right"), minlength=count) / a.size
    e_safe = np.maximum(e_share, PSI_FLOOR)
    a_safe = np.maximum(a_share, PSI_FLOOR)
    parts = (a_safe - e_safe) * np.log(a_safe / e_safe)
    value = float(parts.sum())
    return PsiResult(
        value=value,
        reading=psi_reading(value),
        bins=tuple(
            PsiBin(
                float(edges[i]), float(edges[i + 1]), float(e_share[i]), float(a_share[i]), float(parts[i])
            )
            for i in range(count)
        ),
    )
