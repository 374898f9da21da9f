"""The collection records of the operational store read in bulk for the set-based collection half, and one
date's decide → comply → act written back.

:func:`read_collections` reads, one query per table, what :func:`overdue.engine.collect.collect` loads for
each account before it decides, into the layouts of :mod:`~overdue.setbased.collect_tables`, keyed by the
store path's ``account_key`` (the account's position in ``accounts`` ordered by id,
:func:`overdue.setbased.store_io.read_store`):

- ``collections``: one row per account — its ``collection_states`` row (agency and placement included), or
  a new account's records when it has none — with the holds in force at the end of the date in the
  debtor's time zone (``compliance_repository.open_holds``) and the date of its first US validation notice
  in that zone;
- ``promises``: each account's pending promises and latest resolved ones, the few
  ``collections_repository.load_collection_state`` loads (:data:`PROMISES_LOADED`);
- ``done``: per account and treatment, the last business date an action was recorded and not refused,
  whenever (the layout's expressions keep the part since the episode's start, as
  ``collections_repository.last_done`` is asked for);
- ``contacts``: the contacts a rulebook reads (``engine.collect.contact_history``): those of the last
  :data:`~overdue.engine.collect.HISTORY_DAYS` days before the first date run, and every objection of a
  third party. The end-of-day makes no contact, so the later dates of a run see the same rows, which the
  rules window by day.

The holds are kept as rows (:data:`HOLD_ROWS`) too: :func:`with_holds` gives the flags in force at the end
of each later date, since a hold may start or end between two dates of one run. An arrangement the date's
review ended ends the account's ``plan`` hold at the start of the date in the debtor's time zone (the
collections follow it, :class:`~overdue.setbased.collect.Collector`): the rows follow it too, as
``compliance_repository.end_hold`` ends it in the store (written there by
:func:`overdue.setbased.store_write.write_day`).

:func:`write_collections` writes a date's :class:`~overdue.setbased.collect.CollectionDay` in the date's
transaction: the ``collection_actions`` rows as ``collections_repository.record_action`` writes them (an
(account, date, treatment) already recorded is skipped, and so are its message and work), an outbox row
per allowed message and a work-queue row per allowed piece of work naming the new action ids, and the
collection records that changed (``collection_states`` and ``promises``, as ``save_collection_state``
writes them), and under a rulebook requiring it the US validation notices sent (``validation_notices``,
as ``compliance_repository.record_validation_notice`` writes them: sent at the start of the date in the
debtor's time zone; only those whose action was recorded now). One statement per table: on SQLite
``executemany`` (the actions' ``INSERT … ON CONFLICT DO NOTHING RETURNING`` batched by SQLAlchemy), on
PostgreSQL the rows copied into a temporary table (``COPY … FROM STDIN``) and inserted from it, the
outbox and work rows copied straight in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from sqlalchemy import Connection, and_, func, literal, or_, select, text
from sqlalchemy.dialects import sqlite

from overdue.compliance import Rulebook
from overdue.domain.collections import CollectionState
from overdue.domain.errors import InvalidInput
from overdue.engine.collect import HISTORY_DAYS
from overdue.engine.reference import check_templates
from overdue.risk.notices import NOTICE_TREATMENT as LIMIT_NOTICE
from overdue.setbased.behaviour import LATEST, BehaviourScorer
from overdue.setbased.collect import CollectionDay, Collector
from overdue.setbased.collect_notice import NOTICE_TREATMENT
from overdue.setbased.collect_tables import ACTIONS, COLLECTIONS, CONTACTS, DONE, HOLDS, PROMISES
from overdue.setbased.day import Portfolio
from overdue.setbased.params import Unsupported
from overdue.setbased.store_io import fetch_rows, keys_of
from overdue.setbased.store_write import (
    insert_rows,
    new_rows,
    record_actions,
    stage_name,
    stage_rows,
    upsert_rows,
)
from overdue.store import behaviour_repository
from overdue.store.account_tables import accounts
from overdue.store.behaviour_tables import behaviour_scores
from overdue.store.collection_tables import (
    collection_actions,
    collection_states,
    contacts,
    outbox,
    promises,
    work_items,
)
from overdue.store.compliance_tables import account_holds, validation_notices
from overdue.strategy.model import Strategy

PROMISES_LOADED = 5
"""Promises loaded per account: the pending ones first, then the latest resolved (as
``collections_repository.load_collection_state`` loads them)."""
STATE_COLUMNS = (
    "episode_started_on",
    "stage",
    "escalation",
    "escalated_from",
    "contactability",
    "dispute_open",
    "litigation_hold",
    "attempts",
    "connects",
    "last_contact_on",
    "agency",
    "placed_on",
)
"""The ``collections`` columns the store keeps in ``collection_states`` (the holds and the notice are read
from their own tables, never written from here)."""
HOLD_ROWS = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("started_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("ended_at", pa.timestamp("us", tz="UTC")),
    ]
)
"""The holds that may be in force on a date of the run (those ended before it are not read)."""
ACTION_COLUMNS = tuple(
    name
    for name in ACTIONS.names
    if name not in ("account_key", "business_date", "position", "channel", "queue")
)
"""The ``collection_actions`` columns besides the account, the date and the id: the day's action rows'
(:data:`~overdue.setbased.collect_tables.ACTIONS`) less their key, place and where they went."""


@dataclass(frozen=True)
class StoreCollections:
    """The store's collection records in the layouts of :mod:`~overdue.setbased.collect_tables`."""

    collections: pa.Table
    promises: pa.Table
    done: pa.Table
    contacts: pa.Table
    holds: pa.Table
    """Holds that may be in force on a date of the run (:data:`HOLD_ROWS`), for :func:`with_holds`."""


