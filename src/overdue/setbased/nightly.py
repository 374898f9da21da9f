"""The nightly job over a Parquet state folder: load the last snapshot, run day after day, write each day.

:func:`run_nightly` is what ``overdue eod --engine duckdb|postgres|spark --state DIR`` and the
``spark-submit`` entry point (:mod:`overdue.setbased.job`) run. It starts from the newest state snapshot
(:mod:`~overdue.setbased.snapshots`), or from a chosen date to run days again, loads it into the engine
once (:class:`~overdue.setbased.day.Portfolio`), and for each business date up to ``through`` runs the
set-based end-of-day and writes that day's outputs and state partition. A day that fails leaves the days
before it written and its own not: running the job again resumes from the last written day.

Every month end the accounts are scored with the shipped behaviour model, as the reference records the
scores whatever the strategy (:class:`~overdue.setbased.behaviour.BehaviourScorer`, over the snapshot's
statement and spell history and its latest scores): the scores recorded are the day's ``behaviour_scores``
output and each account's latest score is kept in the state (``behaviour_latest``), where the next day's
collections read the ``behaviour_score`` fact.

On DuckDB and Spark the engine reads the snapshot's state tables and writes each day's state tables and
outputs itself (:mod:`~overdue.setbased.parquet_engine`), so the portfolio does not pass through the
driver; on PostgreSQL (no Parquet of its own) they pass through it as Arrow. The collection records, the
limit review's tables, the behaviour scores and the manifest are written by the driver either way.

:func:`export_store` writes the first snapshot from the operational store (the accounts and their
collection records as the reference runner left them, read in bulk); :mod:`overdue.setbased.store_run`
runs days on the store itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
from ibis.backends import BaseBackend  # type: ignore[import-untyped]
from sqlalchemy import Engine

from overdue.compliance import rulebook
from overdue.domain.calendar import iter_days
from overdue.domain.errors import InvalidDate, InvalidInput, NotFound
from overdue.domain.terms import terms_from_json
from overdue.engine.limits import LimitReview
from overdue.engine.reference import check_templates
from overdue.setbased import collect_tables, layout, limits, parquet_engine, store_io
from overdue.setbased.backend import CHECKPOINT_DIR, table_name
from overdue.setbased.behaviour import BehaviourScorer
from overdue.setbased.collect import Collector
from overdue.setbased.day import Portfolio
from overdue.setbased.encode import (
    BROKEN_ARRANGEMENT,
    COMPLETED_ARRANGEMENT,
    LAPSED_ARRANGEMENT,
    PENDING_ARRANGEMENT,
    PLAN_KIND,
    day_number,
)
from overdue.setbased.layout import PortfolioTables
from overdue.setbased.limits_io import read_review
from overdue.setbased.limits_run import LimitReviewer
from overdue.setbased.memory import keep_freed_blocks, use_ordinary_pages
from overdue.setbased.snapshots import (
    COLLECTION_TABLES,
    STATE_TABLES,
    Snapshot,
    latest_state_before,
    read_latest_scores,
    read_manifest,
    read_records,
    read_state,
    state_dates,
    state_partition,
    write_behaviour_outputs,
    write_collection_outputs,
    write_limit_outputs,
    write_output_with,
    write_outputs,
    write_state,
    write_state_with,
)
from overdue.setbased.store_collect import read_behaviour, read_collections
from overdue.setbased.timing import Step, recording_if, steps_entry, timed
from overdue.strategy.model import Strategy

ENGINES = ("duckdb", "postgres", "spark")
"""The engines the nightly job runs on."""


@dataclass(frozen=True)
class NightlyDay:
    on: date
    accounts_run: int
    postings: int
    seconds: float
    """Wall-clock seconds of the day: the run, fetching its outputs and state, writing the Parquet."""
    steps: tuple[Step, ...] | None = None
    """Each step's time (:mod:`~overdue.setbased.timing`), when the run was asked to time them."""


