"""Product terms as parameters of the set-based expressions, and what the set-based runner refuses.

The expressions never hold a product's numbers as literals of their own: :func:`day_terms` derives from a
:class:`~overdue.domain.terms.ProductTerms` every number the day needs (integer rates in carry units, the
bucket thresholds, the statement and due days), and refuses, with :class:`Unsupported`, terms the set-based
runner cannot compute exactly yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from overdue.domain.errors import OverdueError
from overdue.domain.terms import ProductTerms

MAX_CARRY_SCALE = 8
"""At most this many decimal places in a daily rate. With carry units of 10⁻⁸ fen, a day's interest on
:data:`MAX_PRINCIPAL` at a rate of at most 1 is below 10¹⁸ units: it fits ``int64`` and ``DECIMAL(18, 0)``."""
MAX_PRINCIPAL = 10**9
"""Largest principal of one statement the set-based run accepts, fen (10 M yuan; limits stop at 50,000)."""
MAX_CARRY = 10**6
"""Largest interest carry (either sign) the set-based run accepts, fen. A real carry is within half a fen for
each statement carried into it (:mod:`overdue.domain.interest`); this bound keeps a carry plus a day's
interest on :data:`MAX_PRINCIPAL` below 10¹⁸ carry units."""


class Unsupported(OverdueError):
    """The set-based runner does not cover this yet; the reference runner does. Nothing was computed."""

    code = "unsupported"


def decimal_places(value: Decimal) -> int:
    """How many decimal places ``value`` needs exactly (``0.0005`` → 4, ``0.10`` → 1, ``3`` → 0)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int), value  # finite decimals only (terms are validated)
    return max(0, -exponent)


def to_units(value: Decimal, scale: int) -> int:
    """``value`` as an integer number of ``10 ** -scale`` units; it must be exact."""
    units = value.scaleb(scale)
    if units != units.to_integral_value():
        raise Unsupported(f"{value} is not a whole number of 10^-{scale} fen")
    return int(units)


@dataclass(frozen=True)
class DayTerms:
    """Every number of a product that the day's expressions use, in the form they use it."""

    terms: ProductTerms
    carry_scale: int
    """Interest carries are integers in units of ``10 ** -carry_scale`` fen."""
    overdue_rate_units: int
    """Overdue interest of one fen of principal for one day, in carry units."""
    revolving_rate_units: int
    """Revolving interest of one fen of principal for one day, in carry units."""

    @property
    def carry_unit(self) -> int:
        """Carry units in one fen."""
        return int(10**self.carry_scale)

    def bucket_bounds(self) -> list[tuple[int, str]]:
        """``(highest DPD, bucket)`` for M1 … M(last-1); beyond the last bound, the open-ended last bucket."""
        t = self.terms
        return [(n * t.bucket_days, f"M{n}") for n in range(1, t.last_bucket)]

    @property
    def last_bucket_name(self) -> str:
        return f"M{self.terms.last_bucket}+"


def day_terms(terms: ProductTerms, carry_scale: int | None = None) -> DayTerms:
    """The day's parameters for ``terms``; ``carry_scale`` forces a finer carry unit (tables built with it).

    Refuses (:class:`Unsupported`) rates finer than :data:`MAX_CARRY_SCALE` places and more than nine
    buckets (the bureau grid holds one character a month).
    """
    needed = max(decimal_places(terms.overdue_daily_rate), decimal_places(terms.revolving_daily_rate))
    scale = needed if carry_scale is None else carry_scale
    if scale < needed:
        raise Unsupported(f"carry scale {scale} is coarser than the daily rates need ({needed} places)")
    if scale > MAX_CARRY_SCALE:
        raise Unsupported(
            f"daily interest rates with more than {MAX_CARRY_SCALE} decimal places "
            f"(product {terms.name!r}: {terms.overdue_daily_rate}, {terms.revolving_daily_rate})"
        )
    if terms.last_bucket > 9:
        raise Unsupported(
            f"more than nine delinquency buckets (product {terms.name!r}: M{terms.last_bucket}+)"
        )
    return DayTerms(
        terms=terms,
        carry_scale=scale,
        overdue_rate_units=to_units(terms.overdue_daily_rate, scale),
        revolving_rate_units=to_units(terms.revolving_daily_rate, scale),
    )
