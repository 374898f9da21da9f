"""``overdue strategy explain`` shows the ``behaviour_score`` fact and decides on it."""

from __future__ import annotations

import json
from pathlib import Path

from behaviour_fact_helpers import FIRST_MONTH_END, REMINDER_DAY, WATCH, run_eod, two_accounts, watch
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.store import behaviour_repository
from overdue.store.db import make_engine, upgrade

runner = CliRunner()


def test_explain_shows_the_behaviour_score_and_the_segment_it_picks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/explain.db"
    engine = make_engine(url)
    try:
        upgrade(engine)
        two_accounts(engine)
        run_eod(engine, FIRST_MONTH_END)
        with engine.connect() as conn:
            scores = {a: behaviour_repository.latest_score(conn, a, FIRST_MONTH_END) for a in ("H1", "L1")}
        high_risk = scores["H1"]
        assert high_risk is not None
        run_eod(engine, REMINDER_DAY, watch(high_risk))
    finally:
        engine.dispose()
    strategy = tmp_path / "watch.yaml"
    strategy.write_text(WATCH.format(limit=high_risk), encoding="utf-8")

    def explain(account_id: str, *json_flag: str) -> str:
        args = ["--db", url, "strategy", "explain", account_id, "--date", REMINDER_DAY.isoformat()]
        result = runner.invoke(app, [*args, "--strategy", str(strategy), *json_flag])
        assert result.exit_code == 0, result.output
        return result.stdout

    shown = json.loads(explain("H1", "--json"))
    assert shown["facts"]["behaviour_score"] == high_risk
    assert shown["stage"] == "watch"
    assert [a["type"] for a in shown["actions"]] == ["sms"]
    assert [(a["treatment"], a["status"]) for a in shown["recorded_actions"]] == [("watch_sms", "queued")]

    other = json.loads(explain("L1", "--json"))
    assert other["facts"]["behaviour_score"] == scores["L1"]
    assert other["stage"] is None and other["actions"] == [] and other["recorded_actions"] == []

    assert f"behaviour_score {high_risk}" in explain("H1")
