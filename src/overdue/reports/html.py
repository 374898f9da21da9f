"""The HTML report: one page in zh-CN and English (a button switches), charts embedded as base64 SVG."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from overdue.domain.money import format_yuan
from overdue.reports import charts
from overdue.reports.metrics import BUCKETS, ReportConfig, full_report
from overdue.sim.call_compare import CallComparison
from overdue.sim.result import SimulationResult

TOP_OVERDUE = 10
LIMIT_LABELS = (
    ("raise", "提额", "raises"),
    ("cut", "降额", "cuts"),
    ("freeze", "冻结", "freezes"),
    ("close", "关闭", "closes"),
)


def _b64(svg: bytes) -> str:
    return base64.b64encode(svg).decode("ascii")


def _float(value: str | None) -> float:
    return float(value) if value is not None else 0.0


def render_charts(report: dict[str, Any], result: SimulationResult) -> dict[str, str]:
    """Every chart of the report, as base64 SVG."""
    dates = [d.isoformat() for d in result.daily_dates]
    daily = [[int(v) for v in row] for row in result.daily_buckets]
    matrix = [
        [None if v is None else float(v) for v in report["roll_rates"]["rates"][a].values()] for a in BUCKETS
    ]
    curves = {v["opened"]: [(p["mob"], _float(p["share"])) for p in v["curve"]] for v in report["vintages"]}
    stages = report["by_stage"]
    treatments = report["by_treatment"]
    variants = report["champion_challenger"]
    entry = report["entry_rates"]
    limits = report["limit_changes_by_month"]
    return {
        "aging": _b64(charts.aging_chart(dates, list(BUCKETS), daily)),
        "roll": _b64(charts.roll_rate_chart(list(BUCKETS), matrix)),
        "vintage": _b64(charts.vintage_chart(curves)),
        "entry": _b64(
            charts.line_chart(
                charts.label("入催率", "Entry to collections"),
                [r["month"] for r in entry],
                {"entry rate": [_float(r["rate"]) for r in entry]},
            )
        ),
        "stage": _b64(
            charts.bar_chart(
                charts.label("按阶段", "By stage"),
                [r["stage"] for r in stages],
                {
                    charts.label("治愈率", "cure rate"): [_float(r["cure_rate"]) for r in stages],
                    charts.label("回收率", "recovery rate"): [_float(r["recovery_rate"]) for r in stages],
                },
            )
        ),
        "treatment": _b64(
            charts.bar_chart(
                charts.label("按手段", "By treatment"),
                [r["type"] for r in treatments],
                {charts.label("治愈率", "cure rate"): [_float(r["cure_rate"]) for r in treatments]},
            )
        ),
        "limits": _b64(
            charts.bar_chart(
                charts.label("额度调整（按月）", "Limit changes by month"),
                [r["month"] for r in limits],
                {charts.label(zh, en): [float(r[action]) for r in limits] for action, zh, en in LIMIT_LABELS},
            )
        ),
        "variants": _b64(
            charts.bar_chart(
                charts.label("冠军 / 挑战者", "Champion vs challenger"),
                [
                    charts.label("入催率", "entry"),
                    charts.label("治愈率", "cure"),
                    charts.label("回收率", "recovery"),
                ],
                {
                    r["variant"]: [
                        _float(r["entry_rate"]),
                        _float(r["cure_rate"]),
                        _float(r["recovery_rate"]),
                    ]
                    for r in variants
                },
            )
        ),
    }


def top_overdue(result: SimulationResult, count: int = TOP_OVERDUE) -> list[dict[str, Any]]:
    """The accounts with the largest overdue balance at the last month end, with their borrower."""
    last = result.overdue[:, -1]
    order = sorted(range(len(last)), key=lambda i: (-int(last[i]), i))[:count]
    rows = []
    for i in order:
        if int(last[i]) == 0:
            break
        b = result.borrowers[i]
        rows.append(
            {
                "account": b.account_id,
                "name": b.name,
                "city": b.city,
                "city_en": b.city_en,
                "timezone": b.timezone,
                "phone": b.phone[:3] + "****" + b.phone[-4:],
                "limit": format_yuan(b.credit_limit),
                "dpd": int(result.dpd[i, -1]),
                "overdue": format_yuan(int(last[i])),
            }
        )
    return rows


def write_report(
    result: SimulationResult,
    out: Path,
    config: ReportConfig | None = None,
    calls: CallComparison | None = None,
) -> Path:
    """Write ``out/index.html`` (and ``out/report.json``); returns the HTML file's path. ``calls``: the
    demo's call-priority comparison, reported as ``call_priority`` (None: null, and no section)."""
    import json

    config = config or ReportConfig()
    report = full_report(result, config)
    report["call_priority"] = None if calls is None else calls.report()
    environment = Environment(
        loader=PackageLoader("overdue.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    html = environment.get_template("report.html.j2").render(
        s=report["summary"],
        r=report,
        buckets=BUCKETS,
        experiment=report["experiment"],
        charts=render_charts(report, result),
        top=top_overdue(result),
        commission_pct=f"{config.agency_commission * 100:.0f}%",
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
