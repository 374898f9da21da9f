"""Money: integer fen inside, decimal strings in yuan at the edges.

Every amount in overdue is an ``int`` number of fen (1 yuan = 100 fen). Nothing that holds money is ever a
``float``. The edges (JSON, CLI, files) speak decimal strings in yuan with two places, ``"1000.00"``.

Two helpers carry all the arithmetic that is not plain integer addition:

- :func:`round_half_up` turns an exact quantity of fen (a :class:`~decimal.Decimal`, e.g. a rate times an
  amount) into whole fen, half-up, at the moment the amount is posted;
- :func:`split_evenly` / :func:`allocate` divide an amount into parts that always sum to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from overdue.domain.errors import InvalidAmount

Fen = int
"""An amount of money in fen. A type alias, so that signatures say what an ``int`` is."""

FEN_PER_YUAN = 100
_YUAN_PATTERN = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")


def parse_yuan(text: str | int, *, field: str = "amount") -> Fen:
    """Parse a yuan amount given at the edge (``"1000.00"``, ``"12.5"``, ``"7"``) into fen.

    text: the amount as written by a user or a file; a bare ``int`` is taken as whole yuan.
    field: what the amount is, for the error message.

    Sub-fen amounts (``"0.001"``), exponents, floats and anything else are refused with
    :class:`InvalidAmount`; the sign is kept (callers decide whether negative amounts make sense).
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise InvalidAmount(f'{field} must be a decimal string in yuan such as "100.00", got {text!r}')
    raw = str(text).strip()
    if not _YUAN_PATTERN.match(raw):
        raise InvalidAmount(
            f'{field} must be a decimal string in yuan with at most two places such as "100.00", got {raw!r}'
        )
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise InvalidAmount(f"{field} is not a number: {raw!r}") from exc
    return int(value * FEN_PER_YUAN)


def parse_positive_yuan(text: str | int, *, field: str = "amount") -> Fen:
    """Parse a yuan amount that must be greater than zero (a purchase, a repayment)."""
    fen = parse_yuan(text, field=field)
    if fen <= 0:
        raise InvalidAmount(f"{field} must be greater than zero, got {format_yuan(fen)}")
    return fen


def format_yuan(fen: Fen) -> str:
    """Format fen as a yuan string with two places: ``123456`` → ``"1234.56"``, ``-5`` → ``"-0.05"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def round_half_up(exact_fen: Decimal) -> Fen:
    """Round an exact quantity of fen to whole fen, half away from zero (0.5 → 1, -0.5 → -1).

    This is the one rounding rule of the project: it is applied when an amount is posted, never before.
    """
    return int(exact_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def split_evenly(total: Fen, parts: int) -> tuple[Fen, ...]:
    """Split ``total`` into ``parts`` equal parts, the remainder going to the first part.

    This is the installment rule: 1000.00 over 3 periods is 333.34, 333.33, 333.33.
    """
    if parts <= 0:
        raise ValueError("parts must be positive")
    share, remainder = divmod(total, parts)
    return (share + remainder, *([share] * (parts - 1)))


def allocate(total: Fen, weights: Sequence[int]) -> tuple[Fen, ...]:
    """Split ``total`` in proportion to ``weights`` by largest remainder; the parts always sum to ``total``.

    Ties in the remainders go to the earlier weight. All weights zero splits nothing (every part zero) and
    is only allowed for a zero total.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total != 0:
            raise ValueError("cannot allocate a non-zero total over zero weights")
        return tuple(0 for _ in weights)
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w - f * weight_sum for w, f in zip(weights, floors, strict=True)]
    short = total - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return tuple(floors)
