"""The US rulebook (Regulation F) over tables: the set-based :class:`~overdue.setbased.collect.Collector`
decides, complies and sends validation notices as the reference does.

Portfolios whose accounts reach their first overdue day during the compared days (the notice goes out that
day, before anything else), with contact histories around the edges of ``us.seven_in_seven`` — 6, 7 and 8
calls in the 7 local days to the date, calls just outside them, a telephone conversation 5, 6 or 7 days
before, contacts near local midnight in several time zones, contacts that are not calls — are run through
the reference's ``plan_collection`` and the Collector day by day; every action (verdict and reason
included), message, notice and record must be equal. Then the store path against the reference's
end-of-day on SQLite and PostgreSQL, under the product's US rulebook.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_collect_helpers import (
    FIXED,
    Plans,
    Records,
    assert_same,
    draw_collections,
    load_collector,
    reference_day,
    set_based_day,
    with_time_zones,
)
from setbased_helpers import HUABEI, SPARK_MARKS, Borrower, Event, before_end_of_day, open_portfolio
from setbased_store_helpers import build_store, run_set_based, twin_stores
from sqlalchemy import Engine, text
from test_setbased_store_collect import COMPARED, EVENTS, add_collection_records
from test_setbased_store_write import assert_same_stores
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.compliance import US_RULEBOOK, PastContact, Rulebook, RuleSetRulebook
from overdue.compliance.rules import RULES, register
from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.collections import CollectionState
from overdue.domain.state import AccountState
from overdue.engine.collect import (
    VALIDATION_PERIOD_DAYS,
    VALIDATION_RECEIPT_DAYS,
    Collections,
    account_facts,
    validation_notice_text,
)
from overdue.engine.reference import Collection, run_eod
from overdue.setbased import Portfolio, Unsupported, tables_from_states
from overdue.setbased.collect import CollectionDay, Collector
from overdue.setbased.collect_notice import NOTICE_REASON
from overdue.setbased.snapshots import read_outputs, read_state, write_state
from overdue.strategy import Strategy, StrategyError, default_strategy, load_strategy, parse_strategy

SINK = load_strategy(Path(__file__).parent / "setbased_sink_strategy.yaml")
NOTICE_FIRST = RuleSetRulebook(
    "notice_first",
    ("us.validation_notice", "us.seven_in_seven", "us.cease_communication", "us.no_contact_after_sale"),
)
"""The notice checked before anything else: accounts that do not send one (sold, cease) are refused by it."""
STRICT = RuleSetRulebook(
    "strict",
    US_RULEBOOK.rules,
    {"max_calls_in_window": 3, "call_window_days": 4, "days_after_conversation": 2},
)
"""Other numbers: 3 calls in 4 days, no call for 2 days after a conversation."""
NO_CALLS = RuleSetRulebook("no_calls", ("us.seven_in_seven",), {"max_calls_in_window": 0})
RULEBOOKS: dict[str, Rulebook] = {
    "us": US_RULEBOOK,
    "notice_first": NOTICE_FIRST,
    "strict": STRICT,
    "no_calls": NO_CALLS,
}
CLOCKS = (time(0, 10), time(8, 0), time(13, 30), time(23, 50))
"""Local times of the drawn contacts: near both ends of the local day."""


def _at(day: date, clock: time, zone: str) -> datetime:
    return datetime.combine(day, clock, ZoneInfo(zone)).astimezone(UTC)


def draw_history(rng: random.Random, on: date, zone: str) -> list[PastContact]:
    """Contacts around the edges of ``us.seven_in_seven`` for one account, in its time zone."""
    history: list[PastContact] = []
    calls = rng.choice([0, 3, 6, 7, 7, 8])
    for _ in range(calls):  # calls in the 7 local days to ``on`` (6 days back is the window's first)
        back = rng.choice([0, 1, 3, 6, 6])
        history.append(
            PastContact(
                _at(on - timedelta(days=back), rng.choice(CLOCKS), zone),
                rng.choice(["voice", "voice", "ai_voice"]),
                rng.choice(["debtor", "debtor", "guarantor"]),
                rng.choice(["no_answer", "busy", "lost_contact"]),
            )
        )
    for _ in range(rng.choice([0, 1, 2])):  # just outside the window, or after the date
        back = rng.choice([7, 8, -1])
        history.append(
            PastContact(_at(on - timedelta(days=back), rng.choice(CLOCKS), zone), "voice", "debtor", "busy")
        )
    if rng.random() < 0.5:  # a telephone conversation 5, 6 or 7 days before (or a conversation by SMS)
        back = rng.choice([2, 5, 6, 6, 7, 7])
        history.append(
            PastContact(
                _at(on - timedelta(days=back), rng.choice(CLOCKS), zone),
                rng.choice(["voice", "ai_voice", "voice", "sms"]),
                "debtor",
                rng.choice(["connected", "promise", "refused"]),
            )
        )
    for _ in range(rng.choice([0, 3])):  # messages and visits: no calls
        history.append(
            PastContact(
                _at(on - timedelta(days=rng.randint(0, 6)), rng.choice(CLOCKS), zone),
                rng.choice(["sms", "push", "field"]),
                "debtor",
                "connected",
            )
        )
    return history


def draw_us(
    rng: random.Random, account: AccountState, on: date, strategy: Strategy, days: int
) -> tuple[Collections, dict[str, date], list[PastContact]]:
    """An account's records (:func:`draw_collections`'s), with a validation notice sent before, on a later
    date or not at all, and a US contact history around one of the ``days`` compared days from ``on`` (the
    later contacts are after the earlier days)."""
    collection, done, _ = draw_collections(rng, account.id, on, strategy)
    notice = rng.choice([None, None, None, on - timedelta(days=rng.randint(1, 40)), on + timedelta(days=2)])
    collection = dataclasses.replace(collection, validation_notice_on=notice)
    around = on + timedelta(days=rng.randrange(days))
    return collection, done, draw_history(rng, around, account.timezone)


def add_notices(plans: Plans, states: list[AccountState], on: date, records: Records, after: Records) -> int:
    """The reference's validation notices of ``on`` added to ``plans`` as its end-of-day records them: an
    account whose notice date the day set sends one (action first, then its message). Returns how many."""
    sent = 0
    for account in states:
        if account.last_eod != on:
            continue
        before, now = records[account.id][0], after[account.id][0]
        if before.validation_notice_on is not None or now.validation_notice_on != on:
            continue
        sent += 1
        stage = plans.decisions[account.id][0] or "validation"
        ends = on + timedelta(days=VALIDATION_RECEIPT_DAYS + VALIDATION_PERIOD_DAYS)
        amount = account_facts(account, now, on, {}).overdue_balance
        action = ("validation_notice", "letter", stage, None, "debtor", 0, None, None, "queued", None)
        plans.actions[account.id].insert(0, (*action, NOTICE_REASON, "letter", None))
        body = validation_notice_text(account.id, amount, on, ends)
        plans.messages[account.id].insert(0, ("validation_notice", "letter", None, body))
    return sent


class Recording:
    """A Collector that keeps each day's :class:`CollectionDay`."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.days: list[CollectionDay] = []

    def run(self, on: date) -> CollectionDay:
        day = self.collector.run(on)
        self.days.append(day)
        return day

    def state(self) -> Any:
        return self.collector.state()


