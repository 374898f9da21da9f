"""One shard of the simulation: a slice of the accounts, run day by day through the real rules.

Each day, for the accounts of the shard:

1. **behaviour** (:mod:`overdue.sim.behaviour`, vectorised over the shard): life events, purchases,
   repayments around the due date, repayments while delinquent (driven by ability, willingness and
   collection *pressure*), promised payments;
2. the day's events go through the domain operations (:func:`overdue.domain.account.purchase`,
   :func:`~overdue.domain.account.repay`); a refusal is normal behaviour and only counted;
3. :func:`overdue.domain.account.end_of_day` (accrue → age → bill → bureau), then the limit review
   (:mod:`overdue.sim.limits`: changes due applied; on the statement day, every account reviewed);
   at a month end, every account on book scored with the shipped behaviour model as the reference
   end-of-day records it (:meth:`Shard.score_behaviour`: the ``behaviour_score`` panel and fact);
4. :func:`overdue.engine.collect.plan_collection` (decide → comply) with the account's in-memory
   :class:`~overdue.engine.collect.Collections` and its recent contacts; each allowed contact is then
   checked again at its own time and logged (:mod:`overdue.sim.contacts`), and the actions act on the
   borrower: contacts get an outcome, calls may end in a promise, every action adds pressure;
5. the day's tallies (:mod:`overdue.sim.tallies`), and at month end the panel of every account, with the
   collection score of each delinquent one (:func:`overdue.risk.collection.collection_facts`, the shipped
   model).

Days and accounts on which steps 3 and 4 provably change nothing are skipped (:mod:`overdue.sim.skips`,
``skip_quiet_days``, on by default).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from overdue.compliance import rulebook as compliance_rulebook
from overdue.domain import account as rules
from overdue.domain import collections as collection_rules
from overdue.domain.allocation import repayable
from overdue.domain.calendar import is_month_end
from overdue.domain.collections import CollectionState
from overdue.domain.errors import OverdueError
from overdue.domain.ledger import Transaction
from overdue.domain.records import replace
from overdue.domain.state import AccountState, AccountStatus, Statement
from overdue.domain.terms import product_terms
from overdue.engine.collect import (
    CollectionDay,
    Collections,
    PlannedStep,
    account_facts,
    needs_decision,
    plan_collection,
    settled,
)
from overdue.reports.metrics import BUCKETS
from overdue.risk.behaviour import month_end_score, scored_at_month_end
from overdue.risk.collection import collection_facts, score_fact, shipped_propensity
from overdue.risk.notices import NOTICE_CHANNEL, NOTICE_STAGE, NOTICE_TREATMENT, TEMPLATE_FOR
from overdue.risk.review import ReviewDecision
from overdue.sim.behaviour import Behaviour
from overdue.sim.borrowers import Borrower
from overdue.sim.calls import CALL_TYPES, CAPACITY_RULE, LOT_STREAM, CallPolicy, CallQueue, WaitingCall
from overdue.sim.contacts import CONTACT_TYPES, ContactLog
from overdue.sim.draws import KeyedDraws
from overdue.sim.limits import LimitBook
from overdue.sim.model import VOICE_TYPES, BehaviourModel
from overdue.sim.oracle import oracle_extra
from overdue.sim.outcomes import OutcomeLog
from overdue.sim.result import (
    NOT_OPEN,
    NOT_SCORED,
    ActionRow,
    DayRow,
    LedgerRow,
    ScoreRow,
    ShardResult,
)
from overdue.sim.skips import (
    NEVER,
    due_dates,
    idle_through,
    paid_statements,
    planning_days,
)
from overdue.sim.tallies import EpisodeTallies, cure_amount, overdue_balance
from overdue.sim.uplift import UpliftLog
from overdue.strategy import AccountFacts, PlannedAction, Strategy, assign_variant, parse_strategy
from overdue.strategy.quiet import quiet_day_filter

NO_VARIANT = "all"
"""Variant label of accounts when the strategy runs no experiment."""


@dataclass(frozen=True)
class ShardSpec:
    """What a worker process needs to run one shard (everything picklable)."""

    index: int
    seed: int
    borrowers: tuple[Borrower, ...]
    start: date
    end: date
    strategy_text: str
    model: BehaviourModel
    keep_records: bool
    """Keep ledger transactions, action and contact rows and month-end day rows (to persist them)."""
    skip_quiet_days: bool = True
    calls: CallPolicy = dataclasses.field(default_factory=CallPolicy)
    """The daily capacity of human calls and their priority (:mod:`overdue.sim.calls`; default unlimited)."""
    log_outcomes: bool = False
    """Sample the delinquent accounts' collection facts and outcomes (:mod:`overdue.sim.outcomes`)."""


