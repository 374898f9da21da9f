"""The relief-review cases the set-based day once refused, now computed as the reference computes them:

- a settlement paid while unbilled purchases and installment periods not billed yet are left
  (``waive_everything``: the waiver forgives them, the unbilled purchases go, the periods end with no
  principal and no fee) — of a bill installment plan and of a purchase plan, of an account written off;
- a plan completed while installment periods not billed yet are left (``finish_installments``);
- a broken plan whose set-aside statement is no longer among the account's statements (``restore``: the
  oldest open statement, else the latest) — dropped as the store drops a statement settled and not the
  latest, and set-asides naming a statement the state does not hold after one whose statement is held.

Each account is driven by the reference day by day; on the days around its event the set-based day over
the reference's state equals the reference's day field by field, posting by posting (the waivers
included), bucket spell by spell and bureau month by bureau month."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibis.backends import BaseBackend
from setbased_helpers import HUABEI, assert_same_day
from setbased_relief_helpers import RELIEF, agree, pay, take
from setbased_store_helpers import NO_REVIEW, OPENED, run_set_based, twin_stores
from sqlalchemy import Engine, text
from test_setbased_store_write import assert_same_stores

from overdue.domain import account as rules
from overdue.domain import relief_arrangements
from overdue.domain.billing import statement_id
from overdue.domain.calendar import iter_days
from overdue.domain.errors import Refused
from overdue.domain.state import AccountState
from overdue.engine.reference import run_eod
from overdue.services import accounts, relief
from overdue.store import repository

TERMS = dataclasses.replace(HUABEI, freeze_at_dpd=120)
"""The huabei terms with the line frozen only at 120 days past due, so that an account 31 and more days
past due can still buy (purchases left unbilled when a settlement is paid, or a plan broken)."""

Story = Callable[[AccountState, date], AccountState]
"""What an account does on a day, before its end-of-day."""


def _settle_with_purchase_plan(state: AccountState, on: date) -> AccountState:
    """A purchase and a purchase in 6 installments in January, nothing repaid; a settlement agreed on 21
    March and paid on 26 March, periods 3 to 6 not billed yet."""
    if on == date(2026, 1, 10):
        state = rules.purchase(state, on, 60_000).state
        return rules.purchase(state, on, 120_000, periods=6).state
    if on == date(2026, 3, 21):
        return agree(state, on, "settlement_paid")
    if on == date(2026, 3, 26):
        assert state.arrangement is not None
        return rules.repay(state, on, state.arrangement.amount).state
    return state


def _settle_with_bill_plan(state: AccountState, on: date) -> AccountState:
    """The February statement put into 6 bill installments, nothing repaid; 31 days past due on 9 April a
    purchase (left unbilled: the settlement pauses billing) and a settlement agreed, paid on 14 April."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 80_000).state
    if on == date(2026, 2, 3):
        latest = state.latest_statement()
        assert latest is not None
        return rules.request_installments(state, on, latest.id, 6).state
    if on == date(2026, 4, 9):
        state = rules.purchase(state, on, 30_000).state
        return agree(state, on, "settlement_paid")
    if on == date(2026, 4, 14):
        assert state.arrangement is not None
        return rules.repay(state, on, state.arrangement.amount).state
    return state


def _settle_written_off(state: AccountState, on: date) -> AccountState:
    """A purchase in 12 installments in January, nothing repaid: written off at 180 days past due (9
    August) with periods 8 to 12 not billed; a settlement agreed on 20 August, paid on 25 August (the
    waiver takes the ``written_off:*`` claims)."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 240_000, periods=12).state
    if on == date(2026, 8, 20):
        return agree(state, on, "settlement_paid")
    if on == date(2026, 8, 25):
        assert state.arrangement is not None
        return rules.repay(state, on, state.arrangement.amount).state
    return state


def _lapse_written_off(state: AccountState, on: date) -> AccountState:
    """As :func:`_settle_written_off`, the settlement agreed on 14 August and not paid: it lapses on 26
    August and the account stays written off."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 240_000, periods=12).state
    return agree(state, on, "settlement_lapsed") if on == date(2026, 8, 14) else state


