"""One shard of the simulation over arrays: the reference shard's days, batch by batch instead of account by
account.

:func:`run_array_shards` takes the :class:`~overdue.sim.shard.ShardSpec` of consecutive shards (the
simulation cuts the portfolio into shards of 250 accounts; :func:`overdue.sim.run.simulate` hands a worker
many at once) and returns one :class:`~overdue.sim.result.ShardResult` for all their accounts, the same as
:func:`overdue.sim.shard.run_shard`'s results of those shards merged: the same borrowers
(:class:`~overdue.sim.behaviour.Behaviour`, each shard's draws from its own generators,
:class:`~overdue.sim.draws.BlockRng` and :class:`~overdue.sim.draws.BlockKeyedDraws`), the same rules — the
accounts on a :class:`~overdue.sim.book.Book`, their collection records on
:class:`~overdue.sim.records.Records`, the strategy decided over columns
(:class:`~overdue.sim.decide.ArrayStrategy`) — in the same order within each account's day:

1. life events and pressure, then the day's behaviour in batches: promised repayments, other repayments of
   the delinquent, statement repayments, purchases (each account once per batch, so each account's events
   keep the reference's order);
2. the end-of-day of every open account; the limit reviews and, at a month end, the behaviour scores;
3. decide → comply for the accounts that may need it (:func:`~overdue.sim.records.plan_day`), then each
   account's planned actions position by position: the first action of every account, then the second, …
   An allowed contact is checked again at its own time and made; voice and field contacts are answered from
   the borrower's own keyed draws (:meth:`~overdue.sim.draws.KeyedDraws.next_many`), in the order the
   reference draws them.

A contact's check at its time is exact without asking the rulebook when it provably passes (the China
rulebook: the simulator's contact hours lie inside its window, the account has no hold, the party is the
debtor or a guarantor, and the day's conversations, unanswered calls and field visits are under their
caps); otherwise the rulebook itself checks it, with the contact's time and the day's contacts.

The limit reviews and the behaviour scores run over arrays (:mod:`~overdue.sim.risk_arrays`); the reference's
own review, on the account's state (:meth:`~overdue.sim.book.Book.state_of`), records each change whose
decision needs it, and the month-end collection score of each delinquent account is the reference's
(:func:`~overdue.risk.collection.shipped_propensity`, on facts read from the arrays). With a daily capacity
of human calls (:mod:`overdue.sim.calls`) the calls wait and are made at the end of the day in the policy's
order, each shard's up to its share, as the reference makes them (:meth:`ArrayShard._make_calls`). What this
runner refuses (:class:`ValueError`, :func:`overdue.sim.run.array_runner_refuses`): sampling collection
outcomes, keeping records to persist, a rulebook other than China's, and a strategy that reads the
collection score. Differential tests
(``tests/sim/test_sim_array_shard.py``) run shards both ways and compare every tally, panel, final state and
collection record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from overdue.compliance import PastContact, PlannedContact
from overdue.compliance import rulebook as compliance_rulebook
from overdue.compliance.rules import CALL_CHANNELS, DEFAULT_PARAMS, UNANSWERED
from overdue.domain.calendar import add_months, is_month_end, month_key
from overdue.domain.collections import CONTACT_PARTIES as PARTIES
from overdue.domain.collections import CONVERSATIONS
from overdue.domain.state import AccountState
from overdue.domain.terms import product_terms
from overdue.engine.collect import UNASSIGNED_AGENCY, Collections
from overdue.reports.metrics import BUCKETS
from overdue.risk.behaviour import shipped_model as shipped_behaviour_model
from overdue.risk.collection import (
    SCORE_FACT_SCALE,
    CollectionFacts,
    delinquency_entries,
    shipped_propensity,
)
from overdue.risk.notices import NOTICE_CHANNEL, NOTICE_STAGE
from overdue.sim.behaviour import ANSWER_STREAM, DAY_STREAM, FULL, NOTHING, REVOLVE, SHORT, Behaviour
from overdue.sim.book import ACTIVE, CLOSED, FROZEN, WRITTEN, Book
from overdue.sim.calls import CALL_TYPES, LOT_STREAM, ORDERS
from overdue.sim.contacts import CONTACT_HOURS, CONTACT_TYPES, FIELD_TEAM, TIMES_STREAM
from overdue.sim.decide import ArrayStrategy
from overdue.sim.draws import BlockKeyedDraws, BlockRng
from overdue.sim.limits import LimitBook
from overdue.sim.model import CONNECT_PROBABILITY, VOICE_TYPES, BehaviourModel
from overdue.sim.oracle import oracle_extra
from overdue.sim.records import NO_SCORE, PlannedDay, Records, facts_now, plan_day
from overdue.sim.result import NOT_OPEN, NOT_SCORED, ShardResult
from overdue.sim.risk_arrays import BehaviourArrays, behaviour_values, review_candidates, scored
from overdue.sim.shard import NO_VARIANT, ShardSpec, month_ends_between, variants_for
from overdue.sim.tallies import EpisodeTallies
from overdue.sim.uplift import UpliftLog
from overdue.strategy import ACTION_TYPES, parse_strategy

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

CODES = {"active": ACTIVE, "frozen": FROZEN, "closed": CLOSED, "written_off": WRITTEN}


class ArrayShard:
    """The running state of consecutive shards over arrays; :func:`run_array_shards` drives it."""

    def __init__(self, specs: Sequence[ShardSpec]) -> None:
        spec = specs[0]
        if any(s.index != spec.index + k for k, s in enumerate(specs)):
            raise ValueError("an array shard holds consecutive shards")
        if spec.log_outcomes or spec.keep_records:
            raise ValueError("the array runner neither samples outcomes nor keeps records yet")
        self.model: BehaviourModel = spec.model
        self.terms = product_terms("huabei")
        if self.terms.rulebook != "cn":
            raise ValueError("the array runner checks contacts with China's rulebook only")
        self.rulebook = compliance_rulebook(self.terms.rulebook)
        self.strategy = parse_strategy(spec.strategy_text, name="simulated strategy")
        self.arrays = ArrayStrategy(self.strategy)
        borrowers = tuple(b for s in specs for b in s.borrowers)
        self.borrowers = borrowers
        blocks = [(s.index, len(s.borrowers)) for s in specs]
        self.behaviour = Behaviour(borrowers, spec.model, spec.seed, spec.index)
        # Each shard's draws as the reference shard draws them (overdue.sim.draws.BlockRng).
        self.behaviour.rng = BlockRng(spec.seed, DAY_STREAM, blocks)  # type: ignore[assignment]
        self.behaviour.answers = BlockKeyedDraws(spec.seed, ANSWER_STREAM, blocks)  # type: ignore[assignment]
        n = self.n = len(borrowers)
        self.ids = [b.account_id for b in borrowers]
        self.zones = [b.timezone for b in borrowers]
        self.languages = [b.language for b in borrowers]
        months = (spec.end.year - spec.start.year) * 12 + spec.end.month - spec.start.month + 1
        self.book = Book(
            self.terms,
            spec.start,
            months,
            np.array([b.credit_limit for b in borrowers], dtype=np.int64),
            np.array([b.opened_on.toordinal() for b in borrowers], dtype=np.int64),
        )
        self.records = Records(n, len(self.arrays.treatments))
        self.records.account_ids = self.ids
        self.variant = variants_for(self.ids, self.strategy)
        variant_names = sorted(set(self.variant))
        self.variant_code = np.array([variant_names.index(v) for v in self.variant], dtype=np.int64)
        self.variant_names = variant_names
        self.combination = self.arrays.combinations_of(self.ids)
        self.stage_names = [s.name for s in self.strategy.stages]
        self.tallies = EpisodeTallies(self.variant, self.stage_names)
        """The reference's tallies: their counts and per-account arrays (followed here in batches)."""
        self.counts: Counter[tuple[str, ...]] = self.tallies.counts
        self.limits = LimitBook(n, self.terms, self.counts)
        self.limit_at = np.zeros_like(self.book.amount)
        """Each account's limit at the end of each statement day (the limit in force for that cycle)."""
        self.last_action = np.full(n, "", dtype=object)
        self.last_review = np.zeros(n, dtype=np.int64)
        self.last_move = np.zeros(n, dtype=np.int64)
        self.scorer = BehaviourArrays(shipped_behaviour_model())
        # What each treatment's actions are, by treatment index.
        treatments = self.arrays.treatments
        self.t_type = np.array([t.type for t in treatments], dtype=object)
        self.t_type_index = np.array([ACTION_TYPES.index(t.type) for t in treatments], dtype=np.int64)
        self.t_contact = np.array([t.type in CONTACT_TYPES for t in treatments], dtype=bool)
        self.t_channel = np.array([CONTACT_TYPES.get(t.type, "") for t in treatments], dtype=object)
        self.t_voice = np.array([t.type in VOICE_TYPES for t in treatments], dtype=bool)
        self.t_call = np.array([CONTACT_TYPES.get(t.type) in CALL_CHANNELS for t in treatments], dtype=bool)
        self.t_field = np.array([CONTACT_TYPES.get(t.type) == "field" for t in treatments], dtype=bool)
        self.t_party = np.array([t.party for t in treatments], dtype=object)
        self.t_party_code = np.array([PARTIES.index(t.party) for t in treatments], dtype=np.int64)
        self.t_plain = np.array([t.party in ("debtor", "guarantor") for t in treatments], dtype=bool)
        self.t_lift = np.array([self.model.lifts.get(t.type, 0.0) for t in treatments], dtype=np.float64)
        self.t_human_call = np.array([t.type in CALL_TYPES for t in treatments], dtype=bool)
        self.behaviour_score = np.full(n, NO_SCORE, dtype=np.int64)
        self.month_scores = np.full(n, NOT_SCORED, dtype=np.int32)
        self.times = BlockKeyedDraws(spec.seed, TIMES_STREAM, blocks)
        self.calls = spec.calls
        """The daily capacity of human calls and their order (:mod:`overdue.sim.calls`)."""
        self.lots = BlockKeyedDraws(spec.seed, LOT_STREAM, blocks)
        self.block_starts = np.cumsum([0, *(size for _, size in blocks[:-1])]).astype(np.int64)
        self.block_capacity = np.array(
            [self.calls.shard_capacity(size) if self.calls.limited else 0 for _, size in blocks],
            dtype=np.int64,
        )
        self.uplift_log = UpliftLog(self.counts)
        tallies = self.tallies
        self.dpd, self.past_due, self.stage = tallies.dpd, tallies.past_due, tallies.stage
        self.stage_mask, self.type_mask, self.last_touch = (
            tallies.stage_mask,
            tallies.type_mask,
            tallies.last_touch,
        )
        self.due_candidates = np.zeros(0, dtype=np.int64)
        self.due_month = ""
        self.repaid_past_due = np.zeros(n, dtype=np.int64)
        params = {**DEFAULT_PARAMS, **self.rulebook.params}  # type: ignore[attr-defined]
        self.max_conversations = int(params["max_voice_conversations_per_day"])
        self.max_unanswered = int(params["max_unanswered_per_number_per_day"])
        self.max_field = int(params["max_field_visits_per_day"])
        quiet_end = time.fromisoformat(str(params["quiet_end"]))
        quiet_start = time.fromisoformat(str(params["quiet_start"]))
        opens, closes = CONTACT_HOURS
        self.inside_hours = quiet_end <= opens and closes < quiet_start
        """Whether every contact time the simulator draws is inside the rulebook's contact hours."""

    # --- tallies ----------------------------------------------------------------------------------------

    def count(self, key: tuple[str, ...], rows: Ints, amounts: Ints | None = None) -> None:
        """Add one (or ``amounts``) per row under ``key + (variant,)``."""
        if not len(rows):
            return
        weights = None if amounts is None else amounts.astype(np.float64)
        totals = np.bincount(self.variant_code[rows], weights=weights, minlength=len(self.variant_names))
        for code, total in enumerate(totals.tolist()):
            if total:
                self.counts[(*key, self.variant_names[code])] += int(total)

    def count_by(
        self, key: tuple[str, ...], labels: list[str], rows: Ints, amounts: Ints | None = None
    ) -> None:
        """Like :meth:`count`, with one more label per row (a stage or a type) before the variant."""
        if not len(rows):
            return
        combined: Counter[tuple[str, str]] = Counter()
        codes = self.variant_code[rows].tolist()
        values = [1] * len(rows) if amounts is None else amounts.tolist()
        for label, code, value in zip(labels, codes, values, strict=True):
            if value:
                combined[(label, self.variant_names[code])] += value
        for (label, variant), value in combined.items():
            self.counts[(*key, label, variant)] += value

    def stage_label(self, rows: Ints) -> list[str]:
        return [self.stage_names[s] if s >= 0 else "current" for s in self.stage[rows].tolist()]

    def follow_dpd(self, rows: Ints, dpd: Ints) -> None:
        """:meth:`EpisodeTallies.follow_dpd` for a batch (each account once)."""
        before = self.dpd[rows]
        starts = rows[(before == 0) & (dpd > 0)]
        self.count(("episodes",), starts)
        self.stage_mask[starts] = 0
        self.type_mask[starts] = 0
        self.last_touch[starts] = -1
        cures = rows[(before > 0) & (dpd == 0)]
        if len(cures):
            self.count(("cured",), cures)
            staged = cures[self.stage[cures] >= 0]
            self.count_by(("stage_cured",), self.stage_label(staged), staged)
            for t, name in enumerate(ACTION_TYPES):
                had = cures[(self.type_mask[cures] >> t) & 1 == 1]
                self.count(("type_cured", name), had)
            self.stage[cures] = -1
            self.past_due[cures] = 0
        self.dpd[rows] = dpd

    # --- the day's behaviour --------------------------------------------------------------------------------

    def repay(self, today: int, rows: Ints, amounts: Ints) -> None:
        """Repayments as the reference shard makes them (clipped to what can be repaid), with their
        bookkeeping: promises, recovery and exposure, DPD."""
        book = self.book
        amounts = np.minimum(amounts, book.repayable(rows))
        keep = amounts > 0
        rows, amounts = rows[keep], amounts[keep]
        if not len(rows):
            return
        late = book.dpd[rows] > 0
        before = np.where(late, book.cure_amount(rows, today), 0)
        book.repay(today, rows, amounts)
        self.counts[("repayments",)] += len(rows)
        self.counts[("repaid_fen",)] += int(amounts.sum())
        kept = self.records.apply_repayment(rows, amounts, today)
        self.counts[("promises", "kept")] += int(kept.sum())
        recovering = before > 0
        if recovering.any():
            r, amount, was = rows[recovering], amounts[recovering], before[recovering]
            after = np.where(book.dpd[r] > 0, book.cure_amount(r, today), 0)
            self.recovered(r, amount, was, after)
            self.repaid_past_due[r] += np.minimum(amount, was)
        self.follow_dpd(rows, book.dpd[rows])

    def recovered(self, rows: Ints, amounts: Ints, before: Ints, after: Ints) -> None:
        """:meth:`EpisodeTallies.recovered` for a batch."""
        stages = self.stage_label(rows)
        unseen = before - self.past_due[rows]
        seen = unseen > 0
        self.count_by(
            ("exposure",),
            [s for s, u in zip(stages, seen.tolist(), strict=True) if u],
            rows[seen],
            unseen[seen],
        )
        self.count(("exposure_total",), rows[seen], unseen[seen])
        recovered = np.minimum(amounts, before)
        self.count_by(("recovered",), stages, rows, recovered)
        self.count(("recovered_total",), rows, recovered)
        touched = self.last_touch[rows] >= 0
        labels = [ACTION_TYPES[t] for t in self.last_touch[rows[touched]].tolist()]
        self.count_by(("recovered_after",), labels, rows[touched], recovered[touched])
        placed = self.records.placed[rows]
        self.count(("agency_recovered",), rows[placed], recovered[placed])
        self.past_due[rows] = after

    def behave(self, on: date) -> None:
        b, book = self.behaviour, self.book
        today = on.toordinal()
        active = book.opened & (book.status == ACTIVE)
        written = book.status == WRITTEN
        draws = b.draw_day(today, self.dpd, active, written)
        promised = np.flatnonzero(draws.promised)
        if len(promised):
            self.repay(today, promised, b.promise_amount[promised].copy())
            b.promise_ord[promised] = 0
        paying = np.flatnonzero(draws.pays_delinquent & ~draws.promised)
        if len(paying):
            cure = book.cure_amount(paying, today)
            everything = book.statement_owed[paying]
            kind, ability, share = draws.kind_draw[paying], draws.ability[paying], draws.share_draw[paying]
            amount = np.where(
                kind < ability**2,
                np.where(everything > 0, everything, cure),
                np.where(kind < 0.85, cure, np.maximum(1, (cure * share).astype(np.int64))),
            )
            self.repay(today, paying, amount.astype(np.int64))
        scheduled = np.flatnonzero(draws.scheduled)
        if len(scheduled):
            amount = self.statement_amounts(scheduled, b.cycle_kind[scheduled], draws.share_draw[scheduled])
            pays = amount > 0
            self.repay(today, scheduled[pays], amount[pays])
            b.cycle_kind[scheduled] = 0
        spenders = np.flatnonzero(draws.spends)
        if len(spenders):
            amount = np.minimum(draws.purchase[spenders], book.available_credit(spenders))
            big = amount >= 100
            spenders, amount = spenders[big], amount[big]
            refused = book.purchase(today, spenders, amount)
            ok = refused == 0
            self.counts[("purchases",)] += int(ok.sum())
            self.counts[("purchase_fen",)] += int(amount[ok].sum())
            if (~ok).any():  # after clipping to the available credit, only a line not usable refuses
                self.counts[("refused_events", "line-not-usable")] += int((~ok).sum())

    def statement_amounts(self, rows: Ints, kind: npt.NDArray[np.int8], share: Floats) -> Ints:
        """:meth:`Behaviour.statement_amount` for a batch: what each pays on its planned day."""
        book = self.book
        latest = book.latest(rows)
        slot = np.maximum(latest, 0)
        outstanding = np.where(latest >= 0, book.owed[rows, slot], 0)
        remaining = np.maximum(book.remaining[rows, slot], 0)
        everything = book.statement_owed[rows]
        amount = np.select(
            [kind == FULL, kind == REVOLVE, kind == SHORT],
            [
                everything,
                remaining + ((outstanding - remaining) * share).astype(np.int64),
                (remaining * share).astype(np.int64),
            ],
            0,
        )
        nothing = (latest < 0) | (outstanding == 0) | (kind == NOTHING)
        result: Ints = np.where(nothing, 0, amount).astype(np.int64)
        return result

    def end_of_day(self, today: int) -> None:
        self.book.end_of_day(today)
        rows = np.flatnonzero(self.book.opened)
        self.follow_dpd(rows, self.book.dpd[rows])

    def plan_statements(self, on: date) -> None:
        book = self.book
        today = on.toordinal()
        rows = np.flatnonzero(book.opened & (self.dpd == 0))
        latest = book.latest(rows)
        slot = np.maximum(latest, 0)
        fresh = (latest >= 0) & (book.statement_ord[slot] == today) & (book.owed[rows, slot] > 0)
        picked = rows[fresh]
        due = book.due_ord[slot[fresh]]
        self.behaviour.plan_statements(picked.tolist(), due.tolist())

    # --- reviews and scores (the reference's functions on each account's state) ----------------------------

    def state(self, i: int) -> AccountState:
        return self.book.state_of(i, self.ids[i], self.zones[i], self.languages[i])

    def review_limits(self, on: date) -> None:
        """The limit changes due today, then (on a review day) the review of every open account: only the
        accounts whose review records a change go through the reference's review
        (:func:`~overdue.sim.risk_arrays.review_candidates`)."""
        for i in self.limits.due_today(on):
            self._set_limit(i, self.limits.apply_pending(i, self.state(i), on))
        if not self.limits.due(on):
            return
        book = self.book
        opened = np.flatnonzero(book.opened)
        reviewed = review_candidates(
            book,
            opened,
            on,
            self.limits.params,
            self.limit_at,
            self.last_action,
            self.last_review,
            self.last_move,
        )
        notice = timedelta(days=self.limits.params.cut_notice_days)
        for i, action, new, doubtful in reviewed.items():
            if doubtful:  # the reference's own review decides
                state = self.state(i)
                after, change = self.limits.review(i, state, state.statements, on)
                if after is not state:
                    self._set_limit(i, after)
                if change is None:
                    continue
            else:
                effective = on + notice if action == "cut" else on
                if self.limits.record(i, on, action, int(book.limit[i]), new, effective):
                    self.limits.applied(i, new, on)
                    self._apply(i, action, new)
            self.counts[("actions", NOTICE_CHANNEL, NOTICE_STAGE, NO_VARIANT, "allowed")] += 1
            recorded = self.limits.changes[i][-1]
            self.last_action[i] = recorded.action
            self.last_review[i] = recorded.review_date.toordinal()
            if recorded.action in ("raise", "cut"):
                self.last_move[i] = recorded.effective_on.toordinal()
        slot = book.slots(on.toordinal()) - 1
        self.limit_at[:, slot] = book.limit

    def _apply(self, i: int, action: str, limit: int) -> None:
        """:func:`overdue.risk.changes.apply_change` on the book: the new limit; a freeze freezes an active
        line, a close closes an active or frozen one."""
        status = int(self.book.status[i])
        if action == "freeze" and status == ACTIVE:
            status = FROZEN
        if action == "close" and status in (ACTIVE, FROZEN):
            status = CLOSED
        self.book.set_limit(np.array([i]), np.array([limit]), np.array([status], dtype=np.int8))
        self.behaviour.limit[i] = limit

    def _set_limit(self, i: int, state: AccountState) -> None:
        rows = np.array([i], dtype=np.int64)
        self.book.set_limit(
            rows, np.array([state.credit_limit]), np.array([CODES[str(state.status)]], np.int8)
        )
        self.behaviour.limit[i] = state.credit_limit

    def score_behaviour(self, on: date) -> None:
        """The month-end behaviour score of every account the month end scores (over arrays,
        :mod:`overdue.sim.risk_arrays`)."""
        self.month_scores.fill(NOT_SCORED)
        rows = scored(self.book)
        if len(rows):
            points = self.scorer.points(behaviour_values(self.book, rows, on))
            self.behaviour_score[rows] = points
            self.month_scores[rows] = points

    def collection_score(self, i: int, on: date) -> float:
        """The shipped collection model's propensity for a delinquent account (:func:`collection_facts`)."""
        records = self.records
        year_ago = add_months(on, -12)
        episode = records.episode[i]
        start = date.fromordinal(int(episode)) if episode else on
        entries = delinquency_entries(self.book.bucket_history(i))
        kept, broken = records.resolved_since(i, year_ago)
        facts = CollectionFacts(
            days_past_due=int(self.book.dpd[i]),
            earlier_episodes_12m=sum(1 for d in entries if year_ago <= d < start),
            attempts=int(records.attempts[i]),
            connects=int(records.connects[i]),
            promises_kept=kept,
            promises_broken=broken,
            reachable=0 if records.lost[i] else 1,
        )
        return shipped_propensity(facts)

    # --- collections ----------------------------------------------------------------------------------------

    def collect(self, on: date) -> None:
        book, records = self.book, self.records
        today = on.toordinal()
        opened = book.opened
        settled = (records.episode == 0) & (records.escalation == 0) & ~records.pending
        rows = np.flatnonzero(opened & ((book.dpd > 0) | ~settled | (book.statement_owed > 0)))
        planned = plan_day(
            on,
            rows,
            book,
            records,
            self.arrays,
            self.rulebook,
            self.ids,
            self.zones,
            self.behaviour_score,
            self.combination,
        )
        self.counts[("promises", "broken")] += len(planned.broken)
        decided = planned.decided
        previous = self.stage.copy()
        base = records.stage[decided]
        staging = (book.dpd[decided] > 0) & (base >= 0)
        self.stage[decided[staging]] = base[staging]

        decision = planned.decision
        steps = len(decision.rows)
        if steps:
            accounts = decided[decision.rows]
            treatments = decision.treatments
            is_contact = self.t_contact[treatments]
            # Each account's steps are consecutive; their position within the account's day:
            starts = np.r_[0, np.flatnonzero(np.diff(accounts)) + 1]
            first = np.repeat(starts, np.diff(np.r_[starts, steps]))
            position = np.arange(steps) - first
            contacts = (planned.allowed & is_contact).astype(np.int64)
            before = np.cumsum(contacts) - contacts  # plan-allowed contacts before each step, overall
            rank = before - before[first]  # … and within its account: the index of its contact time
            self._act_steps(on, planned, accounts, position, rank)
        self.expose(rows, today, previous)

    def _act_steps(self, on: date, planned: PlannedDay, accounts: Ints, position: Ints, rank: Ints) -> None:
        """Make the day's planned actions, position by position (each account's first action, then its
        second, …): the contacts checked at their time, the allowed actions recorded and made. With a call
        capacity, the human calls wait and are made at the end of the day in priority order
        (:meth:`_make_calls`)."""
        decision = planned.decision
        treatments = decision.treatments
        for j in np.flatnonzero(~planned.allowed).tolist():
            self.counts[("actions_refused", planned.rule[j] or "unknown")] += 1
        day = _ContactDay(self.n)
        contacts_of = np.bincount(accounts[planned.allowed & self.t_contact[treatments]], minlength=self.n)
        time_cache: dict[int, list[datetime]] = {}
        waiting: list[_Waiting] = []
        order = np.argsort(position, kind="stable")
        bounds = np.searchsorted(position[order], np.arange(int(position.max()) + 2))
        for p in range(len(bounds) - 1):
            js = order[bounds[p] : bounds[p + 1]]
            if self.calls.limited:
                queued = planned.allowed[js] & self.t_human_call[treatments[js]]
                if queued.any():
                    waiting.append(self._wait(on, js[queued], accounts[js[queued]], p))
                js = js[~queued]
            if len(js):
                self._make(
                    on,
                    planned,
                    js,
                    accounts[js],
                    planned.allowed[js].copy(),
                    rank,
                    day,
                    contacts_of,
                    time_cache,
                )
        if waiting:
            self._make_calls(on, planned, waiting, rank, day, contacts_of, time_cache)

    def _make(
        self,
        on: date,
        planned: PlannedDay,
        js: Ints,
        rows: Ints,
        ok: Mask,
        rank: Ints,
        day: _ContactDay,
        contacts_of: Ints,
        time_cache: dict[int, list[datetime]],
    ) -> None:
        """Record and make the actions ``js`` (each of another account; ``ok``: allowed so far): a contact
        is checked at its own time first."""
        today = on.toordinal()
        tj = planned.decision.treatments[js]
        contact = ok & self.t_contact[tj]
        call, field = self.t_call[tj], self.t_field[tj]
        party = self.t_party_code[tj]
        doubtful = contact & (
            ~self.t_plain[tj]
            | (call & (day.conversations[rows] >= self.max_conversations))
            | (call & (day.unanswered[party, rows] >= self.max_unanswered))
            | (field & (day.field_visits[rows] >= self.max_field))
        )
        if not self.inside_hours:
            doubtful = contact
        for k in np.flatnonzero(doubtful).tolist():
            if not self._allowed_at_its_time(
                on, planned, int(js[k]), int(rows[k]), rank, contacts_of, day, time_cache
            ):
                ok[k] = False
        self._count_actions(tj, rows, ok)
        done = np.flatnonzero(ok)
        if not len(done):
            return
        drows, dt = rows[done], tj[done]
        self.records.last_done[drows, dt] = today
        kinds = self.t_type_index[dt]
        self.touched(drows, kinds)
        lift = self.t_lift[dt].copy()
        voice = self.t_voice[dt]
        outcome = np.full(len(done), "no_answer", dtype=object)
        if voice.any():
            v = np.flatnonzero(voice)
            connected, logged = self.answer(on, drows[v], self.t_type[dt[v]])
            lift[v] = np.where(connected, lift[v], 0.0)
            outcome[v] = logged
        lift[~voice & self.behaviour.unreachable[drows]] *= 0.1
        made = self.t_contact[dt]
        if made.any():
            m = np.flatnonzero(made)
            day.made(self, drows[m], rank[js[done[m]]], dt[m], outcome[m])
        lifted = lift > 0
        if lifted.any():
            lr = drows[lifted]
            dpd = self.dpd[lr]
            weight = np.select([dpd <= 15, dpd <= 30, dpd <= 90], [1.5, 1.2, 1.0], 0.6)
            b = self.behaviour
            b.pressure[lr] += lift[lifted] * b.willingness[lr] * weight
            late = dpd > 0
            self.last_touch[lr[late]] = kinds[lifted][late]

    def _wait(self, on: date, js: Ints, rows: Ints, position: int) -> _Waiting:
        """Human calls planned and allowed, waiting for a collector (:class:`overdue.sim.calls.WaitingCall`):
        their overdue balance, ``score`` fact, lot and predicted extra recovery as they stand now."""
        today = on.toordinal()
        balance = self.book.overdue_balance(rows, today)
        scores = [
            round(self.collection_score(i, on) * SCORE_FACT_SCALE) if self.book.dpd[i] > 0 else None
            for i in rows.tolist()
        ]
        lots = self.lots.next_many(rows, today)
        extra = np.zeros(len(rows), dtype=np.int64)
        priority = self.calls.priority
        if priority == "uplift":
            table = self.calls.uplift_table()
            extra = np.array(
                [table.extra_fen_ppm(s, int(b)) for s, b in zip(scores, balance.tolist(), strict=True)],
                dtype=np.int64,
            )
        elif priority == "oracle":
            extra = np.array(
                oracle_extra(self.behaviour, rows.tolist(), self.book.dpd[rows].tolist(), balance.tolist()),
                dtype=np.int64,
            )
        return _Waiting(js, rows, np.full(len(rows), position), balance, scores, lots, extra)

    def _make_calls(
        self,
        on: date,
        planned: PlannedDay,
        waiting: list[_Waiting],
        rank: Ints,
        day: _ContactDay,
        contacts_of: Ints,
        time_cache: dict[int, list[datetime]],
    ) -> None:
        """The day's waiting calls in priority order, up to each shard's capacity (:meth:`Shard.make_calls`);
        the others refused by the capacity."""
        today = on.toordinal()
        js = np.concatenate([w.js for w in waiting])
        rows = np.concatenate([w.rows for w in waiting])
        position = np.concatenate([w.position for w in waiting])
        balance = np.concatenate([w.balance for w in waiting])
        scores = [s for w in waiting for s in w.scores]
        lots = np.concatenate([w.lots for w in waiting])
        extra = np.concatenate([w.extra for w in waiting])
        unscored = np.array([s is None for s in scores], dtype=bool)
        score = np.array([s or 0 for s in scores], dtype=np.int64)
        block = np.searchsorted(self.block_starts, rows, side="right") - 1
        # The reference queues calls account by account, each account's in step order, and sorts them by the
        # priority's key (overdue.sim.calls.ORDERS), stably: each shard apart, ties in that order.
        key = ORDERS[self.calls.priority]
        sort_keys = [
            (b, *key(m, s, e, lot), i, p)
            for b, m, s, e, lot, i, p in zip(
                block.tolist(),
                balance.tolist(),
                scores,
                extra.tolist(),
                lots.tolist(),
                rows.tolist(),
                position.tolist(),
                strict=True,
            )
        ]
        order = np.array(sorted(range(len(rows)), key=sort_keys.__getitem__), dtype=np.int64)
        js, rows, balance, score, unscored = (
            js[order],
            rows[order],
            balance[order],
            score[order],
            unscored[order],
        )
        block = block[order]
        starts = np.searchsorted(block, block, side="left")
        place = np.arange(len(rows)) - starts  # each call's place in its shard's queue
        made = place < self.block_capacity[block]
        for flag, word in ((made, "made"), (~made, "over")):
            if flag.any():
                self.counts[("call_queue", word)] += int(flag.sum())
                self.counts[("call_queue_fen", word)] += int(balance[flag].sum())
                self.counts[("call_queue_score", word)] += int(score[flag].sum())
                self.counts[("call_queue_expected", word)] += int((score * balance)[flag].sum())
        for k, i in enumerate(rows.tolist()):
            self.uplift_log.wait(
                i,
                today,
                None if unscored[k] else int(score[k]),
                bool(made[k]),
                int(balance[k]),
                int(self.repaid_past_due[i]),
            )
        over = np.flatnonzero(~made)
        if len(over):
            self.count(("calls_over_capacity",), rows[over])
            self._count_actions(
                planned.decision.treatments[js[over]], rows[over], np.zeros(len(over), dtype=bool)
            )
        calls = np.flatnonzero(made)
        # Each account's calls in queue order: its first made call, then its second, …
        which = np.zeros(len(calls), dtype=np.int64)
        seen: dict[int, int] = {}
        for n, k in enumerate(calls.tolist()):
            i = int(rows[k])
            which[n] = seen.get(i, 0)
            seen[i] = which[n] + 1
        for occurrence in range(int(which.max(initial=-1)) + 1):
            batch = calls[which == occurrence]
            self._make(
                on,
                planned,
                js[batch],
                rows[batch],
                np.ones(len(batch), dtype=bool),
                rank,
                day,
                contacts_of,
                time_cache,
            )

    def _count_actions(self, treatments: Ints, rows: Ints, ok: Mask) -> None:
        """("actions", type, stage, variant, status) for a batch of actions."""
        variants = len(self.variant_names)
        code = (treatments * variants + self.variant_code[rows]) * 2 + ok
        for c, total in zip(*np.unique(code, return_counts=True), strict=True):
            t, rest = divmod(int(c), variants * 2)
            v, status = divmod(rest, 2)
            treatment = self.arrays.treatments[t]
            stage = self.strategy.stages[int(self.arrays.stage_of[t])].name
            key = (
                "actions",
                treatment.type,
                stage,
                self.variant_names[v],
                "allowed" if status else "refused",
            )
            self.counts[key] += int(total)

    def _allowed_at_its_time(
        self,
        on: date,
        planned: PlannedDay,
        j: int,
        i: int,
        rank: Ints,
        contacts_of: Ints,
        day: _ContactDay,
        time_cache: dict[int, list[datetime]],
    ) -> bool:
        """The rulebook's own check of one contact at its time (the contacts of the day before it as its
        history); a refusal is counted by its rule."""
        decision = planned.decision
        action = self.arrays.action(
            int(decision.treatments[j]), int(planned.facts.combination[decision.rows[j]])
        )
        channel = CONTACT_TYPES[action.type]
        times = self._times(i, on, int(contacts_of[i]), time_cache)
        history = [PastContact(times[r], c, party, o) for r, c, party, o in day.of(i)]
        field_visit = channel == "field"
        verdict = self.rulebook.check(
            PlannedContact(
                action.type,
                channel,
                action.party,
                times[int(rank[j])],
                self.zones[i],
                collectors=FIELD_TEAM if field_visit else None,
                recording_ref=f"sim:{self.ids[i]}:{on.isoformat()}" if field_visit else None,
            ),
            facts_now(
                on,
                i,
                self.book,
                self.records,
                self.behaviour_score,
                self.combination,
                self.ids[i],
                int(planned.facts.values["escalation"][decision.rows[j]]),
            ),
            history,
        )
        if not verdict.allowed:
            self.counts[("contacts_refused", verdict.rule or "unknown")] += 1
        return verdict.allowed

    def _times(self, i: int, on: date, count: int, cache: dict[int, list[datetime]]) -> list[datetime]:
        """The account's contact times of the day (:meth:`overdue.sim.contacts.ContactLog.times`)."""
        times = cache.get(i)
        if times is None:
            opens, closes = CONTACT_HOURS
            span = (closes.hour - opens.hour) * 3600 + (closes.minute - opens.minute) * 60
            seconds = sorted(int(u * span) for u in self.times.take(i, on.toordinal(), count))
            start = datetime.combine(on, opens, tzinfo=ZoneInfo(self.zones[i]))
            times = cache[i] = [start + timedelta(seconds=s) for s in seconds]
        return times

    def answer(
        self, on: date, rows: Ints, kinds: npt.NDArray[np.object_]
    ) -> tuple[Mask, npt.NDArray[np.object_]]:
        """:meth:`Behaviour.answer` and the shard's ``contact`` for a batch of accounts (each once): what
        came of each attempt, drawn in the reference's order; the collection records follow it."""
        b, m, records = self.behaviour, self.model, self.records
        today = on.toordinal()
        draws = b.answers
        n = len(rows)
        kind = kinds
        connected = np.zeros(n, dtype=bool)
        outcome = np.full(n, "no_answer", dtype=object)  # the debtor's view
        logged = np.full(n, "no_answer", dtype=object)
        reachable = ~records.lost[rows]
        probability = np.array([CONNECT_PROBABILITY[str(k)] for k in kinds], dtype=np.float64)

        cc = kind == "contact_call"
        if cc.any():
            k = np.flatnonzero(cc)
            picked = draws.next_many(rows[k], today) < probability[k]
            connected[k] = picked
            logged[k] = np.where(picked, "connected", "no_answer")
            again = k[picked & b.unreachable[rows[k]]]
            if len(again):
                restored = draws.next_many(rows[again], today) < m.restore_contact
                b.unreachable[rows[again[restored]]] = False
                outcome[again[restored]] = "connected"
        gone = ~cc & b.unreachable[rows]
        if gone.any():
            k = np.flatnonzero(gone)
            visits = k[kind[k] == "field_visit"]
            if len(visits):
                restored = draws.next_many(rows[visits], today) < m.restore_contact
                b.unreachable[rows[visits[restored]]] = False
            words = np.where(reachable[k], "lost_contact", "no_answer")
            outcome[k] = words
            logged[k] = words
        rest = np.flatnonzero(~cc & ~gone)
        promised_rows = np.zeros(0, dtype=np.int64)
        if len(rest):
            picked = draws.next_many(rows[rest], today) < probability[rest]
            talk = rest[picked]
            connected[talk] = True
            outcome[talk] = "connected"
            logged[talk] = "connected"
            human = talk[np.isin(kind[talk], ["call", "field_visit"])]
            if len(human):
                due = self.book.cure_amount(rows[human], today)
                asked = human[due > 0]
                if len(asked):
                    agree = (
                        draws.next_many(rows[asked], today)
                        < m.promise_on_connect * b.willingness[rows[asked]]
                    )
                    promising = asked[agree]
                    amounts = self.book.cure_amount(rows[promising], today)
                    outcome[promising] = "promise"
                    logged[promising] = "promise"
                    if len(promising):
                        r = rows[promising]
                        will = draws.next_many(r, today) < b.willingness[r] * b.effective_ability(r)
                        payers = np.flatnonzero(will)
                        if len(payers):
                            days = 1 + (draws.next_many(r[payers], today) * m.promise_days).astype(np.int64)
                            b.promise_ord[r[payers]] = today + days
                            b.promise_amount[r[payers]] = amounts[payers]
                        records.make_promise(r, today, amounts, np.full(len(r), today + m.promise_days))
                        self.counts[("promises", "made")] += len(r)
                        promised_rows = r
        del promised_rows
        is_conversation = np.isin(outcome, list(CONVERSATIONS))
        records.record_contact(
            rows, is_conversation, np.isin(outcome, ["lost_contact", "wrong_number"]), today
        )
        return connected, logged

    def touched(self, rows: Ints, types: Ints) -> None:
        """:meth:`EpisodeTallies.touched` for a batch (each account once)."""
        late = self.dpd[rows] > 0
        new = late & ((self.type_mask[rows] >> types) & 1 == 0)
        r = rows[new]
        self.type_mask[r] |= np.left_shift(1, types[new])
        self.count_by(("type_touched",), [ACTION_TYPES[t] for t in types[new].tolist()], r)

    def expose(self, rows: Ints, today: int, previous: Ints) -> None:
        """:meth:`EpisodeTallies.expose` for the decided accounts."""
        current = rows[self.book.dpd[rows] == 0]
        self.past_due[current] = 0
        late = rows[self.book.dpd[rows] > 0]
        if not len(late):
            return
        now = self.book.cure_amount(late, today)
        stages = self.stage_label(late)
        increase = np.maximum(0, now - self.past_due[late])
        moved = self.stage[late] != previous[late]
        mv = late[moved]
        self.count_by(
            ("exposure",), [s for s, x in zip(stages, moved.tolist(), strict=True) if x], mv, now[moved]
        )
        first = moved & ((self.stage_mask[late] >> np.maximum(self.stage[late], 0)) & 1 == 0)
        fr = late[first]
        self.stage_mask[fr] |= np.left_shift(1, self.stage[fr])
        self.count_by(("stage_reached",), [s for s, x in zip(stages, first.tolist(), strict=True) if x], fr)
        same = ~moved
        self.count_by(
            ("exposure",),
            [s for s, x in zip(stages, same.tolist(), strict=True) if x],
            late[same],
            increase[same],
        )
        self.count(("exposure_total",), late, increase)
        self.past_due[late] = now

    def entry_rate(self, on: date) -> None:
        """入催率 (:meth:`EpisodeTallies.entry_rate` with the reference shard's ``due_today``)."""
        if len(self.due_candidates):
            slipped = self.due_candidates[self.dpd[self.due_candidates] > 0]
            for code, total in enumerate(
                np.bincount(self.variant_code[slipped], minlength=len(self.variant_names)).tolist()
            ):
                if total:
                    self.counts[("entered", self.due_month, self.variant_names[code])] += total
            self.due_candidates = np.zeros(0, dtype=np.int64)
        today = on.toordinal()
        if today not in set(self.book.due_ord.tolist()):
            return
        book = self.book
        rows = np.flatnonzero(book.opened & (self.dpd == 0))
        latest = book.latest(rows)
        slot = np.maximum(latest, 0)
        due = rows[(latest >= 0) & (book.due_ord[slot] == today) & (book.amount[rows, slot] > 0)]
        if len(due):
            self.count(("due", month_key(on)), due)
            self.due_candidates = due
            self.due_month = month_key(on)

    def month_end(self, on: date, column: int, result: ShardResult) -> None:
        book = self.book
        today = on.toordinal()
        result.behaviour_score[:, column] = self.month_scores
        opened = book.opened
        result.bucket[:, column] = np.where(opened, book.bucket, NOT_OPEN)
        result.dpd[:, column] = np.where(opened, book.dpd, 0)
        rows = np.flatnonzero(opened)
        result.overdue[rows, column] = book.overdue_balance(rows, today)
        result.outstanding[rows, column] = book.repayable(rows)
        for i in np.flatnonzero(opened & (book.dpd > 0)).tolist():
            result.collection_score[i, column] = self.collection_score(i, on)


