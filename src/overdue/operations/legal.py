"""Legal cases: the steps, their order, and the limitation period.

A legal case on an account moves through :data:`STEPS` in order — lawyer's letter (律师函), mediation (调解),
filing (立案起诉), judgment (判决), enforcement (强制执行) — each step with its date, its cost in fen and the
references of its documents. Mediation may be skipped (lawyer's letter → filing); no other step may. A case
ends with ``closed`` and an outcome from :data:`OUTCOMES`, from any step.

**Limitation period** (诉讼时效, PRC Civil Code Arts. 188 and 195): three years from the last qualifying
event, restarted by each new one. Qualifying events: a demand for payment (a lawyer's letter, a filing, a
judgment or an enforcement application; a conversation with the debtor about the debt), an acknowledgement
by the debtor (a promise to pay, a repayment, an acknowledgement recorded on the case). A filing after the
period has run out is refused (``legal.limitation_expired``): the debtor would have a complete defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from overdue.domain.errors import InvalidDate, InvalidInput, Refused

STEPS = ("lawyer_letter", "mediation", "filing", "judgment", "enforcement")
CLOSED = "closed"
OPTIONAL_STEPS = frozenset({"mediation"})
OUTCOMES = ("paid", "settled", "withdrawn", "uncollectable", "time_barred")
EVENT_KINDS = (*STEPS, "acknowledgement", CLOSED)
QUALIFYING_STEPS = frozenset({"lawyer_letter", "filing", "judgment", "enforcement", "acknowledgement"})
"""Case events that restart the limitation period (a mediation session alone does not)."""
LIMITATION_YEARS = 3


class LegalRefused(Refused):
    """A legal step the rules refuse; ``rule`` names the rule (``legal.…``)."""

    code = "legal-refused"

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(f"{message} [{rule}]")
        self.rule = rule


def limitation_ends_on(last_qualifying: date, years: int = LIMITATION_YEARS) -> date:
    """The last day of the limitation period that began on ``last_qualifying`` (29 February → 28 February)."""
    try:
        return last_qualifying.replace(year=last_qualifying.year + years)
    except ValueError:
        return last_qualifying.replace(year=last_qualifying.year + years, day=28)


def last_qualifying(dates: Iterable[date | None]) -> date | None:
    """The latest of the qualifying event dates given (None entries are ignored)."""
    return max((d for d in dates if d is not None), default=None)


def check_next_step(current: str, step: str, last_on: date, on: date) -> None:
    """Refuse moving a case at ``current`` (last event on ``last_on``) to ``step`` on ``on``.

    ``step`` may be the next step, the one after a skipped optional step, ``acknowledgement`` (recorded at
    any step) or ``closed``.
    """
    if step not in EVENT_KINDS:
        raise InvalidInput(f"unknown legal step {step!r}; expected one of {', '.join(EVENT_KINDS)}")
    if current == CLOSED:
        raise LegalRefused("the legal case is closed", "legal.closed")
    if on < last_on:
        raise InvalidDate(f"{on.isoformat()} is before the case's last event ({last_on.isoformat()})")
    if step in ("acknowledgement", CLOSED):
        return
    at, to = STEPS.index(current), STEPS.index(step)
    if to <= at:
        raise LegalRefused(f"the case is already at {current}; it cannot go back to {step}", "legal.order")
    skipped = STEPS[at + 1 : to]
    if any(s not in OPTIONAL_STEPS for s in skipped):
        raise LegalRefused(
            f"{step} cannot follow {current}: {', '.join(s for s in skipped if s not in OPTIONAL_STEPS)} "
            "comes first",
            "legal.order",
        )


def check_limitation(step: str, on: date, last_qualifying_on: date | None) -> None:
    """Refuse a filing after the limitation period that the last qualifying event started has run out."""
    if step != "filing" or last_qualifying_on is None:
        return
    ends = limitation_ends_on(last_qualifying_on)
    if on > ends:
        raise LegalRefused(
            f"the limitation period ended on {ends.isoformat()} (three years after "
            f"{last_qualifying_on.isoformat()}); a filing now would be time-barred (诉讼时效已过)",
            "legal.limitation_expired",
        )


@dataclass(frozen=True)
class Limitation:
    last_qualifying_on: date | None
    ends_on: date | None
    expired: bool

    @classmethod
    def on(cls, last_qualifying_on: date | None, today: date) -> Limitation:
        ends = None if last_qualifying_on is None else limitation_ends_on(last_qualifying_on)
        return cls(last_qualifying_on, ends, ends is not None and today > ends)
