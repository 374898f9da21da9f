"""The borrowers of one shard: their traits, what they do each day, and how they answer a contact.

The day's behaviour is drawn vectorised with NumPy over the whole shard from the shard's random stream: every
draw (:meth:`Behaviour.life_events`, :meth:`Behaviour.draw_day`, and on the statement day
:meth:`Behaviour.plan_statements`) is one value per account, in the same order every day, whatever the
accounts' states. How a contact is answered is drawn from :class:`~overdue.sim.draws.KeyedDraws`, keyed by
account and day. So a borrower's draws never depend on what was done to other accounts: two runs of one
portfolio under two strategies share their random numbers (:mod:`overdue.sim.draws`), and a shard's result
depends on its seed alone. The numbers come from :class:`~overdue.sim.model.BehaviourModel`; money amounts
are integer fen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from overdue.domain.state import AccountState
from overdue.sim.borrowers import Borrower
from overdue.sim.draws import KeyedDraws
from overdue.sim.model import CONNECT_PROBABILITY, BehaviourModel

FULL, REVOLVE, SHORT, NOTHING = 1, 2, 3, 4
"""Statement behaviour drawn on the statement day: pay in full, revolve (minimum or more), pay short of the
minimum, or pay nothing."""

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DAY_STREAM, ANSWER_STREAM = 1, 3
"""Random streams of a shard: the day's draws for the whole shard, and the answers to contacts."""


@dataclass(frozen=True)
class DayDraws:
    """The day's behaviour, drawn for the whole shard before it is applied account by account."""

    pays_delinquent: Mask
    """Delinquent borrowers who repay something today."""
    kind_draw: Floats
    """Uniform draw choosing how much a delinquent borrower repays (:meth:`Behaviour.delinquent_amount`)."""
    share_draw: Floats
    """Share (0.2–0.8) of a partial repayment."""
    promised: Mask
    """Borrowers paying a promise today."""
    scheduled: Mask
    """Current borrowers paying their statement today, as planned on the statement day."""
    spends: Mask
    purchase: Ints
    """Fen each spender tries to spend (before clipping to the available credit)."""
    ability: Floats
    """Ability to pay today (job losses included)."""


@dataclass(frozen=True)
class Answer:
    """What came of one voice or field contact attempt.

    outcome: the outcome the account's collection state records (the debtor's view: a pre-agreed contact
    who restores contact counts as reaching the debtor). logged: the outcome of the call itself, as the
    contact log keeps it (a pre-agreed contact who picks up is ``connected``). connected: somebody answered.
    promised: the past-due amount (fen) the borrower promised to pay, 0 when no promise was made;
    pays_in_days: days until they pay it, None when they will not.
    """

    outcome: str
    logged: str
    connected: bool
    promised: int = 0
    pays_in_days: int | None = None


