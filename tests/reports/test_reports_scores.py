"""The collection and behaviour scores' month-end panels, their PSI month by month, and where the report
shows them."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from rich.console import Console
from sim_helpers import small_portfolio

from overdue.reports.html import write_report
from overdue.reports.metrics import full_report
from overdue.reports.scores import MIN_BASELINE, behaviour_stability, score_stability
from overdue.reports.text import print_summary
from overdue.risk.behaviour import month_end_score, scored_at_month_end
from overdue.risk.collection import collection_facts, score_collection
from overdue.risk.collection import shipped_model as collection_model
from overdue.sim import SimulationConfig, simulate
from overdue.sim.result import NOT_SCORED

MONTH_ENDS = [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_delinquent_accounts_and_only_they_are_scored_at_month_end() -> None:
    result = small_portfolio()
    scored = ~np.isnan(result.collection_score)
    assert scored.any()
    assert (scored == (result.dpd > 0)).all()
    values = result.collection_score[scored]
    assert ((values > 0) & (values < 1)).all()


def test_the_last_month_end_scores_are_the_shipped_model_on_the_final_state() -> None:
    result = small_portfolio()
    model = collection_model()
    checked = 0
    for i, (state, collection) in enumerate(zip(result.states, result.collections, strict=True)):
        facts = collection_facts(state, collection.state, result.end)
        if facts is None:
            assert np.isnan(result.collection_score[i, -1])
            continue
        assert result.collection_score[i, -1] == score_collection(facts, model).propensity
        checked += 1
    assert checked > 0


def test_every_account_on_book_is_scored_at_every_month_end_as_the_end_of_day_scores_it() -> None:
    result = small_portfolio()
    panel = result.behaviour_score
    assert panel.dtype == np.int32 and panel.shape == result.collection_score.shape
    # Every account opens in the first month, and none is written off or closed this early.
    assert (panel != NOT_SCORED).all()
    checked = 0
    for i, state in enumerate(result.states):
        assert scored_at_month_end(state)
        if i % 7 == 0:
            assert panel[i, -1] == month_end_score(state, state.statements, result.end).points
            checked += 1
    assert checked > 40
    rows = {(a, on): (points, ppm, model, reasons) for a, on, points, ppm, model, reasons in result.scores}
    assert len(rows) == len(result.scores) == panel.size
    for i, state in enumerate(result.states[::11]):
        score = month_end_score(state, state.statements, result.end)
        assert rows[(state.id, result.end)] == (
            score.points,
            score.probability_bad_ppm,
            score.model,
            " ".join(score.reasons),
        )
        assert panel[i * 11, -1] == score.points


def test_an_earlier_month_end_column_is_the_score_of_the_state_that_month_end_left() -> None:
    """A shorter run of the same seed lives the same first months: its final states are the states of the
    longer run's earlier month end, and their scores are that column of the panel."""
    longer = small_portfolio()
    shorter = simulate(SimulationConfig(accounts=300, months=2, seed=7, keep_records=True, workers=1))
    assert shorter.month_ends == longer.month_ends[:2]
    assert (shorter.behaviour_score == longer.behaviour_score[:, :2]).all()
    for i, state in enumerate(shorter.states[::5]):
        expected = month_end_score(state, state.statements, shorter.end).points
        assert longer.behaviour_score[i * 5, 1] == expected
    assert len(set(longer.behaviour_score[:, 1].tolist())) > 20  # the scores differ from account to account


def _result(columns: list[list[float]]) -> Any:
    """A stand-in for a simulation result: a score panel (NaN-padded) and its month ends."""
    rows = max(len(c) for c in columns)
    panel = np.full((rows, len(columns)), np.nan)
    for k, column in enumerate(columns):
        panel[: len(column), k] = column
    return SimpleNamespace(collection_score=panel, month_ends=MONTH_ENDS[: len(columns)])


def test_psi_is_against_the_first_month_with_enough_scores() -> None:
    rng = np.random.default_rng(1)
    base = list(rng.beta(5, 2, 400))
    same = list(rng.beta(5, 2, 400))
    shifted = list(rng.beta(2, 5, 400))
    report = score_stability(_result([base[: MIN_BASELINE - 1], base, same, shifted]))
    assert report["baseline"] == "2026-02"
    first, baseline, stable, moved = report["months"]
    assert first["scored"] == MIN_BASELINE - 1 and first["psi"] is None and first["psi_previous"] is None
    assert baseline["psi"] is None and baseline["reading"] is None
    assert stable["psi"] < 0.10 and stable["reading"] == "stable" and stable["reading_zh"] == "稳定"
    assert moved["psi"] > 0.25 and moved["reading_en"] == "shifted"
    assert moved["psi_previous"] == pytest.approx(moved["psi"], rel=0.5)
    assert baseline["mean"] == pytest.approx(float(np.mean(base)), abs=1e-4)


def test_the_behaviour_score_table_skips_the_accounts_not_scored() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(600, 40, 2000).round().astype(np.int32)
    same = rng.normal(600, 40, 2000).round().astype(np.int32)
    lower = rng.normal(540, 40, 2000).round().astype(np.int32)
    panel = np.stack([base, same, lower], axis=1)
    panel[:20, 1] = NOT_SCORED
    report = behaviour_stability(SimpleNamespace(behaviour_score=panel, month_ends=MONTH_ENDS[:3]))
    assert report["score"] == "behaviour" and report["baseline"] == "2026-01"
    first, stable, moved = report["months"]
    assert [m["scored"] for m in report["months"]] == [2000, 1980, 2000]
    assert first["mean"] == round(float(base.mean()), 1) and first["median"] == float(np.median(base))
    assert stable["mean"] == round(float(same[20:].mean()), 1)
    assert stable["psi"] < 0.10 and stable["reading_en"] == "stable"
    assert moved["psi"] > 0.25 and moved["reading"] == "significant shift"
    assert moved["psi_previous"] is not None and moved["psi_previous"] > 0.25


def test_no_baseline_when_no_month_has_enough_scores() -> None:
    report = score_stability(_result([[0.5] * 3, [0.4] * 5]))
    assert report["baseline"] is None
    assert all(m["psi"] is None for m in report["months"])


def test_the_report_and_the_terminal_summary_show_the_psi() -> None:
    report = full_report(small_portfolio())
    stability = report["score_stability"]
    assert stability["score"] == "collection"
    assert [m["month"] for m in stability["months"]] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    behaviour = report["behaviour_stability"]
    assert behaviour["score"] == "behaviour" and behaviour["baseline"] == "2026-01"
    assert [m["scored"] for m in behaviour["months"]] == [300] * 4
    assert all(m["psi"] is not None for m in behaviour["months"][1:])
    out = StringIO()
    print_summary(report, Console(file=out, width=200))
    assert "Collection score PSI" in out.getvalue()
    assert "Behaviour score PSI vs 2026-01 行为评分稳定性" in out.getvalue()


def test_the_html_report_has_the_psi_table_in_both_languages(tmp_path: Path) -> None:
    html = write_report(small_portfolio(), tmp_path).read_text(encoding="utf-8")
    assert "催收评分稳定性（PSI）" in html and "Collection score stability (PSI)" in html
    assert "PSI vs baseline" in html and "PSI（对基准月）" in html
    assert "行为评分稳定性（PSI）" in html and "Behaviour score stability (PSI)" in html
    assert html.count("PSI vs baseline") == 2
