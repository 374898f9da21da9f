"""The reference end-of-day runner: every account, one at a time, one business date after another.

For each date from the first not yet closed up to the requested one, every account opened by then and not yet
run for that date is loaded, run through :func:`overdue.domain.account.end_of_day` (accrue → age → bill),
saved, put through the limit review (:func:`overdue.engine.limits.review_account`: changes due applied, on
schedule a review, recorded and told), at a month end scored with the shipped behaviour model
(:func:`score_month_end`, recorded in ``behaviour_scores``), then :func:`overdue.engine.collect.collect`
(decide → comply → act; the latest month-end behaviour score is the ``behaviour_score`` fact), with its
ledger transactions, its day row, its score and its actions — one database transaction per account. So the
run is:

- **idempotent**: a date already closed is skipped; an account already run for a date is skipped;
- **restartable**: after a crash the rerun picks up the accounts not yet done;
- **catching up**: missed dates run in order before the requested one.

A date is closed (``eod_runs.finished``) once every account has run it.
"""

from __future__ import annotations

import dataclasses
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, Engine, func, or_, select

from overdue.compliance import Rulebook
from overdue.compliance.lint import lint_strategy
from overdue.domain import account as rules
from overdue.domain.calendar import ONE_DAY, is_month_end, iter_days
from overdue.domain.errors import InvalidInput
from overdue.domain.state import AccountState
from overdue.domain.terms import terms_from_json
from overdue.engine.collect import collect
from overdue.engine.limits import LimitReview, review_account
from overdue.risk.accounts import all_statements
from overdue.risk.behaviour import month_end_score, scored_at_month_end
from overdue.store import audit_trail, behaviour_repository, limit_repository, repository
from overdue.store.account_tables import accounts, eod_runs
from overdue.strategy import Strategy, default_strategy

Progress = Callable[[date, int, int], None]
"""Called as ``progress(business_date, accounts_done, accounts_total)`` while a date runs."""


@dataclass
class EodSummary:
    dates: list[date] = field(default_factory=list)
    accounts_run: int = 0
    transactions: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    """Actions recorded, by type (refused ones under ``refused``)."""
    limit_changes: dict[str, int] = field(default_factory=dict)
    """Limit changes recorded by the review, by action (``raise``, ``cut``, ``freeze``, ``close``)."""

    def add(self, other: EodSummary) -> None:
        """Count ``other``'s accounts, transactions, actions and limit changes in this summary too."""
        self.accounts_run += other.accounts_run
        self.transactions += other.transactions
        for key, count in other.actions.items():
            self.actions[key] = self.actions.get(key, 0) + count
        for key, count in other.limit_changes.items():
            self.limit_changes[key] = self.limit_changes.get(key, 0) + count

    def to_json(self) -> dict[str, object]:
        return {
            "dates": [d.isoformat() for d in self.dates],
            "accounts_run": self.accounts_run,
            "transactions": self.transactions,
            "actions": dict(sorted(self.actions.items())),
            "limit_changes": dict(sorted(self.limit_changes.items())),
        }


@dataclass(frozen=True)
class Collection:
    """How the end-of-day collects: the strategy that decides and the rulebook every contact passes."""

    strategy: Strategy
    rulebook: Rulebook | None = None
    """None: each account's product names its rulebook (``cn`` by default)."""
    limits: LimitReview = field(default_factory=LimitReview)
    """The limit review's policy and schedule (default: on each statement day, after billing)."""

    @classmethod
    def default(cls) -> Collection:
        return cls(default_strategy())


def first_open_date(engine: Engine) -> date | None:
    """The first business date the end-of-day still has to run (None: no accounts yet)."""
    with engine.connect() as conn:
        closed = repository.last_closed_date(conn)
        earliest = conn.execute(select(func.min(accounts.c.opened_on))).scalar()
    if closed is not None:
        return closed + ONE_DAY
    return earliest if isinstance(earliest, date) else None


