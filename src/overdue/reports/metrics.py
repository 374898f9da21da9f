"""Portfolio metrics, each defined in docs/reports.md with its formula.

The month-end metrics (bucket distribution, roll rates, vintages, actions and their cost) take a
:class:`Panel` — plain arrays and counters that :func:`panel_from_simulation` builds from a simulation's
in-memory result and :func:`overdue.reports.database.panel_from_database` builds from the database with
SQLAlchemy Core queries, so both paths give the same numbers. Cure, recovery, 入催率 and the
champion/challenger comparison need the simulator's day-by-day tallies and come from the in-memory result
only.

Money stays integer fen; JSON shows it as yuan strings. Rates are ratios of integers, shown as decimal strings
with four places (``"0.1234"``); a rate whose denominator is zero is ``None``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from overdue.domain.money import Fen, format_yuan, parse_yuan, round_half_up
from overdue.strategy import ACTION_TYPES

if TYPE_CHECKING:
    from overdue.sim.result import SimulationResult

BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
THIRTY_PLUS_FROM_BUCKET = 2
"""30+ DPD means DPD ≥ 31: buckets M2 and beyond."""

DEFAULT_COSTS: dict[str, str] = {
    "sms": "0.05",
    "push": "0.00",
    "ai_voice": "0.30",
    "call": "3.00",
    "contact_call": "3.00",
    "letter": "5.00",
    "field_visit": "80.00",
    "agency_placement": "0.00",
    "agency_recall": "0.00",
    "lawyer_letter": "200.00",
    "litigation": "2000.00",
    "write_off": "0.00",
    "debt_sale": "0.00",
}
"""Cost of one allowed action of each type, in yuan."""
DEFAULT_AGENCY_COMMISSION = Decimal("0.15")
"""An agency's commission: this share of what is recovered while an account is placed with it."""


@dataclass(frozen=True)
class ReportConfig:
    """costs: yuan per allowed action, by type. agency_commission: share of amounts recovered while placed."""

    costs: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    agency_commission: Decimal = DEFAULT_AGENCY_COMMISSION

    def unit_cost(self, action_type: str) -> Fen:
        return parse_yuan(self.costs.get(action_type, "0.00"), field=f"cost of {action_type}")


@dataclass
class Panel:
    """Month-end figures of every account.

    month_ends: the month-end dates (columns). bucket: accounts × months bucket index into :data:`BUCKETS`,
    -1 before the account opened. opened: each account's opening month (``2026-01``). actions: counts keyed
    ``(type, stage, variant, status)``, status ``allowed`` or ``refused``.
    """

    month_ends: list[date]
    bucket: npt.NDArray[np.int8]
    opened: list[str]
    actions: Counter[tuple[str, str, str, str]]


def rate(numerator: int, denominator: int) -> str | None:
    """``numerator / denominator`` as a decimal string with four places; None when the denominator is 0."""
    if denominator == 0:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001")))


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def panel_from_simulation(result: SimulationResult) -> Panel:
    actions: Counter[tuple[str, str, str, str]] = Counter()
    for key, value in result.tallies.items():
        if key[0] == "actions":
            actions[(key[1], key[2], key[3], key[4])] += value
    return Panel(
        month_ends=list(result.month_ends),
        bucket=result.bucket,
        opened=[month_key(b.opened_on) for b in result.borrowers],
        actions=actions,
    )


# --- month-end metrics (either path) ------------------------------------------------------------------------


def bucket_distribution(panel: Panel) -> list[dict[str, Any]]:
    """Per month end: accounts open and the count and share in each bucket."""
    rows = []
    for column, day in enumerate(panel.month_ends):
        values = panel.bucket[:, column]
        values = values[values >= 0]
        counts = np.bincount(values.astype(np.int64), minlength=len(BUCKETS))
        total = int(counts.sum())
        rows.append(
            {
                "month_end": day.isoformat(),
                "accounts": total,
                "counts": {b: int(c) for b, c in zip(BUCKETS, counts, strict=True)},
                "shares": {b: rate(int(c), total) for b, c in zip(BUCKETS, counts, strict=True)},
            }
        )
    return rows


