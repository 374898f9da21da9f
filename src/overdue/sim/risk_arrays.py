"""The month-end behaviour score and the monthly limit review over the array book, exactly as the reference
computes them account by account.

- :func:`behaviour_points`: :func:`overdue.risk.behaviour.month_end_score`'s points for every account to
  score. The inputs (:func:`overdue.risk.behaviour.behaviour_facts`) come from the book's arrays — the
  completed cycles (:func:`cycles`), months on book, utilisation — and, for the accounts that were ever past
  due, from their bucket history; the model's arithmetic is the same sequence of floating-point operations
  as :meth:`overdue.risk.logistic.LogisticModel.contributions` and :class:`overdue.risk.scorecard.Scaling`
  (the logarithms of the whole numbers the log-scaled features take are looked up, computed once with
  :func:`math.log1p`), so the points are the same bit for bit.
- :func:`review_candidates`: the accounts whose review (:func:`overdue.risk.changes.change_to_record`)
  records a change today. Every other account's review provably records none; these go through the
  reference's own review, which gives the decision with its reasons. A mean utilisation at a threshold,
  where only the reference's decimal arithmetic decides, is handed to the reference as well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from overdue.domain.calendar import add_months
from overdue.risk.behaviour import _moves, months_on_book, worst_dpd
from overdue.risk.changes import delinquent_since
from overdue.risk.logistic import LogisticModel
from overdue.risk.review import ReviewParameters
from overdue.risk.scorecard import Scaling
from overdue.sim.book import CLOSED, FROZEN, WRITTEN, Book

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]

CLOSE, FREEZE, CUT, RAISE = "close", "freeze", "cut", "raise"


@dataclass(frozen=True)
class Reviewed:
    """The reviews that record a change: the accounts, each one's action and new limit, and whether only the
    reference's review can decide it (its decision then stands, whatever ``action`` says)."""

    rows: Ints
    action: npt.NDArray[np.object_]
    new_limit: Ints
    doubtful: Mask

    def items(self) -> list[tuple[int, str, int, bool]]:
        """Each review as (account, action, new limit, doubtful)."""
        return list(
            zip(
                self.rows.tolist(),
                self.action.tolist(),
                self.new_limit.tolist(),
                self.doubtful.tolist(),
                strict=True,
            )
        )


def cycles(book: Book, rows: Ints, today: int) -> tuple[Mask, Mask, Mask]:
    """The completed cycles of ``rows`` on ``today`` (:func:`overdue.risk.review.cycles_from_history`):
    which statement slots are cycles, which were paid on time, which only to their minimum."""
    grace = book.terms.grace_days
    done = book.exists[rows] & (book.due_ord + grace + 1 <= today)
    on_time = done & book.on_time[rows]
    paid, amount = book.paid[rows], book.amount[rows]
    partly = (paid > 0) & (paid < amount)
    # The next statement the account has (slots may be empty where nothing was billed).
    slots = book.exists.shape[1]
    exists = book.exists[rows]
    following = np.full(exists.shape, -1, dtype=np.int64)
    nearest = np.full(len(rows), -1, dtype=np.int64)
    for k in range(slots - 1, -1, -1):
        following[:, k] = nearest
        nearest = np.where(exists[:, k], k, nearest)
    carried = book.carried[rows]
    next_carries = np.take_along_axis(carried, np.maximum(following, 0), axis=1) > 0
    rolled = partly | ((following >= 0) & next_carries)
    return done, on_time, on_time & rolled


