"""Collection records for the decide → comply differential tests: drawn at random for each account, then
given to both runners — the reference's :func:`overdue.engine.collect.plan_collection` per account, and
the set-based :class:`overdue.setbased.collect.Collector` over tables — whose outputs must be equal."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ibis.backends import BaseBackend
from setbased_helpers import Borrower, Event

from overdue.compliance import PastContact, Rulebook
from overdue.domain import account as rules
from overdue.domain.collections import (
    CONTACT_CHANNELS,
    CONTACT_OUTCOMES,
    CONTACT_PARTIES,
    CollectionState,
    Promise,
    start_or_end_episode,
)
from overdue.domain.state import AccountState
from overdue.domain.terms import ProductTerms
from overdue.engine.collect import Collections, plan_collection
from overdue.setbased import Portfolio, tables_from_states
from overdue.setbased.collect import Collector
from overdue.setbased.collect_tables import HOLDS, collection_tables
from overdue.strategy import Strategy

FIXED = [
    Borrower(0, 5_000_000, "none", (Event(2, "purchase", 9_000, 3),)),
    Borrower(1, 300_000, "minimum", (Event(3, "purchase", 9_000, 3),)),
    Borrower(2, 800_000, "none", (Event(4, "purchase", 7_000, 3), Event(40, "repay_part", 5_000, 3))),
    Borrower(0, 2_000_000, "none", (Event(1, "purchase", 8_000, 3), Event(30, "installments", 0, 6))),
    Borrower(20, 900_000, "statement", (Event(21, "purchase", 6_000, 3),)),
]
"""Five borrowers for the runs of several days: some never pay, one pays the minimum, one opens late."""
ZONES = ("Asia/Shanghai", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")


def with_time_zones(states: list[AccountState], seed: int) -> list[AccountState]:
    """The states with debtors in several time zones (the rules count contacts by the debtor's local day)."""
    rng = random.Random(seed)
    return [dataclasses.replace(s, timezone=rng.choice(ZONES)) for s in states]


def draw_collections(
    rng: random.Random, account_id: str, on: date, strategy: Strategy, retired: bool = False
) -> tuple[Collections, dict[str, date], list[PastContact]]:
    """An account's collection records, contacts and treatments done, drawn so that every fact the
    strategy and the rulebook read takes each of its values now and then. retired: one account in seven
    has the stage ``retired`` (one the strategy no longer has) in place of the one drawn."""
    stages: list[str | None] = [None, *(s.name for s in strategy.stages)]
    promises = []
    for n in range(rng.choice([0, 0, 1, 1, 2, 3])):
        made = on - timedelta(days=rng.randint(0, 30))
        status = rng.choice(["pending", "pending", "kept", "broken"])
        resolved = None if status == "pending" else min(on, made + timedelta(days=rng.randint(0, 15)))
        promises.append(
            Promise(
                f"P{rng.randint(0, 12)}-{n}",
                made,
                rng.randint(1, 50_000),
                made + timedelta(days=rng.randint(0, 20)),
                status,
                rng.randint(0, 1000),
                resolved,
            )
        )
    episode_started_on = rng.choice([None, on - timedelta(days=rng.randint(0, 200))])
    stage = rng.choice(stages)
    if retired and stage is not None and sum(map(ord, account_id)) % 7 == 0:
        # a stage the strategy no longer has, which a record keeps until its episode ends (in place of
        # the one drawn: the draws that follow stay as they were)
        stage = "retired"
    state = CollectionState(
        account_id,
        episode_started_on=episode_started_on,
        stage=stage,
        escalation=rng.choice([0, 0, 0, 1, 2]),
        escalated_from=rng.choice(stages),
        contactability=rng.choice(["reachable", "reachable", "lost_contact"]),
        dispute_open=rng.random() < 0.08,
        litigation_hold=rng.random() < 0.08,
        attempts=rng.randint(0, 9),
        connects=rng.randint(0, 3),
        last_contact_on=rng.choice([None, on - timedelta(days=rng.randint(0, 30))]),
        promises=tuple(promises),
    )
    agency = rng.choice([None, None, "A1"])
    placed_on = None if agency is None else on - timedelta(days=rng.randint(0, 150))
    holds = frozenset(kind for kind in HOLDS if rng.random() < 0.06)
    collection = Collections(state, agency, placed_on, holds)
    ids = [t.id for t in strategy.treatments]
    done = {
        t: on - timedelta(days=rng.randint(1, 60)) for t in rng.sample(ids, rng.randint(0, len(ids) // 2))
    }
    history = [
        PastContact(
            datetime.combine(on + timedelta(days=rng.randint(-1, 1)), time(rng.randint(0, 23), 30), UTC),
            rng.choice([*CONTACT_CHANNELS, "voice", "voice", "ai_voice", "ai_voice"]),
            rng.choice([*CONTACT_PARTIES, "debtor", "debtor"]),
            rng.choice([*CONTACT_OUTCOMES, "no_answer", "no_answer", "connected", "busy"]),
        )
        for _ in range(rng.choice([0, 2, 5, 9, 14]))
    ]
    return collection, done, history


Row = tuple[object, ...]
Records = dict[str, tuple[Collections, dict[str, date], list[PastContact]]]
ACTION_FIELDS = (
    "treatment",
    "type",
    "stage",
    "template",
    "party",
    "priority",
    "experiment",
    "variant",
    "status",
    "refused_rule",
    "reason",
    "channel",
    "queue",
)


@dataclass
class Plans:
    """What one runner decided and did for each account on one day, in plain rows."""

    decisions: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    actions: dict[str, list[Row]] = field(default_factory=dict)
    messages: dict[str, list[Row]] = field(default_factory=dict)
    """Outbox rows: treatment, channel, template, body."""
    work: dict[str, list[Row]] = field(default_factory=dict)
    """Work queue rows: treatment, queue, priority."""
    states: dict[str, Row] = field(default_factory=dict)
    """The collection records after the day, of the accounts that ran."""
    done: dict[str, dict[str, date]] = field(default_factory=dict)


def state_row(cs: CollectionState, agency: str | None, placed_on: date | None, promises: list[Row]) -> Row:
    return (
        cs.episode_started_on,
        cs.stage,
        cs.escalation,
        cs.escalated_from,
        cs.contactability,
        cs.dispute_open,
        cs.litigation_hold,
        cs.attempts,
        cs.connects,
        cs.last_contact_on,
        tuple(sorted(promises, key=lambda p: str(p[0]))),
        agency,
        placed_on,
    )


def reference_day(
    after: Sequence[AccountState], on: date, records: Records, strategy: Strategy, rulebook: Rulebook
) -> tuple[Plans, Records]:
    """What the reference plans and records for each account after its end-of-day, and the records the
    next day starts from."""
    plans = Plans()
    following = dict(records)
    for account in after:
        if account.last_eod != on:
            continue
        collection, done_ever, history = records[account.id]
        # The caller loads what was done since the episode's start (store.last_done).
        episode = start_or_end_episode(collection.state, account.days_past_due, on).episode_started_on
        done = {t: d for t, d in done_ever.items() if episode is None or d >= episode}
        day = plan_collection(account, collection, on, done, strategy, rulebook, history)
        new = day.collection
        promises = [
            (p.id, p.made_on, p.amount, p.due_on, p.status, p.paid, p.resolved_on) for p in new.state.promises
        ]
        plans.states[account.id] = state_row(new.state, new.agency, new.placed_on, promises)
        done_after = dict(done_ever)
        done_after.update({s.action.treatment: on for s in day.steps if s.allowed})
        plans.done[account.id] = done_after
        following[account.id] = (new, done_after, history)
        if day.decision is None:
            continue
        plans.decisions[account.id] = (day.decision.stage, day.decision.paused_by)
        plans.actions[account.id] = [
            (
                s.action.treatment,
                s.action.type,
                s.action.stage,
                s.action.template,
                s.action.party,
                s.action.priority,
                s.action.experiment,
                s.action.variant,
                "queued" if s.allowed else "refused",
                s.rule,
                s.reason,
                s.channel,
                s.queue,
            )
            for s in day.steps
        ]
        plans.messages[account.id] = [
            (s.action.treatment, s.channel, s.action.template, s.body)
            for s in day.steps
            if s.allowed and s.channel is not None
        ]
        plans.work[account.id] = [
            (s.action.treatment, s.queue, s.action.priority)
            for s in day.steps
            if s.allowed and s.queue is not None
        ]
    return plans, following


def set_based_day(collector: Collector, on: date, ids: list[str], ran: set[str]) -> Plans:
    """Decide → comply → act over the tables (after the portfolio's end-of-day of ``on``), as rows."""
    day = collector.run(on)
    plans = Plans()
    for r in day.decisions.to_pylist():
        plans.decisions[ids[r["account_key"]]] = (r["stage"], r["paused_by"])
        plans.actions[ids[r["account_key"]]] = []
        plans.messages[ids[r["account_key"]]] = []
        plans.work[ids[r["account_key"]]] = []
    for r in day.actions.to_pylist():
        plans.actions[ids[r["account_key"]]].append(tuple(r[name] for name in ACTION_FIELDS))
    for r in day.messages.to_pylist():
        plans.messages[ids[r["account_key"]]].append((r["treatment"], r["channel"], r["template"], r["body"]))
    for r in day.work.to_pylist():
        plans.work[ids[r["account_key"]]].append((r["treatment"], r["queue"], r["priority"]))
    collections, promises, done = collector.state()
    by_account: dict[str, list[Row]] = {}
    for p in promises.to_pylist():
        by_account.setdefault(ids[p["account_key"]], []).append(
            (
                p["promise_id"],
                p["made_on"],
                p["amount"],
                p["due_on"],
                p["status"],
                p["paid"],
                p["resolved_on"],
            )
        )
    for c in collections.to_pylist():
        account_id = ids[c["account_key"]]
        if account_id not in ran:
            continue
        state = CollectionState(
            account_id,
            c["episode_started_on"],
            c["stage"],
            c["escalation"],
            c["escalated_from"],
            c["contactability"],
            c["dispute_open"],
            c["litigation_hold"],
            c["attempts"],
            c["connects"],
            c["last_contact_on"],
        )
        plans.states[account_id] = state_row(
            state, c["agency"], c["placed_on"], by_account.get(account_id, [])
        )
    done_rows = done.to_pylist()
    # one row an account and treatment (done_next does not make the day's keys distinct: they are)
    assert len({(d["account_key"], d["treatment"]) for d in done_rows}) == len(done_rows), f"done on {on}"
    for d in done_rows:
        if ids[d["account_key"]] in ran:
            plans.done.setdefault(ids[d["account_key"]], {})[d["treatment"]] = d["last_done"]
    return plans


def assert_same(got: Plans, want: Plans, on: date) -> None:
    assert got.decisions == want.decisions, f"decisions differ on {on}"
    for account_id, rows in want.actions.items():
        assert got.actions[account_id] == rows, f"actions of {account_id} on {on}"
    for account_id, rows in want.messages.items():
        assert got.messages[account_id] == rows, f"messages of {account_id} on {on}"
    assert got.work == want.work, f"work on {on}"
    for account_id, row in want.states.items():
        assert got.states[account_id] == row, f"collection state of {account_id} after {on}"
    assert got.states.keys() == want.states.keys()
    for account_id, done in want.done.items():
        assert got.done.get(account_id, {}) == done, f"done of {account_id} after {on}"


def load_collector(
    portfolio: Portfolio, tables_ids: list[str], records: Records, strategy: Strategy, rulebook: Rulebook
) -> Collector:
    keys = {account_id: key for key, account_id in enumerate(tables_ids)}
    collector = Collector(portfolio, strategy, rulebook)
    collector.load(
        *collection_tables(
            keys,
            {i: r[0] for i, r in records.items()},
            {i: r[1] for i, r in records.items()},
            {i: r[2] for i, r in records.items()},
        )
    )
    return collector


def assert_same_plans(
    before: list[AccountState],
    on: date,
    terms: ProductTerms,
    strategy: Strategy,
    rulebook: Rulebook,
    con: BaseBackend,
    seed: int,
    days: int = 1,
) -> Plans:
    """Run the end-of-day of ``on`` (and of the ``days - 1`` days after it, without events) and
    decide → comply → act with both runners, from the same random collection records; every day the
    decisions, actions (every field, in order), messages, work and collection records after it must be
    equal. The set-based records stay in the engine from one day to the next. Returns the reference's
    plans of the last day."""
    rng = random.Random(seed)
    records = {s.id: draw_collections(rng, s.id, on, strategy, retired=True) for s in before}
    tables = tables_from_states(before, terms)
    ids = tables.accounts["account_id"].to_pylist()
    portfolio = Portfolio.load(tables, terms, con)
    collector: Collector | None = None
    states = before
    want = Plans()
    for n in range(days):
        day = on + timedelta(days=n)
        states = [rules.end_of_day(s, day).state for s in states]
        want, records_after = reference_day(states, day, records, strategy, rulebook)
        portfolio.run_day(day)
        if collector is None:
            collector = load_collector(portfolio, ids, records, strategy, rulebook)
        got = set_based_day(collector, day, ids, {s.id for s in states if s.last_eod == day})
        assert_same(got, want, day)
        records = records_after
    return want
