"""The borrower's language on the set-based runner: the limit review's notices (raises and cuts, freezes and
closes) and the collection messages of a portfolio mixing zh-CN and en borrowers equal the reference's, field
by field (locale and body), on the store path (a SQLite store on DuckDB, a PostgreSQL store inside its own
database); a state folder carries the language, and one written before it was kept reads as zh-CN on either
Parquet path."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from setbased_limit_helpers import OPENED, act, habits_of, open_accounts, run_through, store_notices
from setbased_store_helpers import twin_stores
from sqlalchemy import Engine, select, update
from test_setbased_store_write import assert_same_stores

from overdue.domain.calendar import iter_days
from overdue.engine.reference import run_eod
from overdue.services import accounts
from overdue.setbased.nightly import connect, export_store, run_nightly
from overdue.setbased.snapshots import read_state, state_partition
from overdue.setbased.store_run import run_on_store
from overdue.store.account_tables import accounts as accounts_table
from overdue.store.collection_tables import collection_actions, outbox
from overdue.store.db import make_engine, upgrade
from overdue.strategy import default_strategy

HANDOVER = date(2026, 5, 1)
"""A statement day: the review raises and cuts limits, and told borrowers are told."""
END = date(2026, 5, 12)
"""Past the due date of 05-09: the early collection messages go out."""


def _speak_english(engine: Engine, account_ids: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(update(accounts_table).where(accounts_table.c.id.in_(account_ids)).values(language="en"))


@pytest.fixture
def twins(db_url: str, tmp_path: Path) -> Iterator[tuple[Engine, Engine, str]]:
    def build(first: Engine) -> None:
        habits = open_accounts(first, extra=4, seed=9)
        # every other borrower, and of the two whose limit the review of 05-01 cuts, one (L-minimum)
        _speak_english(first, [*sorted(habits)[1::2], "L-minimum"])
        run_through(first, habits, OPENED, HANDOVER - timedelta(days=1))

    yield from twin_stores(db_url, tmp_path, build)


def _messages(engine: Engine) -> list[tuple[Any, ...]]:
    """Every outbox message with its action, in a stable order."""
    a, o = collection_actions.c, outbox.c
    query = (
        select(a.account_id, a.business_date, a.treatment, o.channel, o.template, o.locale, o.body, o.status)
        .join_from(collection_actions, outbox, o.action_id == a.id)
        .order_by(a.account_id, a.business_date, a.treatment)
    )
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(query)]


@pytest.mark.slow
def test_notices_and_messages_in_each_borrowers_language_equal_the_reference(
    twins: tuple[Engine, Engine, str],
) -> None:
    reference, set_based, url = twins
    habits = habits_of(extra=4, seed=9)
    name = "postgres" if url.startswith("postgresql") else "duckdb"
    backend = connect(name, url)
    try:
        for day in iter_days(HANDOVER, END):
            act(reference, habits, day)
            act(set_based, habits, day)
            run_eod(reference, day)
            ran = run_on_store(set_based, day, backend, engine_name=name, strategy=default_strategy())
            assert ran.dates == [day]
    finally:
        backend.disconnect()
    assert_same_stores(set_based, reference)
    want = _messages(reference)
    assert _messages(set_based) == want
    # what makes the comparison worth making: notices and collection messages in both languages
    notices = {(n[5], n[12]) for n in store_notices(reference) if n[1] >= HANDOVER}
    assert {"zh-CN", "en"} <= {locale for _, locale in notices}, notices
    collected = {m[5] for m in want if m[2] != "limit_notice" and m[1] >= HANDOVER}
    assert collected == {"zh-CN", "en"}, collected
    english = [m for m in want if m[5] == "en"]
    assert english and all(m[6].isascii() for m in english)


STOPS = {
    "freeze": (
        date(2026, 3, 1),
        ["L-cure"],
        {("L-close", "limit_freeze", "zh-CN"), ("L-cure", "limit_freeze", "en")},
    ),
    "close": (date(2026, 6, 1), ["L-close"], {("L-close", "limit_close", "en")}),
}
"""Review → (its day, the borrowers who read English, the day's freeze and close notices: account, template,
locale). On 1 March the review freezes L-close and L-cure (their statements of 1 February unpaid); on 1 June
it closes L-close (DPD 112)."""


@pytest.mark.slow
@pytest.mark.parametrize("stop", list(STOPS))
def test_freeze_and_close_notices_equal_the_reference(db_url: str, tmp_path: Path, stop: str) -> None:
    """The review's freezes and closes told on the store path as the reference tells them: the same
    ``limit_freeze``/``limit_close`` actions and outbox messages, each in its borrower's language."""
    review_day, english, notices = STOPS[stop]
    habits = habits_of()

    def build(first: Engine) -> None:
        open_accounts(first)
        _speak_english(first, english)
        run_through(first, habits, OPENED, review_day - timedelta(days=1))

    stores = twin_stores(db_url, tmp_path, build)
    reference, set_based, url = next(stores)
    name = "postgres" if url.startswith("postgresql") else "duckdb"
    backend = connect(name, url)
    try:
        for day in iter_days(review_day, review_day + timedelta(days=1)):
            act(reference, habits, day)
            act(set_based, habits, day)
            run_eod(reference, day)
            ran = run_on_store(set_based, day, backend, engine_name=name, strategy=default_strategy())
            assert ran.dates == [day]
        assert_same_stores(set_based, reference)
        assert _messages(set_based) == _messages(reference)
        stops = {(n[0], n[5], n[12]) for n in store_notices(reference) if n[1] == review_day}
        assert {n for n in stops if n[1] in ("limit_freeze", "limit_close")} == notices
    finally:
        backend.disconnect()
        stores.close()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two accounts, E1 in English and Z1 in zh-CN, run by the reference a few days and exported."""
    folder = tmp_path_factory.mktemp("language")
    engine = make_engine(f"sqlite:///{folder}/overdue.db")
    try:
        upgrade(engine)
        accounts.open_account(engine, "E1", date(2026, 1, 6), 500_000, language="en")
        accounts.open_account(engine, "Z1", date(2026, 1, 6), 300_000)
        run_eod(engine, date(2026, 1, 10))
        assert export_store(engine, folder / "state") == date(2026, 1, 10)
    finally:
        engine.dispose()
    return folder / "state"


def _languages(root: Path, on: date) -> dict[str, str]:
    accounts_read = read_state(root, on).tables.accounts
    return dict(
        zip(accounts_read["account_id"].to_pylist(), accounts_read["language"].to_pylist(), strict=True)
    )


@pytest.mark.parametrize("native", [True, False], ids=["engine-parquet", "driver-parquet"])
def test_a_folder_keeps_the_language_and_an_older_one_reads_as_zh_cn(
    exported: Path, tmp_path: Path, native: bool
) -> None:
    for kind, drop in (("kept", False), ("older", True)):
        root = tmp_path / kind
        shutil.copytree(exported, root)
        first = state_partition(root, date(2026, 1, 10)) / "accounts.parquet"
        if drop:
            pq.write_table(pq.read_table(first).drop_columns(["language"]), first)
            assert "language" not in pq.read_schema(first).names
        want = {"E1": "zh-CN" if drop else "en", "Z1": "zh-CN"}
        assert _languages(root, date(2026, 1, 10)) == want
        backend = connect("duckdb")
        try:
            run_nightly(
                root,
                date(2026, 1, 12),
                backend,
                engine="duckdb",
                strategy=default_strategy(),
                native_parquet=native,
            )
        finally:
            backend.disconnect()
        assert _languages(root, date(2026, 1, 12)) == want