def _complete_with_purchase_plan(state: AccountState, on: date) -> AccountState:
    """A purchase and one in 6 installments in January; a plan agreed on 20 March (interest set aside) and
    everything repaid on 23 March, the unbilled periods' principal with it (their fees left)."""
    if on == date(2026, 1, 10):
        state = rules.purchase(state, on, 50_000).state
        return rules.purchase(state, on, 90_000, periods=6).state
    if on == date(2026, 3, 20):
        return agree(state, on, "plan_completed")
    if on == date(2026, 3, 23):
        return rules.repay(state, on, state.outstanding).state
    return state


def as_loaded(state: AccountState) -> AccountState:
    """``state`` as :func:`overdue.store.repository.load_account` loads it: the open statements and the
    latest one (a statement settled and not the latest is no longer loaded)."""
    latest = state.latest_statement()
    kept = tuple(s for s in state.statements if s.closed_on is None or s is latest)
    return dataclasses.replace(state, statements=kept)


def _interest_only_then_plan(state: AccountState, on: date) -> AccountState:
    """Purchases on 10 January and 5 February (two statements); on 12 May, the first 92 days past due (its
    principal paid first), exactly its principal repaid: it owes interest only, which the plan agreed then
    sets aside, settling it. Payment 1 (12 June) is not made: the plan breaks on 23 June."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 100_000).state
    if on == date(2026, 2, 5):
        return rules.purchase(state, on, 50_000).state
    if on == date(2026, 5, 12):
        first = min(state.statements, key=lambda s: s.statement_date)
        state = rules.repay(state, on, first.principal).state
        return agree(state, on, "plan_broken")
    return state


def _broken_dropped(state: AccountState, on: date) -> AccountState:
    """:func:`_interest_only_then_plan`, the settled first statement then dropped as the store drops it:
    its set-aside goes back on the oldest open statement."""
    state = _interest_only_then_plan(state, on)
    return as_loaded(state) if on == date(2026, 5, 12) else state


def _renamed(state: AccountState, renames: dict[int, str]) -> AccountState:
    """The active plan's set-asides at the positions of ``renames`` naming those statement ids instead."""
    arrangement = state.arrangement
    assert arrangement is not None
    asides = tuple(
        dataclasses.replace(a, statement_id=renames[n]) if n in renames else a
        for n, a in enumerate(arrangement.set_aside)
    )
    return dataclasses.replace(state, arrangement=dataclasses.replace(arrangement, set_aside=asides))


def _broken_after_a_held_one(state: AccountState, on: date) -> AccountState:
    """:func:`_interest_only_then_plan`, the second set-aside (of the open statement) naming a statement the
    state does not hold: ``restore`` puts it back after the first one, on the settled first statement
    (open again by then, and older than the open one)."""
    state = _interest_only_then_plan(state, on)
    if on != date(2026, 5, 12):
        return state
    assert state.arrangement is not None and len(state.arrangement.set_aside) == 2
    return _renamed(state, {1: statement_id(state.id, date(2026, 1, 1))})


