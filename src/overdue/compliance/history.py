"""The contact log a rulebook reads: :class:`PastContact`, one contact already made.

The caller loads the contacts made about one account (by the lender and every agency, on every channel) and
passes them as ``history`` to :meth:`overdue.compliance.Rulebook.check`; the rules count them. A refused
contact was never made, so it never appears here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from overdue.domain.errors import InvalidInput


@dataclass(frozen=True)
class PastContact:
    """One contact already made.

    at: when it was made, time-zone aware (rules convert it to the debtor's local time).
    channel: ``sms``, ``push``, ``ai_voice``, ``voice``, ``email``, ``letter`` or ``field``.
    party: who was contacted: ``debtor``, ``contact`` (a pre-agreed third party) or ``guarantor``.
    outcome: one of :data:`overdue.domain.collections.CONTACT_OUTCOMES`.
    number: the telephone number dialled, when it was a call; per-number limits count by it.
    """

    at: datetime
    channel: str
    party: str
    outcome: str
    number: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise InvalidInput(f"a past contact needs a time-zone aware time, got {self.at.isoformat()}")
