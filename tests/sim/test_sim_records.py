"""A day's decide → comply over arrays (overdue.sim.records.plan_day) against the reference's
plan_collection, account by account, over a portfolio that lives through repayments, purchases, end-of-days,
contacts and promises; the collection records compared every day."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from overdue.compliance import rulebook as compliance_rulebook
from overdue.domain import account as rules
from overdue.domain import collections as collection_rules
from overdue.domain.allocation import repayable
from overdue.domain.calendar import add_months
from overdue.domain.collections import CollectionState
from overdue.domain.errors import OverdueError
from overdue.domain.state import AccountState
from overdue.domain.terms import product_terms
from overdue.engine.collect import Collections, plan_collection
from overdue.sim.book import Book
from overdue.sim.decide import ArrayStrategy
from overdue.sim.records import NO_SCORE, Records, plan_day
from overdue.strategy.loader import load_strategy, shipped_strategy
from overdue.strategy.model import Strategy

START = date(2026, 1, 1)
TERMS = product_terms("huabei")
SINK = Path(__file__).parent.parent / "setbased" / "setbased_sink_strategy.yaml"
VOICE = ("call", "ai_voice", "field_visit", "contact_call")


def _same_records(records: Records, i: int, account_id: str, names: list[str], coll: Collections) -> None:
    mine = records.state_of(i, account_id, names)
    cs = coll.state
    for field in ("episode_started_on", "stage", "escalation", "escalated_from", "contactability"):
        assert getattr(mine, field) == getattr(cs, field), (account_id, field, getattr(mine, field), cs)
    for field in ("attempts", "connects", "last_contact_on"):
        assert getattr(mine, field) == getattr(cs, field), (account_id, field)
    assert mine.promises == cs.promises, account_id
    for day in range(0, 10):
        on = START + timedelta(days=day)
        assert mine.promise_status(on) == cs.promise_status(on) or on < START, account_id
    assert bool(records.placed[i]) == (coll.agency is not None), account_id
    assert (date.fromordinal(int(records.placed_on[i])) if records.placed_on[i] else None) == coll.placed_on


def _run(strategy: Strategy, seed: int, n: int, months: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    ids = [f"R{seed}-{i:03d}" for i in range(n)]
    zones = ["Asia/Shanghai"] * n
    opened = np.array([(START + timedelta(days=int(d))).toordinal() for d in rng.integers(0, 28, n)])
    limits = rng.integers(500, 50_000, n).astype(np.int64) * 100
    payer = rng.random(n)
    book = Book(TERMS, START, months, limits, opened)
    arrays = ArrayStrategy(strategy)
    records = Records(n, len(arrays.treatments))
    records.account_ids = ids
    rulebook = compliance_rulebook("cn")
    combination = arrays.combinations_of(ids)
    scores = np.full(n, NO_SCORE, dtype=np.int64)
    names = [s.name for s in strategy.stages]
    states: list[AccountState | None] = [None] * n
    colls = [Collections(CollectionState(i), None, None) for i in ids]
    last_done: list[dict[str, date]] = [{} for _ in range(n)]
    episode_key: list[date | None] = [None] * n
    seen = {"decided": 0, "actions": 0, "refused": 0, "paused": 0, "escalated": 0, "promises": 0}
    on = START
    while on < add_months(START, months):
        today = on.toordinal()
        for i in book.open(today).tolist():
            states[i] = rules.open_account(ids[i], "huabei", TERMS, on, int(limits[i]))
        live = [i for i in range(n) if states[i] is not None]
        # Repayments (promises count them), then purchases, then the end-of-day.
        idx, amounts = [], []
        for i in live:
            state = states[i]
            assert state is not None
            most = repayable(state)
            if most > 0 and rng.random() < (0.05 + 0.15 * (state.days_past_due > 0)) * payer[i]:
                idx.append(i)
                amounts.append(most if rng.random() < 0.4 else max(1, int(most * rng.random())))
        if idx:
            rows, fen = np.array(idx), np.array(amounts, dtype=np.int64)
            book.repay(today, rows, fen)
            records.apply_repayment(rows, fen, today)
            for i, amount in zip(idx, amounts, strict=True):
                state = states[i]
                assert state is not None
                states[i] = rules.repay(state, on, amount).state
                c = colls[i]
                colls[i] = Collections(
                    collection_rules.apply_repayment(c.state, amount, on), c.agency, c.placed_on
                )
        buyers = [i for i in live if rng.random() < 0.2]
        if buyers:
            wanted = [int(rng.integers(100, 1 + int(limits[i]) // 3)) for i in buyers]
            codes = book.purchase(today, np.array(buyers), np.array(wanted, dtype=np.int64))
            for i, amount, code in zip(buyers, wanted, codes.tolist(), strict=True):
                state = states[i]
                assert state is not None
                try:
                    states[i] = rules.purchase(state, on, amount).state
                except OverdueError:
                    assert code != 0
        for i in live:
            state = states[i]
            assert state is not None
            states[i] = rules.end_of_day(state, on).state
        book.end_of_day(today)

        # Decide → comply both ways.
        rows = np.array(live, dtype=np.int64)
        planned = plan_day(on, rows, book, records, arrays, rulebook, ids, zones, scores, combination)
        by_account = {int(planned.decided[r]): r for r in range(len(planned.decided))}
        actions: dict[int, list[int]] = {}
        for j, r in enumerate(planned.decision.rows.tolist()):
            actions.setdefault(r, []).append(j)
        for i in live:
            state = states[i]
            assert state is not None
            coll = colls[i]
            episode = collection_rules.start_or_end_episode(
                coll.state, state.days_past_due, on
            ).episode_started_on
            if episode != episode_key[i]:
                last_done[i], episode_key[i] = {}, episode
            day = plan_collection(
                state, coll, on, last_done[i], strategy, rulebook, (), messages=False, trace=False
            )
            colls[i] = day.collection
            if day.decision is None:
                assert i not in by_account, (ids[i], on)
                _same_records(records, i, ids[i], names, colls[i])
                continue
            r = by_account[i]
            seen["decided"] += 1
            stage = int(planned.decision.stage[r])
            pause = int(planned.decision.pause[r])
            assert (names[stage] if stage >= 0 else None) == day.decision.stage, (ids[i], on)
            assert (strategy.pauses[pause].name if pause >= 0 else None) == day.decision.paused_by, (
                ids[i],
                on,
            )
            mine = actions.get(r, [])
            assert len(mine) == len(day.steps), (ids[i], on, day.steps)
            for j, step in zip(mine, day.steps, strict=True):
                combo = int(planned.facts.combination[r])
                action = arrays.action(int(planned.decision.treatments[j]), combo)
                assert action == step.action, (ids[i], on)
                assert bool(planned.allowed[j]) == step.allowed, (ids[i], on, step)
                assert planned.rule[j] == step.rule, (ids[i], on)
                assert (planned.reason[j] or action.reason) == step.reason, (ids[i], on)
            _same_records(records, i, ids[i], names, colls[i])
            seen["actions"] += len(day.steps)
            seen["refused"] += sum(not s.allowed for s in day.steps)
            seen["paused"] += day.decision.paused_by is not None
            seen["escalated"] += day.collection.state.escalation > 0

            # Act on both sides alike: some allowed actions done, voice contacts get an outcome.
            for j, step in zip(mine, day.steps, strict=True):
                if not step.allowed or rng.random() < 0.2:
                    continue
                t = int(planned.decision.treatments[j])
                last_done[i][step.action.treatment] = on
                records.last_done[i, t] = today
                if step.action.type not in VOICE:
                    continue
                outcome = str(rng.choice(["connected", "no_answer", "no_answer", "lost_contact", "promise"]))
                cs = colls[i].state
                one = np.array([i])
                if outcome == "promise" and state.days_past_due > 0:
                    amount, due = (
                        int(rng.integers(100, 100_000)),
                        on + timedelta(days=int(rng.integers(1, 6))),
                    )
                    cs = collection_rules.make_promise(cs, f"{ids[i]}/{on.isoformat()}", on, amount, due)
                    records.make_promise(one, today, np.array([amount]), np.array([due.toordinal()]))
                    seen["promises"] += 1
                elif outcome == "promise":
                    outcome = "connected"
                cs = collection_rules.record_contact(cs, outcome, on)
                connected = np.array([outcome in ("connected", "promise")])
                records.record_contact(one, connected, np.array([outcome == "lost_contact"]), today)
                colls[i] = dataclasses.replace(colls[i], state=cs)
        on += timedelta(days=1)
    return seen


@pytest.mark.parametrize("source", ["huabei", "sink"])
def test_planned_days_match_the_reference(source: str) -> None:
    strategy = shipped_strategy("huabei") if source == "huabei" else load_strategy(SINK)
    seen = _run(strategy, seed=3, n=40, months=8)
    # The portfolio reaches decisions, refusals (the sink's third parties), pauses, escalations and promises.
    assert seen["decided"] > 1_000 and seen["actions"] > 1_000
    assert seen["paused"] > 0 and seen["escalated"] > 0 and seen["promises"] > 0
    if source == "sink":
        assert seen["refused"] > 0


def test_a_strategy_reading_the_collection_score_is_refused() -> None:
    text = Path(SINK).read_text(encoding="utf-8").replace("attempts: {max: 5}", "score: {min: 10}")
    from overdue.strategy import parse_strategy

    arrays = ArrayStrategy(parse_strategy(text, name="scored"))
    book = Book(TERMS, START, 1, np.array([100_000]), np.array([START.toordinal()]))
    with pytest.raises(ValueError, match="collection score"):
        plan_day(
            START,
            np.array([0]),
            book,
            Records(1, len(arrays.treatments)),
            arrays,
            compliance_rulebook("cn"),
            ["A"],
            ["Asia/Shanghai"],
            np.array([NO_SCORE]),
            np.array([0]),
        )