@dataclass
class NightlySummary:
    engine: str
    state: Path
    started_from: date | None
    """The snapshot the run started from (None: nothing to do)."""
    days: list[NightlyDay] = field(default_factory=list)
    load_seconds: float = 0.0
    actions: int = 0
    """Collection actions recorded (queued or refused), when collections ran."""
    limit_changes: dict[str, int] = field(default_factory=dict)
    """Limit changes the review recorded, by action."""
    behaviour_scores: int = 0
    """Month-end behaviour scores recorded."""

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "state": str(self.state),
            "started_from": self.started_from.isoformat() if self.started_from else None,
            "load_seconds": round(self.load_seconds, 3),
            "dates": [d.on.isoformat() for d in self.days],
            "accounts_run": sum(d.accounts_run for d in self.days),
            "postings": sum(d.postings for d in self.days),
            "actions": self.actions,
            "limit_changes": dict(sorted(self.limit_changes.items())),
            "behaviour_scores": self.behaviour_scores,
            "days": [
                {
                    "date": d.on.isoformat(),
                    "accounts_run": d.accounts_run,
                    "postings": d.postings,
                    "seconds": round(d.seconds, 3),
                    **steps_entry(d.steps),
                }
                for d in self.days
            ],
        }


def connect(engine: str, postgres_url: str | None = None, checkpoint_dir: str | None = None) -> BaseBackend:
    """An Ibis connection for ``engine``: an in-process DuckDB, the PostgreSQL at ``postgres_url``, or the
    active Spark session (``spark-submit``'s, or a new ``local[*]`` one).

    checkpoint_dir: Spark only, a directory every executor reaches (HDFS, an object store): the tables
    are checkpointed reliably there rather than locally (:class:`~overdue.setbased.backend.SparkWorkspace`).
    The process takes Arrow's and NumPy's memory in ordinary pages (:func:`~overdue.setbased.memory.
    use_ordinary_pages`); DuckDB keeps the memory of the blocks it frees (:func:`~overdue.setbased.memory.
    keep_freed_blocks`).
    """
    if checkpoint_dir is not None and engine != "spark":
        raise InvalidInput(f"--checkpoint-dir goes with --engine spark, not {engine}")
    use_ordinary_pages()
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        keep_freed_blocks(con)
        return con
    if engine == "postgres":
        if not postgres_url or not postgres_url.startswith(("postgresql", "postgres:")):
            raise InvalidInput(
                "--engine postgres runs in a PostgreSQL database: give its URL with --db postgresql+psycopg://…"
            )
        url = postgres_url.replace("postgresql+psycopg://", "postgres://", 1).replace(
            "postgresql://", "postgres://", 1
        )
        return ibis.connect(url)
    if engine == "spark":
        # PySpark is imported only when asked for: its JVM starts with the session.
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName("overdue-eod")
        session = builder.getOrCreate() if _in_spark_submit() else builder.master("local[*]").getOrCreate()
        if checkpoint_dir is not None:
            session.conf.set(CHECKPOINT_DIR, checkpoint_dir)
        return ibis.pyspark.connect(session)
    raise InvalidInput(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)} (or reference)")


def _in_spark_submit() -> bool:
    return "SPARK_ENV_LOADED" in os.environ or "PYSPARK_GATEWAY_PORT" in os.environ


