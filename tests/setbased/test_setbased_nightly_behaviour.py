"""The nightly job over a Parquet state folder scores every month end with the shipped behaviour model, as the
reference records the scores, and keeps each account's latest score in the state:

- a portfolio run over the folder with ``setbased_behaviour_strategy.yaml`` (stages, a pause and a
  treatment's condition on ``behaviour_score``) across month ends plans the actions the reference plans day
  after day, and the ``behaviour_scores`` outputs hold the scores the reference records (points, ppm,
  reasons, model version) — on DuckDB (the engine writing the Parquet, and the driver), PostgreSQL and
  Spark; the limit review off, as the domain's end-of-day the reference runs here reviews none; without a
  strategy the scores are recorded all the same;
- resuming from a snapshot after a month end reads that month end's scores (``behaviour_latest``): the
  same folder as one run; a partition written before the scores were kept reads as no score yet;
- ``overdue state export`` writes the store's latest recorded scores into the first snapshot: run over the
  folder with huabei's automated calls only for an account scored, the scores and actions (calls before the
  month end, on the exported scores, included) equal those the reference records on the store itself.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
import setbased_collect_helpers
from ibis.backends import BaseBackend
from setbased_collect_helpers import Records, reference_day
from setbased_helpers import HUABEI, before_end_of_day, open_portfolio
from setbased_store_helpers import build_store
from sqlalchemy import Engine, text
from test_setbased_behaviour import BORROWERS, HUABEI_FILE, START, STRATEGY

from overdue.compliance import rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import is_month_end, iter_days
from overdue.domain.collections import CollectionState
from overdue.domain.state import AccountState
from overdue.engine.collect import Collections, plan_collection
from overdue.engine.limits import LimitReview
from overdue.engine.reference import Collection, run_eod
from overdue.risk.behaviour import month_end_score, scored_at_month_end
from overdue.risk.changes import ReviewSchedule
from overdue.setbased import tables_from_states
from overdue.setbased.behaviour import LATEST
from overdue.setbased.nightly import NightlySummary, export_store, run_nightly
from overdue.setbased.snapshots import MANIFEST, read_outputs, read_state, state_partition, write_state
from overdue.strategy import Strategy, parse_strategy

SNAPSHOT = date(2025, 11, 27)
NO_REVIEW = LimitReview(schedule=ReviewSchedule(enabled=False))
"""The folder's runs against the domain's end-of-day, which reviews no limit (a review day's cuts would
change the utilisation the score reads); the exported store's test runs the review on both sides."""
Recorded = tuple[int, int, str, str]
"""A recorded score: points, ppm, reasons, model version."""


def _recorded(states: list[AccountState], on: date) -> dict[str, Recorded]:
    """The month-end scores the reference records of the accounts that ran on ``on``."""
    recorded: dict[str, Recorded] = {}
    for s in states:
        if s.last_eod == on and scored_at_month_end(s):
            score = month_end_score(s, s.statements, on)
            recorded[s.id] = (score.points, score.probability_bad_ppm, " ".join(score.reasons), score.model)
    return recorded


def _snapshot(root: Path) -> tuple[list[AccountState], dict[str, int]]:
    """A year of borrowers run by the reference through :data:`SNAPSHOT` (their month-end scores kept),
    written as the folder's first snapshot with the latest scores; the states and the scores."""
    states = open_portfolio(START, BORROWERS)
    latest: dict[str, int] = {}
    for on in iter_days(START, SNAPSHOT):
        before_end_of_day(states, BORROWERS, START, on)
        states = [rules.end_of_day(s, on).state for s in states]
        if is_month_end(on):
            latest.update({i: score[0] for i, score in _recorded(states, on).items()})
    keys = {s.id: key for key, s in enumerate(states)}
    known = {"account_key": [keys[i] for i in latest], "behaviour_score": list(latest.values())}
    write_state(
        root,
        SNAPSHOT,
        tables_from_states(states, HUABEI),
        HUABEI,
        latest_scores=pa.table(known, schema=LATEST),
    )
    return states, latest


def _scores(root: Path, on: date, ids: list[str]) -> dict[str, Recorded]:
    return {
        ids[r["account_key"]]: (r["score_points"], r["probability_bad_ppm"], r["reasons"], r["model_version"])
        for r in read_outputs(root, "behaviour_scores", on).to_pylist()
    }


