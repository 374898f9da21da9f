"""Score monitoring in the report: the collection score's distribution, month by month, and its PSI.

The simulator scores every delinquent account at each month end with the shipped collection model
(:attr:`overdue.sim.result.SimulationResult.collection_score`). The collection score is the one monitored
here because every one of its inputs (DPD, earlier episodes, the episode's contacts, promises, reachability)
is in the simulator's own history exactly; the behaviour score's worst-DPD windows would have to be
estimated from month-end snapshots.

The baseline is the first month end with at least :data:`MIN_BASELINE` scored accounts (the first months of
a portfolio booked in one month have few delinquent accounts); each later month's scores are compared with
it by :func:`overdue.risk.metrics.psi` (bins at the baseline's deciles), and with the month before. The
usual reading: below 0.10 stable, 0.10–0.25 worth a look, above 0.25 shifted. Scores and PSI are
probabilities and ratios, not money.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from overdue.reports.metrics import month_key
from overdue.risk.metrics import psi, psi_reading

if TYPE_CHECKING:
    from overdue.sim.result import SimulationResult

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
                "month": month_key(result.month_ends[k]),
                "scored": int(scores.size),
                "mean": None if scores.size == 0 else round(float(scores.mean()), 4),
                "median": None if scores.size == 0 else round(float(np.median(scores)), 4),
                "psi": None if value is None else round(value, 4),
                "reading": reading,
                "reading_zh": None if reading is None else READINGS[reading][0],
                "reading_en": None if reading is None else READINGS[reading][1],
                "psi_previous": previous,
            }
        )
    return {
        "score": "collection",
        "baseline": None if baseline is None else month_key(result.month_ends[baseline]),
        "months": months,
    }