def roll_rates(panel: Panel) -> dict[str, Any]:
    """The month-end to month-end transition matrix, summed over every pair of consecutive month ends.

    ``counts[a][b]``: accounts in bucket a at one month end and in b at the next. ``rates[a][b]``: that over
    the row total (None for an empty row). ``forward[a]``: the classic roll rate Mk → Mk+1 (for M7+, staying).
    """
    size = len(BUCKETS)
    counts = np.zeros((size, size), dtype=np.int64)
    for column in range(len(panel.month_ends) - 1):
        a, b = panel.bucket[:, column], panel.bucket[:, column + 1]
        both = (a >= 0) & (b >= 0)
        np.add.at(counts, (a[both].astype(np.int64), b[both].astype(np.int64)), 1)
    rates = {}
    forward = {}
    for i, name in enumerate(BUCKETS):
        total = int(counts[i].sum())
        rates[name] = {BUCKETS[j]: rate(int(counts[i, j]), total) for j in range(size)}
        forward[name] = rate(int(counts[i, min(i + 1, size - 1)]), total)
    return {
        "counts": {BUCKETS[i]: {BUCKETS[j]: int(counts[i, j]) for j in range(size)} for i in range(size)},
        "rates": rates,
        "forward": forward,
    }


def vintages(panel: Panel) -> list[dict[str, Any]]:
    """Per opening month: the share of its accounts 30+ DPD (DPD ≥ 31) at each month on book.

    Months on book (MOB) of a month end = months from the opening month to it, the opening month being
    MOB 1.
    """
    cohorts: dict[str, list[int]] = {}
    for index, month in enumerate(panel.opened):
        cohorts.setdefault(month, []).append(index)
    out = []
    month_keys = [month_key(d) for d in panel.month_ends]
    for cohort, members in sorted(cohorts.items()):
        rows = panel.bucket[members]
        curve = []
        for column, key in enumerate(month_keys):
            if key < cohort:
                continue
            mob = _months_between(cohort, key) + 1
            column_values = rows[:, column]
            open_accounts = int((column_values >= 0).sum())
            bad = int((column_values >= THIRTY_PLUS_FROM_BUCKET).sum())
            curve.append(
                {"mob": mob, "accounts": open_accounts, "thirty_plus": bad, "share": rate(bad, open_accounts)}
            )
        out.append({"opened": cohort, "accounts": len(members), "curve": curve})
    return out


def _months_between(first: str, second: str) -> int:
    y1, m1 = map(int, first.split("-"))
    y2, m2 = map(int, second.split("-"))
    return (y2 - y1) * 12 + (m2 - m1)


def actions_by_channel(panel: Panel, config: ReportConfig) -> list[dict[str, Any]]:
    """Per action type: allowed and refused actions, unit cost and total cost (allowed × unit cost)."""
    allowed: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for (action_type, _stage, _variant, status), count in panel.actions.items():
        (allowed if status == "allowed" else refused)[action_type] += count
    rows = []
    for action_type in ACTION_TYPES:
        if not allowed[action_type] and not refused[action_type]:
            continue
        unit = config.unit_cost(action_type)
        rows.append(
            {
                "type": action_type,
                "allowed": allowed[action_type],
                "refused": refused[action_type],
                "unit_cost": format_yuan(unit),
                "cost": format_yuan(unit * allowed[action_type]),
                "cost_fen": unit * allowed[action_type],
            }
        )
    return rows


def action_cost(panel: Panel, config: ReportConfig, variant: str | None = None) -> Fen:
    """Σ allowed actions × unit cost, for one variant or all."""
    return sum(
        config.unit_cost(t) * n
        for (t, _s, v, status), n in panel.actions.items()
        if status == "allowed" and (variant is None or v == variant)
    )


# --- day-by-day metrics (simulation tallies) ----------------------------------------------------------------


def commission(recovered: Fen, config: ReportConfig) -> Fen:
    """The agency commission on ``recovered`` fen, rounded half-up to the fen."""
    return round_half_up(Decimal(recovered) * config.agency_commission)


def _sum(tallies: Counter[tuple[str, ...]], head: str, *match: str | None) -> int:
    total = 0
    for key, value in tallies.items():
        if key[0] != head or len(key) != len(match) + 1:
            continue
        if all(m is None or m == k for m, k in zip(match, key[1:], strict=True)):
            total += value
    return total