def _broken_nothing_open(state: AccountState, on: date) -> AccountState:
    """A purchase in January (one statement); on 12 May a purchase left unbilled, a plan of one payment
    agreed (the statement's interest set aside), then the statement's principal repaid: no statement is open
    any more. Its set-aside names a statement the state does not hold: ``restore`` puts it on the latest.
    The rest of the payment is not made: the plan breaks on 23 June."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 70_000).state
    if on == date(2026, 5, 12):
        state = rules.purchase(state, on, 20_000).state
        quote, draft = relief_arrangements.offer_plan(state, on, RELIEF, 1, waive_interest=True)
        state = take(state, on, quote, draft)
        (only,) = state.statements
        state = rules.repay(state, on, only.principal).state
        assert state.statements[0].outstanding == 0 and state.unbilled
        return _renamed(state, {0: statement_id(state.id, date(2025, 12, 1))})
    return state


def _broken_with_a_second_aside_missing(state: AccountState, on: date) -> AccountState:
    """A plan with interest and fees set aside off two open statements, the first set-aside naming a
    statement the state does not hold: it goes on the oldest open statement, the second on its own."""
    if on == date(2026, 1, 10):
        return rules.purchase(state, on, 100_000).state
    if on == date(2026, 2, 5):
        return rules.purchase(state, on, 50_000).state
    if on == date(2026, 5, 12):
        quote, draft = relief_arrangements.offer_plan(state, on, RELIEF, 4, waive_interest=True)
        state = take(state, on, quote, draft)
        assert state.arrangement is not None and len(state.arrangement.set_aside) == 2
        return _renamed(state, {0: statement_id(state.id, date(2026, 1, 1))})
    return state


STORIES: dict[str, Story] = {
    "SP": _settle_with_purchase_plan,
    "SB": _settle_with_bill_plan,
    "SW": _settle_written_off,
    "LW": _lapse_written_off,
    "CP": _complete_with_purchase_plan,
    "BD": _broken_dropped,
    "BH": _broken_after_a_held_one,
    "BN": _broken_nothing_open,
    "BM": _broken_with_a_second_aside_missing,
}
"""Each account's story, by its id."""
CHECK_DAYS = {
    "SP": (date(2026, 3, 26), date(2026, 3, 27), date(2026, 3, 31), date(2026, 4, 1)),
    "SB": (date(2026, 4, 14), date(2026, 4, 15), date(2026, 4, 30), date(2026, 5, 1)),
    "SW": (date(2026, 8, 25), date(2026, 8, 26), date(2026, 8, 31), date(2026, 9, 1)),
    "CP": (date(2026, 3, 23), date(2026, 3, 24), date(2026, 3, 31), date(2026, 4, 1)),
    "B": (date(2026, 6, 22), date(2026, 6, 23), date(2026, 6, 24), date(2026, 6, 30), date(2026, 7, 1)),
}
"""The days around each event: the day before (for the broken plans), the day itself, the day after, the
month end and the statement day after it."""


def _histories(stories: dict[str, Story], last: date) -> dict[date, list[AccountState]]:
    """The accounts before each day's end-of-day (the day's events applied), run by the reference from
    :data:`OPENED` through ``last``."""
    states = [rules.open_account(i, "huabei", TERMS, OPENED, 500_000) for i in stories]
    before: dict[date, list[AccountState]] = {}
    for on in iter_days(OPENED, last):
        states = [story(s, on) for s, story in zip(states, stories.values(), strict=True)]
        before[on] = states
        states = [rules.end_of_day(s, on).state for s in states]
    return before


def _check(
    ids: tuple[str, ...], days: tuple[date, ...], con: BaseBackend | None = None
) -> list[AccountState]:
    """The accounts ``ids`` on each of ``days``: the set-based day equals the reference's. Returns the
    reference's states after the last."""
    history = _histories({i: STORIES[i] for i in ids}, max(days))
    after: list[AccountState] = []
    for on in days:
        after = assert_same_day(history[on], on, TERMS, con)
    return after


def test_a_settlement_paid_with_installments_and_purchases_left_equals_the_reference() -> None:
    """Settlements paid while a purchase plan's and a bill plan's periods are not billed yet and a purchase
    is left unbilled: the waiver forgives them all (amounts and posting order as the reference's), the
    unbilled purchases go, the periods end billed with no principal and no fee, the account closes; the
    statement day after bills nothing and the bureau is told ``G``."""
    sp, sb = _check(("SP", "SB"), tuple(sorted({*CHECK_DAYS["SP"], *CHECK_DAYS["SB"]})))
    for state in (sp, sb):
        assert state.status == "closed" and state.outstanding == 0 and not state.unbilled
        assert all(p.billed for plan in state.plans for p in plan.periods)
        assert all(plan.periods[-1].fee == 0 for plan in state.plans)
        assert state.bureau[-1].status == "G"