class Behaviour:
    """The borrowers of one shard and the shard's random draws."""

    def __init__(self, borrowers: tuple[Borrower, ...], model: BehaviourModel, seed: int, shard: int) -> None:
        self.model = model
        n = self.n = len(borrowers)
        self.rng = np.random.default_rng([seed, DAY_STREAM, shard])
        """The day's draws for the whole shard: only ever draw one value per account, every day alike."""
        self.answers = KeyedDraws(seed, ANSWER_STREAM, shard, n)
        """How contacts are answered: each account's own draws of the day."""
        self.ability = np.array([x.ability for x in borrowers])
        self.willingness = np.array([x.willingness for x in borrowers])
        self.spend_rate = np.array([x.spend_rate for x in borrowers])
        self.spend_share = np.array([x.spend_share for x in borrowers])
        self.limit = np.array([x.credit_limit for x in borrowers], dtype=np.int64)
        self.unreachable = np.array([x.unreachable for x in borrowers], dtype=bool)
        self.fraud = np.array([x.fraud for x in borrowers], dtype=bool)
        """Fraudulent borrowers (:attr:`~overdue.sim.model.BehaviourModel.fraud_share`): they spend more, are
        less willing (so less moved), and pay no statement (:meth:`plan_statements`)."""
        if self.fraud.any():
            self.willingness[self.fraud] *= model.fraud_willingness
            self.spend_rate[self.fraud] = np.minimum(0.6, self.spend_rate[self.fraud] * model.fraud_spend)
            self.spend_share[self.fraud] = np.minimum(0.4, self.spend_share[self.fraud] * model.fraud_spend)
        self.employed = np.ones(n, dtype=bool)
        self.pressure = np.zeros(n)
        self.cycle_kind = np.zeros(n, dtype=np.int8)
        """How each current borrower will pay this cycle's statement (:data:`FULL` …), 0 when decided."""
        self.pay_ord = np.zeros(n, dtype=np.int64)
        """The day (ordinal) they pay it."""
        self.promise_ord = np.zeros(n, dtype=np.int64)
        """The day (ordinal) a borrower pays a promise, 0 when none will be paid."""
        self.promise_amount = np.zeros(n, dtype=np.int64)

    def effective_ability(self, rows: Ints | None = None) -> Floats:
        """Each borrower's ability to pay now (lower after a job loss); of ``rows`` alone when given."""
        if rows is None:
            ability: Floats = self.ability * np.where(self.employed, 1.0, self.model.job_loss_ability)
        else:
            ability = self.ability[rows] * np.where(self.employed[rows], 1.0, self.model.job_loss_ability)
        return ability

    def life_events(self, opened: Mask) -> int:
        """Job losses and recoveries of the day; returns the number of job losses."""
        m = self.model
        draw = self.rng.random(self.n)
        lose = opened & self.employed & (draw < m.job_loss_daily)
        back = ~self.employed & (draw < m.job_recovery_daily)
        self.employed[lose] = False
        self.employed[back] = True
        # Some who lose their job also stop answering the phone.
        self.unreachable[lose & (self.rng.random(self.n) < 0.15)] = True
        return int(lose.sum())

    def new_day(self, placed: Mask) -> None:
        """Yesterday's pressure fades; an agency adds its own every day it holds an account."""
        self.pressure *= self.model.pressure_decay
        self.pressure[placed] += self.model.agency_daily_lift * self.willingness[placed]

    def draw_day(self, today: int, dpd: Ints, active: Mask, written_off: Mask) -> DayDraws:
        """The day's repayments and purchases (``today`` is the date's ordinal)."""
        m, rng, n = self.model, self.rng, self.n
        ability = self.effective_ability()
        # Delinquent borrowers: repay with a hazard that collection pressure raises.
        hazard = m.base_hazard * ability * self.willingness * (1.0 + self.pressure)
        hazard = np.minimum(hazard, m.max_hazard)
        hazard = np.where(written_off, hazard * m.written_off_factor, hazard)
        pays_delinquent = (dpd > 0) & (rng.random(n) < hazard)
        kind_draw = rng.random(n)
        share_draw = rng.uniform(0.2, 0.8, n)
        promised = self.promise_ord == today
        scheduled = (self.cycle_kind > 0) & (self.pay_ord == today)
        # Purchases within available credit on an active line.
        spends = active & (rng.random(n) < self.spend_rate * np.where(self.employed, 1.0, 0.5)) & ~written_off
        purchase = np.round(self.limit * self.spend_share * rng.lognormal(0.0, 0.5, n)).astype(np.int64)
        return DayDraws(
            pays_delinquent, kind_draw, share_draw, promised, scheduled, spends, purchase, ability
        )

    @staticmethod
    def delinquent_amount(
        state: AccountState, cure: int, kind_draw: float, ability: float, share: float
    ) -> int:
        """What a delinquent borrower repays: everything (more likely the abler they are), the past-due amount
        ``cure``, or a share of it."""
        if kind_draw < ability**2:
            return sum(s.outstanding for s in state.statements) or cure
        if kind_draw < 0.85:
            return cure
        return max(1, int(cure * share))

    @staticmethod
    def statement_amount(state: AccountState, kind: int, share: float) -> int:
        """What a current borrower pays on the day planned for their latest statement (0: nothing)."""
        latest = state.latest_statement()
        if latest is None or latest.outstanding == 0 or kind == NOTHING:
            return 0
        if kind == FULL:
            return sum(s.outstanding for s in state.statements)
        if kind == REVOLVE:
            return latest.minimum_remaining + int((latest.outstanding - latest.minimum_remaining) * share)
        return int(latest.minimum_remaining * share)

    def plan_statements(self, fresh: list[int], due_ords: list[int]) -> None:
        """On the statement day: each current account with a new statement (``fresh``, due on ``due_ords``)
        decides how, and how many days before the due date, it will pay. Called every statement day, with
        no account or many: the draws are made for every account of the shard."""
        draw_all = self.rng.random(self.n)
        early_all = np.minimum(self.rng.geometric(0.35, self.n) - 1, 7)
        idx = np.array(fresh, dtype=np.int64)
        ability = self.effective_ability(idx)
        good = ability * self.willingness[idx]
        bad = (1.0 - good) ** 2
        p_nothing = 0.01 + 0.25 * bad
        p_short = 0.01 + 0.12 * bad
        p_revolve = 0.08 + 0.35 * (1.0 - ability)
        draw = draw_all[idx]
        kind = np.where(
            draw < p_nothing,
            NOTHING,
            np.where(
                draw < p_nothing + p_short,
                SHORT,
                np.where(draw < p_nothing + p_short + p_revolve, REVOLVE, FULL),
            ),
        )
        kind = np.where(self.fraud[idx], NOTHING, kind)
        early = early_all[idx]
        for j, i in enumerate(fresh):
            self.cycle_kind[i] = kind[j]
            self.pay_ord[i] = due_ords[j] - int(early[j])

    def answer(
        self, i: int, day: int, action_type: str, reachable: bool, amount_due: Callable[[], int]
    ) -> Answer:
        """Make a voice or field contact attempt on borrower ``i`` on ``day`` (a date's ordinal) and draw
        what comes of it (from the borrower's own draws of the day, :class:`~overdue.sim.draws.KeyedDraws`).

        reachable: whether the account's collection state still counts the debtor as reachable.
        amount_due: the past-due amount (asked only when a human conversation may end in a promise).
        """
        m = self.model

        def draw() -> float:
            return self.answers.one(i, day)

        if action_type == "contact_call":
            connected = bool(draw() < CONNECT_PROBABILITY[action_type])
            logged = "connected" if connected else "no_answer"
            if connected and self.unreachable[i] and draw() < m.restore_contact:
                self.unreachable[i] = False
                return Answer("connected", logged, connected)
            return Answer("no_answer", logged, connected)
        if self.unreachable[i]:
            if action_type == "field_visit" and draw() < m.restore_contact:
                self.unreachable[i] = False
            outcome = "lost_contact" if reachable else "no_answer"
            return Answer(outcome, outcome, False)
        if not draw() < CONNECT_PROBABILITY[action_type]:
            return Answer("no_answer", "no_answer", False)
        if (
            action_type in ("call", "field_visit")
            and (amount := amount_due()) > 0
            and draw() < m.promise_on_connect * self.willingness[i]
        ):
            pays = None
            if draw() < self.willingness[i] * self.effective_ability()[i]:
                pays = 1 + int(draw() * m.promise_days)  # 1 … promise_days, evenly
            return Answer("promise", "promise", True, amount, pays)
        return Answer("connected", "connected", True)
