"""The parameters of relief: deferral, plans, settlements, and who may approve how much.

:data:`RELIEF_PRESETS` names the parameters of each product (``huabei`` by default). A plan or settlement
keeps the numbers it was agreed with (its rate, breach days, whether the line closes), so a later change of
a preset never rewrites an agreement already made.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from overdue.domain.errors import InvalidTerms
from overdue.domain.money import Fen


@dataclass(frozen=True)
class ReliefTerms:
    """Every number of the relief options. Amounts in fen, rates as exact decimals."""

    deferral_max_days: int = 30
    """A deferral moves a statement's due date by at most this many days."""
    deferral_window_months: int = 12
    """At most one deferral per account in this many months."""
    plan_min_dpd: int = 1
    """A negotiated plan is for an account at least this many days past due."""
    plan_max_periods: int = 60
    """At most this many monthly payments (the 5 years of the credit-card rules, Art. 70)."""
    plan_monthly_rate: Decimal = Decimal(0)
    """A plan's interest per month on what is left to repay, by default: 0 stops interest."""
    plan_max_monthly_rate: Decimal = Decimal("0.01")
    """The highest reduced rate a plan may be agreed at (the normal rate is about 0.015 a month)."""
    plan_breach_days: int = 10
    """A plan payment more than this many days late breaks the plan."""
    plan_down_payment_days: int = 7
    """A plan's down payment is due this many days after the plan is agreed."""
    plan_closes_line: bool = True
    """The credit line stays closed during a plan and after it is completed."""
    settlement_min_dpd: int = 31
    """A settlement is for an account at least this many days past due."""
    settlement_min_share: Decimal = Decimal("0.30")
    """The agreed amount is at least this share of everything owed."""
    settlement_max_days: int = 30
    """The agreed amount must be paid within this many days."""
    role_limits: tuple[tuple[str, Fen], ...] = (
        ("agent", 20_000),
        ("team_lead", 200_000),
        ("supervisor", 1_000_000),
        ("manager", 5_000_000),
    )
    """Role → the largest waiver (interest, fees, or a settlement's forgiven balance) it may approve."""

    def role_limit(self, role: str) -> Fen | None:
        """The approval limit of ``role``, or None when the role may not approve relief."""
        return dict(self.role_limits).get(role)

    def validate(self) -> ReliefTerms:
        problems: list[str] = []
        for name in (
            "deferral_max_days",
            "deferral_window_months",
            "plan_max_periods",
            "settlement_max_days",
        ):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        for name in ("plan_min_dpd", "plan_breach_days", "plan_down_payment_days", "settlement_min_dpd"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative")
        if not Decimal(0) <= self.plan_monthly_rate <= self.plan_max_monthly_rate <= Decimal(1):
            problems.append("0 <= plan_monthly_rate <= plan_max_monthly_rate <= 1 must hold")
        if not Decimal(0) < self.settlement_min_share <= Decimal(1):
            problems.append("settlement_min_share must be above 0 and at most 1")
        if any(limit < 0 for _, limit in self.role_limits):
            problems.append("role limits must not be negative")
        if problems:
            raise InvalidTerms("relief terms: " + "; ".join(problems))
        return self


RELIEF_PRESETS: dict[str, ReliefTerms] = {"huabei": ReliefTerms().validate()}


def relief_terms(product: str) -> ReliefTerms:
    """The relief parameters of a product (the ``huabei`` ones for a product without its own)."""
    return RELIEF_PRESETS.get(product, RELIEF_PRESETS["huabei"])
