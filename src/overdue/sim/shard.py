"""One shard of the simulation: a slice of the accounts, run day by day through the real rules.

Each day, for every account of the shard:

1. **behaviour** (vectorised with NumPy over the shard): life events, purchases, repayments around the due
   date, repayments while delinquent (driven by ability, willingness and collection *pressure*), promised
   payments;
2. the day's events go through the domain operations (:func:`overdue.domain.account.purchase`,
   :func:`~overdue.domain.account.repay`); a refusal is normal behaviour and only counted;
3. :func:`overdue.domain.account.end_of_day` (accrue → age → bill → bureau);
4. :func:`overdue.engine.collect.plan_collection` (decide → comply) with the account's in-memory
   :class:`~overdue.engine.collect.Collections`; the allowed actions then act on the borrower
   (:mod:`overdue.sim.model`): contacts get an outcome, calls may end in a promise, every action adds
   pressure;
5. the day's aggregates, and at month end the panel of every account.

**Skipping quiet days** (``skip_quiet_days``, on by default). ``plan_collection`` and ``end_of_day`` are the
expensive steps. An account at DPD 0, outside any episode and with no pending promise, can only get
treatments scheduled by ``on_days_to_due``; when every treatment of the strategy that can fire at DPD 0 is
so scheduled (:func:`quiet_day_filter`), the shard calls ``plan_collection`` on such an account only on
those days. An :func:`idle` account (active, current, nothing billed unpaid) on an ordinary day only has
its date closed. A test checks that actions, ledger and final states are identical with and without the
skips.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np

from overdue.compliance import rulebook as compliance_rulebook
from overdue.domain import account as rules
from overdue.domain import collections as collection_rules
from overdue.domain.allocation import repayable
from overdue.domain.calendar import is_month_end
from overdue.domain.collections import CollectionState
from overdue.domain.errors import OverdueError
from overdue.domain.ledger import Transaction
from overdue.domain.state import AccountState, AccountStatus
from overdue.domain.terms import product_terms
from overdue.engine.collect import Collections, plan_collection
from overdue.reports.metrics import BUCKETS
from overdue.sim.borrowers import Borrower
from overdue.sim.model import CONNECT_PROBABILITY, VOICE_TYPES, BehaviourModel
from overdue.sim.result import NOT_OPEN, ActionRow, DayRow, LedgerRow, ShardResult
from overdue.strategy import ACTION_TYPES, PlannedAction, Strategy, assign_variant, parse_strategy
from overdue.strategy.conditions import Condition, Parameters
from overdue.strategy.model import resolve_int

NO_VARIANT = "all"
"""Variant label of accounts when the strategy runs no experiment."""

# Statement behaviour drawn on the statement day: pay in full, revolve (minimum or more), pay short of the
# minimum, or pay nothing.
FULL, REVOLVE, SHORT, NOTHING = 1, 2, 3, 4


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
    """Keep ledger transactions, action rows and month-end day rows (to persist them)."""
    skip_quiet_days: bool = True


def quiet_day_filter(strategy: Strategy) -> frozenset[int] | None:
    """The days-to-due on which an account at DPD 0 can get a treatment, or None when that cannot be known.

    A treatment can fire at DPD 0 unless its stage's ``when`` (or its own) has a ``days_past_due`` test
    that 0 fails, or its schedule needs a DPD of at least 1 (``on_dpd`` all ≥ 1, or ``from_dpd`` ≥ 1). Every
    treatment that can must be scheduled by ``on_days_to_due``; the union of those days over every parameter
    set (experiment variants included) is returned.
    """
    at_zero = SimpleNamespace(days_past_due=0)
    days: set[int] = set()
    for _, parameters in strategy.parameter_sets():
        for stage in strategy.stages:
            if _excludes(stage.when, at_zero, parameters):
                continue
            for treatment in stage.treatments:
                on_dpd = [resolve_int(v, parameters) for v in treatment.on_dpd]
                from_dpd = None if treatment.from_dpd is None else resolve_int(treatment.from_dpd, parameters)
                if (
                    (on_dpd and min(on_dpd) >= 1)
                    or (from_dpd is not None and from_dpd >= 1)
                    or _excludes(treatment.when, at_zero, parameters)
                ):
                    continue
                if not treatment.on_days_to_due:
                    return None
                days.update(resolve_int(v, parameters) for v in treatment.on_days_to_due)
    return frozenset(days)


def _excludes(condition: Condition, subject: SimpleNamespace, parameters: Parameters) -> bool:
    """Whether a top-level ``days_past_due`` test of ``condition`` fails for ``subject``."""
    return any(
        test.field == "days_past_due" and not test.holds(subject, parameters) for test in condition.tests
    )


def variants_for(account_ids: list[str], strategy: Strategy) -> list[str]:
    """Each account's variant in the strategy's first experiment (the one reports compare), or ``all``."""
    experiment = strategy.experiments[0] if strategy.experiments else None
    if experiment is None:
        return [NO_VARIANT] * len(account_ids)
    return [assign_variant(i, experiment.name, experiment.variants) for i in account_ids]


def overdue_balance(state: AccountState, on: date) -> int:
    """What is overdue (fen): the unpaid amounts of the delinquent statements, as the strategy sees it."""
    if state.days_past_due == 0:
        return 0
    return sum(s.outstanding for s in state.delinquent_statements(on))


def cure_amount(state: AccountState, on: date) -> int:
    """The **past-due amount** (fen): the least repayment that leaves nothing overdue — every delinquent
    statement but the newest paid in full (allocation pays oldest first), the newest to its minimum; after
    write-off, everything. Recovery and exposure are measured on it (docs/reports.md)."""
    if state.status is AccountStatus.WRITTEN_OFF:
        return int(repayable(state))
    delinquent = sorted(state.delinquent_statements(on), key=lambda s: s.statement_date)
    if not delinquent:
        return 0
    return sum(s.outstanding for s in delinquent[:-1]) + delinquent[-1].minimum_remaining


def idle(state: AccountState) -> bool:
    """Whether the end-of-day of an ordinary day (not a statement day, not a month end) can do nothing to
    this account but close the date: an active line, current, with nothing billed unpaid. Then nothing
    bears interest (unbilled purchases are interest-free), nothing ages, nothing is billed."""
    return (
        state.status is AccountStatus.ACTIVE
        and state.days_past_due == 0
        and state.bucket == "M0"
        and all(s.outstanding == 0 for s in state.statements)
    )


def bucket_index(bucket: str) -> int:
    return BUCKETS.index(bucket)


class Shard:
    """The running state of one shard; :func:`run_shard` drives it."""

    def __init__(self, spec: ShardSpec) -> None:
        self.spec = spec
        self.model = spec.model
        self.strategy = parse_strategy(spec.strategy_text, name="simulated strategy")
        self.terms = product_terms("huabei")
        self.rulebook = compliance_rulebook(self.terms.rulebook)
        self.rng = np.random.default_rng([spec.seed, 1, spec.index])
        b = spec.borrowers
        n = self.n = len(b)
        self.ids = [x.account_id for x in b]
        self.ability = np.array([x.ability for x in b])
        self.willingness = np.array([x.willingness for x in b])
        self.spend_rate = np.array([x.spend_rate for x in b])
        self.spend_share = np.array([x.spend_share for x in b])
        self.limit = np.array([x.credit_limit for x in b], dtype=np.int64)
        self.unreachable = np.array([x.unreachable for x in b], dtype=bool)
        self.open_ord = np.array([x.opened_on.toordinal() for x in b], dtype=np.int64)
        self.variant = variants_for(self.ids, self.strategy)
        self.stage_names = [s.name for s in self.strategy.stages]
        self.quiet_days = quiet_day_filter(self.strategy) if spec.skip_quiet_days else None

        self.states: list[AccountState | None] = [None] * n
        self.colls = [Collections(CollectionState(i), None, None) for i in self.ids]
        self.last_done: list[dict[str, date]] = [{} for _ in range(n)]
        self.episode_key: list[date | None] = [None] * n
        self.opened = np.zeros(n, dtype=bool)
        self.active = np.zeros(n, dtype=bool)
        self.employed = np.ones(n, dtype=bool)
        self.pressure = np.zeros(n)
        self.dpd = np.zeros(n, dtype=np.int64)
        self.past_due = np.zeros(n, dtype=np.int64)
        """Each account's past-due amount (:func:`cure_amount`) after its last event or end-of-day."""
        self.cycle_kind = np.zeros(n, dtype=np.int8)
        self.pay_ord = np.zeros(n, dtype=np.int64)
        self.promise_ord = np.zeros(n, dtype=np.int64)
        self.promise_amount = np.zeros(n, dtype=np.int64)
        self.stage = np.full(n, -1, dtype=np.int64)
        self.stage_mask = np.zeros(n, dtype=np.int64)
        self.type_mask = np.zeros(n, dtype=np.int64)
        self.last_touch = np.full(n, -1, dtype=np.int64)
        self.due_candidates: list[int] = []
        self.due_month = ""
        self.tallies: Counter[tuple[str, ...]] = Counter()
        self.ledger: list[LedgerRow] = []
        self.actions: list[ActionRow] = []
        self.days: list[DayRow] = []

    # --- helpers -------------------------------------------------------------------------------------------

    def state(self, i: int) -> AccountState:
        state = self.states[i]
        assert state is not None
        return state

    def keep(self, transactions: tuple[Transaction, ...]) -> None:
        self.tallies[("transactions",)] += len(transactions)
        if self.spec.keep_records:
            self.ledger.extend(
                (
                    t.account_id,
                    t.business_date,
                    str(t.kind),
                    t.statement_id,
                    t.memo,
                    tuple((str(p.ledger_account), p.amount) for p in t.postings),
                )
                for t in transactions
            )

    def stage_name(self, i: int) -> str:
        return self.stage_names[self.stage[i]] if self.stage[i] >= 0 else "current"

    # --- the day -------------------------------------------------------------------------------------------

    def open_accounts(self, on: date) -> None:
        for i in np.flatnonzero(self.open_ord == on.toordinal()):
            b = self.spec.borrowers[i]
            self.states[i] = rules.open_account(
                b.account_id, "huabei", self.terms, on, b.credit_limit, b.timezone
            )
            self.opened[i] = True
            self.active[i] = True

    def life_events(self) -> None:
        m = self.model
        draw = self.rng.random(self.n)
        lose = self.opened & self.employed & (draw < m.job_loss_daily)
        back = ~self.employed & (draw < m.job_recovery_daily)
        self.employed[lose] = False
        self.employed[back] = True
        self.tallies[("job_losses",)] += int(lose.sum())
        # Some who lose their job also stop answering the phone.
        self.unreachable[lose & (self.rng.random(self.n) < 0.15)] = True

    def effective_ability(self) -> np.ndarray:
        return self.ability * np.where(self.employed, 1.0, self.model.job_loss_ability)

    def repay(self, i: int, on: date, amount: int, promised: bool = False) -> None:
        state = self.state(i)
        amount = min(amount, repayable(state))
        if amount <= 0:
            return
        before = cure_amount(state, on) if state.days_past_due else 0
        try:
            outcome = rules.repay(state, on, amount)
        except OverdueError as error:
            self.tallies[("refused_events", error.code)] += 1
            return
        self.states[i] = outcome.state
        self.keep(outcome.transactions)
        self.tallies[("repayments",)] += 1
        self.tallies[("repaid_fen",)] += amount
        coll = self.colls[i]
        had_pending = any(p.status == "pending" for p in coll.state.promises)
        cs = collection_rules.apply_repayment(coll.state, amount, on)
        if had_pending and not any(p.status == "pending" for p in cs.promises):
            self.tallies[("promises", "kept")] += 1
        self.colls[i] = Collections(cs, coll.agency, coll.placed_on)
        if before:
            variant, stage = self.variant[i], self.stage_name(i)
            recovered = min(amount, before)
            self.tallies[("recovered", stage, variant)] += recovered
            self.tallies[("recovered_total", variant)] += recovered
            if self.last_touch[i] >= 0:
                self.tallies[("recovered_after", ACTION_TYPES[self.last_touch[i]], variant)] += recovered
            if coll.agency is not None:
                self.tallies[("agency_recovered", variant)] += recovered
            self.past_due[i] = cure_amount(outcome.state, on) if outcome.state.days_past_due else 0
        self.set_dpd(i, outcome.state.days_past_due)
        self.active[i] = outcome.state.status is AccountStatus.ACTIVE

    def set_dpd(self, i: int, dpd: int) -> None:
        """Follow DPD: a first overdue day opens an episode, a return to DPD 0 cures it."""
        variant = self.variant[i]
        if self.dpd[i] == 0 and dpd > 0:
            self.tallies[("episodes", variant)] += 1
            self.stage_mask[i] = 0
            self.type_mask[i] = 0
            self.last_touch[i] = -1
        elif self.dpd[i] > 0 and dpd == 0:
            self.tallies[("cured", variant)] += 1
            if self.stage[i] >= 0:
                self.tallies[("stage_cured", self.stage_name(i), variant)] += 1
            for t, name in enumerate(ACTION_TYPES):
                if self.type_mask[i] >> t & 1:
                    self.tallies[("type_cured", name, variant)] += 1
            self.stage[i] = -1
            self.past_due[i] = 0
        self.dpd[i] = dpd

    def behave(self, on: date) -> None:
        """Draw the day's behaviour for the whole shard, then apply it account by account."""
        m, rng, n = self.model, self.rng, self.n
        today = on.toordinal()
        ability = self.effective_ability()
        # Delinquent borrowers: repay with a hazard that collection pressure raises.
        hazard = m.base_hazard * ability * self.willingness * (1.0 + self.pressure)
        hazard = np.minimum(hazard, m.max_hazard)
        written_off = np.array(
            [s is not None and s.status is AccountStatus.WRITTEN_OFF for s in self.states], dtype=bool
        )
        hazard = np.where(written_off, hazard * m.written_off_factor, hazard)
        pays_delinquent = (self.dpd > 0) & (rng.random(n) < hazard)
        kind_draw = rng.random(n)
        share_draw = rng.uniform(0.2, 0.8, n)
        promised = self.promise_ord == today
        scheduled = (self.cycle_kind > 0) & (self.pay_ord == today)
        # Purchases within available credit on an active line.
        spends = (
            self.active & (rng.random(n) < self.spend_rate * np.where(self.employed, 1.0, 0.5)) & ~written_off
        )
        purchase = np.round(self.limit * self.spend_share * rng.lognormal(0.0, 0.5, n)).astype(np.int64)

        for i in np.flatnonzero(promised):
            self.repay(int(i), on, int(self.promise_amount[i]), promised=True)
            self.promise_ord[i] = 0
        for i in np.flatnonzero(pays_delinquent & ~promised):
            state = self.state(int(i))
            cure = cure_amount(state, on)
            if kind_draw[i] < ability[i] ** 2:
                amount = sum(s.outstanding for s in state.statements) or cure
            elif kind_draw[i] < 0.85:
                amount = cure
            else:
                amount = max(1, int(cure * share_draw[i]))
            self.repay(int(i), on, amount)
        for i in np.flatnonzero(scheduled):
            self.pay_statement(int(i), on, int(self.cycle_kind[i]), float(share_draw[i]))
            self.cycle_kind[i] = 0
        for i in np.flatnonzero(spends):
            state = self.state(int(i))
            amount = min(int(purchase[i]), state.available_credit)
            if amount < 100:
                continue
            try:
                outcome = rules.purchase(state, on, amount)
            except OverdueError as error:
                self.tallies[("refused_events", error.code)] += 1
                continue
            self.states[i] = outcome.state
            self.keep(outcome.transactions)
            self.tallies[("purchases",)] += 1
            self.tallies[("purchase_fen",)] += amount

    def pay_statement(self, i: int, on: date, kind: int, share: float) -> None:
        """Pay the latest statement as decided on the statement day."""
        state = self.state(i)
        latest = state.latest_statement()
        if latest is None or latest.outstanding == 0 or kind == NOTHING:
            return
        if kind == FULL:
            amount = sum(s.outstanding for s in state.statements)
        elif kind == REVOLVE:
            amount = latest.minimum_remaining + int((latest.outstanding - latest.minimum_remaining) * share)
        else:
            amount = int(latest.minimum_remaining * share)
        if amount > 0:
            self.repay(i, on, amount)

    def plan_statements(self, on: date) -> None:
        """On the statement day: each current account with a new statement decides how it will pay it."""
        fresh = [
            i
            for i in np.flatnonzero(self.opened & (self.dpd == 0))
            if (latest := self.state(int(i)).latest_statement()) is not None
            and latest.statement_date == on
            and latest.outstanding > 0
        ]
        if not fresh:
            return
        idx = np.array(fresh, dtype=np.int64)
        ability = self.effective_ability()[idx]
        good = ability * self.willingness[idx]
        bad = (1.0 - good) ** 2
        p_nothing = 0.01 + 0.25 * bad
        p_short = 0.01 + 0.12 * bad
        p_revolve = 0.08 + 0.35 * (1.0 - ability)
        draw = self.rng.random(len(idx))
        kind = np.where(
            draw < p_nothing,
            NOTHING,
            np.where(
                draw < p_nothing + p_short,
                SHORT,
                np.where(draw < p_nothing + p_short + p_revolve, REVOLVE, FULL),
            ),
        )
        early = np.minimum(self.rng.geometric(0.35, len(idx)) - 1, 7)
        for j, i in enumerate(fresh):
            latest = self.state(int(i)).latest_statement()
            assert latest is not None
            self.cycle_kind[i] = kind[j]
            self.pay_ord[i] = latest.due_date.toordinal() - int(early[j])

    def end_of_day(self, on: date) -> None:
        statement_day = on.day == self.terms.statement_day or is_month_end(on)
        for i in np.flatnonzero(self.opened):
            state = self.state(int(i))
            if self.spec.skip_quiet_days and not statement_day and idle(state):
                self.states[i] = dataclasses.replace(state, last_eod=on)
                continue
            outcome = rules.end_of_day(state, on)
            self.states[i] = outcome.state
            self.keep(outcome.transactions)
            self.set_dpd(int(i), outcome.state.days_past_due)
            self.active[i] = outcome.state.status is AccountStatus.ACTIVE

    def collect(self, on: date) -> None:
        """Decide → comply for every account that may need it, then let the allowed actions work."""
        for index in np.flatnonzero(self.opened):
            i = int(index)
            state = self.state(i)
            coll = self.colls[i]
            if state.days_past_due == 0 and self.quiet(i, state, coll, on):
                continue
            episode = collection_rules.start_or_end_episode(
                coll.state, state.days_past_due, on
            ).episode_started_on
            if episode != self.episode_key[i]:
                self.last_done[i] = {}
                self.episode_key[i] = episode
            day = plan_collection(state, coll, on, self.last_done[i], self.strategy, self.rulebook)
            before_promises = sum(p.status == "broken" for p in day.collection.state.promises)
            self.colls[i] = day.collection
            self.tallies[("promises", "broken")] += before_promises - sum(
                p.status == "broken" for p in coll.state.promises
            )
            previous_stage = self.stage[i]
            if state.days_past_due > 0 and day.collection.state.stage in self.stage_names:
                self.stage[i] = self.stage_names.index(day.collection.state.stage)
            for step in day.steps:
                self.act(i, on, step.action, step.allowed, step.rule, step.reason)
            self.expose(i, on, previous_stage)

    def quiet(self, i: int, state: AccountState, coll: Collections, on: date) -> bool:
        """Whether ``plan_collection`` can be skipped today for this account at DPD 0 (module docstring)."""
        if self.quiet_days is None or coll.state.episode_started_on is not None:
            return False
        if any(p.status == "pending" for p in coll.state.promises):
            return False
        unpaid = [s for s in state.statements if s.outstanding > 0]
        if not unpaid:
            return True
        latest = max(unpaid, key=lambda s: s.statement_date)
        return (latest.due_date - on).days not in self.quiet_days

    def expose(self, i: int, on: date, previous_stage: int) -> None:
        """Add the day's new overdue money to the exposure of the account's stage and episode."""
        state = self.state(i)
        if state.days_past_due == 0:
            self.past_due[i] = 0
            return
        now = cure_amount(state, on)
        variant, stage = self.variant[i], self.stage_name(i)
        increase = max(0, now - int(self.past_due[i]))
        if self.stage[i] != previous_stage:
            self.tallies[("exposure", stage, variant)] += now
            if not self.stage_mask[i] >> self.stage[i] & 1:
                self.stage_mask[i] |= 1 << int(self.stage[i])
                self.tallies[("stage_reached", stage, variant)] += 1
        else:
            self.tallies[("exposure", stage, variant)] += increase
        self.tallies[("exposure_total", variant)] += increase
        self.past_due[i] = now

    def act(
        self, i: int, on: date, action: PlannedAction, allowed: bool, rule: str | None, reason: str
    ) -> None:
        variant = self.variant[i]
        self.tallies[
            ("actions", action.type, action.stage, variant, "allowed" if allowed else "refused")
        ] += 1
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
            return
        self.last_done[i][action.treatment] = on
        t = ACTION_TYPES.index(action.type)
        if self.dpd[i] > 0 and not self.type_mask[i] >> t & 1:
            self.type_mask[i] |= 1 << t
            self.tallies[("type_touched", action.type, variant)] += 1
        lift = self.model.lifts.get(action.type, 0.0)
        if action.type in VOICE_TYPES:
            lift = lift if self.contact(i, on, action.type) else 0.0
        elif self.unreachable[i]:
            lift *= 0.1
        if lift > 0:
            self.pressure[i] += lift * self.willingness[i] * self.model.early_weight(int(self.dpd[i]))
            if self.dpd[i] > 0:
                self.last_touch[i] = t

    def contact(self, i: int, on: date, action_type: str) -> bool:
        """Make a contact attempt; record its outcome; maybe take a promise. True when somebody answered."""
        m, rng = self.model, self.rng
        coll = self.colls[i]
        cs = coll.state
        connected = False
        if action_type == "contact_call":
            connected = rng.random() < CONNECT_PROBABILITY[action_type]
            if connected and self.unreachable[i] and rng.random() < m.restore_contact:
                self.unreachable[i] = False
                cs = collection_rules.record_contact(cs, "connected", on)
            else:
                cs = collection_rules.record_contact(cs, "no_answer", on)
        elif self.unreachable[i]:
            if action_type == "field_visit" and rng.random() < m.restore_contact:
                self.unreachable[i] = False
            outcome = "lost_contact" if cs.contactability == "reachable" else "no_answer"
            cs = collection_rules.record_contact(cs, outcome, on)
        elif rng.random() < CONNECT_PROBABILITY[action_type]:
            connected = True
            outcome = "connected"
            human = action_type in ("call", "field_visit")
            state = self.state(i)
            amount = cure_amount(state, on)
            if human and amount > 0 and rng.random() < m.promise_on_connect * self.willingness[i]:
                outcome = "promise"
                due = on + timedelta(days=m.promise_days)
                cs = collection_rules.make_promise(cs, f"{self.ids[i]}/{on.isoformat()}", on, amount, due)
                self.tallies[("promises", "made")] += 1
                if rng.random() < self.willingness[i] * self.effective_ability()[i]:
                    self.promise_ord[i] = on.toordinal() + int(rng.integers(1, m.promise_days + 1))
                    self.promise_amount[i] = amount
            cs = collection_rules.record_contact(cs, outcome, on)
        else:
            cs = collection_rules.record_contact(cs, "no_answer", on)
        self.colls[i] = Collections(cs, coll.agency, coll.placed_on)
        return connected

    def month_end(self, on: date, column: int, result: ShardResult) -> None:
        for i in range(self.n):
            state = self.states[i]
            if state is None:
                result.bucket[i, column] = NOT_OPEN
                continue
            result.bucket[i, column] = bucket_index(state.bucket)
            result.dpd[i, column] = state.days_past_due
            result.overdue[i, column] = overdue_balance(state, on)
            result.outstanding[i, column] = state.outstanding
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

    def entry_rate(self, on: date) -> None:
        """入催率: on a due date note the current accounts with a statement due; the next day, who slipped."""
        if self.due_candidates:
            for k in self.due_candidates:
                if self.dpd[k] > 0:
                    self.tallies[("entered", self.due_month, self.variant[k])] += 1
            self.due_candidates = []
        candidates = []
        for i in np.flatnonzero(self.opened & (self.dpd == 0)):
            latest = self.state(int(i)).latest_statement()
            if latest is not None and latest.due_date == on and latest.amount > 0:
                candidates.append(int(i))
                self.tallies[("due", f"{on.year:04d}-{on.month:02d}", self.variant[int(i)])] += 1
        if candidates:
            self.due_candidates = candidates
            self.due_month = f"{on.year:04d}-{on.month:02d}"


