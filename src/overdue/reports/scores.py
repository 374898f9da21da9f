"""Score monitoring in the report: the collection and behaviour scores' distributions, month by month, and
their PSI.

The simulator scores at each month end

- every delinquent account with the shipped collection model
  (:attr:`overdue.sim.result.SimulationResult.collection_score`, P(pay within 30 days)): every one of its
  inputs (DPD, earlier episodes, the episode's contacts, promises, reachability) is in the simulator's own
  history exactly;
- every account on book (not written off, not a closed line with nothing owed) with the shipped behaviour
  model (:attr:`overdue.sim.result.SimulationResult.behaviour_score`, whole scorecard points), exactly as
  the reference end-of-day records it (:func:`overdue.risk.behaviour.month_end_score` over the account's
  whole bucket history and every statement it has had).

:func:`score_stability` and :func:`behaviour_stability` give the same table for each. The baseline is the
first month end with at least :data:`MIN_BASELINE` scored accounts (the first months of a portfolio booked
in one month have few delinquent accounts); each later month's scores are compared with it by
:func:`overdue.risk.metrics.psi` (bins at the baseline's deciles), and with the month before. The usual
reading: below 0.10 stable, 0.10–0.25 worth a look, above 0.25 shifted. Scores and PSI are probabilities,
points and ratios, not money.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from overdue.reports.metrics import month_key
from overdue.risk.metrics import psi, psi_reading
from overdue.sim.result import NOT_SCORED, SimulationResult

MIN_BASELINE = 50
"""Scored accounts the baseline month needs (fewer make its deciles too coarse to compare against)."""
READINGS = {
    "stable": ("稳定", "stable"),
    "moderate shift": ("需关注", "worth a look"),
    "significant shift": ("显著偏移", "shifted"),
}
"""PSI readings (:func:`overdue.risk.metrics.psi_reading`) in zh-CN and English."""


def score_stability(result: SimulationResult) -> dict[str, Any]:
    """Per month end: accounts scored, their mean and median collection score, the PSI against the
    baseline month (None for the baseline itself and the months before it) with its reading, and the PSI
    against the month before (``psi_previous``; None when that month has under :data:`MIN_BASELINE`)."""
    panel = result.collection_score
    scored = [panel[~np.isnan(panel[:, k]), k] for k in range(panel.shape[1])]
    return _stability("collection", scored, result.month_ends)


def behaviour_stability(result: SimulationResult) -> dict[str, Any]:
    """The table of :func:`score_stability` for the month-end behaviour score (points; mean and median
    rounded to 0.1 point), over the accounts each month end scored."""
    panel = result.behaviour_score
    scored = [panel[panel[:, k] != NOT_SCORED, k].astype(np.float64) for k in range(panel.shape[1])]
    return _stability("behaviour", scored, result.month_ends, digits=1)


def _stability(
    score: str, scored: Sequence[npt.NDArray[np.float64]], month_ends: Sequence[date], digits: int = 4
) -> dict[str, Any]:
    baseline = next((k for k, s in enumerate(scored) if s.size >= MIN_BASELINE), None)
    months = []
    for k, scores in enumerate(scored):
        value = None
        if baseline is not None and k > baseline and scores.size > 0:
            value = psi(scored[baseline], scores).value
        reading = None if value is None else psi_reading(value)
        previous = None
        if k > 0 and scored[k - 1].size >= MIN_BASELINE and scores.size > 0:
            previous = round(psi(scored[k - 1], scores).value, 4)
        months.append(
            {
                "month": month_key(month_ends[k]),
                "scored": int(scores.size),
                "mean": None if scores.size == 0 else round(float(scores.mean()), digits),
                "median": None if scores.size == 0 else round(float(np.median(scores)), digits),
                "psi": None if value is None else round(value, 4),
                "reading": reading,
                "reading_zh": None if reading is None else READINGS[reading][0],
                "reading_en": None if reading is None else READINGS[reading][1],
                "psi_previous": previous,
            }
        )
    return {
        "score": score,
        "baseline": None if baseline is None else month_key(month_ends[baseline]),
        "months": months,
    }