def run_nightly(
    root: Path,
    through: date,
    backend: BaseBackend,
    *,
    engine: str,
    start: date | None = None,
    progress: Callable[[date, int, int], None] | None = None,
    strategy: Strategy | None = None,
    review: LimitReview | None = None,
    native_parquet: bool = True,
    steps: bool = False,
) -> NightlySummary:
    """Run the end-of-days from ``start`` (default: the day after the newest snapshot) through ``through``.

    After each day the limit review runs (:class:`~overdue.setbased.limits_run.LimitReviewer`; ``review``:
    its policy and schedule, default the reference's): its changes, notices and messages are written as the
    day's outputs and its tables into the state. A snapshot without them starts with no limit change and no
    statement or bucket history beyond what its tables hold.

    At each month end, after the review, the accounts are scored (:class:`~overdue.setbased.behaviour.
    BehaviourScorer`): the scores are the day's ``behaviour_scores`` output and each account's latest score
    goes into the state. A snapshot without them starts with no account scored.

    strategy: after each day, decide → comply → act over the tables with it and the product's rulebook
    (:class:`~overdue.setbased.collect.Collector`; a condition on ``behaviour_score`` reads the latest scores,
    the month end's once it is scored), its actions, messages, work and validation notices written as the
    day's outputs and the collection records into the state. A snapshot without collection records starts
    every account with a new account's records. Without a strategy the snapshot's records are carried on as
    they are, but for the relief arrangements' ends, which they follow as the store's do without collections
    (the ``plan`` hold ended, a broken plan escalated).

    ``start`` runs days again: the snapshot of the day before it must exist, and the run must reach the
    newest snapshot (later snapshots would no longer follow from the days run again).

    native_parquet: on DuckDB and Spark, the engine reads the state tables and writes each day's state
    tables and outputs itself (:mod:`~overdue.setbased.parquet_engine`); False: through the driver with
    PyArrow, as on PostgreSQL. Either writes the same files (Spark: folders of part files).

    steps: time each step of every day (:mod:`~overdue.setbased.timing`: the engine's statements, the
    collection half's work on the fetched rows, the review and each write), in each day's ``steps``.
    """
    dates = state_dates(root)
    if not dates:
        raise NotFound(
            f"no state snapshot in {root}: write the first with `overdue state export --out {root}`"
        )
    if start is None:
        start = dates[-1] + timedelta(days=1)
        base = dates[-1]
    else:
        base = start - timedelta(days=1)
        if latest_state_before(root, start) != base:
            have = ", ".join(d.isoformat() for d in dates)
            raise InvalidDate(
                f"running from {start.isoformat()} needs the snapshot of {base.isoformat()} "
                f"(snapshots: {have})"
            )
        if through < dates[-1]:
            raise InvalidDate(
                f"snapshots up to {dates[-1].isoformat()} exist; running {start.isoformat()} … "
                f"{through.isoformat()} again would leave the later ones inconsistent: run through "
                f"{dates[-1].isoformat()}"
            )
    summary = NightlySummary(engine, root, None)
    if start > through:
        return summary
    began = time.perf_counter()
    snapshot, portfolio = _load(root, base, backend, native_parquet)
    native = native_parquet and portfolio.db.native_parquet
    changes, statement_history, spell_history = snapshot.limits or (None, None, None)
    reviewer = LimitReviewer.load(
        portfolio, changes, review, statement_history=statement_history, spell_history=spell_history
    )
    spell_history = _empty_spells() if spell_history is None else spell_history
    statement_history = _empty_history() if statement_history is None else statement_history
    scorer = BehaviourScorer(portfolio, spell_history, statement_history, snapshot.behaviour)
    collector = None
    records = snapshot.collection or tuple(schema.empty_table() for schema in COLLECTION_TABLES.values())
    if strategy is not None:
        # as the reference and the store path: templates failing the rulebook's lint never run
        check_templates(strategy, snapshot.terms.rulebook)
        collector = Collector(portfolio, strategy, rulebook(snapshot.terms.rulebook))
        collector.load(*records, spell_history=spell_history, behaviour=scorer)
    kept = snapshot.collection
    # Without a strategy the records are kept, but follow each arrangement's end as the store's do.
    follows = collector is None and kept is not None and _had_arrangements(portfolio)
    summary.started_from = base
    summary.load_seconds = time.perf_counter() - began
    days = list(iter_days(start, through))
    for done, on in enumerate(days):
        began = time.perf_counter()
        with recording_if(steps) as times:
            run = portfolio.run_day(on)
            with timed("limit review"):
                reviewed = reviewer.run_day(on)
            with timed("write: the day's outputs"):
                if native:
                    posting_rows = _save_outputs(root, on, portfolio, run.month_end)
                else:
                    postings, spells, bureau_months = portfolio.outputs()
                    write_outputs(root, on, postings, spells, bureau_months)
                    posting_rows = postings.num_rows
            with timed("write: the review's outputs"):
                write_limit_outputs(root, on, *reviewer.outputs(), reviewer.changed_accounts())
            for action, count in reviewed.recorded.items():
                summary.limit_changes[action] = summary.limit_changes.get(action, 0) + count
            if follows and kept is not None:
                kept = _follow_ends(portfolio, on, kept)
            if collector is not None:
                day = collector.run(on)  # scores a month end first (the scorer given to its load)
                with timed("write: the collection's outputs"):
                    write_collection_outputs(root, on, day.actions, day.messages, day.work, day.notices)
                summary.actions += day.actions.num_rows
                with timed("collection records"):
                    kept = (*collector.state(), records[-1])
            else:
                with timed("behaviour scores"):
                    scorer.run(on)
            with timed("write: behaviour scores"):
                write_behaviour_outputs(root, on, scorer.recorded)
            summary.behaviour_scores += scorer.recorded.num_rows
            limit_tables = (
                reviewer.changes(),
                *(snapshot.limits[1:] if snapshot.limits else (_empty_history(), _empty_spells())),
            )
            with timed("write: state"):
                if native:
                    writer = parquet_engine.save_state_tables(portfolio, tuple(STATE_TABLES))
                    write_state_with(
                        root,
                        on,
                        writer,
                        portfolio.carry_scale,
                        snapshot.terms,
                        kept,
                        limit_tables,
                        scorer.latest,
                    )
                else:
                    write_state(
                        root, on, portfolio.tables(), snapshot.terms, kept, limit_tables, scorer.latest
                    )
        timed_steps = None if times is None else tuple(times.steps())
        summary.days.append(
            NightlyDay(on, run.accounts_run, posting_rows, time.perf_counter() - began, timed_steps)
        )
        if progress is not None:
            progress(on, done + 1, len(days))
    return summary