def recovery_totals(tallies: Counter[tuple[str, ...]], variant: str | None = None) -> tuple[int, int]:
    """Past-due fen recovered and past-due exposure (fen) over the delinquency episodes, of one variant or
    (None) of all."""
    return _sum(tallies, "recovered_total", variant), _sum(tallies, "exposure_total", variant)


def by_stage(result: SimulationResult) -> list[dict[str, Any]]:
    """Per collection stage: episodes reaching it, cured in it, cure rate; recovered, exposure, recovery."""
    t = result.tallies
    stages = sorted(
        {k[1] for k in t if k[0] in ("stage_reached", "exposure")},
        key=lambda s: _stage_order(result, s),
    )
    rows = []
    for stage in stages:
        reached, cured = _sum(t, "stage_reached", stage, None), _sum(t, "stage_cured", stage, None)
        recovered, exposure = _sum(t, "recovered", stage, None), _sum(t, "exposure", stage, None)
        rows.append(
            {
                "stage": stage,
                "reached": reached,
                "cured": cured,
                "cure_rate": rate(cured, reached),
                "recovered": format_yuan(recovered),
                "exposure": format_yuan(exposure),
                "recovery_rate": rate(recovered, exposure),
            }
        )
    return rows


def _stage_order(result: SimulationResult, stage: str) -> int:
    order = ["pre_due", "early", "call", "queue", "agency", "field", "charge_off"]
    return order.index(stage) if stage in order else len(order)


def by_treatment(result: SimulationResult, config: ReportConfig) -> list[dict[str, Any]]:
    """Per action type: episodes touched and cured, cure rate, fen recovered with it as the last treatment."""
    t = result.tallies
    rows = []
    for action_type in ACTION_TYPES:
        touched = _sum(t, "type_touched", action_type, None)
        if not touched:
            continue
        cured = _sum(t, "type_cured", action_type, None)
        recovered = _sum(t, "recovered_after", action_type, None)
        rows.append(
            {
                "type": action_type,
                "episodes": touched,
                "cured": cured,
                "cure_rate": rate(cured, touched),
                "recovered_last_touch": format_yuan(recovered),
            }
        )
    return rows


def entry_rates(result: SimulationResult) -> list[dict[str, Any]]:
    """入催率 per due month: accounts current on the due date with a statement due, and those past due the
    next day."""
    t = result.tallies
    months = sorted({k[1] for k in t if k[0] == "due"})
    rows = []
    for month in months:
        due, entered = _sum(t, "due", month, None), _sum(t, "entered", month, None)
        rows.append({"month": month, "due": due, "entered": entered, "rate": rate(entered, due)})
    return rows


def champion_challenger(result: SimulationResult, config: ReportConfig) -> list[dict[str, Any]]:
    """Per variant of the strategy's first experiment: accounts, entry, cure, recovery and cost."""
    t = result.tallies
    panel = panel_from_simulation(result)
    rows = []
    for variant in result.variants:
        accounts = sum(1 for v in result.variant_of if v == variant)
        episodes, cured = _sum(t, "episodes", variant), _sum(t, "cured", variant)
        recovered, exposure = recovery_totals(t, variant)
        agency = _sum(t, "agency_recovered", variant)
        cost = action_cost(panel, config, variant) + commission(agency, config)
        due, entered = _sum(t, "due", None, variant), _sum(t, "entered", None, variant)
        rows.append(
            {
                "variant": variant,
                "accounts": accounts,
                "entry_rate": rate(entered, due),
                "episodes": episodes,
                "cured": cured,
                "cure_rate": rate(cured, episodes),
                "recovered": format_yuan(recovered),
                "recovered_fen": recovered,
                "exposure": format_yuan(exposure),
                "recovery_rate": rate(recovered, exposure),
                "cost": format_yuan(cost),
                "cost_per_yuan_recovered": rate(cost, recovered),
            }
        )
    return rows


LIMIT_ACTIONS = ("raise", "cut", "freeze", "close")


def limit_changes_by_month(result: SimulationResult) -> list[dict[str, Any]]:
    """Per review month: limit changes recorded by the review, by action (raise, cut, freeze, close)."""
    t = result.tallies
    months = sorted({k[2] for k in t if k[0] == "limit_changes"})
    return [{"month": m, **{a: t[("limit_changes", a, m)] for a in LIMIT_ACTIONS}} for m in months]


