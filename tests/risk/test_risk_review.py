"""Dynamic limit review: every rule at both sides of its threshold, and cycles built from history."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from overdue.domain.state import BucketSpell, Statement
from overdue.errors import InvalidInput
from overdue.risk.review import (
    CycleRecord,
    ReviewInput,
    ReviewParameters,
    cycles_from_history,
    review_limit,
)

AS_OF = date(2026, 8, 12)
LIMIT = 1_000_000  # 10,000.00


def cycle(month: int, use: str = "0.50", on_time: bool = True, minimum_only: bool = False) -> CycleRecord:
    balance = int(Decimal(use) * LIMIT)
    return CycleRecord(date(2026, month, 1), balance, LIMIT, on_time, minimum_only)


def facts(cycles: list[CycleRecord], **changes: object) -> ReviewInput:
    base = ReviewInput("R1", AS_OF, LIMIT, "active", 0, tuple(cycles))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


GOOD = [cycle(m) for m in range(2, 8)]  # six on-time cycles at 50 %


def test_raise_after_six_on_time_cycles() -> None:
    decision = review_limit(facts(GOOD))
    assert (decision.action, decision.new_limit) == ("raise", 1_200_000)
    assert decision.reasons == ("RAISE_ON_TIME",) and decision.effective_on == AS_OF
    five = review_limit(facts(GOOD[1:]))
    assert five.action == "keep" and five.reasons == ("NOT_ENOUGH_HISTORY",)


def test_one_late_cycle_among_the_last_six_blocks_the_raise() -> None:
    late = [*GOOD[:-1], cycle(7, on_time=False)]
    assert review_limit(facts(late)).action == "keep"
    # A late cycle before the last six no longer counts.
    assert review_limit(facts([cycle(1, on_time=False), *GOOD])).action == "raise"


@pytest.mark.parametrize(
    ("use", "action"), [("0.80", "raise"), ("0.81", "keep"), ("0.10", "raise"), ("0.09", "keep")]
)
def test_healthy_utilisation_bounds(use: str, action: str) -> None:
    cycles = [cycle(m, use) for m in range(2, 8)]
    assert review_limit(facts(cycles)).action == action


def test_no_raise_within_90_days_of_a_change() -> None:
    recent = review_limit(facts(GOOD, last_limit_change=AS_OF - timedelta(days=89)))
    assert recent.action == "keep" and recent.reasons == ("RECENT_CHANGE",)
    assert review_limit(facts(GOOD, last_limit_change=AS_OF - timedelta(days=90))).action == "raise"


def test_raise_is_capped_at_50000() -> None:
    near = review_limit(facts(GOOD, credit_limit=4_950_000))
    assert (near.action, near.new_limit, near.reasons) == (
        "raise",
        5_000_000,
        ("RAISE_ON_TIME", "RAISE_CAPPED"),
    )
    at_max = review_limit(facts(GOOD, credit_limit=5_000_000))
    assert (at_max.action, at_max.new_limit, at_max.reasons) == ("keep", 5_000_000, ("RAISE_AT_MAXIMUM",))
    big = review_limit(facts(GOOD, credit_limit=4_000_000))  # 20 % = 8,000.00
    assert big.new_limit == 4_800_000
    small = review_limit(facts(GOOD, credit_limit=50_000))  # 20 % of 500.00 = 100.00, one step
    assert small.new_limit == 60_000


def test_raise_parameters_cannot_exceed_the_product_maximum() -> None:
    with pytest.raises(InvalidInput):
        ReviewParameters(raise_cap=5_000_001)
    capped = review_limit(facts(GOOD, credit_limit=1_900_000), ReviewParameters(raise_cap=2_000_000))
    assert capped.new_limit == 2_000_000


@pytest.mark.parametrize(("use", "action"), [("0.95", "cut"), ("0.94", "raise")])
def test_cut_for_near_full_utilisation(use: str, action: str) -> None:
    cycles = [cycle(m, "0.50") for m in range(2, 5)] + [cycle(m, use) for m in range(5, 8)]
    decision = review_limit(facts(cycles))
    assert decision.action == action  # 0.94: not near full; the mean (0.72) is healthy, so a raise
    if action == "raise":
        return
    assert (decision.action, decision.new_limit) == ("cut", 700_000)
    assert decision.reasons == ("CUT_NEAR_FULL_UTILISATION",)
    assert decision.effective_on == AS_OF + timedelta(days=7)


def test_near_full_must_be_every_one_of_the_last_three() -> None:
    cycles = [*GOOD[:3], cycle(5, "0.99"), cycle(6, "0.50"), cycle(7, "0.99")]
    assert review_limit(facts(cycles)).action != "cut"


@pytest.mark.parametrize(("count", "action"), [(3, "cut"), (2, "keep")])
def test_cut_for_minimum_only_payments(count: int, action: str) -> None:
    cycles = [cycle(m, minimum_only=(m - 2) < count) for m in range(2, 8)]
    decision = review_limit(facts(cycles, last_limit_change=AS_OF))  # no raise: only the cut rule decides
    assert decision.action == action
    if action == "cut":
        assert decision.reasons == ("CUT_MINIMUM_ONLY",)


def test_cut_never_goes_below_500() -> None:
    cycles = [cycle(m, "0.99") for m in range(2, 8)]
    assert review_limit(facts(cycles, credit_limit=60_000)).new_limit == 50_000
    at_floor = review_limit(facts(cycles, credit_limit=50_000))
    assert at_floor.action == "keep" and at_floor.reasons == ("CUT_NEAR_FULL_UTILISATION", "CUT_AT_MINIMUM")


@pytest.mark.parametrize(("dpd", "action"), [(0, "raise"), (1, "freeze"), (90, "freeze"), (91, "close")])
def test_delinquency_freezes_then_closes(dpd: int, action: str) -> None:
    assert review_limit(facts(GOOD, days_past_due=dpd)).action == action


@pytest.mark.parametrize(
    ("status", "action", "reason"),
    [
        ("frozen", "freeze", "FREEZE_STATUS"),
        ("written_off", "close", "CLOSE_STATUS"),
        ("closed", "close", "CLOSE_STATUS"),
    ],
)
def test_status_decides_first(status: str, action: str, reason: str) -> None:
    decision = review_limit(facts(GOOD, status=status))
    assert (decision.action, decision.reasons, decision.new_limit) == (action, (reason,), LIMIT)


def test_decision_json() -> None:
    assert review_limit(facts(GOOD)).to_json() == {
        "account_id": "R1",
        "action": "raise",
        "current_limit": "10000.00",
        "new_limit": "12000.00",
        "effective_on": "2026-08-12",
        "reasons": ["RAISE_ON_TIME"],
    }


def _statement(month: int, amount: int, carried: int = 0) -> Statement:
    on = date(2026, month, 1)
    return Statement(f"S{month}", on, date(2026, month, 9), amount, amount // 10, carried_principal=carried)


def test_cycles_from_history() -> None:
    statements = [
        _statement(2, 100_000),
        _statement(3, 50_000, carried=40_000),
        _statement(4, 80_000),
        _statement(5, 90_000),
    ]
    spells = [
        BucketSpell("M0", date(2026, 1, 5), date(2026, 4, 10)),
        BucketSpell("M1", date(2026, 4, 10), date(2026, 4, 20)),
        BucketSpell("M0", date(2026, 4, 20)),
    ]
    cycles = cycles_from_history(statements, spells, 200_000, date(2026, 5, 9))
    # May's statement is due on the 9th: not complete until the 10th.
    assert [c.statement_date.month for c in cycles] == [2, 3, 4]
    assert [c.on_time for c in cycles] == [True, True, False]
    assert [c.minimum_only for c in cycles] == [True, False, False]  # February's principal rolled into March
    assert cycles[0].utilisation == Decimal("0.5")
    assert len(cycles_from_history(statements, spells, 200_000, date(2026, 5, 10))) == 4