def test_a_settlement_on_a_written_off_account_equals_the_reference() -> None:
    """Written-off accounts whose periods were never billed: a settlement paid (the waiver takes the
    ``written_off:*`` claims, the account closes) and one lapsed (the account stays written off)."""
    sw, lw = _check(("SW", "LW"), CHECK_DAYS["SW"])
    assert sw.written_off_on is not None and sw.arrangement is not None
    assert sw.arrangement.status == "completed" and sw.outstanding == 0 and sw.status == "closed"
    assert lw.arrangement is not None and lw.arrangement.status == "lapsed" and lw.status == "written_off"


def test_a_plan_completed_with_periods_left_equals_the_reference() -> None:
    """Everything repaid under a plan, the unbilled periods' principal with it: the plan is completed, the
    periods' fees are never billed, the line closes."""
    (cp,) = _check(("CP",), CHECK_DAYS["CP"])
    assert cp.arrangement is not None and cp.arrangement.status == "completed"
    assert all(p.billed for plan in cp.plans for p in plan.periods)
    assert all(plan.periods[-1].fee == 0 for plan in cp.plans)


def test_a_broken_plan_whose_set_aside_statement_is_gone_equals_the_reference() -> None:
    """Broken plans whose set-aside names a statement not held: dropped as the store drops it (onto the
    oldest open statement), after a set-aside whose statement is held (onto that one, open again by then),
    with no statement open (onto the latest), and the first of two (onto the oldest open one)."""
    states = _check(("BD", "BH", "BN", "BM"), CHECK_DAYS["B"])
    assert all(s.arrangement is not None and s.arrangement.status == "broken" for s in states)


def test_every_backend_computes_the_three_cases(backend: BaseBackend) -> None:
    """On DuckDB, PostgreSQL and Spark (slow): the day a settlement is paid with periods and purchases left
    (and one of an account written off), the day a plan is completed with periods left, the day plans
    break with their set-aside statements gone, and the statement days after."""
    _check(
        ("SB", "SW", "LW"),
        (date(2026, 4, 14), date(2026, 5, 1), date(2026, 8, 25), date(2026, 8, 26)),
        backend,
    )
    _check(("CP",), (date(2026, 3, 23), date(2026, 4, 1)), backend)
    _check(("BD", "BH", "BN", "BM"), (date(2026, 6, 23), date(2026, 7, 1)), backend)


@dataclass(frozen=True)
class Mixed:
    """One account's random story: a purchase on 10 January (and one in ``installments`` periods, 0: none),
    its first statement put into 6 bill installments or not, and on day ``agreed`` (from the opening) a
    purchase of ``late_purchase`` (0: none), the oldest open statement's principal repaid or not, the relief
    of ``kind`` agreed, and the statements then kept as the store loads them (``loaded``) or all."""

    purchase: int
    installments: int
    bill_plan: bool
    late_purchase: int
    kind: str
    agreed: int
    repay_principal: bool
    loaded: bool


mixed = st.builds(
    Mixed,
    purchase=st.integers(20_000, 200_000),
    installments=st.sampled_from((0, 3, 6, 12)),
    bill_plan=st.booleans(),
    late_purchase=st.sampled_from((0, 5_000, 30_000)),
    kind=st.sampled_from(("settlement_paid", "plan_completed", "plan_broken")),
    agreed=st.one_of(st.integers(70, 125), st.integers(126, 150)),
    repay_principal=st.booleans(),
    loaded=st.booleans(),
)


