"""Report endpoints: the portfolio's month-end metrics from the database (docs/reports.md).

Each is computed by :mod:`overdue.reports.database` and :mod:`overdue.reports.metrics` — the same functions,
and so the same numbers, as the demo's report — over every account's month-end rows (``account_days``) and
the collection actions. They are aggregates with no personal data, so reading them writes no audit row.
Cure, recovery, 入催率 and the champion/challenger comparison need the simulator's day-by-day tallies and
are in the demo's report only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from overdue.api.deps import EngineDep, allowed
from overdue.api.security import Principal
from overdue.domain.money import format_yuan
from overdue.reports.database import panel_from_database
from overdue.reports.metrics import (
    BUCKETS,
    ReportConfig,
    action_cost,
    actions_by_channel,
    bucket_distribution,
    roll_rates,
    vintages,
)

router = APIRouter(prefix="/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(allowed("reports.read"))]


@router.get("/buckets", summary="Accounts by bucket at each month end (账龄分布)")
def get_buckets(engine: EngineDep, principal: Reader) -> dict[str, Any]:
    return {"buckets": list(BUCKETS), "month_ends": bucket_distribution(panel_from_database(engine))}


@router.get("/roll-rates", summary="Month-end to month-end transitions between buckets (迁徙率)")
def get_roll_rates(engine: EngineDep, principal: Reader) -> dict[str, Any]:
    return {"buckets": list(BUCKETS), **roll_rates(panel_from_database(engine))}


@router.get("/vintages", summary="Share 30+ DPD by months on book, per opening month (账龄分析)")
def get_vintages(engine: EngineDep, principal: Reader) -> dict[str, Any]:
    return {"vintages": vintages(panel_from_database(engine))}


@router.get("/actions", summary="Collection actions by type, allowed and refused, and their cost")
def get_actions(engine: EngineDep, principal: Reader) -> dict[str, Any]:
    panel = panel_from_database(engine)
    config = ReportConfig()
    rows = [{k: v for k, v in row.items() if k != "cost_fen"} for row in actions_by_channel(panel, config)]
    return {"actions": rows, "total_cost": format_yuan(action_cost(panel, config))}