@dataclass(frozen=True)
class _Waiting:
    """Human calls waiting at one position of the day (:meth:`ArrayShard._wait`)."""

    js: Ints
    rows: Ints
    position: Ints
    balance: Ints
    scores: list[int | None]
    lots: Floats
    extra: Ints


class _ContactDay:
    """The contacts made so far on one day: what the China rulebook's daily caps count, and each contact for
    a check by the rulebook itself."""

    def __init__(self, n: int) -> None:
        self.conversations = np.zeros(n, dtype=np.int64)
        """Calls (AI calls included) that reached a conversation."""
        self.unanswered = np.zeros((len(PARTIES), n), dtype=np.int64)
        """Unanswered calls, by party (the simulator dials no numbers: a party is its number)."""
        self.field_visits = np.zeros(n, dtype=np.int64)
        self.log: list[tuple[Ints, Ints, Ints, npt.NDArray[np.object_]]] = []

    def made(
        self, shard: ArrayShard, rows: Ints, ranks: Ints, treatments: Ints, outcomes: npt.NDArray[np.object_]
    ) -> None:
        """Contacts made (each account once): counted by channel and remembered."""
        channels = shard.t_channel[treatments]
        for channel, total in zip(*np.unique(channels, return_counts=True), strict=True):
            shard.counts[("contacts", str(channel))] += int(total)
        call = shard.t_call[treatments]
        self.conversations[rows[call & np.isin(outcomes, list(CONVERSATIONS))]] += 1
        missed = call & np.isin(outcomes, list(UNANSWERED))
        self.unanswered[shard.t_party_code[treatments[missed]], rows[missed]] += 1
        self.field_visits[rows[shard.t_field[treatments]]] += 1
        self.log.append((rows, ranks, treatments, outcomes))
        self.shard = shard

    def of(self, i: int) -> list[tuple[int, str, str, str]]:
        """Account ``i``'s contacts of the day so far: time's index, channel, party, outcome."""
        found = []
        for rows, ranks, treatments, outcomes in self.log:
            for k in np.flatnonzero(rows == i).tolist():
                t = int(treatments[k])
                found.append(
                    (
                        int(ranks[k]),
                        str(self.shard.t_channel[t]),
                        str(self.shard.t_party[t]),
                        str(outcomes[k]),
                    )
                )
        return found


