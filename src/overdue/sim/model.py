"""The behaviour model of the simulator: every number that says how borrowers act and how collection
treatments move them. Probabilities and multipliers are floats; money never is.

How a treatment works: every allowed action adds its **lift** to the account's *pressure*, scaled by the
borrower's willingness and by how early in delinquency it comes (``early_weight``); pressure decays every
day by ``pressure_decay``. A delinquent borrower repays on a given day with probability

    hazard = base_hazard × ability × willingness × (1 + pressure)         (capped at ``max_hazard``)

so a strategy that acts earlier, or with stronger treatments, measurably recovers more. Voice and field
contacts only lift when they reach the borrower; an unreachable borrower feels a tenth of a message's lift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from overdue.sim.defaults import DEFAULT_FRAUD_SHARE

DEFAULT_LIFTS: dict[str, float] = {
    "push": 0.02,
    "sms": 0.05,
    "letter": 0.10,
    "contact_call": 0.10,
    "ai_voice": 0.15,
    "call": 0.45,
    "agency_placement": 0.40,
    "agency_recall": 0.0,
    "lawyer_letter": 0.60,
    "field_visit": 0.90,
    "litigation": 1.00,
    "write_off": 0.0,
    "debt_sale": 0.0,
}
"""Pressure added by one action of each type (before willingness and timing); treat as read-only."""

VOICE_TYPES = frozenset({"ai_voice", "call", "contact_call", "field_visit"})
"""Action types that are contact attempts: they have an outcome, and lift only when they reach someone."""
CONNECT_PROBABILITY: dict[str, float] = {
    "ai_voice": 0.55,
    "call": 0.60,
    "contact_call": 0.50,
    "field_visit": 0.80,
}
"""Chance that a contact attempt on a reachable borrower is answered."""


@dataclass(frozen=True)
class BehaviourModel:
    """The simulator's assumptions, one place to tune them."""

    lifts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LIFTS))
    pressure_decay: float = 0.85
    """Share of yesterday's pressure left today."""
    base_hazard: float = 0.06
    """Daily repayment chance of a delinquent borrower with ability = willingness = 1 and no pressure."""
    max_hazard: float = 0.6
    written_off_factor: float = 0.35
    """Repayment chance after write-off, relative to before."""
    full_payer_share: float = 0.80
    """How strongly ability × willingness turns into paying the statement in full."""
    job_loss_daily: float = 0.0006
    """Daily chance of a job loss (about 20 % of borrowers over a year)."""
    job_loss_ability: float = 0.25
    """Ability multiplier while out of work."""
    job_recovery_daily: float = 1 / 90
    """Daily chance of finding work again (about three months out of work on average)."""
    promise_on_connect: float = 0.55
    """Chance, × willingness, that a connected human call ends in a promise to pay."""
    promise_days: int = 5
    """A promise is due this many days after it is made."""
    restore_contact: float = 0.25
    """Chance that a pre-agreed contact (or a field visit) restores contact with an unreachable borrower."""
    agency_daily_lift: float = 0.04
    """Pressure an agency adds every day an account is placed with it."""
    fraud_share: float = DEFAULT_FRAUD_SHARE
    """Share of borrowers who open the line to spend it and never mean to repay (first-payment default,
    首期逾期): they spend ``fraud_spend`` times as often and as much, pay no statement, and their willingness
    is ``fraud_willingness`` times the drawn one, so they seldom repay and collection hardly moves them; half
    of them cannot be reached from the start (:func:`overdue.sim.borrowers.make_borrowers`). Default
    :data:`DEFAULT_FRAUD_SHARE`; 0: none."""
    fraud_spend: float = 3.0
    fraud_willingness: float = 0.05

    @staticmethod
    def early_weight(days_past_due: int) -> float:
        """How much a treatment counts by how far into delinquency it comes: early contacts work best."""
        if days_past_due <= 15:
            return 1.5
        if days_past_due <= 30:
            return 1.2
        if days_past_due <= 90:
            return 1.0
        return 0.6