def _load(root: Path, on: date, backend: BaseBackend, native_parquet: bool) -> tuple[Snapshot, Portfolio]:
    """The snapshot of ``on`` and its portfolio loaded into ``backend``: the state tables read by the engine
    itself where it can (the snapshot's ``tables`` then empty: they are not read into the driver)."""
    manifest = read_manifest(root, on)
    terms = terms_from_json(manifest["terms"])
    carry_scale = int(manifest["carry_scale"])
    portfolio = Portfolio(backend, terms, carry_scale)
    if not (
        native_parquet
        and portfolio.db.native_parquet
        and parquet_engine.state_tables_known(tuple(STATE_TABLES))
    ):
        snapshot = read_state(root, on)
        return snapshot, Portfolio.load(snapshot.tables, snapshot.terms, backend)
    present = tuple(manifest["rows"])
    parquet_engine.load_portfolio(state_partition(root, on), terms, carry_scale, portfolio, present)
    collection, kept = read_records(root, on)
    empty = PortfolioTables(**{n: s.empty_table() for n, s in STATE_TABLES.items()}, carry_scale=carry_scale)
    return Snapshot(on, empty, terms, collection, kept, read_latest_scores(root, on)), portfolio


def _save_outputs(root: Path, on: date, portfolio: Portfolio, month_end: bool) -> int:
    """Write the day's postings, bucket spells and bureau months by the engine; returns the postings' rows."""
    rows: dict[str, int] = {}
    for name, sql in parquet_engine.output_queries(portfolio, on, month_end).items():

        def write(folder: Path, name: str = name, sql: str = sql) -> None:
            rows[name] = parquet_engine.save_output(portfolio.db, sql, folder)

        write_output_with(root, name, on, write)
    return rows["postings"]