def run_array_shard(spec: ShardSpec) -> ShardResult:
    """Run one shard from ``spec.start`` to ``spec.end`` (both included) over arrays."""
    return run_array_shards([spec])


def run_array_shards(specs: Sequence[ShardSpec]) -> ShardResult:
    """Run consecutive shards together over arrays: one result for all their accounts, the same as the
    reference's results of those shards merged."""
    spec = specs[0]
    shard = ArrayShard(specs)
    months = month_ends_between(spec.start, spec.end)
    days = (spec.end - spec.start).days + 1
    result = ShardResult.empty([b.index for b in shard.borrowers], months, days, shard.counts)
    column = 0
    book = shard.book
    for k in range(days):
        on = spec.start + timedelta(days=k)
        today = on.toordinal()
        book.open(today)
        shard.uplift_log.settle(today, shard.repaid_past_due)
        shard.counts[("job_losses",)] += shard.behaviour.life_events(book.opened)
        shard.behaviour.new_day(shard.records.placed)
        shard.behave(on)
        shard.end_of_day(today)
        shard.review_limits(on)
        if is_month_end(on):
            shard.score_behaviour(on)
        if on.day == shard.terms.statement_day:
            shard.plan_statements(on)
        shard.collect(on)
        shard.entry_rate(on)
        result.daily_buckets[k] = np.bincount(book.bucket[book.opened], minlength=len(BUCKETS))
        result.daily_past_due[k] = int(shard.past_due.sum())
        if is_month_end(on):
            shard.month_end(on, column, result)
            column += 1
    shard.counts[("transactions",)] += sum(len(batch.account) for batch in book.posted)
    result.states = book.final_states(shard.ids, shard.zones, shard.languages)
    result.collections = [
        Collections(
            shard.records.state_of(i, shard.ids[i], shard.stage_names),
            UNASSIGNED_AGENCY if shard.records.placed[i] else None,
            date.fromordinal(int(shard.records.placed_on[i])) if shard.records.placed[i] else None,
        )
        for i in range(shard.n)
    ]
    return result