def variants_for(account_ids: list[str], strategy: Strategy) -> list[str]:
    """Each account's variant in the strategy's first experiment (the one reports compare), or ``all``."""
    experiment = strategy.experiments[0] if strategy.experiments else None
    if experiment is None:
        return [NO_VARIANT] * len(account_ids)
    return [assign_variant(i, experiment.name, experiment.variants) for i in account_ids]


def bucket_index(bucket: str) -> int:
    return BUCKETS.index(bucket)


def _facts_now(facts: AccountFacts, state: AccountState, cs: CollectionState, on: date) -> AccountFacts:
    """``facts`` brought up to date with the collection state after the day's earlier contacts."""
    return dataclasses.replace(
        facts,
        score=score_fact(state, cs, on),
        contactability=cs.contactability,
        promise=cs.promise_status(on),
        dispute=cs.dispute_open,
        attempts=cs.attempts,
        connects=cs.connects,
        days_since_last_contact=None if cs.last_contact_on is None else (on - cs.last_contact_on).days,
    )


def _facts_after(day: CollectionDay, on: date) -> AccountFacts:
    """The facts of the account after its planned day, as :func:`~overdue.engine.collect.account_facts` gives
    them for ``day.collection``: the facts the day was planned on, with the agency a placement or recall
    among its steps moved (nothing else differs: the same state, collection state and ``last_done``)."""
    facts = day.facts
    assert facts is not None  # a day with steps was decided
    placed_on = day.collection.placed_on
    days_placed = None if placed_on is None else (on - placed_on).days
    if facts.agency == day.collection.agency and facts.days_placed == days_placed:
        return facts
    return dataclasses.replace(facts, agency=day.collection.agency, days_placed=days_placed)


