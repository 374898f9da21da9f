"""The generated tables of ``docs/risk.md``: metrics, the German scorecard, the limit bands.

``python -m overdue.risk.doc_tables docs/risk.md`` retrains on the fixed splits and rewrites every block
between ``<!-- generated:NAME -->`` and ``<!-- end:NAME -->`` in the file, so the document always shows what
the code computes (a test compares them).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from overdue.domain.money import format_yuan
from overdue.risk.limits import load_limit_table
from overdue.risk.scorecard import Scaling, ScorecardModel

BLOCK = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end:(?P=name) -->)", re.S)


def metrics_table(report: dict[str, Any]) -> str:
    base = report["baseline"]
    return "\n".join(
        [
            "| model | AUC | KS | Gini |",
            "|---|---:|---:|---:|",
            f"| scorecard (optbinning, {report['features']} features) | {report['auc']:.4f} "
            f"| {report['ks']:.4f} | {report['gini']:.4f} |",
            f"| baseline (logistic regression) | {base['auc']:.4f} | {base['ks']:.4f} | {base['gini']:.4f} |",
            "",
            f"{report['rows']} rows, bad rate {report['bad_rate']:.4f}; trained on {report['train_rows']}, "
            f"measured on the held-out {report['test_rows']} (stratified, seed {report['split']['seed']}); "
            f"PSI of test scores against training scores {report['psi_train_test']:.4f}.",
        ]
    )


def scorecard_table(model: ScorecardModel) -> str:
    lines = ["| feature | bin | count | bad rate | WoE | points |", "|---|---|---:|---:|---:|---:|"]
    for feature in model.features:
        for b in feature.bins:
            label = b.label.replace("|", "/")
            stats = f"{b.count} | {b.event_rate:.4f} | {b.woe:.4f} | {b.points:.2f}"
            lines.append(f"| {feature.name} | {label} | {stats} |")
        lines.append(f"| {feature.name} | missing or unseen | | | 0.0000 | {feature.missing_points:.2f} |")
    return "\n".join(lines)


def bands_table() -> str:
    table = load_limit_table()
    lines = ["| band | score from | odds (good:bad) from | initial limit (yuan) |", "|---|---:|---:|---:|"]
    scaling = Scaling()
    for band in table.bands:
        odds = 2 ** ((band.min_score - scaling.base_score) / scaling.pdo) * scaling.base_odds
        lines.append(f"| {band.band} | {band.min_score:g} | {odds:.1f}:1 | {format_yuan(band.limit)} |")
    lowest = table.bands[-1].min_score
    lines.append(f"| {table.declined_band} | below {lowest:g} | | declined |")
    return "\n".join(lines)


def repeated_splits_table(dataset: Any, seeds: range) -> str:
    """Scorecard and baseline AUC over several random splits: how much of a gap is split noise."""
    from overdue.risk.training import train_application

    pairs = []
    for seed in seeds:
        report = train_application(dataset, seed=seed).report
        pairs.append((report["auc"], report["baseline"]["auc"]))
    card = sum(a for a, _ in pairs) / len(pairs)
    base = sum(b for _, b in pairs) / len(pairs)
    wins = sum(1 for a, b in pairs if a >= b)
    low = min(a for a, _ in pairs)
    high = max(a for a, _ in pairs)
    return (
        f"Over {len(pairs)} stratified 70/30 splits (seeds {seeds.start}–{seeds.stop - 1}): mean AUC "
        f"{card:.4f} for the scorecard (from {low:.4f} to {high:.4f}) and {base:.4f} for the baseline; "
        f"the scorecard is at least as good on {wins} of {len(pairs)} splits."
    )


def render_all() -> dict[str, str]:
    """Every generated block, freshly computed."""
    from overdue.risk.data import load_dataset
    from overdue.risk.training import rounded, train_application

    blocks = {"limit-bands": bands_table()}
    for name in ("german", "sim"):
        trained = train_application(load_dataset(name))
        blocks[f"{name}-metrics"] = metrics_table(rounded(trained.report))
        if name == "german":
            blocks["german-scorecard"] = scorecard_table(trained.model)
            blocks["german-repeated"] = repeated_splits_table(load_dataset(name), range(20))
    return blocks


def update(text: str, blocks: dict[str, str]) -> str:
    """``text`` with each generated block's body replaced by ``blocks[name]`` (others left alone)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            return match.group(0)
        return f"{match.group(1)}{blocks[name]}\n{match.group(4)}"

    return BLOCK.sub(replace, text)


def blocks_in(text: str) -> dict[str, str]:
    """The bodies of the generated blocks in ``text``."""
    return {m.group("name"): m.group("body") for m in BLOCK.finditer(text)}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/risk.md")
    target.write_text(update(target.read_text(encoding="utf-8"), render_all()), encoding="utf-8")
