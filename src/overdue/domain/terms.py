"""Product terms: every number of a credit-line product, with the ``huabei`` preset.

A product is a named :class:`ProductTerms`; an account keeps the terms it was opened with (the preset plus
the overrides given at opening), so a later change to a preset never rewrites an existing contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from overdue.domain.errors import InvalidTerms
from overdue.domain.money import Fen, format_yuan, parse_yuan


@dataclass(frozen=True)
class ProductTerms:
    """The terms of one credit-line product. Amounts in fen, rates as exact decimals per day."""

    name: str = "huabei"
    min_limit: Fen = 50_000
    """Smallest credit limit (500.00 yuan)."""
    max_limit: Fen = 5_000_000
    """Largest credit limit (50,000.00 yuan)."""
    statement_day: int = 1
    """Day of the month the statement is issued; it bills everything posted in the previous cycle."""
    due_day: int = 9
    """Repayment day, in the statement's month."""
    allowed_due_days: tuple[int, ...] = (8, 9, 10)
    grace_days: int = 0
    """Days after the due date during which a repayment still counts as on time (no DPD, no interest)."""
    overdue_daily_rate: Decimal = Decimal("0.0005")
    """Overdue interest per day on the overdue principal of a statement not paid to its minimum."""
    revolving_daily_rate: Decimal = Decimal("0.0005")
    """Interest per day on principal left unpaid after at least the minimum was paid."""
    minimum_principal_share: Decimal = Decimal("0.10")
    """Share of a statement's principal in its minimum payment (installments, fees and interest are 100 %)."""
    installment_fee_rates: tuple[tuple[int, Decimal], ...] = (
        (3, Decimal("0.025")),
        (6, Decimal("0.045")),
        (9, Decimal("0.065")),
        (12, Decimal("0.088")),
    )
    """Bill installments: number of periods → total fee as a share of the principal."""
    min_installment_principal: Fen = 10_000
    """Smallest principal that can be put into installments (100.00 yuan): below it, rounding the fee to the
    fen would distort the annualised rate."""
    principal_first_after_dpd: int = 90
    """Beyond this many days past due a repayment pays principal before interest and fees."""
    freeze_at_dpd: int = 1
    """The line freezes when the account reaches this many days past due."""
    write_off_at_dpd: int = 180
    bucket_days: int = 30
    """Width of a delinquency bucket: M1 is 1–30 DPD, M2 31–60, …"""
    last_bucket: int = 7
    """Number of the last, open-ended bucket (M7+ from 181 DPD)."""
    bureau_grid_months: int = 24
    rulebook: str = "cn"
    """The compliance rulebook every contact must pass: ``cn`` (default), ``us`` or ``none``."""

    def installment_fee_rate(self, periods: int) -> Decimal | None:
        """The total fee rate for ``periods`` installments, or None if the product does not offer it."""
        return dict(self.installment_fee_rates).get(periods)

    def validate(self) -> ProductTerms:
        """Check that the terms hang together; returns self so it can be chained."""
        problems: list[str] = []
        if not 0 < self.min_limit <= self.max_limit:
            problems.append("min_limit must be positive and at most max_limit")
        if not 1 <= self.statement_day <= 28:
            problems.append("statement_day must be between 1 and 28")
        if not 1 <= self.due_day <= 28 or self.due_day == self.statement_day:
            problems.append("due_day must be between 1 and 28 and differ from statement_day")
        if self.due_day not in self.allowed_due_days:
            problems.append(f"due_day must be one of {list(self.allowed_due_days)}")
        for name in (
            "grace_days",
            "principal_first_after_dpd",
            "bucket_days",
            "last_bucket",
            "bureau_grid_months",
        ):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if (
            self.freeze_at_dpd < 1
            or self.write_off_at_dpd < 1
            or self.bucket_days < 1
            or self.last_bucket < 1
        ):
            problems.append("freeze_at_dpd, write_off_at_dpd, bucket_days and last_bucket must be at least 1")
        for name in ("overdue_daily_rate", "revolving_daily_rate", "minimum_principal_share"):
            if not Decimal(0) <= getattr(self, name) <= Decimal(1):
                problems.append(f"{name} must be between 0 and 1")
        for periods, rate in self.installment_fee_rates:
            if periods < 2 or not Decimal(0) <= rate < Decimal(1):
                problems.append("installment_fee_rates must map 2 or more periods to a rate between 0 and 1")
        if self.rulebook not in ("cn", "us", "none"):
            problems.append("rulebook must be cn, us or none")
        if problems:
            raise InvalidTerms(f"product {self.name!r}: " + "; ".join(problems))
        return self

    def check_limit(self, limit: Fen) -> None:
        """Refuse a credit limit outside the product's range."""
        if not self.min_limit <= limit <= self.max_limit:
            raise InvalidTerms(
                f"credit limit {format_yuan(limit)} is outside {format_yuan(self.min_limit)}–"
                f"{format_yuan(self.max_limit)} for product {self.name!r}"
            )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: amounts in yuan strings, rates as decimal strings."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _AMOUNT_FIELDS:
                out[f.name] = format_yuan(value)
            elif isinstance(value, Decimal):
                out[f.name] = str(value)
            elif f.name == "installment_fee_rates":
                out[f.name] = {str(p): str(r) for p, r in value}
            elif f.name == "allowed_due_days":
                out[f.name] = list(value)
            else:
                out[f.name] = value
        return out