class Shard:
    """The running state of one shard; :func:`run_shard` drives it."""

    def __init__(self, spec: ShardSpec) -> None:
        self.spec = spec
        self.model = spec.model
        self.strategy = parse_strategy(spec.strategy_text, name="simulated strategy")
        self.terms = product_terms("huabei")
        self.rulebook = compliance_rulebook(self.terms.rulebook)
        self.behaviour = Behaviour(spec.borrowers, spec.model, spec.seed, spec.index)
        n = self.n = len(spec.borrowers)
        self.ids = [b.account_id for b in spec.borrowers]
        self.open_ord = np.array([b.opened_on.toordinal() for b in spec.borrowers], dtype=np.int64)
        self.variant = variants_for(self.ids, self.strategy)
        self.stage_names = [s.name for s in self.strategy.stages]
        self.tallies = EpisodeTallies(self.variant, self.stage_names)
        self.counts: Counter[tuple[str, ...]] = self.tallies.counts
        self.contacts = ContactLog(
            spec.seed,
            spec.index,
            self.ids,
            [b.timezone for b in spec.borrowers],
            self.rulebook,
            self.counts,
            keep_records=spec.keep_records,
        )
        self.quiet_days = quiet_day_filter(self.strategy) if spec.skip_quiet_days else None
        self.due_dates = due_dates(self.terms, spec.start, spec.end)
        self.planning_days = (
            planning_days(self.quiet_days, self.due_dates) if self.quiet_days is not None else frozenset()
        )

        self.states: list[AccountState | None] = [None] * n
        self.colls = [Collections(CollectionState(i), None, None) for i in self.ids]
        self.last_done: list[dict[str, date]] = [{} for _ in range(n)]
        self.episode_key: list[date | None] = [None] * n
        self.opened = np.zeros(n, dtype=bool)
        self.active = np.zeros(n, dtype=bool)
        self.written_off = np.zeros(n, dtype=bool)
        self.bucket = np.zeros(n, dtype=np.int64)
        self.idle_until = np.full(n, NEVER, dtype=np.int64)
        """:func:`~overdue.sim.skips.idle_through` of each account's state (NEVER with skips off)."""
        self.closed_through = np.zeros(n, dtype=np.int64)
        """The last date (ordinal) closed by an idle skip, not yet written into the state's ``last_eod``."""
        self.in_play = np.zeros(n, dtype=bool)
        """Accounts whose collection records are not settled (:func:`overdue.engine.collect.settled`: an
        episode open, a promise pending, an escalation): planned every day."""
        self.placed = np.zeros(n, dtype=bool)
        self.behaviour_score: list[int | None] = [None] * n
        """Each account's latest month-end behaviour score (the ``behaviour_score`` fact)."""
        self.month_scores = np.full(n, NOT_SCORED, dtype=np.int32)
        """The latest month end's scores (:data:`~overdue.sim.result.NOT_SCORED` where not scored)."""
        self.scores: list[ScoreRow] = []
        """Every month-end score with what ``behaviour_scores`` records of it (with ``keep_records``)."""
        self.paid_aside: list[list[Statement]] = [[] for _ in range(n)]
        """Paid statements set aside from each account's working state (:meth:`set_aside_paid_statements`)."""
        self.ledger: list[LedgerRow] = []
        self.actions: list[ActionRow] = []
        self.days: list[DayRow] = []
        self.limits = LimitBook(n, self.terms, self.counts)
        self.call_queue = CallQueue(spec.calls) if spec.calls.limited else None
        self.lots = KeyedDraws(spec.seed, LOT_STREAM, spec.index, n)
        self.uplift = spec.calls.uplift_table() if spec.calls.priority == "uplift" else None
        self.uplift_log = UpliftLog(self.counts)
        self.repaid_past_due = np.zeros(n, dtype=np.int64)
        """Past-due fen each account has repaid so far (what :class:`UpliftLog` follows)."""

    # --- account records -----------------------------------------------------------------------------------

    def state(self, i: int) -> AccountState:
        """Account ``i``'s state; its ``last_eod`` may lag behind dates closed by idle skips."""
        state = self.states[i]
        assert state is not None
        return state

    def current(self, i: int) -> AccountState:
        """Account ``i``'s state with every closed date in ``last_eod``, as the domain operations need it."""
        state = self.state(i)
        closed = int(self.closed_through[i])
        if closed and (state.last_eod is None or state.last_eod.toordinal() < closed):
            state = replace(state, last_eod=date.fromordinal(closed))
            self.states[i] = state
        return state

    def set_state(self, i: int, state: AccountState) -> None:
        if self.spec.skip_quiet_days:
            state = self.set_aside_paid_statements(i, state)
        self.states[i] = state
        self.active[i] = state.status is AccountStatus.ACTIVE
        self.written_off[i] = state.status is AccountStatus.WRITTEN_OFF
        self.bucket[i] = bucket_index(state.bucket)
        if self.spec.skip_quiet_days:
            self.idle_until[i] = idle_through(state)

    def set_aside_paid_statements(self, i: int, state: AccountState) -> AccountState:
        """``state`` without its paid statements but the latest (:func:`~overdue.sim.skips.paid_statements`),
        which are kept aside until :meth:`final`."""
        paid = paid_statements(state)
        if not paid:
            return state
        self.paid_aside[i].extend(paid)
        aside = {id(s) for s in paid}
        return replace(state, statements=tuple(s for s in state.statements if id(s) not in aside))

    def final(self, i: int) -> AccountState:
        """Account ``i``'s state as the domain operations left it: every closed date in ``last_eod``, the
        paid statements set aside back in place (statements are in date order)."""
        state = self.current(i)
        if not self.paid_aside[i]:
            return state
        statements = sorted((*self.paid_aside[i], *state.statements), key=lambda s: s.statement_date)
        return replace(state, statements=tuple(statements))

    def set_collection(self, i: int, collection: Collections) -> None:
        self.colls[i] = collection
        cs = collection.state
        self.in_play[i] = not settled(cs)
        self.placed[i] = collection.agency is not None

    def keep(self, transactions: tuple[Transaction, ...]) -> None:
        self.counts[("transactions",)] += len(transactions)
        if self.spec.keep_records:
            self.ledger.extend(
                (
                    t.account_id,
                    t.business_date,
                    str(t.kind),
                    t.statement_id,
                    t.memo,
                    tuple([(str(p.ledger_account), p.amount) for p in t.postings]),
                )
                for t in transactions
            )

    # --- the day -------------------------------------------------------------------------------------------

    def open_accounts(self, on: date) -> None:
        for i in np.flatnonzero(self.open_ord == on.toordinal()):
            b = self.spec.borrowers[i]
            self.set_state(
                int(i),
                rules.open_account(
                    b.account_id, "huabei", self.terms, on, b.credit_limit, b.timezone, b.language
                ),
            )
            self.opened[i] = True

    def repay(self, i: int, on: date, amount: int) -> None:
        state = self.current(i)
        amount = min(amount, repayable(state))
        if amount <= 0:
            return
        before = cure_amount(state, on) if state.days_past_due else 0
        try:
            outcome = rules.repay(state, on, amount)
        except OverdueError as error:
            self.counts[("refused_events", error.code)] += 1
            return
        self.set_state(i, outcome.state)
        self.keep(outcome.transactions)
        self.counts[("repayments",)] += 1
        self.counts[("repaid_fen",)] += amount
        coll = self.colls[i]
        had_pending = any(p.status == "pending" for p in coll.state.promises)
        cs = collection_rules.apply_repayment(coll.state, amount, on)
        if had_pending and not any(p.status == "pending" for p in cs.promises):
            self.counts[("promises", "kept")] += 1
        self.set_collection(i, Collections(cs, coll.agency, coll.placed_on))
        if before:
            after = cure_amount(outcome.state, on) if outcome.state.days_past_due else 0
            self.tallies.recovered(i, amount, before, coll.agency is not None, after)
            self.repaid_past_due[i] += min(amount, before)
        self.tallies.follow_dpd(i, outcome.state.days_past_due)

    def behave(self, on: date) -> None:
        """Draw the day's behaviour for the whole shard, then apply it account by account."""
        b = self.behaviour
        draws = b.draw_day(on.toordinal(), self.tallies.dpd, self.active, self.written_off)
        for i in np.flatnonzero(draws.promised):
            self.repay(int(i), on, int(b.promise_amount[i]))
            b.promise_ord[i] = 0
        for i in np.flatnonzero(draws.pays_delinquent & ~draws.promised):
            state = self.state(int(i))
            amount = b.delinquent_amount(
                state,
                cure_amount(state, on),
                float(draws.kind_draw[i]),
                float(draws.ability[i]),
                float(draws.share_draw[i]),
            )
            self.repay(int(i), on, amount)
        for i in np.flatnonzero(draws.scheduled):
            amount = b.statement_amount(self.state(int(i)), int(b.cycle_kind[i]), float(draws.share_draw[i]))
            if amount > 0:
                self.repay(int(i), on, amount)
            b.cycle_kind[i] = 0
        for i in np.flatnonzero(draws.spends):
            state = self.state(int(i))
            amount = min(int(draws.purchase[i]), state.available_credit)
            if amount < 100:
                continue
            try:
                outcome = rules.purchase(self.current(int(i)), on, amount)
            except OverdueError as error:
                self.counts[("refused_events", error.code)] += 1
                continue
            self.set_state(int(i), outcome.state)
            self.keep(outcome.transactions)
            self.counts[("purchases",)] += 1
            self.counts[("purchase_fen",)] += amount

    def plan_statements(self, on: date) -> None:
        """On the statement day: each current account with a new statement decides how it will pay it."""
        fresh: list[int] = []
        due_ords: list[int] = []
        for i in np.flatnonzero(self.opened & (self.tallies.dpd == 0)):
            latest = self.state(int(i)).latest_statement()
            if latest is not None and latest.statement_date == on and latest.outstanding > 0:
                fresh.append(int(i))
                due_ords.append(latest.due_date.toordinal())
        self.behaviour.plan_statements(fresh, due_ords)  # even with none fresh: the day's draws stay aligned

    def end_of_day(self, on: date) -> None:
        today = on.toordinal()
        run = self.opened
        if self.spec.skip_quiet_days and not (on.day == self.terms.statement_day or is_month_end(on)):
            idle = self.opened & (self.idle_until >= today)
            self.closed_through[idle] = today
            run = self.opened & ~idle
        for index in np.flatnonzero(run):
            i = int(index)
            outcome = rules.end_of_day(self.current(i), on)
            self.set_state(i, outcome.state)
            self.keep(outcome.transactions)
            self.tallies.follow_dpd(i, outcome.state.days_past_due)

    def review_limits(self, on: date) -> None:
        """Apply the limit changes due today; on a review day, review every opened account
        (:mod:`overdue.sim.limits`). A new limit also moves what the borrower spends."""
        for i in self.limits.due_today(on):
            self._set_limit(i, self.limits.apply_pending(i, self.state(i), on))
        if not self.limits.due(on):
            return
        for index in np.flatnonzero(self.opened):
            i = int(index)
            state = self.state(i)
            reviewed, change = self.limits.review(i, state, (*self.paid_aside[i], *state.statements), on)
            if change is not None:
                self.tell(i, on, change)
            if reviewed is not state:
                self._set_limit(i, reviewed)

    def tell(self, i: int, on: date, change: ReviewDecision) -> None:
        """The borrower's notice of a limit change recorded today, as the end-of-day sends it
        (:func:`overdue.engine.limits.review_account`): an SMS action ``limit_notice`` of stage
        ``limit_review``, of no experiment (counted under :data:`NO_VARIANT`), with the change's reasons. It
        is a message from the lender's risk side, not a collection treatment: it adds no pressure."""
        self.tallies.action(i, NOTICE_CHANNEL, NOTICE_STAGE, True, NO_VARIANT)
        if self.spec.keep_records:
            row: ActionRow = (
                self.ids[i],
                on,
                NOTICE_TREATMENT,
                NOTICE_CHANNEL,
                NOTICE_STAGE,
                TEMPLATE_FOR[change.action],
                "debtor",
                0,
                None,
                None,
                "recorded",
                None,
                " ".join(change.reasons),
            )
            self.actions.append(row)

    def _set_limit(self, i: int, state: AccountState) -> None:
        self.set_state(i, state)
        self.behaviour.limit[i] = state.credit_limit

    def to_plan(self, on: date) -> list[int]:
        """The accounts ``plan_collection`` may find something to do for today (the others provably not)."""
        if self.quiet_days is None:
            return [int(i) for i in np.flatnonzero(self.opened)]
        wanted = self.opened & ((self.tallies.dpd > 0) | self.in_play)
        if on in self.planning_days:
            for i in np.flatnonzero(self.opened & ~wanted):
                k = int(i)  # at DPD 0 with settled records: decided only on a reminder day
                wanted[i] = needs_decision(self.state(k), on, self.colls[k].state, self.quiet_days)
        return [int(i) for i in np.flatnonzero(wanted)]

    def collect(self, on: date) -> None:
        """Decide → comply for every account that may need it, then make the allowed actions."""
        for i in self.to_plan(on):
            state = self.state(i)
            coll = self.colls[i]
            episode = collection_rules.start_or_end_episode(
                coll.state, state.days_past_due, on
            ).episode_started_on
            if episode != self.episode_key[i]:
                self.last_done[i] = {}
                self.episode_key[i] = episode
            history = self.contacts.history(i, on)
            day = plan_collection(
                state,
                coll,
                on,
                self.last_done[i],
                self.strategy,
                self.rulebook,
                history,
                behaviour_score=self.behaviour_score[i],
                messages=False,  # the simulator sends no message text
                trace=False,  # nor reads the decision's trace
            )
            before_promises = sum(p.status == "broken" for p in day.collection.state.promises)
            self.set_collection(i, day.collection)
            self.counts[("promises", "broken")] += before_promises - sum(
                p.status == "broken" for p in coll.state.promises
            )
            previous_stage = int(self.tallies.stage[i])
            if day.collection.state.stage is not None:
                self.tallies.enter_stage(i, day.collection.state.stage, state.days_past_due)
            contacts = [s for s in day.steps if s.allowed and s.action.type in CONTACT_TYPES]
            times = iter(self.contacts.times(i, on, len(contacts)))
            facts: AccountFacts | None = None
            facts_of: CollectionState | None = None
            for step in day.steps:
                allowed, rule, reason = step.allowed, step.rule, step.reason
                if not allowed:
                    self.counts[("actions_refused", rule or "unknown")] += 1
                if not (allowed and step.action.type in CONTACT_TYPES):
                    self.act(i, on, step.action, allowed, rule, reason)
                    continue
                cs = self.colls[i].state
                if self.call_queue is not None and step.action.type in CALL_TYPES:
                    self.call_queue.wait(self.waiting_call(i, on, step, next(times), state, cs))
                    continue
                if facts is None:
                    facts = _facts_after(day, on)
                elif facts_of is not cs:
                    facts = _facts_now(facts, state, cs, on)
                facts_of = cs
                action = step.action
                planned, verdict = self.contacts.check(i, action.type, action.party, next(times), facts)
                if not verdict.allowed:
                    self.act(i, on, step.action, False, verdict.rule, verdict.reason or reason)
                    continue
                outcome = self.act(i, on, step.action, True, rule, reason)
                self.contacts.made(i, on, planned, outcome or "no_answer")
            self.tallies.expose(i, state, on, previous_stage)
        if self.call_queue is not None:
            self.make_calls(on, self.call_queue)

    def waiting_call(
        self, i: int, on: date, step: PlannedStep, at: datetime, state: AccountState, cs: CollectionState
    ) -> WaitingCall:
        balance, score = overdue_balance(state, on), score_fact(state, cs, on)
        extra = 0
        if self.uplift is not None:
            extra = self.uplift.extra_fen_ppm(score, balance)
        elif self.call_queue is not None and self.call_queue.policy.priority == "oracle":
            (extra,) = oracle_extra(self.behaviour, [i], [state.days_past_due], [balance])
        return WaitingCall(i, step, at, balance, score, self.lots.one(i, on.toordinal()), extra)

    def make_calls(self, on: date, queue: CallQueue) -> None:
        """Make the day's waiting human calls in priority order, up to the shard's capacity; the others are
        recorded as refused by the capacity (:mod:`overdue.sim.calls`)."""
        capacity = queue.policy.shard_capacity(self.n)
        for k, call in enumerate(queue.take_day()):
            i, action = call.account, call.step.action
            made = "made" if k < capacity else "over"
            self.counts[("call_queue", made)] += 1
            self.counts[("call_queue_fen", made)] += call.overdue_balance
            self.counts[("call_queue_score", made)] += call.score or 0
            self.counts[("call_queue_expected", made)] += (call.score or 0) * call.overdue_balance
            repaid = int(self.repaid_past_due[i])
            self.uplift_log.wait(i, on.toordinal(), call.score, k < capacity, call.overdue_balance, repaid)
            if k >= capacity:
                self.counts[("calls_over_capacity", self.variant[i])] += 1
                self.act(i, on, action, False, CAPACITY_RULE, "over the day's call capacity")
                continue
            facts = account_facts(
                self.state(i), self.colls[i], on, self.last_done[i], behaviour_score=self.behaviour_score[i]
            )
            planned, verdict = self.contacts.check(i, action.type, action.party, call.at, facts)
            if not verdict.allowed:
                self.act(i, on, action, False, verdict.rule, verdict.reason or call.step.reason)
                continue
            outcome = self.act(i, on, action, True, call.step.rule, call.step.reason)
            self.contacts.made(i, on, planned, outcome or "no_answer")

    def act(
        self, i: int, on: date, action: PlannedAction, allowed: bool, rule: str | None, reason: str
    ) -> str | None:
        """Record one decided action and, when allowed, make it; returns a voice or field contact's
        outcome."""
        self.tallies.action(i, action.type, action.stage, allowed)
        if self.spec.keep_records:
            row: ActionRow = (
                self.ids[i],
                on,
                action.treatment,
                action.type,
                action.stage,
                action.template,
                action.party,
                action.priority,
                action.experiment,
                action.variant,
                "recorded" if allowed else "refused",
                rule,
                reason,
            )
            self.actions.append(row)
        if not allowed:
            return None
        self.last_done[i][action.treatment] = on
        t = self.tallies.touched(i, action.type)
        b = self.behaviour
        lift = self.model.lifts.get(action.type, 0.0)
        logged = None
        if action.type in VOICE_TYPES:
            logged, connected = self.contact(i, on, action.type)
            lift = lift if connected else 0.0
        elif b.unreachable[i]:
            lift *= 0.1
        if lift > 0:
            dpd = int(self.tallies.dpd[i])
            b.pressure[i] += lift * b.willingness[i] * self.model.early_weight(dpd)
            if dpd > 0:
                self.tallies.last_touch[i] = t
        return logged

    def contact(self, i: int, on: date, action_type: str) -> tuple[str, bool]:
        """Make a voice or field contact attempt and record what its outcome says; returns the outcome the
        contact log keeps and whether somebody answered."""
        coll = self.colls[i]
        cs = coll.state
        answer = self.behaviour.answer(
            i,
            on.toordinal(),
            action_type,
            cs.contactability == "reachable",
            lambda: cure_amount(self.state(i), on),
        )
        if answer.promised:
            due = on + timedelta(days=self.model.promise_days)
            promise_id = f"{self.ids[i]}/{on.isoformat()}"
            cs = collection_rules.make_promise(cs, promise_id, on, answer.promised, due)
            self.counts[("promises", "made")] += 1
            if answer.pays_in_days is not None:
                self.behaviour.promise_ord[i] = on.toordinal() + answer.pays_in_days
                self.behaviour.promise_amount[i] = answer.promised
        cs = collection_rules.record_contact(cs, answer.outcome, on)
        self.set_collection(i, Collections(cs, coll.agency, coll.placed_on))
        return answer.logged, answer.connected

    def sample_outcomes(self, on: date, log: OutcomeLog) -> None:
        """After the day: each delinquent account's collection facts, to be followed for 30 days."""
        for i, state in enumerate(self.states):
            if state is None or state.days_past_due <= 0:
                continue
            facts = collection_facts(state, self.colls[i].state, on)
            if facts is not None:
                log.sample(i, on.toordinal(), facts, int(self.repaid_past_due[i]))

    def score_behaviour(self, on: date) -> None:
        """At a month end, before collecting: each account's behaviour score, as the reference end-of-day
        records it (:func:`overdue.risk.behaviour.month_end_score`, paid statements set aside included)."""
        self.month_scores.fill(NOT_SCORED)
        for index in np.flatnonzero(self.opened):
            i = int(index)
            state = self.state(i)
            if scored_at_month_end(state):
                statements = (*self.paid_aside[i], *state.statements)
                score = month_end_score(state, statements, on)
                self.behaviour_score[i] = self.month_scores[i] = score.points
                if self.spec.keep_records:
                    self.scores.append(
                        (
                            self.ids[i],
                            on,
                            score.points,
                            score.probability_bad_ppm,
                            score.model,
                            " ".join(score.reasons),
                        )
                    )

    def month_end(self, on: date, column: int, result: ShardResult) -> None:
        result.behaviour_score[:, column] = self.month_scores
        for i in range(self.n):
            state = self.states[i]
            if state is None:
                result.bucket[i, column] = NOT_OPEN
                continue
            result.bucket[i, column] = bucket_index(state.bucket)
            result.dpd[i, column] = state.days_past_due
            result.overdue[i, column] = overdue_balance(state, on)
            result.outstanding[i, column] = state.outstanding
            facts = collection_facts(state, self.colls[i].state, on)
            if facts is not None:
                result.collection_score[i, column] = shipped_propensity(facts)
            if self.spec.keep_records:
                delinquent = state.delinquent_statements(on)
                row: DayRow = (
                    state.id,
                    on,
                    str(state.status),
                    state.days_past_due,
                    state.bucket,
                    state.principal,
                    sum(s.principal for s in delinquent),
                    state.interest,
                    state.fees,
                    sum(s.outstanding for s in state.statements),
                    state.available_credit,
                )
                self.days.append(row)

    def due_today(self, on: date) -> list[int]:
        """The current accounts whose latest statement, with something billed, is due on ``on``."""
        if on not in self.due_dates:
            return []
        due = []
        for i in np.flatnonzero(self.opened & (self.tallies.dpd == 0)):
            latest = self.state(int(i)).latest_statement()
            if latest is not None and latest.due_date == on and latest.amount > 0:
                due.append(int(i))
        return due


