"""Benchmark one whole end-of-day: set-based on DuckDB, PostgreSQL or Spark, or the reference rules.

    python bench/eod.py --accounts N [--engine duckdb|postgres|spark|reference] [--db URL]
                        [--date YYYY-MM-DD] [--days-of-history N] [--strategy FILE|huabei]
                        [--days N] [--seed S] [--memory ordinary|default] [--steps] [--json]

The portfolio is generated directly as tables (vectorised NumPy/Arrow, seeded), as it stands after the
end-of-day of the day before ``--date`` (default 2026-03-15, an ordinary day; 2026-04-01 is a statement
day, 2026-03-31 a month end):

- about 85 % current: the 1 March statement paid in full, paid to its minimum (the rest revolving), or
  not due yet; most with purchases waiting for the next statement;
- about 15 % delinquent across the buckets: the oldest unpaid statement due 1 to 6 months ago, every later
  statement unpaid too, the line frozen, overdue interest posted; about 1 % written off;
- about 5 % with a 12-period bill-installment plan; a 24-month bureau grid on every account.

``--engine duckdb`` runs in-process; ``postgres`` in the database of ``--db URL`` (temporary tables of the
session, so any database the user may connect to); ``spark`` on a ``local[2]`` session started by the
benchmark. The portfolio is loaded into the engine first (``load_seconds``) and the day's queries are
compiled (``compile_seconds``, once per process and kind of day); ``day_seconds`` is the accounts' day —
checks, accrue, age, bill, bureau, postings, spells — with its results left in the engine, as a nightly
run over state kept in the engine does. ``--days-of-history N`` gives the portfolio the history N days of
end-of-days leave behind (a settled statement per month since opening, closed bucket spells of past
delinquencies): the day must cost the same with it as without, since it never reads them.

``--strategy FILE|huabei`` (a strategy file, or the shipped ``huabei`` ladder) gives the portfolio
collection records too (:func:`generate_collections`: an episode for every delinquent account, contact
history of the last 30 days, pending, kept and broken promises, treatments done, agency placements and a
few holds) and the timed day goes on with decide → comply → act under the product's rulebook, as
``overdue eod --engine duckdb --strategy`` runs it: the strategy compiled once (``collect_compile_seconds``),
the records loaded into the engine (``collect_load_seconds``, experiment arms included), then the
:class:`~overdue.setbased.collect.Collector`'s day, its decisions, actions, messages and work fetched and
the records after the day left in the engine (``collect_seconds``). Without ``--strategy`` the day is the
accounts' day alone, as before.

``seconds`` is the whole timed day: ``day_seconds`` plus ``collect_seconds`` (0 without a strategy).

``--days N`` (set-based engines) runs N days in a row from ``--date`` on the state the engine keeps, as a
nightly process does from one night to the next: each later day's queries are compiled before it (a
month end or a statement day has its own plan; not timed), then its accounts' day and collection half
are timed. The figures at the top stay the first day's; ``days`` lists every day's (date, seconds,
day_seconds, collect_seconds and what the collection half gave) and ``later_days_median_seconds`` the
median of the days after the first. Nothing arrives between the days — no repayments, purchases or
contacts — so the delinquent accounts age day by day and the current ones wait for their next statement.

``--memory ordinary`` (the default) has the process take Arrow's and NumPy's memory in ordinary pages,
as ``overdue eod`` does (:func:`overdue.setbased.memory.use_ordinary_pages`, before the portfolio is
generated), and DuckDB keep the memory of the blocks it frees for its next tables
(:func:`overdue.setbased.memory.keep_freed_blocks`); ``--memory default`` leaves the libraries' allocators,
huge pages and DuckDB's freed blocks as they come, to compare.

``--steps`` (set-based engines) also times each step of every timed day
(:mod:`overdue.setbased.timing`): each engine statement (``create aged``, ``fetch collect_actions``) and,
in the collection half, the work on the fetched rows (``rows: actions, messages and work``), with the wall
seconds and the process's CPU seconds of each — ``steps`` holds them for the first day (``accounts_day`` and
``collection``, in the order they began), and each entry of ``days`` its own. The steps of the collection
half overlap where the engine writes the records while the rows are put together, and each then counts the
other's CPU seconds too.

``--engine reference`` turns the same tables into ``AccountState`` objects and times
:func:`overdue.domain.account.end_of_day` on each (the domain rules alone: no database); with
``--strategy`` each account then goes through :func:`overdue.engine.collect.plan_collection` with its
generated records, as the reference end-of-day does after loading them (``collect_seconds``), so keep N
small there. Prints one JSON object with ``--json``: accounts, engine, seconds, accounts_per_s,
peak_rss_mb (the process's peak, generation included), and the parts above.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.compliance import PastContact, rulebook
from overdue.domain import account as rules
from overdue.domain.calendar import add_months, due_date_for, month_key
from overdue.domain.collections import CollectionState, Promise, start_or_end_episode
from overdue.domain.errors import OverdueError
from overdue.domain.terms import PRESETS
from overdue.engine.collect import Collections, plan_collection
from overdue.setbased import Portfolio, PortfolioTables, collect_tables, layout, states_from_tables
from overdue.setbased.collect import CollectionDay, Collector
from overdue.setbased.memory import keep_freed_blocks, use_ordinary_pages
from overdue.setbased.timing import StepTimes, recording_if, steps_text
from overdue.strategy import Strategy, default_strategy, load_strategy

TERMS = PRESETS["huabei"]
CARRY_SCALE = 4
DELINQUENT_SHARE = 0.15
WRITTEN_OFF_SHARE = 0.01
PLAN_SHARE = 0.05
MONTHS_BACK = 6
"""The oldest unpaid statement of a delinquent account is due 1 to this many months ago."""


def _days(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[D]"), pa.date32())


def _day(on: date) -> np.datetime64:
    return np.datetime64(on.isoformat(), "D")


def generate(n: int, on: date, seed: int = 7, history_days: int = 0) -> PortfolioTables:
    """A portfolio of ``n`` accounts as it stands after the end-of-day of the day before ``on``.

    history_days: add the history that many days of end-of-days leave behind them: a settled statement
    for every month before the unpaid ones since the account opened (paid in full and closed), and the
    closed bucket spells of a short delinquency every 90 days for one account in ten.
    """
    rng = np.random.default_rng(seed)
    keys = np.arange(n, dtype=np.int64)
    latest = date(on.year, on.month, TERMS.statement_day)
    if latest >= on:
        latest = add_months(latest, -1)
    statement_dates = [add_months(latest, -j) for j in range(MONTHS_BACK + 1)]
    due_dates = [due_date_for(d, TERMS.due_day) for d in statement_dates]
    past_dues = [j for j, d in enumerate(due_dates) if d < on]

    # Delinquency: the oldest unpaid statement is ``oldest`` months back (-1: current).
    roll = rng.random(n)
    oldest = np.full(n, -1, dtype=np.int64)
    delinquent = roll < DELINQUENT_SHARE
    weights = np.array([0.45, 0.18, 0.1, 0.08, 0.07, 0.06, 0.06])[: len(past_dues)]
    oldest[delinquent] = rng.choice(past_dues, size=int(delinquent.sum()), p=weights / weights.sum())
    dpd = np.where(oldest >= 0, [(on - timedelta(days=1) - due_dates[0]).days] * n, 0)
    for j in past_dues:
        dpd = np.where(oldest == j, (on - timedelta(days=1) - due_dates[j]).days, dpd)
    dpd = np.maximum(dpd, 0)
    written_off = (dpd >= TERMS.write_off_at_dpd) | (rng.random(n) < WRITTEN_OFF_SHARE) & delinquent
    bounds = [n_ * TERMS.bucket_days for n_ in range(1, TERMS.last_bucket)]
    bucket_number = np.minimum(np.searchsorted(bounds, dpd, side="left") + 1, TERMS.last_bucket)
    names = np.array(["M0"] + [f"M{b}" for b in range(1, TERMS.last_bucket)] + [f"M{TERMS.last_bucket}+"])
    bucket = np.where(dpd > 0, names[bucket_number], "M0")
    status = np.where(written_off, "written_off", np.where(dpd > 0, "frozen", "active"))
    limit = rng.choice([50_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000], size=n)
    opened = _day(on) - rng.integers(200, 730, size=n)
    status_char = np.where(written_off, "B", np.where(dpd > 0, np.char.lstrip(bucket, "M").astype(str), "N"))
    grid = np.char.add(np.full(n, "N" * (TERMS.bureau_grid_months - 1)), np.char.rstrip(status_char, "+"))
    ids = pc.binary_join_element_wise("A", pc.cast(pa.array(keys), pa.string()), "")
    last_eod = _day(on - timedelta(days=1))
    accounts = pa.table(
        {
            "account_key": keys,
            "account_id": ids,
            "product": pa.array(np.full(n, TERMS.name)),
            "opened_on": _days(opened),
            "timezone": pa.array(np.full(n, "Asia/Shanghai")),
            "credit_limit": limit,
            "status": pa.array(status),
            "last_eod": _days(np.full(n, last_eod)),
            "days_past_due": dpd,
            "bucket": pa.array(bucket),
            "bucket_entered": _days(last_eod - np.where(dpd > 0, (dpd - 1) % TERMS.bucket_days, 60)),
            "written_off_on": _days(np.where(written_off, last_eod - np.maximum(dpd - 180, 0), last_eod)),
            "negative_notice_on": _days(last_eod - np.maximum(dpd - 1, 0)),
            "bureau_grid": pa.array(grid),
            "bureau_last_month": pa.array(np.full(n, month_key(add_months(latest, -1)))),
            "last_deferral_on": pa.nulls(n, pa.date32()),
        }
    )
    no_date = accounts["written_off_on"].type
    accounts = accounts.set_column(
        accounts.schema.get_field_index("written_off_on"),
        "written_off_on",
        pc.if_else(pa.array(written_off), accounts["written_off_on"], pa.nulls(n, no_date)),
    )
    accounts = accounts.set_column(
        accounts.schema.get_field_index("negative_notice_on"),
        "negative_notice_on",
        pc.if_else(pa.array(dpd > 0), accounts["negative_notice_on"], pa.nulls(n, no_date)),
    )

    # Statements: one per month from the oldest unpaid (delinquent), else the latest only.
    parts = []
    for j, (statement_date, due) in enumerate(zip(statement_dates, due_dates, strict=True)):
        has = (oldest >= j) if j > 0 else np.ones(n, dtype=bool)
        k = keys[has]
        m = len(k)
        late = (oldest[has] >= j) & (due < on)
        principal = rng.integers(1_000, 800_000, size=m)
        minimum = (principal + 5) // 10
        days_late = max((on - timedelta(days=1) - due).days, 0)
        overdue_interest = np.where(late, principal * 5 * days_late // 10_000, 0)
        current = oldest[has] < 0
        paid_in_full = current & (rng.random(m) < 0.55)
        minimum_paid = current & ~paid_in_full & (rng.random(m) < 0.8) & (due < on)
        paid = np.where(paid_in_full, principal, np.where(minimum_paid, minimum, 0))
        unpaid = principal - paid
        parts.append(
            pa.table(
                {
                    "account_key": k,
                    "statement_date": _days(np.full(m, _day(statement_date))),
                    "due_date": _days(np.full(m, _day(due))),
                    "amount": principal,
                    "minimum": minimum,
                    "new_principal": unpaid,
                    "carried_principal": np.zeros(m, dtype=np.int64),
                    "installment_principal": np.zeros(m, dtype=np.int64),
                    "interest": np.where(minimum_paid, unpaid * 5 * days_late // 10_000, 0),
                    "overdue_interest": overdue_interest,
                    "fees": np.zeros(m, dtype=np.int64),
                    "paid": paid,
                    "late_charges": overdue_interest,
                    "interest_carry": rng.integers(-5_000, 5_000, size=m),
                    "installed": np.zeros(m, dtype=bool),
                    "closed_on": pc.if_else(
                        pa.array(paid_in_full), _days(np.full(m, _day(due))), pa.nulls(m, pa.date32())
                    ),
                    "original_due_date": pa.nulls(m, pa.date32()),
                }
            )
        )
    history = _settled_history(keys, opened, statement_dates[-1], history_days, rng)
    statements = pa.concat_tables([*parts, *history]).cast(parts[0].schema)

    buying = (oldest < 0) & (rng.random(n) < 0.7)
    k = keys[buying]
    unbilled = pa.table(
        {
            "account_key": k,
            "statement_date": _days(np.full(len(k), _day(add_months(latest, 1)))),
            "principal": rng.integers(500, 300_000, size=len(k)),
        }
    )

    with_plan = keys[(oldest < 0) & (rng.random(n) < PLAN_SHARE)]
    p = len(with_plan)
    plan_date = add_months(latest, -3)
    plan_principal = rng.integers(10_000, 2_000_000, size=p)
    fee_total = (plan_principal * 88 + 500) // 1000
    plans = pa.table(
        {
            "account_key": with_plan,
            "plan_number": np.zeros(p, dtype=np.int64),
            "plan_id": pc.binary_join_element_wise(
                "A", pc.cast(pa.array(with_plan), pa.string()), f"/{plan_date.isoformat()}/installments", ""
            ),
            "origin": pa.array(np.full(p, "statement")),
            "statement_date": _days(np.full(p, _day(plan_date))),
            "created_on": _days(np.full(p, _day(plan_date + timedelta(days=3)))),
            "fee_rate": pa.array([Decimal("0.088")] * p, layout.PLAN_FEE_RATE),
            "principal": plan_principal,
            "fee_total": fee_total,
        }
    )
    period_parts = []
    for number in range(1, 13):
        due = add_months(due_date_for(plan_date, TERMS.due_day), number - 1)
        period_parts.append(
            pa.table(
                {
                    "account_key": with_plan,
                    "plan_number": np.zeros(p, dtype=np.int64),
                    "number": np.full(p, number, dtype=np.int64),
                    "due_date": _days(np.full(p, _day(due))),
                    "principal": plan_principal // 12 + np.where(number == 1, plan_principal % 12, 0),
                    "fee": fee_total // 12 + np.where(number == 1, fee_total % 12, 0),
                    "billed": np.full(p, due <= due_date_for(latest, TERMS.due_day)),
                }
            )
        )
    return PortfolioTables(
        accounts=accounts,
        statements=statements,
        unbilled=unbilled,
        plans=plans,
        periods=pa.concat_tables(period_parts),
        bucket_spells=_spell_history(keys, on, history_days, rng),
        carry_scale=CARRY_SCALE,
    ).conform()


def _settled_history(
    keys: np.ndarray, opened: np.ndarray, before: date, history_days: int, rng: np.random.Generator
) -> list[pa.Table]:
    """Paid-in-full statements of the months of ``history_days`` before ``before``."""
    out = []
    for k in range(1, history_days // 30 + 1):
        statement_date = add_months(before, -k)
        due = due_date_for(statement_date, TERMS.due_day)
        k_keys = keys[opened <= _day(statement_date)]
        m = len(k_keys)
        amount = rng.integers(1_000, 800_000, size=m)
        zero = np.zeros(m, dtype=np.int64)
        out.append(
            pa.table(
                {
                    "account_key": k_keys,
                    "statement_date": _days(np.full(m, _day(statement_date))),
                    "due_date": _days(np.full(m, _day(due))),
                    "amount": amount,
                    "minimum": (amount + 5) // 10,
                    "new_principal": zero,
                    "carried_principal": zero,
                    "installment_principal": zero,
                    "interest": zero,
                    "overdue_interest": zero,
                    "fees": zero,
                    "paid": amount,
                    "late_charges": zero,
                    "interest_carry": zero,
                    "installed": np.zeros(m, dtype=bool),
                    "closed_on": _days(np.full(m, _day(due))),
                    "original_due_date": pa.nulls(m, pa.date32()),
                }
            )
        )
    return out


def _spell_history(keys: np.ndarray, on: date, history_days: int, rng: np.random.Generator) -> pa.Table:
    """Closed spells of past short delinquencies: M1 for twelve days, then back to M0 for a while."""
    parts = [layout.SPELLS.empty_table()]
    for k in range(1, history_days // 90 + 1):
        who = keys[rng.random(len(keys)) < 0.1]
        m = len(who)
        entered = _day(on) - 90 * k - 200
        for bucket, start, end in (("M1", entered, entered + 12), ("M0", entered + 12, entered + 40)):
            parts.append(
                pa.table(
                    {
                        "account_key": who,
                        "bucket": pa.array(np.full(m, bucket)),
                        "entered": _days(np.full(m, start)),
                        "left": _days(np.full(m, end)),
                    },
                    schema=layout.SPELLS,
                )
            )
    return pa.concat_tables(parts)


# --- collection records --------------------------------------------------------------------------------

CONTACT_DAYS = 30
"""The contact history reaches this many days back (today included)."""
PROMISE_SHARE = 0.3
"""Delinquent accounts (not written off) with a promise: pending, kept or broken."""
LOST_CONTACT_SHARE = 0.08
BUSY_TODAY_SHARE = 0.06
"""Delinquent accounts already at a CN contact cap today (three conversations, or six unanswered calls)."""
PLACED_SHARE = 0.6
"""Accounts at or past :data:`AGENCY_FROM_DPD` that are placed with an agency."""
AGENCY_FROM_DPD = 61
AGENCIES = np.array(["AG1", "AG2", "AG3"])
FIRST_HOUR, LAST_HOUR = 8, 21
"""Contacts were made between 08:00 and 21:59 in the debtor's local time (the CN quiet hours allow them)."""