@dataclass
class Recorded:
    """What one date's write recorded (actions already recorded by an earlier run are not counted)."""

    by_type: dict[str, int] = field(default_factory=dict)
    """Actions by type, refused ones under ``refused`` (as the reference's end-of-day audit row counts)."""
    by_status: dict[str, int] = field(default_factory=dict)
    """Actions by status (``queued``, ``refused``)."""
    collection_states: int = 0
    """Accounts whose collection records changed."""


class StoreCollector:
    """A :class:`~overdue.setbased.collect.Collector` over the store's collection records: each date's holds
    in force, decide → comply → act, and what it recorded written back.

    portfolio: the day's state in its backend. strategy, rulebook: as the reference's end-of-day applies
    them; templates failing the rulebook's lint are refused (``engine.reference.check_templates``), and what
    the collection half does not compile (:class:`~overdue.setbased.params.Unsupported`), before any date
    runs. records: :func:`read_collections` of the first date. timezones: by ``account_key``.
    spell_history: the closed bucket spells read with the limit review
    (:func:`overdue.setbased.limits_io.read_review`), which the collection score reads. behaviour: the
    month-end behaviour scores (:class:`~overdue.setbased.behaviour.BehaviourScorer`, with the store's
    latest scores), which the day's collections run at month ends (a strategy reading
    ``behaviour_score`` is refused without it).
    """

    def __init__(
        self,
        portfolio: Portfolio,
        strategy: Strategy,
        rulebook: Rulebook,
        records: StoreCollections,
        timezones: pa.Array,
        spell_history: pa.Table,
        behaviour: BehaviourScorer | None = None,
    ) -> None:
        check_templates(strategy, rulebook.name)
        self.behaviour = behaviour
        self.collector = Collector(portfolio, strategy, rulebook)
        self.records = records
        self.timezones = timezones
        self.spell_history = spell_history
        self.kept: tuple[pa.Table, pa.Table, pa.Table] = (records.collections, records.promises, records.done)
        """The records as the store holds them (as written after the last date)."""
        self._load()

    def run(self, on: date) -> tuple[CollectionDay, tuple[pa.Table, pa.Table, pa.Table]]:
        """Decide, comply and act for the accounts whose day of ``on`` ran (run it and the review first);
        the day and the records after it (nothing written)."""
        held = with_holds(self.kept[0], self.records.holds, self.timezones, on)
        if not held.equals(self.kept[0]):  # a hold started or ended since the records were loaded
            self.kept = (held, *self.kept[1:])
            self._load()
        day = self.collector.run(on)
        if self.collector.ended.num_rows:
            self.records = replace(
                self.records,
                holds=_plan_holds_ended(
                    self.records.holds, self.collector.ended["account_key"], self.timezones, on
                ),
            )
        return day, self.collector.state()

    def _load(self) -> None:
        self.collector.load(
            *self.kept, self.records.contacts, spell_history=self.spell_history, behaviour=self.behaviour
        )

    def write(
        self,
        conn: Connection,
        ids: Sequence[str],
        day: CollectionDay,
        after: tuple[pa.Table, pa.Table, pa.Table],
    ) -> Recorded:
        """Write ``day`` and the records that changed (``after``: :meth:`run`'s) in the caller's
        transaction; ``ids``: every account's id by ``account_key``. The records of an account whose plan
        broke on the date are written even when the day left them as they were: the reference saves the
        escalated records before it decides."""
        broken = self.collector.ended.filter(self.collector.ended["broken"])["account_key"].to_pylist()
        recorded = write_collections(
            conn, ids, day, self.kept[:2], after[:2], self.timezones, escalated=broken
        )
        self.kept = after
        return recorded


