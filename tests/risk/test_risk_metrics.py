"""AUC, KS, Gini and PSI on small known samples."""

from __future__ import annotations

import numpy as np
import pytest

from overdue.risk import metrics


def test_auc_counts_pairs_and_ties() -> None:
    # Goods score 3 and 2, bads 2 and 1: of 4 good-bad pairs, 3 are ordered and 1 is tied.
    assert metrics.auc([3, 2, 2, 1], [0, 0, 1, 1]) == pytest.approx(3.5 / 4)
    assert metrics.auc([1, 2], [0, 1]) == 0.0
    assert metrics.gini([3, 2, 2, 1], [0, 0, 1, 1]) == pytest.approx(2 * 3.5 / 4 - 1)


def test_ks_is_the_largest_gap_between_cumulative_shares() -> None:
    assert metrics.ks([1, 2, 3, 4], [1, 1, 0, 0]) == 1.0
    # Ties cannot be split: with every score equal there is no gap.
    assert metrics.ks([5, 5, 5, 5], [1, 0, 1, 0]) == 0.0


def test_metrics_need_both_outcomes() -> None:
    with pytest.raises(ValueError):
        metrics.auc([1, 2], [0, 0])


def test_psi_of_identical_samples_is_zero() -> None:
    sample = np.random.default_rng(1).normal(550, 30, 5_000)
    result = metrics.psi(sample, sample.copy())
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert result.reading == "stable"
    assert len(result.bins) == 10
    assert sum(b.expected_share for b in result.bins) == pytest.approx(1.0)


def test_psi_of_shifted_samples_is_significant() -> None:
    rng = np.random.default_rng(2)
    expected = rng.normal(550, 30, 5_000)
    shifted = rng.normal(580, 30, 5_000)
    result = metrics.psi(expected, shifted)
    assert result.value > 0.25
    assert result.reading == "significant shift"


def test_psi_readings_at_their_thresholds() -> None:
    assert metrics.psi_reading(0.0999) == "stable"
    assert metrics.psi_reading(0.10) == "moderate shift"
    assert metrics.psi_reading(0.25) == "moderate shift"
    assert metrics.psi_reading(0.2501) == "significant shift"