class BehaviourArrays:
    """The shipped behaviour model's arithmetic over arrays (see the module docstring)."""

    def __init__(self, model: LogisticModel, scaling: Scaling | None = None) -> None:
        self.model = model
        self.scaling = scaling or Scaling()
        self._logs = {
            f.spec.name: np.array([math.log1p(float(x)) for x in range(int(f.spec.cap or 0) + 1)])
            for f in model.features
            if f.spec.log
        }

    def points(self, values: dict[str, Floats | Ints]) -> Ints:
        total: Floats | float = 0
        for feature in self.model.features:
            spec = feature.spec
            raw = np.asarray(values[spec.name], dtype=np.float64)
            x = np.minimum(raw, spec.cap) if spec.cap is not None else raw
            if spec.log:
                x = self._logs[spec.name][x.astype(np.int64)]
            total = total + feature.coefficient * (x - feature.mean) / feature.scale
        log_odds_bad = self.model.intercept + total
        score = self.scaling.offset + self.scaling.factor * -log_odds_bad
        points: Ints = np.floor(score + 0.5).astype(np.int64)
        return points


def behaviour_values(book: Book, rows: Ints, on: date) -> dict[str, Floats | Ints]:
    """:func:`overdue.risk.behaviour.behaviour_facts` of ``rows`` after the end-of-day of ``on``."""
    today = on.toordinal()
    opened = [date.fromordinal(int(d)) for d in book.open_ord[rows].tolist()]
    on_book = np.array([months_on_book(d, on) for d in opened], dtype=np.int64)
    six_ago, year_ago = add_months(on, -6), add_months(on, -12)
    dpd = book.dpd[rows]
    worst6, worst12, times = dpd.copy(), dpd.copy(), np.zeros(len(rows), dtype=np.int64)
    days = book.terms.bucket_days
    for j, i in enumerate(rows.tolist()):
        if not book.spells[i] and book.bucket[i] == 0:
            continue  # never past due: every spell is M0
        spells = book.bucket_history(i)
        worst6[j] = max(worst6[j], worst_dpd(spells, six_ago, on, days))
        worst12[j] = max(worst12[j], worst_dpd(spells, year_ago, on, days))
        times[j] = sum(1 for d in _moves(spells, "M1", "M2") if year_ago <= d <= on)
    done, _, minimum_only = cycles(book, rows, today)
    recent = book.statement_ord > six_ago.toordinal()
    return {
        "months_on_book": on_book,
        "worst_dpd_6m": worst6,
        "worst_dpd_12m": worst12,
        "times_30_plus_12m": times,
        "utilisation": book.principal(rows) / book.limit[rows],
        "minimum_only_6m": (minimum_only & done & recent).sum(axis=1),
    }


def scored(book: Book) -> Ints:
    """The accounts a month end scores (:func:`overdue.risk.behaviour.scored_at_month_end`)."""
    rows = np.flatnonzero(book.opened & (book.status != WRITTEN))
    return rows[~book.nothing_owed_and_closed(rows)]