def limit_bands(result: SimulationResult) -> dict[str, Any]:
    """Applicants scored, accounts booked by initial limit band, and the declined."""
    t = result.tallies
    bands = {k[1]: v for k, v in sorted(t.items()) if k[0] == "limit_band"}
    booked = sum(bands.values())
    return {
        "applicants": t[("applicants",)],
        "booked": booked,
        "declined": t[("applicants",)] - booked,
        "bands": bands,
    }


def portfolio_summary(result: SimulationResult, config: ReportConfig | None = None) -> dict[str, Any]:
    """The headline figures of a simulated portfolio (JSON-ready; equal seeds give equal summaries)."""
    config = config or ReportConfig()
    t = result.tallies
    panel = panel_from_simulation(result)
    last = panel.bucket[:, -1]
    counts = np.bincount(last[last >= 0].astype(np.int64), minlength=len(BUCKETS))
    accounts = len(result.borrowers)
    recovered, exposure = recovery_totals(t)
    agency = _sum(t, "agency_recovered", None)
    actions = action_cost(panel, config)
    count_status = getattr(result.states, "count_status", None)
    written_off = (
        count_status("written_off")
        if count_status
        else sum(1 for s in result.states if str(s.status) == "written_off")
    )
    thirty_plus = int(counts[THIRTY_PLUS_FROM_BUCKET:].sum())
    return {
        "seed": result.seed,
        "strategy": result.strategy,
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "accounts": accounts,
        "credit_limit_total": format_yuan(sum(b.credit_limit for b in result.borrowers)),
        "purchases": t[("purchases",)],
        "purchase_amount": format_yuan(t[("purchase_fen",)]),
        "repayments": t[("repayments",)],
        "repaid_amount": format_yuan(t[("repaid_fen",)]),
        "ledger_transactions": t[("transactions",)],
        "outstanding_at_end": format_yuan(int(result.outstanding[:, -1].sum())),
        "overdue_at_end": format_yuan(int(result.overdue[:, -1].sum())),
        "buckets_at_end": {b: int(c) for b, c in zip(BUCKETS, counts, strict=True)},
        "thirty_plus_share": rate(thirty_plus, accounts),
        "written_off": written_off,
        "episodes": _sum(t, "episodes", None),
        "cured": _sum(t, "cured", None),
        "cure_rate": rate(_sum(t, "cured", None), _sum(t, "episodes", None)),
        "recovered": format_yuan(recovered),
        "exposure": format_yuan(exposure),
        "recovery_rate": rate(recovered, exposure),
        "entry_rate": rate(_sum(t, "entered", None, None), _sum(t, "due", None, None)),
        "actions": sum(n for (_t, _s, _v, st), n in panel.actions.items() if st == "allowed"),
        "action_cost": format_yuan(actions),
        "agency_commission": format_yuan(commission(agency, config)),
        "total_cost": format_yuan(actions + commission(agency, config)),
        "promises": {k: t[("promises", k)] for k in ("made", "kept", "broken")},
        "job_losses": t[("job_losses",)],
        "limit_changes": {a: _sum(t, "limit_changes", a, None) for a in LIMIT_ACTIONS},
    }


def full_report(result: SimulationResult, config: ReportConfig | None = None) -> dict[str, Any]:
    """Every metric of the report, JSON-ready."""
    from overdue.reports.scores import behaviour_stability, score_stability

    config = config or ReportConfig()
    panel = panel_from_simulation(result)
    return {
        "summary": portfolio_summary(result, config),
        "bucket_distribution": bucket_distribution(panel),
        "roll_rates": roll_rates(panel),
        "vintages": vintages(panel),
        "by_stage": by_stage(result),
        "by_treatment": by_treatment(result, config),
        "entry_rates": entry_rates(result),
        "actions_by_channel": [
            {k: v for k, v in row.items() if k != "cost_fen"} for row in actions_by_channel(panel, config)
        ],
        "champion_challenger": [
            {k: v for k, v in row.items() if k != "recovered_fen"}
            for row in champion_challenger(result, config)
        ],
        "limit_changes_by_month": limit_changes_by_month(result),
        "limit_bands": limit_bands(result),
        "score_stability": score_stability(result),
        "behaviour_stability": behaviour_stability(result),
        "experiment": result.experiment,
    }