def run_date(
    engine: Engine,
    on: date,
    summary: EodSummary,
    progress: Progress | None = None,
    collection: Collection | None = None,
) -> None:
    """Run the end-of-day of ``on`` on every account that still needs it, then close the date.

    Each account's day commits on its own (its ledger is its record); closing the date writes the audit row
    of the whole day (accounts run, transactions, actions, limit changes) with it.
    """
    collection = collection or Collection.default()
    day = EodSummary()
    with engine.connect() as conn:
        due = list(
            conn.execute(
                select(accounts.c.id)
                .where(
                    accounts.c.opened_on <= on, or_(accounts.c.last_eod.is_(None), accounts.c.last_eod < on)
                )
                .order_by(accounts.c.id)
            ).scalars()
        )
        total = conn.execute(
            select(func.count()).select_from(accounts).where(accounts.c.opened_on <= on)
        ).scalar_one()
        pending = limit_repository.pending_changes(conn, on)
        scores = behaviour_repository.latest_scores(conn, on)
    month_end = is_month_end(on)
    for done, account_id in enumerate(due, start=1):
        with engine.begin() as conn:
            state, version = repository.load_account(conn, account_id)
            outcome = rules.end_of_day(state, on)
            version = repository.save_account(conn, state, outcome.state, version, outcome.transactions)
            limits = review_account(
                conn, outcome.state, version, on, collection.limits, pending.get(account_id, ())
            )
            repository.record_day(conn, limits.state, on)
            behaviour = score_month_end(conn, limits.state, on) if month_end else None
            behaviour = scores.get(account_id) if behaviour is None else behaviour
            _, recorded = collect(
                conn, limits.state, on, collection.strategy, collection.rulebook, behaviour_score=behaviour
            )
        for action in limits.recorded:
            day.limit_changes[action] = day.limit_changes.get(action, 0) + 1
        for row in recorded:
            key = row["type"] if row["status"] != "refused" else "refused"
            day.actions[key] = day.actions.get(key, 0) + 1
        day.accounts_run += 1
        day.transactions += len(outcome.transactions)
        if progress is not None:
            progress(on, done, len(due))
    with engine.begin() as conn:
        closed_before = conn.execute(
            select(eod_runs.c.finished).where(eod_runs.c.business_date == on)
        ).scalar()
        repository.upsert(
            conn, eod_runs, [{"business_date": on, "accounts": total, "finished": True}], ["business_date"]
        )
        if day.accounts_run or not closed_before:  # a date run again with nothing left to do changed nothing
            detail = {k: v for k, v in day.to_json().items() if k != "dates"}
            audit_trail.changed(conn, "run", "end_of_day", on.isoformat(), detail)
    summary.add(day)
    summary.dates.append(on)


def score_month_end(conn: Connection, state: AccountState, on: date) -> int | None:
    """Score ``state`` (saved after its end-of-day of the month end ``on``) with the shipped behaviour model
    and record the score, once per account and month end; returns the recorded points, or None when the
    account is not scored (written off, or a closed line with nothing owed:
    :func:`overdue.risk.behaviour.scored_at_month_end`).

    The facts read the account's full bucket history and every statement it has had
    (:func:`overdue.risk.behaviour.behaviour_facts`), loaded here: two queries per account, at month ends
    only.
    """
    if not scored_at_month_end(state):
        return None
    full = dataclasses.replace(state, bucket_history=tuple(limit_repository.bucket_spells(conn, state.id)))
    score = month_end_score(full, all_statements(conn, state.id, on), on)
    recorded = behaviour_repository.record_score(
        conn,
        {
            "account_id": state.id,
            "month_end": on,
            "score_points": score.points,
            "probability_bad_ppm": score.probability_bad_ppm,
            "model_version": score.model,
            "reasons": " ".join(score.reasons),
        },
    )
    return score.points if recorded else behaviour_repository.latest_score(conn, state.id, on)


_LINTED: dict[tuple[int, str], weakref.ref[Strategy]] = {}
"""Strategies whose templates already passed the lint (by identity), so a run of many dates lints once."""


def check_templates(strategy: Strategy, rulebook: str = "cn") -> None:
    """Refuse to run a strategy whose message templates fail the lint (:mod:`overdue.compliance.lint`)
    under ``rulebook``."""
    linted = _LINTED.get((id(strategy), rulebook))
    if linted is not None and linted() is strategy:
        return
    problems = lint_strategy(strategy, rulebook)
    if problems:
        raise InvalidInput(
            f"strategy {strategy.name}: {len(problems)} template problem(s) under the {rulebook} rulebook: "
            + "; ".join(map(str, problems))
        )
    _LINTED[(id(strategy), rulebook)] = weakref.ref(strategy)


def rulebooks_in_use(engine: Engine, collection: Collection) -> list[str]:
    """The rulebooks the end-of-day applies: the collection's own, or each one the accounts' products name."""
    if collection.rulebook is not None:
        return [collection.rulebook.name]
    with engine.connect() as conn:
        terms = conn.execute(select(accounts.c.terms_json).distinct()).scalars()
        return sorted({terms_from_json(json.loads(t)).rulebook for t in terms}) or ["cn"]


def run_eod(
    engine: Engine, through: date, progress: Progress | None = None, collection: Collection | None = None
) -> EodSummary:
    """Run every business date not yet closed, up to and including ``through``.

    collection: the strategy and rulebook (default: the shipped ``huabei`` strategy and each account's
    product's rulebook).
    """
    summary = EodSummary()
    start = first_open_date(engine)
    if start is None:
        return summary
    collection = collection or Collection.default()
    for name in rulebooks_in_use(engine, collection):
        check_templates(collection.strategy, name)
    for on in iter_days(start, through):
        run_date(engine, on, summary, progress, collection)
    return summary
