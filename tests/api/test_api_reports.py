"""The report endpoints: month-end metrics from the database, equal to the report module's, for the roles
that may read them."""

from __future__ import annotations

from datetime import date

from api_world import World, problem

from overdue.api.deps import PERMISSIONS
from overdue.engine.reference import run_eod
from overdue.reports.database import panel_from_database
from overdue.reports.metrics import roll_rates
from overdue.store.roles import ROLES


def test_month_end_reports_from_the_database(world: World) -> None:
    for account, amount in (("A1", "1000.00"), ("A2", "300.00")):
        bought = world.post(
            "admin", f"/accounts/{account}/purchases", {"amount": amount}, Idempotency_Key=account
        )
        assert bought.status_code == 201, bought.json()
    run_eod(world.engine, date(2026, 3, 31))  # nobody pays: the bills due 9 February are 50 days late

    buckets = world.get("strategist", "/reports/buckets").json()
    assert [m["month_end"] for m in buckets["month_ends"]] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    january, february, march = buckets["month_ends"]
    assert january["accounts"] == 3 and january["counts"]["M0"] == 3
    assert february["counts"]["M1"] == 2 and february["counts"]["M0"] == 1
    assert march["counts"]["M2"] == 2 and march["shares"]["M2"] == "0.6667"

    rolled = world.get("supervisor", "/reports/roll-rates").json()
    assert rolled["counts"]["M1"]["M2"] == 2 and rolled["forward"]["M1"] == "1.0000"
    assert {k: v for k, v in rolled.items() if k != "buckets"} == roll_rates(
        panel_from_database(world.engine)
    )

    cohorts = world.get("auditor", "/reports/vintages").json()["vintages"]
    assert [c["opened"] for c in cohorts] == ["2026-01"]
    assert cohorts[0]["curve"][-1] == {"mob": 3, "accounts": 3, "thirty_plus": 2, "share": "0.6667"}

    actions = world.get("compliance_officer", "/reports/actions").json()
    assert actions["actions"], "the ladder acted on the overdue accounts"
    assert all(set(row) == {"type", "allowed", "refused", "unit_cost", "cost"} for row in actions["actions"])
    assert actions["total_cost"].count(".") == 1


def test_reports_are_for_the_roles_that_read_them(sqlite_world: World) -> None:
    for role in ROLES:
        for path in ("/reports/buckets", "/reports/roll-rates", "/reports/vintages", "/reports/actions"):
            response = sqlite_world.get(role, path)
            if role in PERMISSIONS["reports.read"]:
                assert response.status_code == 200, (role, path)
            else:
                problem(response, 403, "forbidden")