# --- reading --------------------------------------------------------------------------------------------


def read_collections(conn: Connection, ids: pa.Array, timezones: pa.Array, on: date) -> StoreCollections:
    """Every account's collection records as the reference loads them after its end-of-day of ``on`` (the
    first date the run closes), one query per table.

    ids, timezones: every account's id and time zone by ``account_key`` (``read_store``'s accounts).
    """
    zones = timezones.to_pylist()
    holds = _holds(conn, ids, on)
    collections = _states(conn)
    notices = _notices(conn, ids, zones)
    collections = collections.append_column(
        "validation_notice_on", pa.array(notices, pa.date32())
    ).drop_columns(["account_id"])
    collections = _with_flags(collections, holds, zones, on)
    return StoreCollections(
        collections.select(COLLECTIONS.names).cast(COLLECTIONS),
        _promises(conn, ids),
        _done(conn, ids),
        _contacts(conn, ids, on - timedelta(days=HISTORY_DAYS)),
        holds,
    )


def _states(conn: Connection) -> pa.Table:
    """One row per account, by id: its ``collection_states`` row or a new account's records."""
    blank = CollectionState("")
    c = collection_states.c
    defaults = {
        "escalation": blank.escalation,
        "contactability": blank.contactability,
        "dispute_open": blank.dispute_open,
        "litigation_hold": blank.litigation_hold,
        "attempts": blank.attempts,
        "connects": blank.connects,
    }
    columns = [
        func.coalesce(c[name], literal(defaults[name], c[name].type)) if name in defaults else c[name]
        for name in STATE_COLUMNS
    ]
    query = (
        select(accounts.c.id, *columns)
        .outerjoin(collection_states, c.account_id == accounts.c.id)
        .order_by(accounts.c.id)
    )
    schema = pa.schema([pa.field("account_id", pa.string()), *(COLLECTIONS.field(n) for n in STATE_COLUMNS)])
    rows = fetch_rows(conn, query, schema)
    return rows.add_column(1, "account_key", pa.array(range(rows.num_rows), pa.int64()))


def _notices(conn: Connection, ids: pa.Array, zones: Sequence[str]) -> list[date | None]:
    """Each account's first validation notice's date in its time zone (None: none sent)."""
    first = conn.execute(
        select(validation_notices.c.account_id, func.min(validation_notices.c.sent_at)).group_by(
            validation_notices.c.account_id
        )
    ).all()
    found: list[date | None] = [None] * len(ids)
    if not first:
        return found
    keys = keys_of(pa.array([a for a, _ in first], pa.string()), ids).to_pylist()
    for key, (_, sent_at) in zip(keys, first, strict=True):
        if key is not None:
            found[key] = _utc(sent_at).astimezone(ZoneInfo(zones[key])).date()
    return found


def _holds(conn: Connection, ids: pa.Array, on: date) -> pa.Table:
    """The holds not ended two days before ``on`` (UTC: no time zone is that far ahead)."""
    h = account_holds.c
    since = datetime.combine(on - timedelta(days=2), time(0), tzinfo=UTC)
    rows = conn.execute(
        select(h.account_id, h.kind, h.started_at, h.ended_at)
        .where(or_(h.ended_at.is_(None), h.ended_at >= since))
        .order_by(h.account_id, h.started_at, h.id)
    ).all()
    unknown = sorted({kind for _, kind, _, _ in rows} - set(HOLDS))
    if unknown:
        first = next(a for a, kind, _, _ in rows if kind == unknown[0])
        raise Unsupported(f"holds of kind {', '.join(unknown)} (account {first})")
    return pa.table(
        {
            "account_key": keys_of(pa.array([r[0] for r in rows], pa.string()), ids),
            "kind": pa.array([r[1] for r in rows], pa.string()),
            "started_at": pa.array([_utc(r[2]) for r in rows], pa.timestamp("us", tz="UTC")),
            "ended_at": pa.array(
                [None if r[3] is None else _utc(r[3]) for r in rows], pa.timestamp("us", tz="UTC")
            ),
        },
        schema=HOLD_ROWS,
    )