_AMOUNT_FIELDS = frozenset({"min_limit", "max_limit", "min_installment_principal"})

PRESETS: dict[str, ProductTerms] = {"huabei": ProductTerms().validate()}
"""The named products. ``huabei`` is DESIGN §4 number for number."""


def _parse_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        raise InvalidTerms(f'{name} must be a decimal string such as "0.0005", got {value!r}')
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidTerms(f'{name} must be a decimal string such as "0.0005", got {value!r}') from exc


def _parse_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTerms(f"{name} must be a whole number, got {value!r}")
    return value


def terms_from_json(data: Mapping[str, Any]) -> ProductTerms:
    """Rebuild terms saved with :meth:`ProductTerms.to_json` (or any subset of its keys over the preset)."""
    return with_overrides(ProductTerms(), data)


def with_overrides(base: ProductTerms, overrides: Mapping[str, Any]) -> ProductTerms:
    """A copy of ``base`` with ``overrides`` applied and validated; unknown names are an error."""
    known = {f.name for f in dataclasses.fields(base)}
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name not in known:
            raise InvalidTerms(f"unknown product term {name!r}; known terms: {', '.join(sorted(known))}")
        current = getattr(base, name)
        if name in _AMOUNT_FIELDS:
            changes[name] = parse_yuan(value, field=name)
        elif name in ("name", "rulebook"):
            changes[name] = str(value)
        elif name == "installment_fee_rates":
            if not isinstance(value, Mapping):
                raise InvalidTerms('installment_fee_rates must map periods to rates, e.g. {3: "0.025"}')
            changes[name] = tuple(
                sorted((_parse_int(name, int(str(p))), _parse_decimal(name, r)) for p, r in value.items())
            )
        elif name == "allowed_due_days":
            if not isinstance(value, (list, tuple)):
                raise InvalidTerms("allowed_due_days must be a list of days")
            changes[name] = tuple(_parse_int(name, v) for v in value)
        elif isinstance(current, Decimal):
            changes[name] = _parse_decimal(name, value)
        else:
            changes[name] = _parse_int(name, value)
    return dataclasses.replace(base, **changes).validate()


def product_terms(product: str, overrides: Mapping[str, Any] | None = None) -> ProductTerms:
    """The terms of a named preset with optional overrides."""
    try:
        base = PRESETS[product]
    except KeyError:
        raise InvalidTerms(
            f"unknown product {product!r}; known products: {', '.join(sorted(PRESETS))}"
        ) from None
    return with_overrides(base, overrides or {})