def _mixed_day(state: AccountState, on: date, m: Mixed) -> AccountState:
    """``m``'s events of ``on``; what the rules refuse changes nothing."""
    offset = (on - OPENED).days
    try:
        if on == date(2026, 1, 10):
            state = rules.purchase(state, on, m.purchase).state
            if m.installments:
                state = rules.purchase(state, on, m.purchase // 2, periods=m.installments).state
        elif on == date(2026, 2, 3) and m.bill_plan and state.latest_statement() is not None:
            latest = state.latest_statement()
            assert latest is not None
            state = rules.request_installments(state, on, latest.id, 6).state
        elif offset == m.agreed:
            if m.late_purchase:
                state = rules.purchase(state, on, m.late_purchase).state
            open_ones = sorted((s for s in state.statements if s.outstanding), key=lambda s: s.statement_date)
            if m.repay_principal and open_ones and open_ones[0].principal:
                state = rules.repay(state, on, open_ones[0].principal).state
            state = agree(state, on, m.kind)
            return as_loaded(state) if m.loaded else state
    except Refused:
        return state
    arrangement = state.arrangement
    if arrangement is None or not arrangement.is_active or offset <= m.agreed:
        return state
    return pay(state, on, m.kind, OPENED + timedelta(days=m.agreed))


def _event_days(states: list[AccountState], last: date) -> set[date]:
    """The days around each arrangement's events: the day after it began, the day its payment falls due or
    is made and the day after, the day it breaks, and the month end and statement day after it ended."""
    days: set[date] = set()
    for s in states:
        a = s.arrangement
        if a is None or a.started_on is None:
            continue
        days |= {a.started_on + timedelta(days=n) for n in (1, 3, 4, 5, 6)}
        for p in a.schedule:
            days |= {p.due_date, p.due_date + timedelta(days=a.breach_days + 1)}
        if a.ended_on is not None:
            month_end = (a.ended_on.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            days |= {a.ended_on, a.ended_on + timedelta(days=1), month_end, month_end + timedelta(days=1)}
    return {d for d in days if d <= last}


@pytest.mark.slow  # about 30 s
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolio=st.lists(mixed, min_size=3, max_size=3))
def test_random_mixes_of_the_three_cases_equal_the_reference(portfolio: list[Mixed]) -> None:
    """Random accounts with purchase and bill installments, purchases left unbilled, statements settled by
    a plan's set-aside and dropped as the store drops them, whose settlement is paid, plan completed or
    plan broken: on the days around their events the set-based day equals the reference on DuckDB."""
    states = [rules.open_account(f"M{n}", "huabei", TERMS, OPENED, 500_000) for n in range(len(portfolio))]
    last = OPENED + timedelta(days=200)
    history: dict[date, list[AccountState]] = {}
    for on in iter_days(OPENED, last):
        states = [_mixed_day(s, on, m) for s, m in zip(states, portfolio, strict=True)]
        history[on] = states
        states = [rules.end_of_day(s, on).state for s in states]
    for on in sorted(_event_days(states, last)):
        assert_same_day(history[on], on, TERMS)


STORE_AGREED = date(2026, 3, 13)
"""The settlement and the plan completed on the store are agreed then (32 days past due)."""
STORE_BROKEN_AGREED = date(2026, 5, 12)
"""The plan that breaks on the store is agreed then (its first statement 92 days past due)."""


def _agree_on_store(engine: Engine, account_id: str, request: relief.ReliefRequest, on: date) -> None:
    offer = relief.quote(engine, account_id, request, on=on)
    accepted = relief.accept(engine, account_id, request, offer["fingerprint"], maker="agent1", on=on)
    if accepted["status"] == "pending_approval":
        relief.approve(engine, account_id, accepted["id"], "lead1", "supervisor", on=on)


def _build_review_store(engine: Engine) -> None:
    """Three accounts bought on 10 January (``RS`` and ``RC`` in 6 installments too, ``RB`` again on 5
    February), nothing repaid; on :data:`STORE_AGREED` a settlement (``RS``) and a plan of 2 payments
    (``RC``, interest set aside) agreed; run by the reference through that day."""
    for account_id in ("RS", "RC", "RB"):
        accounts.open_account(engine, account_id, OPENED, 500_000)
    for day in iter_days(OPENED, STORE_AGREED):
        if day == date(2026, 1, 10):
            accounts.purchase(engine, "RS", 60_000, on=day)
            accounts.purchase(engine, "RS", 120_000, periods=6, on=day)
            accounts.purchase(engine, "RC", 50_000, on=day)
            accounts.purchase(engine, "RC", 90_000, periods=6, on=day)
            accounts.purchase(engine, "RB", 100_000, on=day)
        if day == date(2026, 2, 5):
            accounts.purchase(engine, "RB", 50_000, on=day)
        if day == STORE_AGREED:
            with engine.connect() as conn:
                owed = repository.load_account(conn, "RS")[0].outstanding
            settlement = relief.ReliefRequest("settlement", amount=owed * 6 // 10, pay_by=day + timedelta(5))
            _agree_on_store(engine, "RS", settlement, day)
            _agree_on_store(engine, "RC", relief.ReliefRequest("plan", periods=2, waive_interest=True), day)
        run_eod(engine, day, collection=NO_REVIEW)


def _on_both(stores: tuple[Engine, Engine], act: Callable[[Engine], object]) -> None:
    for engine in stores:
        act(engine)


def _repay_on_store(engine: Engine, account_id: str, on: date, what: str) -> None:
    """Repay what the settlement asks (``settlement``), everything (``all``) or the principal of the first
    statement (``first_principal``)."""
    with engine.connect() as conn:
        state = repository.load_account(conn, account_id)[0]
    if what == "settlement":
        assert state.arrangement is not None
        amount = state.arrangement.amount
    elif what == "all":
        amount = state.outstanding
    else:
        amount = min(state.statements, key=lambda s: s.statement_date).principal
    accounts.repay(engine, account_id, amount, on=on)


@pytest.fixture
def review_twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    yield from twin_stores(db_url, tmp_path, _build_review_store)


@pytest.mark.slow  # about a minute: a hundred days of the reference on the store
def test_the_three_cases_on_the_store_equal_the_reference(review_twins: tuple[Engine, Engine, str]) -> None:
    """``overdue eod --store`` from the day after the agreements, the same repayments made on both stores:
    the settlement paid with installment periods left (the waiver, the periods ended and their plan
    finished), the plan completed with periods left; then a plan agreed after exactly the first statement's
    principal is repaid, which settles that statement (the store no longer loads it) and breaks: its
    set-aside restored on the oldest open statement — statements, periods, plans, unbilled cycles, postings
    and arrangements as the reference writes them."""
    reference, set_based, url = review_twins

    def run_both(through: date) -> None:
        run_eod(reference, through)
        run_set_based(set_based, url, through)
        assert_same_stores(set_based, reference)

    day = STORE_AGREED + timedelta(days=1)
    _on_both((reference, set_based), lambda e: _repay_on_store(e, "RS", day, "settlement"))
    _on_both((reference, set_based), lambda e: _repay_on_store(e, "RC", day, "all"))
    run_both(day)
    run_both(date(2026, 4, 1))
    run_both(STORE_BROKEN_AGREED - timedelta(days=1))
    plan = relief.ReliefRequest("plan", periods=6, waive_interest=True)
    for engine in (reference, set_based):
        _repay_on_store(engine, "RB", STORE_BROKEN_AGREED, "first_principal")
        _agree_on_store(engine, "RB", plan, STORE_BROKEN_AGREED)
    with set_based.connect() as conn:
        loaded = repository.load_account(conn, "RB")[0]
        assert [s.statement_date for s in loaded.statements] == [date(2026, 3, 1)]
    run_both(date(2026, 6, 24))
    with set_based.connect() as conn:
        statuses = dict(conn.execute(text("SELECT account_id, status FROM relief_arrangements")).all())
        finished = conn.execute(text("SELECT count(*) FROM installment_plans WHERE finished")).scalar_one()
    assert statuses == {"RS": "completed", "RC": "completed", "RB": "broken"}
    assert finished == 2