def _with_flags(collections: pa.Table, holds: pa.Table, zones: Sequence[str], on: date) -> pa.Table:
    """``collections`` with its ``hold_*`` flags those in force at the end of ``on`` in each debtor's zone
    (``compliance_repository.open_holds`` at ``time.max`` local)."""
    ends: dict[str, datetime] = {}
    in_force: dict[str, set[int]] = {kind: set() for kind in HOLDS}
    for row in holds.to_pylist():
        key = row["account_key"]
        zone = zones[key]
        at = ends.get(zone)
        if at is None:
            at = ends[zone] = datetime.combine(on, time.max, tzinfo=ZoneInfo(zone)).astimezone(UTC)
        if row["started_at"] <= at and (row["ended_at"] is None or row["ended_at"] > at):
            in_force[row["kind"]].add(key)
    keys = collections["account_key"]
    for kind in HOLDS:
        flags = pc.is_in(keys, value_set=pa.array(sorted(in_force[kind]), pa.int64()))
        name = f"hold_{kind}"
        if name in collections.column_names:
            collections = collections.set_column(collections.schema.get_field_index(name), name, flags)
        else:
            collections = collections.append_column(name, flags)
    return collections


def _plan_holds_ended(holds: pa.Table, keys: pa.ChunkedArray, timezones: pa.Array, on: date) -> pa.Table:
    """``holds`` with the ``plan`` hold of each account in ``keys`` ended at the start of ``on`` in its time
    zone, as ``compliance_repository.end_hold`` ends the one in force then."""
    ended = set(keys.to_pylist())
    zones = timezones.to_pylist()
    rows = holds.to_pylist()
    for row in rows:
        key = row["account_key"]
        if key not in ended or row["kind"] != "plan" or row["ended_at"] is not None:
            continue
        at = datetime.combine(on, time(0), tzinfo=ZoneInfo(zones[key])).astimezone(UTC)
        if row["started_at"] <= at:
            row["ended_at"] = at
    return pa.Table.from_pylist(rows, schema=HOLD_ROWS)


def with_holds(collections: pa.Table, holds: pa.Table, timezones: pa.Array, on: date) -> pa.Table:
    """``collections`` (layout :data:`~overdue.setbased.collect_tables.COLLECTIONS`) with the holds in force
    at the end of ``on`` (``holds``: :attr:`StoreCollections.holds`; timezones: by ``account_key``)."""
    flagged = _with_flags(collections, holds, timezones.to_pylist(), on)
    return flagged.select(COLLECTIONS.names).cast(COLLECTIONS)


def _promises(conn: Connection, ids: pa.Array) -> pa.Table:
    p = promises.c
    rank = (
        func.row_number()
        .over(
            partition_by=p.account_id,
            order_by=[p.status != "pending", p.resolved_on.desc(), p.id.desc()],
        )
        .label("rank")
    )
    ranked = select(
        p.account_id, p.id, p.made_on, p.amount_fen, p.due_on, p.status, p.paid_fen, p.resolved_on, rank
    ).subquery()
    r = ranked.c
    rows = fetch_rows(
        conn,
        select(r.account_id, r.id, r.made_on, r.amount_fen, r.due_on, r.status, r.paid_fen, r.resolved_on)
        .where(r.rank <= PROMISES_LOADED)
        .order_by(r.account_id, r.id),
        pa.schema([pa.field("account_id", pa.string()), *list(PROMISES)[1:]]),
    )
    return rows.set_column(0, "account_key", keys_of(rows["account_id"], ids)).cast(PROMISES)


def _done(conn: Connection, ids: pa.Array) -> pa.Table:
    """The strategy's treatments done: each account's last date of each treatment not refused. The limit
    review's notices are not a strategy's treatment (the collection half never records them in ``done``)."""
    a = collection_actions.c
    rows = fetch_rows(
        conn,
        select(a.account_id, a.treatment, func.max(a.business_date))
        .where(a.status != "refused", a.treatment != LIMIT_NOTICE)
        .group_by(a.account_id, a.treatment)
        .order_by(a.account_id, a.treatment),
        pa.schema([pa.field("account_id", pa.string()), *list(DONE)[1:]]),
    )
    return rows.set_column(0, "account_key", keys_of(rows["account_id"], ids)).cast(DONE)