def export_store(engine: Engine, root: Path, progress: Callable[[int, int], None] | None = None) -> date:
    """Write the operational store's accounts as the first state snapshot; returns its business date.

    The store is read in bulk (:func:`overdue.setbased.store_io.read_store`, one query per table). Every
    account must be at the same business date (the reference end-of-day run through one date) and on one
    product; what the set-based day does not cover is refused, naming the account. Active relief
    arrangements are exported with the rest (the snapshot's arrangement tables): the nightly day reviews
    them. The snapshot holds the limit review's tables and the collection records
    (:func:`overdue.setbased.store_collect.read_collections`: collection states, promises, treatments done,
    the contact history, the holds in force at the end of the next date — the first the nightly job runs,
    as ``overdue eod --store`` reads them for the date it runs), so ``--strategy`` starts from what the
    store holds: the ``plan`` hold of an arrangement still kept in force, ended by the collections on the
    day the review ends the arrangement (:class:`~overdue.setbased.collect.Collector`). It holds each
    account's latest recorded behaviour score too (:func:`overdue.setbased.store_collect.read_behaviour`),
    the ``behaviour_score`` fact of the first day run.
    """
    with engine.connect() as conn:
        store = store_io.read_store(conn)
        ids = store.tables.accounts["account_id"].combine_chunks()
        review = read_review(conn, ids)
        on = store_io.business_date(store.tables)
        zones = store.tables.accounts["timezone"].combine_chunks()
        records = read_collections(conn, ids, zones, on + timedelta(days=1))
        latest = read_behaviour(conn, ids, on)
    kept = (review.changes, review.statement_history, review.spell_history)
    collection = (records.collections, records.promises, records.done, records.contacts)
    write_state(root, on, store.tables, store.terms, collection, kept, latest)
    if progress is not None:
        progress(store.tables.accounts.num_rows, store.tables.accounts.num_rows)
    return on


def _had_arrangements(portfolio: Portfolio) -> bool:
    """Whether any account has an arrangement active or ended (none becomes active in a run)."""
    rows = portfolio.db.fetch(
        f"SELECT COUNT(*) AS kept FROM {table_name('arrangements')} WHERE status <> {PENDING_ARRANGEMENT}",
        pa.schema([("kept", pa.int64())]),
    )
    count: int = rows["kept"][0].as_py()
    return count > 0


def _follow_ends(portfolio: Portfolio, on: date, records: tuple[pa.Table, ...]) -> tuple[pa.Table, ...]:
    """The collection records kept without a strategy (``collections`` first) with the arrangements the
    review of ``on`` ended followed as :func:`overdue.store.relief_repository.save_arrangement` follows them
    in the store, with collections or without: the ``plan`` hold ended at the start of the day (not in force
    at its end), a broken plan escalated (:func:`overdue.domain.collections.plan_broken`; an account without
    records gets a new account's). With a strategy the collector follows them
    (:class:`~overdue.setbased.collect.Collector`)."""
    ended = portfolio.db.fetch(
        f"SELECT account_key, CASE WHEN kind = {PLAN_KIND} AND status = {BROKEN_ARRANGEMENT} "
        f"THEN 1 ELSE 0 END AS broken FROM {table_name('arrangements')} "
        f"WHERE status IN ({COMPLETED_ARRANGEMENT}, {BROKEN_ARRANGEMENT}, {LAPSED_ARRANGEMENT}) "
        f"AND ended_on = {day_number(on)}",
        pa.schema([("account_key", pa.int64()), ("broken", pa.int64())]),
    )
    if ended.num_rows == 0:
        return records
    collections = records[0]
    by_key = {row["account_key"]: row for row in collections.to_pylist()}
    for key, broken in zip(ended["account_key"].to_pylist(), ended["broken"].to_pylist(), strict=True):
        row = collect_tables.followed_end(by_key.get(key), key, bool(broken), collections.schema.names)
        if row is not None:
            by_key[key] = row
    followed = pa.Table.from_pylist([by_key[key] for key in sorted(by_key)], schema=collections.schema)
    return (followed, *records[1:])


def _empty_history() -> pa.Table:
    return limits.STATEMENT_HISTORY.empty_table()


def _empty_spells() -> pa.Table:
    return layout.SPELLS.empty_table()
