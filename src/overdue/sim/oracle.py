"""The ``oracle`` call order's yardstick: the extra chance of a payment within 30 days that a human call
gives an account, computed from the borrower's **latent traits**, which no lender can see.

It is not a policy a lender could run; it bounds what any order built on observable facts (the collection
score, an uplift model) can gain over largest-balance-first in the simulator's behaviour model
(:class:`~overdue.sim.model.BehaviourModel`, docs/risk.md "Call priority by score"). For a borrower with
ability ``a`` (job losses included), willingness ``w`` and today's collection pressure ``p``, over the next
:data:`~overdue.sim.uplift.HORIZON_DAYS` days ``d = 0 … 29``:

    hazard without the call   h0(d) = min(max_hazard, base_hazard × a × w × (1 + p × decay^d))
    hazard with it            h1(d) = min(max_hazard, base_hazard × a × w × (1 + (p + lift) × decay^d))
    lift                      = lifts["call"] × w × early_weight(DPD)
    pay0, pay1                = 1 - prod(1 - h0(d)), 1 - prod(1 - h1(d))
    promise kept              = promise_on_connect × w × (w × a)
    uplift                    = connect × ((pay1 - pay0) + promise kept × (1 - pay0))

with ``connect`` the chance a call is answered; 0 for a borrower who cannot be reached. It is the model's own
arithmetic, simplified (a promise's date, partial repayments and what the strategy does next are left out).
The result is in parts per million; it multiplies the overdue balance (fen) like the ``uplift`` order's band
uplift does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from overdue.sim.model import CONNECT_PROBABILITY, BehaviourModel
from overdue.sim.uplift import HORIZON_DAYS, PPM

if TYPE_CHECKING:
    from overdue.sim.behaviour import Behaviour

CALL = "call"


def oracle_uplift_ppm(
    model: BehaviourModel, ability: float, willingness: float, pressure: float, dpd: int, unreachable: bool
) -> int:
    """The extra chance (ppm) of a payment within the horizon that a human call gives (module docstring)."""
    if unreachable:
        return 0
    base = model.base_hazard * ability * willingness
    lift = model.lifts[CALL] * willingness * model.early_weight(dpd)
    none_without = none_with = 1.0
    decay = 1.0
    for _ in range(HORIZON_DAYS):
        none_without *= 1.0 - min(model.max_hazard, base * (1.0 + pressure * decay))
        none_with *= 1.0 - min(model.max_hazard, base * (1.0 + (pressure + lift) * decay))
        decay *= model.pressure_decay
    pay_without, pay_with = 1.0 - none_without, 1.0 - none_with
    promise_kept = model.promise_on_connect * willingness * willingness * ability
    uplift = CONNECT_PROBABILITY[CALL] * ((pay_with - pay_without) + promise_kept * (1.0 - pay_without))
    return round(uplift * PPM)


def oracle_extra(
    behaviour: Behaviour, rows: Sequence[int], dpd: Sequence[int], balance: Sequence[int]
) -> list[int]:
    """The ``oracle`` order's predicted extra recovery of a call to each of ``rows`` (fen × ppm): the true
    uplift of :func:`oracle_uplift_ppm` on the borrower's hidden state now, times the overdue balance."""
    ability = behaviour.effective_ability(np.asarray(rows, dtype=np.int64))
    return [
        oracle_uplift_ppm(
            behaviour.model,
            float(ability[k]),
            float(behaviour.willingness[i]),
            float(behaviour.pressure[i]),
            int(days),
            bool(behaviour.unreachable[i]),
        )
        * int(owed)
        for k, (i, days, owed) in enumerate(zip(rows, dpd, balance, strict=True))
    ]
