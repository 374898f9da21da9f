"""``overdue risk train|validate|explain`` with ``--json``: outputs parse and have their keys."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.risk.collection import MODEL_ENV, shipped_model
from overdue.risk.logistic import load_model

runner = CliRunner()

LATE = """\
product: huabei
account: {id: LATE1, opened: 2026-01-05, limit: "5000.00", timezone: Asia/Shanghai}
events:
  - {date: 2026-01-10, purchase: "1000.00"}
  - {date: 2026-02-19, snapshot: true}
"""

ON_TIME = """\
product: huabei
account: {id: GOOD1, opened: 2026-01-05, limit: "5000.00", timezone: Asia/Shanghai}
events:
  - {date: 2026-01-10, purchase: "2000.00"}
  - {date: 2026-02-05, repay: "2000.00"}
  - {date: 2026-02-10, purchase: "2000.00"}
  - {date: 2026-03-05, repay: "2000.00"}
  - {date: 2026-03-10, purchase: "2000.00"}
  - {date: 2026-04-05, repay: "2000.00"}
  - {date: 2026-04-10, purchase: "2000.00"}
  - {date: 2026-05-05, repay: "2000.00"}
  - {date: 2026-05-10, purchase: "2000.00"}
  - {date: 2026-06-05, repay: "2000.00"}
  - {date: 2026-06-10, purchase: "2000.00"}
  - {date: 2026-07-05, repay: "2000.00"}
  - {date: 2026-07-10, snapshot: true}
"""


def _db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path}/risk.db"]


def _scenario(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = runner.invoke(app, [*_db(tmp_path), "scenario", "run", str(path), "--use-db", "--json"])
    assert result.exit_code == 0, result.output


def test_validate_json_has_the_metrics_and_the_baseline() -> None:
    result = runner.invoke(app, ["risk", "validate", "--dataset", "german", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["dataset"] == "german"
    for key in ("auc", "ks", "gini", "psi_train_test"):
        assert isinstance(report[key], float) and report[key] == round(report[key], 4)
    assert set(report["baseline"]) >= {"auc", "ks", "gini"}
    assert report["auc"] >= report["baseline"]["auc"]
    assert report["shipped_model"]["same_scores_as_retrained"] is True


def test_train_writes_a_model_file(tmp_path: Path) -> None:
    out = tmp_path / "collection.json"
    args = ["risk", "train", "--model", "collection", "--dataset", "generator", "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["file"] == str(out) and payload["model"] == "collection"
    assert payload["dataset"]["generator"] == "overdue.risk.collection.synthetic_delinquents"
    assert set(payload["metrics"]) >= {"auc", "ks", "gini"}
    assert load_model(out).name == "collection"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--model", "collection", "--dataset", "german"],
            "error: unknown dataset 'german' for the collection",
        ),
        (
            ["--model", "application", "--dataset", "generator"],
            "error: unknown dataset 'generator' for the app",
        ),
        (["--model", "behaviour", "--dataset", "sim"], "error: --dataset is for the application scorecard"),
        (["--model", "behaviour", "--accounts", "1000"], "error: --accounts sizes the simulation"),
        (
            ["--model", "collection", "--dataset", "generator", "--accounts", "1000"],
            "error: --accounts sizes",
        ),
        (["--model", "collection", "--accounts", "10"], "error: --accounts must be at least 100, got 10"),
    ],
)
def test_a_dataset_or_size_the_model_does_not_train_on_is_a_one_line_error(
    args: list[str], error: str
) -> None:
    result = runner.invoke(app, ["risk", "train", *args, "--out", "unused.json"])
    assert result.exit_code == 2
    assert result.stderr.startswith(error) and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_collection_model_trained_on_the_simulator_is_used_where_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "collection-sim.json"
    args = ["risk", "train", "--model", "collection", "--accounts", "1000", "--out", str(out), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["dataset"]["generator"] == "overdue.sim.outcomes.train_on_simulation"
    assert payload["dataset"]["accounts"] == 1000 and payload["dataset"]["fraud_share"] == 0.01
    assert payload["dataset"]["rows"] > 1000 and set(payload["metrics"]) >= {"auc", "ks", "gini"}
    model = load_model(out)
    _scenario(tmp_path, "late", LATE)
    monkeypatch.setenv(MODEL_ENV, str(out))
    shipped_model.cache_clear()
    try:
        explained = runner.invoke(app, [*_db(tmp_path), "risk", "explain", "LATE1", "--json"])
    finally:
        monkeypatch.delenv(MODEL_ENV)
        shipped_model.cache_clear()
    assert explained.exit_code == 0, explained.output
    collection = json.loads(explained.stdout)["collection"]
    values = {name: float(v) for name, v in collection["facts"].items() if name in model.feature_names}
    assert collection["propensity"] == round(model.probability(values), 4)


def test_unknown_model_or_dataset_is_a_one_line_error() -> None:
    result = runner.invoke(app, ["risk", "train", "--model", "nope", "--out", "x.json"])
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown model")
    result = runner.invoke(app, ["risk", "validate", "--dataset", "nope"])
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown dataset")


def test_explain_a_delinquent_account(tmp_path: Path) -> None:
    _scenario(tmp_path, "late", LATE)
    result = runner.invoke(app, [*_db(tmp_path), "risk", "explain", "LATE1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["as_of"] == "2026-02-19" and out["dpd"] == 10 and out["credit_limit"] == "5000.00"
    assert out["behaviour"]["facts"]["worst_dpd_6m"] == 10
    assert out["behaviour"]["reasons"]
    assert 0 < out["collection"]["propensity"] < 1
    assert out["collection"]["facts"]["days_past_due"] == 10
    assert out["review"]["action"] == "freeze" and out["review"]["reasons"] == ["FREEZE_DELINQUENT"]
    human = runner.invoke(app, [*_db(tmp_path), "risk", "explain", "LATE1"])
    assert human.exit_code == 0 and "FREEZE" not in human.stdout and "freeze" in human.stdout


def test_explain_an_account_paid_on_time_for_six_cycles(tmp_path: Path) -> None:
    _scenario(tmp_path, "good", ON_TIME)
    result = runner.invoke(app, [*_db(tmp_path), "risk", "explain", "GOOD1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    cycles = out["review"]["cycles"]
    assert len(cycles) == 6 and all(c["on_time"] and not c["minimum_only"] for c in cycles)
    assert cycles[0]["utilisation"] == 0.4
    assert out["collection"] is None
    assert (out["review"]["action"], out["review"]["new_limit"]) == ("raise", "6000.00")


def test_explain_unknown_account_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, [*_db(tmp_path), "risk", "explain", "NOPE"])
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown account")
