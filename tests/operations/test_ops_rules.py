"""The pure rules of operations: stages, queues and priority; field routes; legal steps and the limitation
period; portfolio selection and the transfer file."""

from __future__ import annotations

from datetime import date

import pytest

from overdue.domain.errors import InvalidInput, Refused
from overdue.operations.cases import AccountPosition, build_case, case_id_for, priority_of, stage_of
from overdue.operations.legal import (
    LegalRefused,
    Limitation,
    check_limitation,
    check_next_step,
    limitation_ends_on,
)
from overdue.operations.routes import FieldOrder, form_teams, plan_routes
from overdue.operations.sale import (
    PortfolioFilter,
    SaleCandidate,
    select_portfolio,
    transfer_csv,
    transfer_row,
)


@pytest.mark.parametrize(
    ("dpd", "due", "stage"),
    [(0, 0, "current"), (0, 100, "pre_due"), (1, 100, "S1"), (15, 1, "S1"), (16, 1, "M1"), (30, 1, "M1"),
     (31, 1, "M2"), (60, 1, "M2"), (61, 1, "M3+"), (200, 1, "M3+")],
)  # fmt: skip
def test_stage_follows_the_worst_dpd(dpd: int, due: int, stage: str) -> None:
    assert stage_of(dpd, due) == stage


def test_queue_is_the_stage_unless_open_work_says_otherwise() -> None:
    plain = AccountPosition("A1", 40, 50_000, 50_000)
    assert build_case("B1", "B1", [plain]).queue == "M2"
    field = AccountPosition("A2", 95, 10_000, 10_000, frozenset({"field"}))
    assert build_case("B1", "B1", [plain, field]).queue == "field"
    placed = AccountPosition("A3", 70, 10_000, 10_000, agency="AG1")
    assert build_case("B1", "B1", [field, placed]).queue == "agency"
    sued = AccountPosition("A4", 200, 10_000, 10_000, litigation=True)
    assert build_case("B1", "B1", [field, placed, sued]).queue == "legal"


def test_a_case_adds_up_its_accounts() -> None:
    case = build_case(
        "B7",
        "B7",
        [AccountPosition("A2", 20, 30_000, 40_000), AccountPosition("A1", 45, 70_000, 90_000)],
        score=0.5,
    )
    assert (case.days_past_due, case.overdue, case.total_due, case.stage) == (45, 100_000, 130_000, "M2")
    assert [p.account_id for p in case.accounts] == ["A1", "A2"]
    # balance 400 × 1,000/10,000 yuan = 40; DPD 300 × 45/180 = 75; score 300 × 0.5 = 150
    assert case.priority == 40 + 75 + 150


def test_priority_weights_balance_dpd_and_score() -> None:
    assert priority_of(0, 0, None) == 150
    assert priority_of(1_000_000, 180, 1.0) == 1000
    assert priority_of(50_000_000, 999, 1.0) == 1000  # each part is capped
    assert priority_of(500_000, 90, 0.2) > priority_of(500_000, 90, 0.1)
    assert priority_of(600_000, 90, None) > priority_of(500_000, 90, None)


def test_case_ids() -> None:
    assert case_id_for("B1", "A1") == "B1"
    assert case_id_for(None, "A1") == "account:A1"


def test_field_teams_are_two_or_more() -> None:
    assert form_teams(["d", "a", "c", "b", "e"]) == (("a", "b"), ("c", "d", "e"))
    with pytest.raises(Refused, match="at least 2 field agents"):
        form_teams(["a"])
    with pytest.raises(InvalidInput, match="at least 2"):
        form_teams(["a", "b"], team_size=1)


def test_routes_group_by_city_and_district_and_balance_teams() -> None:
    orders = [
        FieldOrder("o1", "上海", "浦东"),
        FieldOrder("o2", "上海", "浦东"),
        FieldOrder("o3", "上海", "徐汇"),
        FieldOrder("o4", "北京", "朝阳"),
    ]
    routes = plan_routes(orders, ["f1", "f2", "f3", "f4"])
    assert [(r.city, r.district, r.orders) for r in routes] == [
        ("上海", "徐汇", ("o3",)),
        ("上海", "浦东", ("o1", "o2")),
        ("北京", "朝阳", ("o4",)),
    ]
    assert [r.team for r in routes] == [("f1", "f2"), ("f3", "f4"), ("f1", "f2")]
    assert plan_routes([], ["f1"]) == ()


