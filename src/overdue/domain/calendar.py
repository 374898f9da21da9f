"""Business dates: parsing, month arithmetic and the statement cycle.

A business date is a plain :class:`datetime.date` in the lender's calendar. Statement days and due days are
limited to 1–28 so that every month has them; month arithmetic clamps to the month's last day
(31 January + 1 month = 28 February, or 29 in a leap year).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from overdue.domain.errors import InvalidDate

ONE_DAY = timedelta(days=1)


def parse_date(value: object, *, field: str = "date") -> date:
    """Parse an ISO date (``2026-01-31``) given at the edge; a ``date`` passes through.

    value: the date as a user or a file wrote it (YAML gives ``date`` objects for unquoted dates).
    field: what the date is, for the error message.
    """
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidDate(f"{field} must be a date written YYYY-MM-DD, got {value!r}")


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(day: date, months: int) -> date:
    """The same day-of-month ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def is_month_end(day: date) -> bool:
    return (day + ONE_DAY).month != day.month


def month_key(day: date) -> str:
    """``2026-02`` for any day of February 2026: the key of monthly records (bureau, vintages)."""
    return f"{day.year:04d}-{day.month:02d}"


def next_statement_date(day: date, statement_day: int) -> date:
    """The first statement date strictly after ``day``: the one that bills a purchase made on ``day``.

    With statements on the 1st, a purchase on 10 January is billed on 1 February, and a purchase on
    1 February (a new cycle) on 1 March.
    """
    candidate = date(day.year, day.month, statement_day)
    return candidate if candidate > day else add_months(candidate, 1)


def due_date_for(statement_date: date, due_day: int) -> date:
    """The repayment day of the statement issued on ``statement_date`` (same month: 1 Feb → 9 Feb)."""
    due = date(statement_date.year, statement_date.month, due_day)
    return due if due > statement_date else add_months(due, 1)


def iter_days(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, both included (empty if ``last`` is before ``first``)."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
