"""The terminal summary of a simulated portfolio, with rich tables (zh-CN headings in brackets)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from overdue.reports.metrics import BUCKETS


def _pct(value: str | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f}%"


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def print_summary(report: dict[str, Any], console: Console | None = None) -> None:
    """Print portfolio, buckets, roll rates, actions and cost, recovery, limit changes, the collection and
    behaviour scores' stability (PSI), champion vs challenger."""
    console = console or Console()
    s = report["summary"]
    portfolio = Table(title="Portfolio 组合概览", show_header=False)
    for name, value in (
        ("period", f"{s['start']} … {s['end']}"),
        ("accounts", str(s["accounts"])),
        ("credit limits", s["credit_limit_total"]),
        ("purchases", f"{s['purchases']} · {s['purchase_amount']}"),
        ("repayments", f"{s['repayments']} · {s['repaid_amount']}"),
        ("outstanding at end", s["outstanding_at_end"]),
        ("overdue at end", s["overdue_at_end"]),
        ("30+ DPD accounts", _pct(s["thirty_plus_share"])),
        ("entry to collections 入催率", _pct(s["entry_rate"])),
        ("episodes / cured", f"{s['episodes']} / {s['cured']} ({_pct(s['cure_rate'])})"),
        ("recovered / exposure", f"{s['recovered']} / {s['exposure']} ({_pct(s['recovery_rate'])})"),
        ("written off", str(s["written_off"])),
        ("promises made / kept / broken", "{made} / {kept} / {broken}".format(**s["promises"])),
        ("collection cost", f"{s['total_cost']} (agency commission {s['agency_commission']})"),
    ):
        portfolio.add_row(name, value)
    console.print(portfolio)

    buckets = Table(title="Bucket distribution at month end 账龄分布")
    buckets.add_column("month end")
    for b in BUCKETS:
        buckets.add_column(b, justify="right")
    for row in report["bucket_distribution"]:
        buckets.add_row(row["month_end"], *(str(row["counts"][b]) for b in BUCKETS))
    console.print(buckets)

    rolls = Table(title="Roll rates, month end to month end 迁徙率")
    rolls.add_column("from \\ to")
    for b in BUCKETS:
        rolls.add_column(b, justify="right")
    for a in BUCKETS:
        rolls.add_row(a, *(_pct(report["roll_rates"]["rates"][a][b]) for b in BUCKETS))
    console.print(rolls)

    actions = Table(title="Actions by channel and cost 渠道与成本")
    for column in ("type", "allowed", "refused", "unit cost", "cost"):
        actions.add_column(column, justify="left" if column == "type" else "right")
    for row in report["actions_by_channel"]:
        actions.add_row(row["type"], str(row["allowed"]), str(row["refused"]), row["unit_cost"], row["cost"])
    console.print(actions)

    stages = Table(title="Cure and recovery by stage 分阶段治愈与回收")
    for column in ("stage", "reached", "cured", "cure rate", "recovered", "recovery rate"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for row in report["by_stage"]:
        stages.add_row(
            row["stage"],
            str(row["reached"]),
            str(row["cured"]),
            _pct(row["cure_rate"]),
            row["recovered"],
            _pct(row["recovery_rate"]),
        )
    console.print(stages)

    limits = Table(title="Limit changes by review month 额度调整（提额/降额/冻结/关闭）")
    for column in ("month", "raise 提额", "cut 降额", "freeze 冻结", "close 关闭"):
        limits.add_column(column, justify="left" if column == "month" else "right")
    for row in report.get("limit_changes_by_month", []):
        limits.add_row(row["month"], *(str(row[a]) for a in ("raise", "cut", "freeze", "close")))
    console.print(limits)

    for key, title, digits in (
        ("score_stability", "Collection score PSI", 4),
        ("behaviour_stability", "Behaviour score PSI", 1),
    ):
        stability = report.get(key)
        if stability is None:
            continue
        zh = "催收评分稳定性" if stability["score"] == "collection" else "行为评分稳定性"
        scores = Table(
            title=f"{title} vs {stability['baseline'] or '—'} {zh} "
            "(< 0.10 stable, 0.10–0.25 watch, > 0.25 shifted)"
        )
        for column in ("month", "scored", "mean", "PSI", "reading", "PSI vs month before"):
            scores.add_column(column, justify="left" if column in ("month", "reading") else "right")
        for row in stability["months"]:
            scores.add_row(
                row["month"],
                str(row["scored"]),
                _number(row["mean"], digits),
                _number(row["psi"]),
                "—" if row["reading"] is None else f"{row['reading_en']} {row['reading_zh']}",
                _number(row["psi_previous"]),
            )
        console.print(scores)

    variants = Table(title=f"Champion vs challenger 冠军/挑战者 ({report['experiment'] or 'no experiment'})")
    for column in ("variant", "accounts", "entry", "cure rate", "recovered", "recovery rate", "cost"):
        variants.add_column(column, justify="left" if column == "variant" else "right")
    for row in report["champion_challenger"]:
        variants.add_row(
            row["variant"],
            str(row["accounts"]),
            _pct(row["entry_rate"]),
            _pct(row["cure_rate"]),
            row["recovered"],
            _pct(row["recovery_rate"]),
            row["cost"],
        )
    console.print(variants)

    calls = report.get("call_priority")
    if calls is not None:
        table = Table(
            title=f"Call priority 外呼排序 ({calls['accounts']} accounts × {calls['months']} months, "
            + (f"fraud share {calls['fraud_share']}, " if calls["fraud_share"] else "")
            + f"{calls['capacity_per_1000']} calls a day per 1,000 accounts; one portfolio: docs/risk.md)"
        )
        for column in ("order", "calls", "left over", "exposure", "recovered", "rate", "Δ points"):
            table.add_column(column, justify="left" if column == "order" else "right")
        for row in calls["orders"]:
            table.add_row(
                row["order"],
                str(row["calls_made"]),
                str(row["calls_left_over"]),
                row["exposure"],
                row["recovered"],
                _pct(row["recovery_rate"]),
                row["points_vs_champion"] or "champion",
            )
        console.print(table)