def _stage_by_dpd(strategy: Strategy, dpd: np.ndarray) -> np.ndarray:
    """The stage each DPD puts an account in: the first stage whose condition reads the DPD alone and
    holds for it (None where none does). Computed once per distinct DPD value."""
    stages = [s for s in strategy.stages if s.when.fields() <= {"days_past_due"}]
    values = np.unique(dpd)
    names = np.full(len(values), None, dtype=object)
    for i, value in enumerate(values):
        subject = SimpleNamespace(days_past_due=int(value))
        names[i] = next((s.name for s in stages if s.when.holds(subject, strategy.parameters)), None)
    return names[np.searchsorted(values, dpd)]


def _utc(local_day: np.ndarray, seconds: np.ndarray, zones: np.ndarray) -> pa.Array:
    """Local wall-clock times (a day and the seconds into it) in each account's zone, as UTC instants."""
    naive = local_day.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    utc = pa.nulls(len(naive), pa.timestamp("us", tz="UTC"))
    for zone in np.unique(zones):
        mask = pa.array(zones == zone)
        stamped = pc.assume_timezone(pa.array(naive.astype("datetime64[us]")), timezone=str(zone))
        utc = pc.if_else(mask, pc.cast(stamped, pa.timestamp("us", tz="UTC")), utc)
    return utc