def month_ends_between(start: date, end: date) -> list[date]:
    days = (end - start).days + 1
    return [d for d in (start + timedelta(days=k) for k in range(days)) if is_month_end(d)]


def run_shard(spec: ShardSpec) -> ShardResult:
    """Run one shard from ``spec.start`` to ``spec.end`` (both included)."""
    shard = Shard(spec)
    months = month_ends_between(spec.start, spec.end)
    days = (spec.end - spec.start).days + 1
    n = shard.n
    result = ShardResult(
        indices=[b.index for b in spec.borrowers],
        month_ends=months,
        bucket=np.full((n, len(months)), NOT_OPEN, dtype=np.int8),
        dpd=np.zeros((n, len(months)), dtype=np.int32),
        overdue=np.zeros((n, len(months)), dtype=np.int64),
        outstanding=np.zeros((n, len(months)), dtype=np.int64),
        daily_buckets=np.zeros((days, len(BUCKETS)), dtype=np.int64),
        daily_past_due=np.zeros(days, dtype=np.int64),
        tallies=shard.tallies,
        states=[],
        collections=[],
    )
    column = 0
    for k in range(days):
        on = spec.start + timedelta(days=k)
        shard.open_accounts(on)
        shard.life_events()
        shard.pressure *= spec.model.pressure_decay
        placed = np.array([c.agency is not None for c in shard.colls], dtype=bool)
        shard.pressure[placed] += spec.model.agency_daily_lift * shard.willingness[placed]
        shard.behave(on)
        shard.end_of_day(on)
        if on.day == shard.terms.statement_day:
            shard.plan_statements(on)
        shard.collect(on)
        shard.entry_rate(on)
        buckets = np.array([bucket_index(s.bucket) for s in shard.states if s is not None], dtype=np.int64)
        result.daily_buckets[k] = np.bincount(buckets, minlength=len(BUCKETS))
        result.daily_past_due[k] = int(shard.past_due.sum())
        if is_month_end(on):
            shard.month_end(on, column, result)
            column += 1
    result.states = [shard.state(i) for i in range(n)]  # every account opens within the first month
    result.collections = list(shard.colls)
    result.ledger, result.actions, result.days = shard.ledger, shard.actions, shard.days
    return result