def test_legal_steps_go_in_order_and_mediation_may_be_skipped() -> None:
    day = date(2026, 8, 1)
    check_next_step("lawyer_letter", "mediation", day, day)
    check_next_step("lawyer_letter", "filing", day, day)
    check_next_step("filing", "acknowledgement", day, day)
    check_next_step("judgment", "closed", day, day)
    with pytest.raises(LegalRefused, match=r"judgment cannot follow lawyer_letter.*\[legal.order\]"):
        check_next_step("lawyer_letter", "judgment", day, day)
    with pytest.raises(LegalRefused, match="cannot go back"):
        check_next_step("filing", "mediation", day, day)
    with pytest.raises(LegalRefused, match=r"\[legal.closed\]"):
        check_next_step("closed", "filing", day, day)
    with pytest.raises(InvalidInput, match="before the case's last event"):
        check_next_step("lawyer_letter", "filing", day, date(2026, 7, 31))
    with pytest.raises(InvalidInput, match="unknown legal step"):
        check_next_step("lawyer_letter", "appeal", day, day)


def test_limitation_is_three_years_from_the_last_qualifying_event() -> None:
    assert limitation_ends_on(date(2026, 3, 15)) == date(2029, 3, 15)
    assert limitation_ends_on(date(2028, 2, 29)) == date(2031, 2, 28)
    check_limitation("filing", date(2029, 3, 15), date(2026, 3, 15))
    with pytest.raises(LegalRefused, match=r"ended on 2029-03-15.*\[legal.limitation_expired\]"):
        check_limitation("filing", date(2029, 3, 16), date(2026, 3, 15))
    check_limitation("judgment", date(2030, 1, 1), date(2026, 3, 15))  # only a filing is refused
    assert Limitation.on(date(2026, 3, 15), date(2029, 3, 16)).expired
    assert not Limitation.on(None, date(2029, 3, 16)).expired


def _candidate(account_id: str, **changes: object) -> SaleCandidate:
    values: dict[str, object] = {
        "account_id": account_id,
        "status": "written_off",
        "days_past_due": 200,
        "principal": 100_000,
        "interest": 5_000,
        "fees": 0,
        "last_payment_on": None,
    }
    values.update(changes)
    return SaleCandidate(**values)  # type: ignore[arg-type]


def test_portfolio_filters() -> None:
    pool = [
        _candidate("A1"),
        _candidate("A2", status="frozen", days_past_due=100),
        _candidate("A3", principal=900_000),
        _candidate("A4", sold=True),
        _candidate("A5", litigation=True),
        _candidate("A6", principal=0, interest=0),
    ]
    chosen = select_portfolio(pool, PortfolioFilter(min_days_past_due=180, statuses=("written_off",)))
    assert [c.account_id for c in chosen] == ["A1", "A3"]
    chosen = select_portfolio(pool, PortfolioFilter(max_balance=200_000))
    assert [c.account_id for c in chosen] == ["A1", "A2"]
    with pytest.raises(InvalidInput):
        PortfolioFilter(min_balance=500, max_balance=100)


def test_transfer_file_rows_are_yuan_strings() -> None:
    rows = [transfer_row(_candidate("A1", last_payment_on=date(2026, 3, 2))), transfer_row(_candidate("A2"))]
    assert rows[0] == {
        "account_id": "A1",
        "status": "written_off",
        "days_past_due": 200,
        "principal": "1000.00",
        "interest": "50.00",
        "fees": "0.00",
        "outstanding": "1050.00",
        "last_payment_on": "2026-03-02",
    }
    assert transfer_csv(rows).splitlines() == [
        "account_id,status,days_past_due,principal,interest,fees,outstanding,last_payment_on",
        "A1,written_off,200,1000.00,50.00,0.00,1050.00,2026-03-02",
        "A2,written_off,200,1000.00,50.00,0.00,1050.00,",
    ]