def review_candidates(
    book: Book,
    rows: Ints,
    on: date,
    params: ReviewParameters,
    limit_at: Ints,
    last_action: npt.NDArray[np.object_],
    last_review: Ints,
    last_move: Ints,
) -> Reviewed:
    """The accounts of ``rows`` whose review records a change on ``on`` (see the module docstring), with
    the change decided (``action``, ``new_limit``), and those only the reference can decide (``doubtful``).

    limit_at: each account's limit at the end of each statement day (the limit in force for that cycle).
    last_action / last_review: the latest recorded change's action ('' for none) and review date (ordinal);
    last_move: the effective date of the latest raise or cut (0: none).
    """
    today = on.toordinal()
    status = book.status[rows]
    done, on_time, minimum_only = cycles(book, rows, today)
    finished = done.any(axis=1)
    rows_ok = (status != CLOSED) & finished
    rows, status, done, on_time, minimum_only = (
        rows[rows_ok],
        status[rows_ok],
        done[rows_ok],
        on_time[rows_ok],
        minimum_only[rows_ok],
    )
    dpd = book.dpd[rows]
    limit = book.limit[rows]
    action = np.full(len(rows), "keep", dtype=object)
    new_limit = limit.copy()
    action[status == FROZEN] = FREEZE
    action[dpd >= params.freeze_dpd] = FREEZE
    action[dpd >= params.close_dpd] = CLOSE
    action[status == WRITTEN] = CLOSE
    open_rows = action == "keep"

    # The last cycles: each slot's rank from the newest completed cycle (1 = the newest).
    rank = np.cumsum(done[:, ::-1], axis=1)[:, ::-1] * done
    count = done.sum(axis=1)
    cycle_limit = limit_at[rows]
    amount = book.amount[rows]
    near = (rank >= 1) & (rank <= params.near_full_cycles)
    full = amount * 100 >= _percent(params.near_full_utilisation) * cycle_limit
    near_full = (count >= params.near_full_cycles) & np.all(~near | full, axis=1)
    window = (rank >= 1) & (rank <= params.minimum_only_window)
    minimum_heavy = (minimum_only & window).sum(axis=1) >= params.minimum_only_cycles
    cutting = open_rows & (near_full | minimum_heavy)
    if cutting.any():
        step = params.limit_step
        share = _share_of(limit, params.cut_share)
        cut_to = np.maximum(params.minimum_limit, (limit - share) // step * step)
        owed = book.principal(rows)
        floor = np.maximum(params.minimum_limit, -(-owed // step) * step)
        cut = cutting & (cut_to < limit) & (floor < limit)
        action[cut] = CUT
        new_limit[cut] = np.where(floor > cut_to, floor, cut_to)[cut]

    last6 = (rank >= 1) & (rank <= params.raise_after_cycles)
    raising = open_rows & ~cutting & (count >= params.raise_after_cycles) & np.all(~last6 | on_time, axis=1)
    doubtful = np.zeros(len(rows), dtype=bool)
    if raising.any():
        use = (
            np.where(last6, amount / np.maximum(cycle_limit, 1), 0.0).sum(axis=1) / params.raise_after_cycles
        )
        low, high = float(params.healthy_utilisation_min), float(params.healthy_utilisation_max)
        margin = 1e-9
        near_edge = (np.abs(use - low) < margin) | (np.abs(use - high) < margin)
        doubtful = raising & near_edge  # only the reference's decimals decide these
        healthy = (use >= low) & (use <= high) & ~near_edge
        recent = (last_move[rows] > 0) & (today - last_move[rows] < params.min_days_between_changes)
        below_cap = limit < params.raise_cap
        raise_rows = raising & healthy & ~recent & below_cap
        raise_by = np.minimum(
            params.raise_step_max,
            np.maximum(
                params.limit_step,
                _share_of(limit, params.raise_share) // params.limit_step * params.limit_step,
            ),
        )
        action[raise_rows] = RAISE
        new_limit[raise_rows] = np.minimum(limit + raise_by, params.raise_cap)[raise_rows]

    change = np.isin(action, [CUT, RAISE]) & (new_limit != limit)
    holding = np.isin(action, [FREEZE, CLOSE])
    first = holding & (last_action[rows] != action)
    change |= first
    again = np.flatnonzero(holding & ~first)
    for j in again.tolist():  # the same freeze or close again: only in a new delinquency episode
        i = int(rows[j])
        started = delinquent_since(book.bucket_history(i))
        if started is not None and date.fromordinal(int(last_review[i])) < started:
            change[j] = True
    picked = change | doubtful
    return Reviewed(rows[picked], action[picked], new_limit[picked], doubtful[picked])


def _percent(share: Decimal) -> int:
    """A share with at most two decimals as whole percent (0.95 → 95)."""
    percent = share * 100
    if percent != percent.to_integral_value():
        raise ValueError(f"a review share of {share} is finer than whole percent")
    return int(percent)


def _share_of(amounts: Ints, share: Decimal) -> Ints:
    """``int(Decimal(amount) * share)`` for positive amounts (rounded down), exactly."""
    numerator, denominator = share.as_integer_ratio()
    result: Ints = amounts * numerator // denominator
    return result