def generate_collections(
    tables: PortfolioTables, on: date, strategy: Strategy, seed: int = 7
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """Collection records of ``tables``' delinquent accounts as they stand before the end-of-day of ``on``:
    ``collections``, ``promises``, ``done`` and ``contacts`` (layout: :mod:`overdue.setbased.collect_tables`).

    Every delinquent account has an episode opened on its first overdue day, the stage its DPD puts it in
    (``strategy``'s stages read on DPD alone), and one to eight contacts over the last
    :data:`CONTACT_DAYS` days (voice mostly, a few SMS and automated calls; about a quarter connected; a
    pre-agreed contact now and then where the debtor has lost contact; 6 % at today's cap of connected or
    unanswered calls already), all between 08:00 and 21:59 local time, counted into ``attempts``,
    ``connects`` and ``last_contact_on``. About 30 % of those not written off have a promise: pending
    (some falling due yesterday, so they break tonight), kept or broken (escalated one stage); 60 % of the
    accounts past DPD 60 are placed with an agency; a few have a dispute, plan, cease or litigation hold.
    The treatments of the account's stage were done one to six days ago (each with probability 0.7, not
    before the episode). Current accounts have no records (those of a new account).
    """
    rng = np.random.default_rng(seed + 1)
    accounts = tables.accounts
    dpd_all = accounts["days_past_due"].to_numpy()
    delinquent = dpd_all > 0
    keys = accounts["account_key"].to_numpy()[delinquent]
    dpd = dpd_all[delinquent]
    zones = accounts["timezone"].to_numpy(zero_copy_only=False)[delinquent]
    written_off = accounts["status"].to_numpy(zero_copy_only=False)[delinquent] == "written_off"
    d = len(keys)
    yesterday = _day(on - timedelta(days=1))
    today = _day(on)
    episode = yesterday - (dpd - 1)
    stage = _stage_by_dpd(strategy, dpd)
    lost = rng.random(d) < LOST_CONTACT_SHARE

    # Contacts: 1-8 per account over the last CONTACT_DAYS days, at most back to the episode's start.
    count = rng.integers(1, 9, size=d)
    owner = np.repeat(np.arange(d), count)
    c = len(owner)
    back = np.minimum(rng.integers(0, CONTACT_DAYS, size=c), (today - episode[owner]).astype(np.int64))
    contact_day = today - back
    seconds = rng.integers(FIRST_HOUR * 3600, (LAST_HOUR + 1) * 3600, size=c)
    channel = rng.choice(np.array(["voice", "sms", "ai_voice"]), p=[0.6, 0.2, 0.2], size=c)
    is_call = channel != "sms"
    third_party = lost[owner] & is_call & (rng.random(c) < 0.3)
    party = np.where(third_party, "contact", "debtor")
    outcome = np.where(
        is_call,
        rng.choice(
            np.array(["no_answer", "connected", "busy", "promise", "wrong_number", "refused"]),
            p=[0.5, 0.25, 0.12, 0.05, 0.04, 0.04],
            size=c,
        ),
        "connected",
    )
    outcome = np.where(lost[owner] & ~third_party & is_call, "no_answer", outcome)
    # A busy day for a few: today's three connected calls, or six unanswered ones (the CN caps).
    burst = np.where(rng.random(d) < BUSY_TODAY_SHARE, np.where(rng.random(d) < 0.5, 3, 6), 0)
    extra = np.repeat(np.arange(d), burst)
    owner = np.concatenate([owner, extra])
    contact_day = np.concatenate([contact_day, np.full(len(extra), today)])
    seconds = np.concatenate([seconds, rng.integers(FIRST_HOUR * 3600, (LAST_HOUR + 1) * 3600, len(extra))])
    channel = np.concatenate([channel, np.full(len(extra), "voice")])
    is_call = np.concatenate([is_call, np.ones(len(extra), dtype=bool)])
    party = np.concatenate([party, np.full(len(extra), "debtor")])
    outcome = np.concatenate([outcome, np.where(burst[extra] == 3, "connected", "no_answer")])
    contacts = pa.table(
        {
            "account_key": keys[owner],
            "at": _utc(contact_day, seconds, zones[owner]),
            "channel": pa.array(channel),
            "party": pa.array(party),
            "outcome": pa.array(outcome),
        },
        schema=collect_tables.CONTACTS,
    )
    connected = (outcome == "connected") | (outcome == "promise")
    attempts = np.bincount(owner, weights=is_call & (party == "debtor"), minlength=d).astype(np.int32)
    connects = np.bincount(owner, weights=connected & (party == "debtor"), minlength=d).astype(np.int32)
    last_contact = np.full(d, np.datetime64("NaT"), dtype="datetime64[D]")
    np.maximum.at(last_contact.view(np.int64), owner, contact_day.astype("datetime64[D]").view(np.int64))

    # Promises: pending (due yesterday to in ten days), kept or broken (resolved in the last 20 days).
    promising = ~written_off & (dpd >= 3) & (rng.random(d) < PROMISE_SHARE)
    who = np.flatnonzero(promising)
    p = len(who)
    status = rng.choice(np.array(["pending", "kept", "broken"]), p=[0.5, 0.25, 0.25], size=p)
    pending = status == "pending"
    due_on = np.where(
        pending, yesterday + rng.integers(0, 11, size=p), yesterday - rng.integers(1, 21, size=p)
    )
    due_on = np.maximum(due_on, episode[who])
    made_on = np.maximum(due_on - rng.integers(1, 8, size=p), episode[who])
    made_on = np.minimum(made_on, yesterday)
    amount = rng.integers(10_000, 500_000, size=p)
    paid = np.where(status == "kept", amount, (amount * rng.random(p) * 0.5).astype(np.int64))
    resolved_on = pc.if_else(pa.array(pending), pa.nulls(p, pa.date32()), _days(due_on + 1))
    promise_ids = pc.binary_join_element_wise(
        "P",
        pc.cast(pa.array(keys[who]), pa.string()),
        pc.cast(pa.array(made_on.astype(np.int64)), pa.string()),
        "-",
    )
    promises = pa.table(
        {
            "account_key": keys[who],
            "promise_id": promise_ids,
            "made_on": _days(made_on),
            "amount": amount,
            "due_on": _days(due_on),
            "status": pa.array(status),
            "paid": paid,
            "resolved_on": resolved_on,
        },
        schema=collect_tables.PROMISES,
    )
    escalation = np.zeros(d, dtype=np.int32)
    escalation[who[status == "broken"]] = 1

    placed = (dpd >= AGENCY_FROM_DPD) & (rng.random(d) < PLACED_SHARE)
    placed_on = yesterday - rng.integers(0, np.maximum(dpd - AGENCY_FROM_DPD, 0) + 1)
    dispute = rng.random(d) < 0.01
    litigation = written_off & (rng.random(d) < 0.05)
    holds = {
        "dispute": dispute,
        "plan": rng.random(d) < 0.02,
        "cease": rng.random(d) < 0.005,
        "sold": np.zeros(d, dtype=bool),
        "litigation": litigation,
    }
    collections = pa.table(
        {
            "account_key": keys,
            "episode_started_on": _days(episode),
            "stage": pa.array(stage, pa.string()),
            "escalation": escalation,
            "escalated_from": pc.if_else(
                pa.array(escalation > 0), pa.array(stage, pa.string()), pa.nulls(d, pa.string())
            ),
            "contactability": pa.array(np.where(lost, "lost_contact", "reachable")),
            "dispute_open": dispute,
            "litigation_hold": litigation,
            "attempts": attempts,
            "connects": connects,
            "last_contact_on": _days(last_contact),
            "agency": pc.if_else(
                pa.array(placed), pa.array(rng.choice(AGENCIES, size=d)), pa.nulls(d, pa.string())
            ),
            "placed_on": pc.if_else(pa.array(placed), _days(placed_on), pa.nulls(d, pa.date32())),
            **{f"hold_{kind}": flags for kind, flags in holds.items()},
            "validation_notice_on": pa.nulls(d, pa.date32()),
        },
        schema=collect_tables.COLLECTIONS,
    )

    # Treatments done: those of the account's stage, each with probability 0.7, one to six days ago.
    done_parts = [collect_tables.DONE.empty_table()]
    for s in strategy.stages:
        in_stage = np.flatnonzero(stage == s.name)
        for treatment in s.treatments:
            did = in_stage[rng.random(len(in_stage)) < 0.7]
            last_done = np.maximum(yesterday - rng.integers(0, 6, size=len(did)), episode[did])
            done_parts.append(
                pa.table(
                    {
                        "account_key": keys[did],
                        "treatment": pa.array(np.full(len(did), treatment.id)),
                        "last_done": _days(last_done),
                    },
                    schema=collect_tables.DONE,
                )
            )
    return collections, promises, pa.concat_tables(done_parts), contacts


Records = dict[str, tuple[Collections, dict[str, date], list[PastContact]]]
"""Account id → its collection records as the reference reads them: records, treatments done, contacts."""


def reference_records(ids: list[str], records: tuple[pa.Table, pa.Table, pa.Table, pa.Table]) -> Records:
    """The generated tables as the reference's per-account records (``ids``: account id by key); accounts
    without a row get a new account's records."""
    collections, promises, done, contacts = records
    by_key: dict[int, list[Promise]] = {}
    for r in promises.to_pylist():
        by_key.setdefault(r["account_key"], []).append(
            Promise(
                r["promise_id"],
                r["made_on"],
                r["amount"],
                r["due_on"],
                r["status"],
                r["paid"],
                r["resolved_on"],
            )
        )
    out: Records = {
        account_id: (Collections(CollectionState(account_id), None, None), {}, []) for account_id in ids
    }
    for r in collections.to_pylist():
        account_id = ids[r["account_key"]]
        state = CollectionState(
            account_id,
            r["episode_started_on"],
            r["stage"],
            r["escalation"],
            r["escalated_from"],
            r["contactability"],
            r["dispute_open"],
            r["litigation_hold"],
            r["attempts"],
            r["connects"],
            r["last_contact_on"],
            tuple(sorted(by_key.get(r["account_key"], []), key=lambda p: p.id)),
        )
        held = frozenset(kind for kind in collect_tables.HOLDS if r[f"hold_{kind}"])
        out[account_id] = (
            Collections(state, r["agency"], r["placed_on"], held, r["validation_notice_on"]),
            {},
            [],
        )
    for r in done.to_pylist():
        out[ids[r["account_key"]]][1][r["treatment"]] = r["last_done"]
    for r in contacts.to_pylist():
        out[ids[r["account_key"]]][2].append(PastContact(r["at"], r["channel"], r["party"], r["outcome"]))
    return out


def load_strategy_option(value: str) -> Strategy:
    """``huabei``: the shipped ladder; anything else: a strategy file."""
    return default_strategy() if value == "huabei" else load_strategy(value)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def connect(engine: str, db: str | None) -> Any:
    """An Ibis connection for ``engine``."""
    import ibis  # type: ignore[import-untyped]

    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "postgres":
        if not db:
            raise SystemExit("--engine postgres needs --db postgresql://USER@HOST:PORT/DATABASE")
        return ibis.connect(db.replace("postgresql+psycopg://", "postgres://"))
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("overdue-eod-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    return ibis.pyspark.connect(session)


def bench(
    n: int,
    engine: str,
    on: date,
    seed: int,
    history: int = 0,
    db: str | None = None,
    strategy: Strategy | None = None,
    days: int = 1,
    steps: bool = False,
    keep_blocks: bool = True,
) -> dict[str, Any]:
    tables = generate(n, on, seed, history)
    records = None if strategy is None else generate_collections(tables, on, strategy, seed)
    out: dict[str, Any] = {
        "accounts": n,
        "engine": engine,
        "date": on.isoformat(),
        "days_of_history": history,
        "statement_rows": tables.statements.num_rows,
        "spell_rows": tables.bucket_spells.num_rows,
    }
    if strategy is not None and records is not None:
        out.update(
            strategy=strategy.name,
            collection_rows=records[0].num_rows,
            promise_rows=records[1].num_rows,
            done_rows=records[2].num_rows,
            contact_rows=records[3].num_rows,
        )
    collect_seconds = 0.0
    if engine == "reference":
        states = states_from_tables(tables, TERMS)
        ids = tables.accounts["account_id"].to_pylist()
        del tables
        started = time.perf_counter()
        after = [rules.end_of_day(state, on).state for state in states]
        day_seconds = time.perf_counter() - started
        if strategy is not None and records is not None:
            by_account = reference_records(ids, records)
            book = rulebook(TERMS.rulebook)
            started = time.perf_counter()
            planned = 0
            for account in after:
                collection, done_ever, contacts = by_account[account.id]
                # As the reference end-of-day loads them: what was done since the episode's start.
                episode = start_or_end_episode(collection.state, account.days_past_due, on).episode_started_on
                done = {t: d for t, d in done_ever.items() if episode is None or d >= episode}
                planned += len(plan_collection(account, collection, on, done, strategy, book, contacts).steps)
            collect_seconds = time.perf_counter() - started
            out["actions"] = planned
    else:
        con = connect(engine, db)
        if engine == "duckdb" and keep_blocks:
            keep_freed_blocks(con)
        started = time.perf_counter()
        portfolio = Portfolio.load(tables, TERMS, con)
        out["load_seconds"] = round(time.perf_counter() - started, 3)
        del tables
        started = time.perf_counter()
        portfolio.plan(on)
        out["compile_seconds"] = round(time.perf_counter() - started, 3)
        collector = None
        if strategy is not None and records is not None:
            started = time.perf_counter()
            collector = Collector(portfolio, strategy, rulebook(TERMS.rulebook))
            out["collect_compile_seconds"] = round(time.perf_counter() - started, 3)
        with recording_if(steps) as accounts_day:
            started = time.perf_counter()
            run = portfolio.run_day(on)
            day_seconds = time.perf_counter() - started
        out["accounts_run"] = run.accounts_run
        collection: StepTimes | None = None
        if collector is not None and records is not None:
            started = time.perf_counter()
            collector.load(*records)
            out["collect_load_seconds"] = round(time.perf_counter() - started, 3)
            del records
            with recording_if(steps) as collection:
                started = time.perf_counter()
                day = collector.run(on)
                collect_seconds = time.perf_counter() - started
            out.update(_collected(day))
            del day
        if steps:
            out["steps"] = _step_rows(accounts_day, collection)
        if days > 1:
            first = _timed(on, day_seconds, collect_seconds, out)
            if steps:
                first["steps"] = out["steps"]
            out["days"] = [first] + [
                _next_day(portfolio, collector, on + timedelta(days=k), steps) for k in range(1, days)
            ]
            out["later_days_median_seconds"] = float(np.median([d["seconds"] for d in out["days"][1:]]))
        if engine == "postgres":
            con.disconnect()
    seconds = day_seconds + collect_seconds
    out.update(
        seconds=round(seconds, 3),
        day_seconds=round(day_seconds, 3),
        collect_seconds=round(collect_seconds, 3),
        accounts_per_s=round(n / seconds) if seconds else None,
        peak_rss_mb=peak_rss_mb(),
    )
    return out


def _step_rows(
    accounts_day: StepTimes | None, collection: StepTimes | None
) -> dict[str, list[dict[str, Any]]]:
    """The ``steps`` of one day: each half's steps in the order they began."""

    def rows(times: StepTimes | None) -> list[dict[str, Any]]:
        if times is None:
            return []
        return [step.to_json() for step in times.steps()]

    return {"accounts_day": rows(accounts_day), "collection": rows(collection)}


def _collected(day: CollectionDay) -> dict[str, int]:
    """What a collection day gave: how many decisions, actions (refused ones too), messages, work rows."""
    queued = pc.sum(pc.equal(day.actions["status"], "queued")).as_py() or 0
    return {
        "decisions": day.decisions.num_rows,
        "actions": day.actions.num_rows,
        "refused": day.actions.num_rows - queued,
        "messages": day.messages.num_rows,
        "work": day.work.num_rows,
    }


def _timed(on: date, day_seconds: float, collect_seconds: float, counts: dict[str, Any]) -> dict[str, Any]:
    """One day's entry of ``days``: its date, its times and what the collection half gave."""
    return {
        "date": on.isoformat(),
        "seconds": round(day_seconds + collect_seconds, 3),
        "day_seconds": round(day_seconds, 3),
        "collect_seconds": round(collect_seconds, 3),
        **{k: counts[k] for k in ("decisions", "actions", "refused", "messages", "work") if k in counts},
    }


def _next_day(
    portfolio: Portfolio, collector: Collector | None, on: date, steps: bool = False
) -> dict[str, Any]:
    """Run the day after the one before on the state the engine holds, as a nightly run does: its queries
    compiled first (a month end or a statement day has its own plan; compiling is not timed), then the
    accounts' day and, with a strategy, the collection half, each timed (with ``steps``, step by step
    too)."""
    portfolio.plan(on)
    with recording_if(steps) as accounts_day:
        started = time.perf_counter()
        portfolio.run_day(on)
        day_seconds = time.perf_counter() - started
    counts: dict[str, Any] = {}
    collect_seconds = 0.0
    collection: StepTimes | None = None
    if collector is not None:
        with recording_if(steps) as collection:
            started = time.perf_counter()
            day = collector.run(on)
            collect_seconds = time.perf_counter() - started
        counts = _collected(day)
    entry = _timed(on, day_seconds, collect_seconds, counts)
    if steps:
        entry["steps"] = _step_rows(accounts_day, collection)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--engine", choices=["duckdb", "postgres", "spark", "reference"], default="duckdb")
    parser.add_argument("--db", help="PostgreSQL URL for --engine postgres")
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 3, 15))
    parser.add_argument("--days-of-history", type=int, default=0, metavar="N")
    parser.add_argument(
        "--strategy",
        metavar="FILE|huabei",
        help="add collection records and time decide → comply → act after the day with this strategy",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--days",
        type=int,
        default=1,
        metavar="N",
        help="run N days in a row from --date on the state the engine keeps (set-based engines); "
        "the figures at the top stay the first day's, each day's are under days",
    )
    parser.add_argument(
        "--memory",
        choices=["ordinary", "default"],
        default="ordinary",
        help="ordinary: Arrow and NumPy in ordinary pages and DuckDB keeping its freed blocks, as overdue "
        "eod runs (overdue.setbased.memory); default: the libraries' own allocators, huge pages and "
        "DuckDB's blocks given back",
    )
    parser.add_argument(
        "--steps",
        action="store_true",
        help="time each step of the timed days too (engine statements and the work on fetched rows)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.accounts < 1:
        parser.error("--accounts must be at least 1")
    if args.days_of_history < 0:
        parser.error("--days-of-history must be at least 0")
    if args.days < 1:
        parser.error("--days must be at least 1")
    if args.days > 1 and args.engine == "reference":
        parser.error("--days runs on the set-based engines (the reference times one day)")
    if args.steps and args.engine == "reference":
        parser.error("--steps times the set-based engines' steps (the reference has none)")
    try:
        strategy = None if args.strategy is None else load_strategy_option(args.strategy)
    except OverdueError as exc:
        parser.error(f"--strategy: {exc}")
    memory = use_ordinary_pages() if args.memory == "ordinary" else None
    out = bench(
        args.accounts,
        args.engine,
        args.date,
        args.seed,
        args.days_of_history,
        args.db,
        strategy,
        args.days,
        args.steps,
        keep_blocks=memory is not None,
    )
    out["memory"] = (
        "default"
        if memory is None
        else f"arrow {memory.arrow_pool}, numpy huge pages {'on' if memory.numpy_huge_pages else 'off'}"
        + (", duckdb keeps freed blocks" if args.engine == "duckdb" else "")
    )
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            if key not in ("steps", "days"):
                print(f"{key:>16}: {value}")
        for entry in out.get("days", []):
            print(f"{'day':>16}: " + ", ".join(f"{k} {v}" for k, v in entry.items() if k != "steps"))
        for entry in out.get("days", [{"date": out["date"], "steps": out.get("steps")}]):
            if entry.get("steps"):
                print(steps_text(f"steps of {entry['date']}", entry["steps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