def month_ends_between(start: date, end: date) -> list[date]:
    days = (end - start).days + 1
    return [d for d in (start + timedelta(days=k) for k in range(days)) if is_month_end(d)]


def run_shard(spec: ShardSpec) -> ShardResult:
    """Run one shard from ``spec.start`` to ``spec.end`` (both included)."""
    shard = Shard(spec)
    months = month_ends_between(spec.start, spec.end)
    days = (spec.end - spec.start).days + 1
    result = ShardResult.empty([b.index for b in spec.borrowers], months, days, shard.counts)
    column = 0
    outcomes = OutcomeLog() if spec.log_outcomes else None
    for k in range(days):
        on = spec.start + timedelta(days=k)
        shard.open_accounts(on)
        shard.uplift_log.settle(on.toordinal(), shard.repaid_past_due)
        if outcomes is not None:
            outcomes.settle(on.toordinal(), shard.repaid_past_due)
        shard.counts[("job_losses",)] += shard.behaviour.life_events(shard.opened)
        shard.behaviour.new_day(shard.placed)
        shard.behave(on)
        shard.end_of_day(on)
        shard.review_limits(on)
        if is_month_end(on):
            shard.score_behaviour(on)
        if on.day == shard.terms.statement_day:
            shard.plan_statements(on)
        shard.collect(on)
        shard.tallies.entry_rate(on, shard.due_today(on))
        result.daily_buckets[k] = np.bincount(shard.bucket[shard.opened], minlength=len(BUCKETS))
        result.daily_past_due[k] = int(shard.tallies.past_due.sum())
        if is_month_end(on):
            shard.month_end(on, column, result)
            column += 1
        if outcomes is not None and outcomes.samples_on(k):
            shard.sample_outcomes(on, outcomes)
    result.states = [shard.final(i) for i in range(shard.n)]  # every account opens within the first month
    result.collections = list(shard.colls)
    result.ledger, result.actions, result.days, result.scores = (
        shard.ledger,
        shard.actions,
        shard.days,
        shard.scores,
    )
    result.contacts = shard.contacts.rows
    result.outcomes = outcomes.rows if outcomes is not None else []
    return result