def assert_same_us_plans(
    before: list[AccountState],
    on: date,
    strategy: Strategy,
    rulebook: Rulebook,
    con: BaseBackend,
    seed: int,
    days: int,
) -> dict[str, int]:
    """Both runners over ``days`` days from ``on``, from the same drawn records; everything equal each day.
    Returns counts of what was compared (notices sent, refusals by rule)."""
    rng = random.Random(seed)
    records = {s.id: draw_us(rng, s, on, strategy, days) for s in before}
    tables = tables_from_states(before, HUABEI)
    ids = tables.accounts["account_id"].to_pylist()
    portfolio = Portfolio.load(tables, HUABEI, con)
    recording: Recording | None = None
    states = before
    seen: dict[str, int] = {"notices": 0}
    for n in range(days):
        day = on + timedelta(days=n)
        states = [rules.end_of_day(s, day).state for s in states]
        want, after = reference_day(states, day, records, strategy, rulebook)
        seen["notices"] += add_notices(want, states, day, records, after)
        portfolio.run_day(day)
        if recording is None:
            recording = Recording(load_collector(portfolio, ids, records, strategy, rulebook))
        ran = {s.id for s in states if s.last_eod == day}
        got = set_based_day(recording, day, ids, ran)  # type: ignore[arg-type]
        assert_same(got, want, day)
        sent = recording.days[-1].notices.to_pylist()
        assert {ids[r["account_key"]] for r in sent} == {
            a
            for a in ran
            if records[a][0].validation_notice_on is None and after[a][0].validation_notice_on == day
        }
        assert all(r["business_date"] == day and r["channel"] == "letter" for r in sent)
        noticed = recording.state()[0].to_pylist()
        for r in noticed:
            if ids[r["account_key"]] in ran:
                assert r["validation_notice_on"] == after[ids[r["account_key"]]][0].validation_notice_on
        for rows in want.actions.values():
            for row in rows:
                if row[9]:
                    seen[row[9]] = seen.get(row[9], 0) + 1
                    if row[9] == "us.seven_in_seven":
                        kind = "conversation" if str(row[10]).startswith("a telephone") else "count"
                        seen[f"seven_in_seven by {kind}"] = seen.get(f"seven_in_seven by {kind}", 0) + 1
        records = after
    return seen