def _contacts(conn: Connection, ids: pa.Array, since: date) -> pa.Table:
    """The contacts ``collections_repository.recent_contacts`` reads from ``since``, every account at once."""
    c = contacts.c
    objection = and_(c.party != "debtor", c.outcome == "refused")
    rows = conn.execute(
        select(c.account_id, c.at, c.channel, c.party, c.outcome)
        .where(or_(c.business_date >= since, objection))
        .order_by(c.account_id, c.at, c.id)
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return pa.table(
        {
            "account_key": keys_of(pa.array(list(columns[0]), pa.string()), ids),
            "at": pa.array([_utc(at) for at in columns[1]], pa.timestamp("us", tz="UTC")),
            "channel": pa.array(list(columns[2]), pa.string()),
            "party": pa.array(list(columns[3]), pa.string()),
            "outcome": pa.array(list(columns[4]), pa.string()),
        }
    ).cast(CONTACTS)


def _utc(at: datetime) -> datetime:
    """A stored time, aware in UTC (SQLite gives back naive times for what was stored in UTC)."""
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


# --- writing --------------------------------------------------------------------------------------------


def write_collections(
    conn: Connection,
    ids: Sequence[str],
    day: CollectionDay,
    before: tuple[pa.Table, pa.Table],
    after: tuple[pa.Table, pa.Table],
    timezones: pa.Array | None = None,
    escalated: Sequence[int] = (),
) -> Recorded:
    """Write ``day`` into the store in the caller's transaction (see the module docstring).

    ids: every account's id by ``account_key``. before, after: the ``collections`` and ``promises`` tables
    before and after the day (:meth:`~overdue.setbased.collect.Collector.state`); the rows that differ are
    saved. timezones: every account's time zone by ``account_key`` (needed when ``day`` sends validation
    notices). escalated: accounts whose records are saved even when unchanged (a plan broken on the date).
    """
    recorded = Recorded()
    actions = day.actions.sort_by([("account_key", "ascending"), ("position", "ascending")]).to_pylist()
    rows = [
        {
            "account_id": ids[r["account_key"]],
            "business_date": r["business_date"],
            **{name: r[name] for name in ACTION_COLUMNS},
        }
        for r in actions
    ]
    action_ids = record_actions(conn, rows)
    for r in actions:
        if (ids[r["account_key"]], r["treatment"]) not in action_ids:
            continue
        key = r["type"] if r["status"] != "refused" else "refused"
        recorded.by_type[key] = recorded.by_type.get(key, 0) + 1
        recorded.by_status[r["status"]] = recorded.by_status.get(r["status"], 0) + 1
    messages = _linked(day.messages, ids, action_ids, ("channel", "template", "locale", "body"), "pending")
    insert_rows(conn, outbox, messages)
    insert_rows(
        conn, work_items, _linked(day.work, ids, action_ids, ("queue", "business_date", "priority"), "open")
    )
    _write_notices(conn, ids, day.notices, action_ids, timezones)
    recorded.collection_states = _write_records(conn, ids, before, after, escalated)
    return recorded


def _write_notices(
    conn: Connection,
    ids: Sequence[str],
    notices: pa.Table,
    action_ids: dict[tuple[str, str], int],
    timezones: pa.Array | None,
) -> None:
    """The ``validation_notices`` rows of the notices whose action was recorded now."""
    if notices.num_rows == 0:
        return
    if timezones is None:
        raise InvalidInput("validation notices to write, but no time zones to date them in")
    zones = pc.take(timezones, notices["account_key"]).to_pylist()
    rows = [
        {
            "account_id": ids[r["account_key"]],
            "sent_at": datetime.combine(r["business_date"], time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC),
            "period_ends_on": r["period_ends_on"],
            "channel": r["channel"],
        }
        for r, zone in zip(notices.to_pylist(), zones, strict=True)
        if (ids[r["account_key"]], NOTICE_TREATMENT) in action_ids
    ]
    insert_rows(conn, validation_notices, rows)


def _linked(
    rows: pa.Table,
    ids: Sequence[str],
    action_ids: dict[tuple[str, str], int],
    columns: Sequence[str],
    status: str,
) -> list[dict[str, Any]]:
    """The outbox or work rows (``rows``) of the actions recorded now, each naming its action's id, with
    ``columns`` and a new row's ``status``."""
    linked = []
    for r in rows.to_pylist():
        account_id = ids[r["account_key"]]
        action_id = action_ids.get((account_id, r["treatment"]))
        if action_id is not None:
            linked.append(
                {
                    "action_id": action_id,
                    "account_id": account_id,
                    **{c: r[c] for c in columns},
                    "status": status,
                }
            )
    return linked


def _write_records(
    conn: Connection,
    ids: Sequence[str],
    before: tuple[pa.Table, pa.Table],
    after: tuple[pa.Table, pa.Table],
    escalated: Sequence[int] = (),
) -> int:
    """The ``collection_states`` and ``promises`` rows that changed, and the states of ``escalated``; returns
    the states written."""
    columns = ["account_key", *STATE_COLUMNS]
    changed = new_rows(after[0].select(columns), before[0].select(columns)).to_pylist()
    if escalated:
        written = {r["account_key"] for r in changed}
        forced = pc.is_in(after[0]["account_key"], value_set=pa.array(sorted(escalated), pa.int64()))
        changed += [
            r for r in after[0].filter(forced).select(columns).to_pylist() if r["account_key"] not in written
        ]
    upsert_rows(
        conn,
        collection_states,
        [{"account_id": ids[r["account_key"]], **{name: r[name] for name in STATE_COLUMNS}} for r in changed],
        ["account_id"],
    )
    upsert_rows(
        conn,
        promises,
        [
            {
                "id": r["promise_id"],
                "account_id": ids[r["account_key"]],
                "made_on": r["made_on"],
                "amount_fen": r["amount"],
                "due_on": r["due_on"],
                "status": r["status"],
                "paid_fen": r["paid"],
                "resolved_on": r["resolved_on"],
            }
            for r in new_rows(after[1], before[1]).to_pylist()
        ],
        ["id"],
    )
    return len(changed)


# --- month-end behaviour scores -------------------------------------------------------------------------


def read_behaviour(conn: Connection, ids: pa.Array, on: date) -> pa.Table:
    """Each account's latest recorded behaviour score on or before ``on`` (:data:`~overdue.setbased.
    behaviour.LATEST`, by ``account_key``: ``ids`` are every account's id by key), as the reference reads
    them (:func:`overdue.store.behaviour_repository.latest_scores`); accounts never scored have no row."""
    rows = fetch_rows(
        conn,
        behaviour_repository.latest_scores_query(on),
        pa.schema([pa.field("account_id", pa.string()), LATEST.field("behaviour_score")]),
    )
    keys = keys_of(rows["account_id"], ids)
    known = pa.table({"account_key": keys, "behaviour_score": rows["behaviour_score"]}, schema=LATEST)
    return known.filter(pc.is_valid(keys)).sort_by("account_key")


def write_behaviour(conn: Connection, ids: Sequence[str], scores: pa.Table) -> int:
    """Record the month-end ``scores`` (:data:`~overdue.setbased.behaviour.SCORES`) in ``behaviour_scores``
    in the caller's transaction, once per account and month end as the reference's
    :func:`~overdue.store.behaviour_repository.record_score` (a score already recorded is kept); the rows
    given."""
    rows = [
        {
            "account_id": ids[r["account_key"]],
            "month_end": r["month_end"],
            "score_points": r["score_points"],
            "probability_bad_ppm": r["probability_bad_ppm"],
            "model_version": r["model_version"],
            "reasons": r["reasons"],
        }
        for r in scores.to_pylist()
    ]
    if not rows:
        return 0
    keys = ["account_id", "month_end"]
    if conn.dialect.name == "postgresql":
        columns = stage_rows(conn, behaviour_scores, rows)
        names = ", ".join(columns)
        conn.execute(
            text(
                f"INSERT INTO {behaviour_scores.name} ({names}) SELECT {names} "
                f"FROM {stage_name(behaviour_scores)} ON CONFLICT ({', '.join(keys)}) DO NOTHING"
            )
        )
    else:
        conn.execute(sqlite.insert(behaviour_scores).on_conflict_do_nothing(index_elements=keys), rows)
    return len(rows)