def _actions(root: Path, on: date, ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    got: dict[str, list[tuple[Any, ...]]] = {}
    for r in read_outputs(root, "actions", on).to_pylist():
        got.setdefault(ids[r["account_key"]], []).append(
            (r["treatment"], r["type"], r["stage"], r["status"], r["refused_rule"], r["reason"])
        )
    return got


def assert_as_the_reference(
    root: Path, states: list[AccountState], latest: dict[str, int], through: date
) -> set[str]:
    """The days after :data:`SNAPSHOT` through ``through`` by the reference (no event: the folder holds
    none) against the folder's outputs: actions and scores every day, the latest scores of the last state.
    Returns the stages the reference decided."""
    ids = [s.id for s in states]
    records: Records = {s.id: (Collections(CollectionState(s.id), None, None), {}, []) for s in states}

    def with_behaviour(account: AccountState, *args: Any, **kwargs: Any) -> Any:
        return plan_collection(account, *args, behaviour_score=latest.get(account.id), **kwargs)

    stages: set[str] = set()
    scored = 0
    patch = pytest.MonkeyPatch()
    patch.setattr(setbased_collect_helpers, "plan_collection", with_behaviour)
    try:
        for on in iter_days(SNAPSHOT + timedelta(days=1), through):
            states = [rules.end_of_day(s, on).state for s in states]
            recorded = _recorded(states, on) if is_month_end(on) else {}
            latest.update({i: score[0] for i, score in recorded.items()})
            want, records = reference_day(states, on, records, STRATEGY, rulebook("cn"))
            assert _scores(root, on, ids) == recorded, on
            want_actions = {
                account_id: [(row[0], row[1], row[2], row[8], row[9], row[10]) for row in rows]
                for account_id, rows in want.actions.items()
                if rows
            }
            assert _actions(root, on, ids) == want_actions, on
            stages |= {str(stage) for stage, _ in want.decisions.values()}
            scored += len(recorded)
    finally:
        patch.undo()
    assert scored > 0
    kept = read_state(root, through).behaviour
    assert kept is not None
    assert {ids[r["account_key"]]: r["behaviour_score"] for r in kept.to_pylist()} == latest
    return stages


def _run(
    root: Path,
    through: date,
    backend: BaseBackend | None = None,
    *,
    native: bool = True,
    strategy: Strategy | None = STRATEGY,
) -> NightlySummary:
    """The nightly job over ``root`` through ``through`` without the limit review (:data:`NO_REVIEW`);
    default on DuckDB with :data:`STRATEGY`."""
    backend = backend or ibis.duckdb.connect()
    engine = {"pyspark": "spark"}.get(backend.name, backend.name)
    return run_nightly(
        root, through, backend, engine=engine, strategy=strategy, review=NO_REVIEW, native_parquet=native
    )


# --- both runners over the folder -------------------------------------------------------------------------


@pytest.mark.parametrize("native", [pytest.param(True, marks=pytest.mark.slow), False])
def test_duckdb_scores_month_ends_and_plans_as_the_reference(native: bool, tmp_path: Path) -> None:
    """The engine writing the Parquet across two month ends (November's, December's: the second reads the
    first's scores from the engine), the driver across one."""
    root = tmp_path / "state"
    states, latest = _snapshot(root)
    through = date(2025, 12, 31) if native else date(2025, 12, 1)
    summary = _run(root, through, native=native)
    assert summary.to_json()["behaviour_scores"] > 0
    stages = assert_as_the_reference(root, states, latest, through)
    assert {"risky", "steady"} <= stages


def test_every_engine_scores_the_month_end_as_the_reference(backend: BaseBackend, tmp_path: Path) -> None:
    root = tmp_path / "state"
    states, latest = _snapshot(root)
    through = date(2025, 12, 1)
    _run(root, through, backend)
    assert_as_the_reference(root, states, latest, through)


def test_the_scores_are_recorded_without_a_strategy(tmp_path: Path) -> None:
    """The reference records the month-end scores whatever the strategy: so does the folder."""
    root = tmp_path / "state"
    states, latest = _snapshot(root)
    _run(root, date(2025, 11, 30), strategy=None)
    ids = [s.id for s in states]
    for on in iter_days(SNAPSHOT + timedelta(days=1), date(2025, 11, 30)):
        states = [rules.end_of_day(s, on).state for s in states]
        want = _recorded(states, on) if is_month_end(on) else {}
        assert _scores(root, on, ids) == want, on
        latest.update({i: score[0] for i, score in want.items()})
    assert len(want) > 0
    kept = read_state(root, date(2025, 11, 30)).behaviour
    assert kept is not None
    assert {ids[r["account_key"]]: r["behaviour_score"] for r in kept.to_pylist()} == latest


# --- resuming -----------------------------------------------------------------------------------------------


def test_resuming_after_the_month_end_reads_its_scores(tmp_path: Path) -> None:
    """Two runs, the first stopping at the month end, write the folder one run writes: the next day reads
    the month end's scores from the state partition."""
    through = date(2025, 12, 2)
    whole, legs = tmp_path / "whole", tmp_path / "legs"
    _snapshot(whole)
    states, latest = _snapshot(legs)
    _run(whole, through)
    _run(legs, date(2025, 11, 30))
    _run(legs, through)
    for on in iter_days(SNAPSHOT + timedelta(days=1), through):
        assert read_state(legs, on) == read_state(whole, on), on
        for name in ("actions", "behaviour_scores"):
            assert read_outputs(legs, name, on) == read_outputs(whole, name, on), (name, on)
    assert_as_the_reference(legs, states, latest, through)


def test_a_partition_without_scores_reads_as_none_scored(tmp_path: Path) -> None:
    """A snapshot written before the scores were kept: no account scored, the strategy's null stage."""
    root = tmp_path / "state"
    states, _ = _snapshot(root)
    partition = state_partition(root, SNAPSHOT)
    (partition / "behaviour_latest.parquet").unlink()
    manifest = json.loads((partition / MANIFEST).read_text())
    del manifest["rows"]["behaviour_latest"]
    (partition / MANIFEST).write_text(json.dumps(manifest))
    assert read_state(root, SNAPSHOT).behaviour is None
    _run(root, date(2025, 11, 30))
    stages = assert_as_the_reference(root, states, {}, date(2025, 11, 30))
    assert "unscored" in stages


# --- the operational store exported -----------------------------------------------------------------------

STORE_BUILT = date(2026, 2, 25)
"""Scored at the January month end: the first snapshot holds those scores."""
STORE_THROUGH = date(2026, 3, 3)
SCORE_COLUMNS = ("score_points", "probability_bad_ppm", "model_version", "reasons")
ACTION_COLUMNS = ("treatment", "type", "stage", "status", "refused_rule", "reason")


def huabei_voice_for_the_scored() -> Strategy:
    """The shipped huabei strategy with automated voice calls only for an account with a recorded behaviour
    score (the fact is null without one)."""
    shipped = HUABEI_FILE.read_text(encoding="utf-8")
    voice = "every_days: $ai_voice_every_days}\n"
    assert shipped.count(voice) >= 2
    return parse_strategy(
        shipped.replace(voice, voice.replace("}\n", ", when: {behaviour_score: {min: 0}}}\n"))
    )


def _store_scores(engine: Engine) -> list[tuple[Any, ...]]:
    query = text(
        "SELECT account_id, month_end, score_points, probability_bad_ppm, model_version, reasons "
        "FROM behaviour_scores WHERE month_end > :built ORDER BY account_id, month_end"
    )
    with engine.connect() as conn:
        return [
            (r[0], date.fromisoformat(str(r[1])), *r[2:])
            for r in conn.execute(query, {"built": STORE_BUILT.isoformat()})
        ]


def _store_actions(engine: Engine) -> list[tuple[Any, ...]]:
    query = text(
        "SELECT account_id, business_date, treatment, type, stage, status, refused_rule, reason "
        "FROM collection_actions WHERE business_date > :built AND treatment <> 'limit_notice' "
        "ORDER BY account_id, business_date, treatment"
    )
    with engine.connect() as conn:
        return [
            (r[0], date.fromisoformat(str(r[1])), *r[2:])
            for r in conn.execute(query, {"built": STORE_BUILT.isoformat()})
        ]


def test_the_exported_scores_carry_the_store_s_fact_on(engine: Engine, tmp_path: Path) -> None:
    """The store's January scores exported are the fact until the February month end; the folder's
    February scores and every action equal the reference's on the store."""
    build_store(engine, 31, STORE_BUILT, count=10)
    root = tmp_path / "state"
    assert export_store(engine, root) == STORE_BUILT
    exported = read_state(root, STORE_BUILT)
    assert exported.behaviour is not None and exported.behaviour.num_rows > 0
    with engine.connect() as conn:
        january = {
            r[0]: r[1] for r in conn.execute(text("SELECT account_id, score_points FROM behaviour_scores"))
        }
    ids = exported.tables.accounts["account_id"].to_pylist()
    got_latest = {ids[r["account_key"]]: r["behaviour_score"] for r in exported.behaviour.to_pylist()}
    assert got_latest == january

    strategy = huabei_voice_for_the_scored()
    run_eod(engine, STORE_THROUGH, collection=Collection(strategy))  # the reference, on the store itself
    run_nightly(root, STORE_THROUGH, ibis.duckdb.connect(), engine="duckdb", strategy=strategy)

    days = list(iter_days(STORE_BUILT + timedelta(days=1), STORE_THROUGH))
    scores = [
        (ids[r["account_key"]], r["month_end"], *(r[c] for c in SCORE_COLUMNS))
        for on in days
        for r in read_outputs(root, "behaviour_scores", on).to_pylist()
    ]
    assert sorted(scores) == _store_scores(engine)
    assert {s[1] for s in scores} == {date(2026, 2, 28)}
    actions = [
        (ids[r["account_key"]], r["business_date"], *(r[c] for c in ACTION_COLUMNS))
        for on in days
        for r in read_outputs(root, "actions", on).to_pylist()
    ]
    want = _store_actions(engine)
    assert sorted(actions, key=lambda r: (str(r[0]), r[1], str(r[2]))) == want
    # Before the February month end the automated calls read the January scores the snapshot holds
    # (without them no account would have a score, and none would be called).
    assert [w for w in want if w[3] == "ai_voice" and w[1] < date(2026, 2, 28)]
