"""Relief requests and their clock: a request must be answered within 7 working days.

A borrower (or a collector on the borrower's behalf) asks for a relief option on some channel; the request is
recorded with the date it was made and the date by which it must be answered: the 7th **working day** after
that date, on China's calendar, where weekends and public holidays do not count and make-up working days
(调休上班日, a Saturday or Sunday worked instead of a day of a holiday) do. The day of the request is day 0,
whether or not it is a working day.

Which days are working days is not decided here: :func:`answer_deadline` takes an ``is_workday`` callable
(the service passes one built on the ``chinese_calendar`` package), so this module stays standard library.

A request is ``open`` until it is answered: ``approved``, ``refused`` (a reason is required) or
``withdrawn`` by the one who asked. An open request past its deadline is **overdue** and is flagged to
supervisors (:func:`is_overdue`, ``overdue relief overdue``). Answering late is allowed, and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from overdue.domain.errors import InvalidDate, InvalidInput
from overdue.domain.relief_common import KINDS, refuse

ANSWER_WORKING_DAYS = 7
"""A request is answered within this many working days after the day it was made."""

OPEN = "open"
APPROVED = "approved"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
ANSWERS = (APPROVED, REFUSED, WITHDRAWN)
REQUEST_STATUSES = (OPEN, *ANSWERS)

PARTIES = ("borrower", "collector")
"""Who asked: the borrower, or a collector on the borrower's behalf."""

CHANNELS = ("app", "phone", "sms", "email", "letter", "in_person")
"""How the request came in."""

_MAX_DAYS_SEARCHED = 366
"""No calendar has a year without 7 working days; more means the ``is_workday`` given is wrong."""


def answer_deadline(
    requested_on: date, is_workday: Callable[[date], bool], working_days: int = ANSWER_WORKING_DAYS
) -> date:
    """The last day on which a request made on ``requested_on`` may be answered in time.

    requested_on: the day the request was made (day 0; it never counts, working day or not).
    is_workday: whether a date is a working day on the calendar in force (China's: holidays off, make-up
        working days on). It may raise :class:`~overdue.domain.errors.InvalidDate` for years it does not know.
    working_days: how many working days the lender has (7).

    Returns the ``working_days``-th working day after ``requested_on``.
    """
    if working_days < 1:
        raise ValueError("a deadline is at least one working day away")
    day, counted = requested_on, 0
    for _ in range(_MAX_DAYS_SEARCHED):
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
            if counted == working_days:
                return day
    raise InvalidDate(f"the calendar has no {working_days} working days within a year of {requested_on}")


@dataclass(frozen=True)
class RecordedRequest:
    """A relief request as recorded, and its answer once given."""

    id: str
    account_id: str
    kind: str
    """The relief option asked for (``minimum``, ``installments``, ``deferral``, ``waiver``, ``plan``,
    ``settlement``)."""
    party: str
    """``borrower`` or ``collector``."""
    requested_by: str
    """The user or person who asked."""
    channel: str
    requested_on: date
    deadline: date
    """The last day of the 7 working days (:func:`answer_deadline`)."""
    note: str | None = None
    status: str = OPEN
    answered_on: date | None = None
    answered_by: str | None = None
    reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def answered_late(self) -> bool:
        """Whether the answer came after the deadline."""
        return self.answered_on is not None and self.answered_on > self.deadline


def new_request(
    request_id: str,
    account_id: str,
    kind: str,
    party: str,
    requested_by: str,
    channel: str,
    requested_on: date,
    deadline: date,
    note: str | None = None,
) -> RecordedRequest:
    """A new open request, its fields checked (each problem named)."""
    if kind not in KINDS:
        raise InvalidInput(f"unknown relief kind {kind!r}; expected one of {', '.join(KINDS)}")
    if party not in PARTIES:
        raise InvalidInput(f"unknown party {party!r}; expected one of {', '.join(PARTIES)}")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
    if not requested_by.strip():
        raise InvalidInput("a relief request needs the name of who asked (--by)")
    if deadline <= requested_on:
        raise ValueError("a deadline comes after the day of the request")
    return RecordedRequest(
        request_id, account_id, kind, party, requested_by.strip(), channel, requested_on, deadline, note
    )


def answer(
    request: RecordedRequest, status: str, on: date, answered_by: str, reason: str | None = None
) -> RecordedRequest:
    """``request`` answered on ``on``: approved, refused (with a reason) or withdrawn.

    Refused with the rule named: ``relief.request.not_open`` (already answered),
    ``relief.request.reason_missing`` (a refusal without a reason), ``relief.request.before_request`` (an
    answer dated before the request).
    """
    if status not in ANSWERS:
        raise InvalidInput(f"an answer is one of {', '.join(ANSWERS)}, not {status!r}")
    if not request.is_open:
        raise refuse(
            "relief.request.not_open",
            f"request {request.id} was already {request.status} on {request.answered_on}",
        )
    if status == REFUSED and not (reason and reason.strip()):
        raise refuse(
            "relief.request.reason_missing", "a refusal must give the borrower its reason (--reason)"
        )
    if on < request.requested_on:
        raise refuse(
            "relief.request.before_request",
            f"request {request.id} was made on {request.requested_on}; it cannot be answered on {on}",
        )
    if not answered_by.strip():
        raise InvalidInput("an answer needs the name of who gave it (--by)")
    return dataclasses.replace(
        request,
        status=status,
        answered_on=on,
        answered_by=answered_by.strip(),
        reason=reason.strip() if reason and reason.strip() else None,
    )


def is_overdue(request: RecordedRequest, on: date) -> bool:
    """Whether ``request`` is still open after its deadline on ``on`` (the deadline day itself is in time)."""
    return request.is_open and on > request.deadline


def days_overdue(request: RecordedRequest, on: date) -> int:
    """Calendar days since the deadline passed (0 while in time or answered)."""
    return (on - request.deadline).days if is_overdue(request, on) else 0