def late_portfolio(seed: int) -> tuple[list[AccountState], date]:
    """The fixed borrowers, run to a few days before their first statement's due date."""
    start = date(2025, 11, 3)
    states = with_time_zones(open_portfolio(start, FIXED), seed)
    first = date(2025, 12, 1).replace(day=HUABEI.due_day) - timedelta(days=2)
    for on in iter_days(start, first - timedelta(days=1)):
        before_end_of_day(states, FIXED, start, on)
        states = [rules.end_of_day(s, on).state for s in states]
    return states, first


@pytest.mark.parametrize(
    "engine",
    [
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=SPARK_MARKS),
    ],
)
def test_the_us_rulebook_over_the_first_overdue_days_equals_the_reference(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """From two days before the first due date through the first overdue days: notices sent on each
    account's first day past due (the strategy's SMS and calls allowed the same day), the seven-in-seven
    counts and conversations refusing calls."""
    backend: BaseBackend = request.getfixturevalue(engine)
    states, first = late_portfolio(11)
    seen = assert_same_us_plans(states, first, SINK, US_RULEBOOK, backend, seed=5, days=8)
    assert seen["notices"] > 0, seen
    assert seen.get("seven_in_seven by conversation", 0) > 0, seen
    assert seen.get("seven_in_seven by count", 0) > 0, seen


@pytest.mark.parametrize("book", ["notice_first", "strict", "no_calls"])
def test_other_numbers_and_orders_equal_the_reference(book: str) -> None:
    states, first = late_portfolio(4)
    seen = assert_same_us_plans(states, first, SINK, RULEBOOKS[book], ibis.duckdb.connect(), seed=9, days=6)
    refused = {rule for rule in seen if rule.startswith("us.")}
    assert refused, seen
    if book == "notice_first":  # a later notice date, or none for a sold or ceased debt
        assert "us.validation_notice" in refused, seen


events = st.builds(
    Event,
    day=st.integers(0, 90),
    kind=st.sampled_from(["purchase", "repay_part", "installments"]),
    share=st.integers(1, 9_000),
    periods=st.sampled_from([3, 6]),
)
borrowers = st.builds(
    Borrower,
    opened=st.integers(0, 20),
    limit=st.sampled_from([50_000, 500_000, 5_000_000]),
    habit=st.sampled_from(["none", "none", "minimum", "statement"]),
    events=st.lists(events, max_size=5).map(lambda drawn: (Event(21, "purchase", 6_000, 3), *drawn)),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    portfolio=st.lists(borrowers, min_size=1, max_size=5),
    month=st.integers(1, 3),
    offset=st.integers(-2, 12),
    book=st.sampled_from(sorted(RULEBOOKS)),
    strategy=st.sampled_from(["huabei", "sink"]),
    seed=st.integers(0, 2**32),
)
def test_random_portfolios_under_the_us_rulebooks_equal_the_reference(
    portfolio: list[Borrower], month: int, offset: int, book: str, strategy: str, seed: int
) -> None:
    start = date(2026, 1, 5)
    states = with_time_zones(open_portfolio(start, portfolio), seed)
    due = date(2026, 1 + month, HUABEI.due_day)
    on = due + timedelta(days=offset)
    for day in iter_days(start, on - timedelta(days=1)):
        before_end_of_day(states, portfolio, start, day)
        states = [rules.end_of_day(s, day).state for s in states]
    chosen = default_strategy() if strategy == "huabei" else SINK
    assert_same_us_plans(states, on, chosen, RULEBOOKS[book], ibis.duckdb.connect(), seed, days=3)


# --- what the Collector refuses and compiles ------------------------------------------------------------


def portfolio_of_one() -> Portfolio:
    on = date(2026, 3, 1)
    state = rules.open_account("A", "huabei", HUABEI, on, 100_000)
    portfolio = Portfolio.load(tables_from_states([state], HUABEI), HUABEI, ibis.duckdb.connect())
    portfolio.run_day(on)
    return portfolio


def test_the_us_rulebook_compiles_with_its_numbers() -> None:
    collector = Collector(portfolio_of_one(), default_strategy(), US_RULEBOOK)
    assert collector.rulebook.rules == (
        "us.no_contact_after_sale",
        "us.no_contact_during_litigation",
        "us.cease_communication",
        "us.no_contact_during_dispute",
        "us.validation_notice",
        "us.seven_in_seven",
    )
    assert collector.rulebook.seven_in_seven == (7, 7, 7)
    assert collector.rulebook.validation_notice
    assert Collector(portfolio_of_one(), default_strategy(), STRICT).rulebook.seven_in_seven == (3, 4, 2)


def test_a_window_longer_than_the_contact_history_is_refused() -> None:
    longer = RuleSetRulebook("longer", ("us.seven_in_seven",), {"call_window_days": 10})
    with pytest.raises(Unsupported, match=r"rulebook longer: us.seven_in_seven over more than 7 days"):
        Collector(portfolio_of_one(), default_strategy(), longer)


def test_a_lenders_own_rule_is_still_refused_by_name() -> None:
    if "lender.no_calls_on_sunday" not in RULES:
        register("lender.no_calls_on_sunday")(lambda inp: None)
    own = RuleSetRulebook("mine", [*US_RULEBOOK.rules, "lender.no_calls_on_sunday"])
    with pytest.raises(Unsupported, match=r"rulebook mine: .* lender.no_calls_on_sunday$"):
        Collector(portfolio_of_one(), default_strategy(), own)


def test_a_treatment_named_as_the_notice_is_refused_when_the_strategy_is_read() -> None:
    text = (Path(__file__).parent / "setbased_sink_strategy.yaml").read_text()
    assert "id: deep_visit" in text
    with pytest.raises(StrategyError, match=r"treatment id 'validation_notice' is reserved"):
        parse_strategy(text.replace("id: deep_visit", "id: validation_notice"))


# --- the store path ----------------------------------------------------------------------------------------

BUILT = date(2026, 3, 4)
"""The stores' date (built under the CN rulebook: no notice sent yet); accounts past due since February
send theirs on the first date run, those going past due after the due date of 03-09 on their first day."""
THROUGH = date(2026, 3, 12)
US = Collection(default_strategy(), rulebook=US_RULEBOOK)


@pytest.fixture
def us_twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    """Two stores alike, with collection records and contacts (a third party's objection, the day's calls
    of one account): (the reference's, the set-based run's, its URL)."""

    def build(first: Engine) -> None:
        build_store(first, 23, BUILT, count=10)
        add_collection_records(first, BUILT + timedelta(days=1))

    yield from twin_stores(db_url, tmp_path, build)


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        **COMPARED,
        "validation_notices": "SELECT account_id, sent_at, period_ends_on, channel FROM validation_notices "
        "ORDER BY account_id",
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, query in queries.items():
            rows = [tuple(r) for r in conn.execute(text(query))]
            if name == "audit_details":  # the actions the date recorded (the set-based row names its engine)
                rows = [(record, _actions(detail)) for record, detail in rows]
            out[name] = rows
    return out


def _actions(detail: Any) -> Any:
    return (json.loads(detail) if isinstance(detail, str) else detail)["actions"]


def test_the_us_rulebook_on_the_store_equals_the_reference(us_twins: tuple[Engine, Engine, str]) -> None:
    reference, set_based, url = us_twins
    run_eod(reference, THROUGH, collection=US)
    summary = run_set_based(set_based, url, THROUGH, strategy=US.strategy, rulebook=US_RULEBOOK)
    assert summary.dates[0] == BUILT + timedelta(days=1) and summary.dates[-1] == THROUGH
    mine, theirs = _rows(set_based), _rows(reference)
    for table in mine:
        assert len(mine[table]) == len(theirs[table]), table
        for a, b in zip(mine[table], theirs[table], strict=True):
            assert a == b, (table, a, b)
    assert_same_stores(set_based, reference)
    # what makes the comparison worth making: notices sent and their letters, refusals by the US rules
    assert mine["validation_notices"], "no validation notice sent"
    letters = [r for r in mine["outbox"] if r[2] == "validation_notice"]
    assert len(letters) == len(mine["validation_notices"]) and all(r[6] == "en" for r in letters)
    refused = {r[11] for r in mine["collection_actions"] if r[10] == "refused"}
    assert "us.seven_in_seven" in refused, refused  # the conversations of 03-05 stop the calls
    noticed = {r[0] for r in mine["validation_notices"]}
    first_day = {
        r[0]
        for r in mine["collection_actions"]
        if r[2] == "validation_notice" and str(r[1]) > EVENTS.isoformat()
    }
    assert first_day and first_day <= noticed, "a delinquency starting during the run sends its notice"


# --- the nightly job over a Parquet folder -----------------------------------------------------------------


def test_the_nightly_job_writes_the_validation_notices_of_a_us_product(tmp_path: Path) -> None:
    """``overdue eod --state DIR --strategy FILE`` over a product under the US rulebook: each day's
    ``validation_notices`` output holds the notices the reference sends that day (the account's first day
    past due, its letter among the actions and messages), and the next nights read the notice's date back
    from the state (no second notice, the records equal the reference's)."""
    states, first = late_portfolio(11)
    start = first - timedelta(days=1)
    through = first + timedelta(days=6)
    us_product = dataclasses.replace(HUABEI, rulebook="us")
    states = [dataclasses.replace(rules.end_of_day(s, start).state, terms=us_product) for s in states]
    root = tmp_path / "state"
    write_state(root, start, tables_from_states(states, us_product), us_product)
    sink_file = Path(__file__).parent / "setbased_sink_strategy.yaml"
    args = ["eod", "--engine", "duckdb", "--state", str(root), "--date", through.isoformat()]
    result = CliRunner().invoke(app, [*args, "--strategy", str(sink_file)])
    assert result.exit_code == 0, result.output

    ids = [s.id for s in states]
    records: Records = {s.id: (Collections(CollectionState(s.id), None, None), {}, []) for s in states}
    sent = 0
    for on in iter_days(start + timedelta(days=1), through):
        states = [rules.end_of_day(s, on).state for s in states]
        want, after = reference_day(states, on, records, SINK, US_RULEBOOK)
        sent += add_notices(want, states, on, records, after)
        notices = read_outputs(root, "validation_notices", on).to_pylist()
        ends = on + timedelta(days=VALIDATION_RECEIPT_DAYS + VALIDATION_PERIOD_DAYS)
        assert sorted(
            (ids[r["account_key"]], r["business_date"], r["period_ends_on"], r["channel"]) for r in notices
        ) == sorted(
            (a, on, ends, "letter")
            for a, rows in want.actions.items()
            for row in rows
            if row[0] == "validation_notice"
        ), on
        actions = {
            (ids[r["account_key"]], r["treatment"], r["status"], r["refused_rule"])
            for r in read_outputs(root, "actions", on).to_pylist()
        }
        assert actions == {(a, row[0], row[8], row[9]) for a, rows in want.actions.items() for row in rows}, (
            on
        )
        letters = {
            (ids[r["account_key"]], r["body"])
            for r in read_outputs(root, "messages", on).to_pylist()
            if r["treatment"] == "validation_notice"
        }
        assert letters == {
            (a, m[3]) for a, rows in want.messages.items() for m in rows if m[0] == "validation_notice"
        }, on
        records = after
    assert sent > 0, "no validation notice sent"
    snapshot = read_state(root, through)
    assert snapshot.collection is not None
    noticed = {ids[r["account_key"]]: r["validation_notice_on"] for r in snapshot.collection[0].to_pylist()}
    assert noticed == {a: r[0].validation_notice_on for a, r in records.items()}
