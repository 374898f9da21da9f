"""The bulk reader's fetch (``store_io.fetch_rows``): on PostgreSQL by ``COPY (query) TO STDOUT`` read by
Arrow's CSV reader, the same table as through the driver a row at a time — NULL apart from the empty string,
text with commas, quotes, line breaks and Chinese, booleans, exact decimals, dates, bound parameters, no
rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa  # type: ignore[import-untyped]
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
)

from overdue.setbased import store_io

shapes = MetaData()
samples = Table(
    "fetch_samples",
    shapes,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=True),
    Column("memo", Text, nullable=True),
    Column("flag", Boolean, nullable=True),
    Column("carry", Numeric(30, 12), nullable=True),
    Column("on", Date, nullable=True),
)
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("name", pa.string()),
        ("memo", pa.string()),
        ("flag", pa.bool_()),
        ("carry", pa.decimal128(30, 12)),
        ("on", pa.date32()),
    ]
)
ROWS = [
    {"id": 1, "name": "", "memo": None, "flag": True, "carry": Decimal("0"), "on": date(2026, 4, 1)},
    {"id": 2, "name": None, "memo": "", "flag": False, "carry": Decimal("-0.000000000005"), "on": None},
    {
        "id": 3,
        "name": 'a,"b"',
        "memo": "逾期\n第二行, 'quoted'",
        "flag": None,
        "carry": None,
        "on": date(1999, 12, 31),
    },
    {
        "id": 4,
        "name": "NULL",
        "memo": "\\N",
        "flag": True,
        "carry": Decimal("0.12345678"),
        "on": date(2026, 2, 28),
    },
]


@pytest.fixture
def with_samples(engine: Engine) -> Engine:
    shapes.create_all(engine)
    with engine.begin() as conn:
        conn.execute(samples.insert(), ROWS)
    return engine


def _fetch(engine: Engine, query: object, copy: bool, monkeypatch: pytest.MonkeyPatch) -> pa.Table:
    if not copy:
        monkeypatch.setattr(store_io, "_copies_out", lambda kind: False)
    with engine.connect() as conn:
        table = store_io.fetch_rows(conn, query, SCHEMA)  # type: ignore[arg-type]
    monkeypatch.undo()
    return table.combine_chunks()


def test_the_copy_reads_what_the_driver_reads(with_samples: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    query = select(samples).where(samples.c.id >= 1).order_by(samples.c.id)
    copied = _fetch(with_samples, query, True, monkeypatch)
    assert copied.to_pylist() == ROWS
    assert copied.schema == SCHEMA
    assert copied.equals(_fetch(with_samples, query, False, monkeypatch))


def test_bound_parameters_and_no_rows(with_samples: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    some = (
        select(samples)
        .where(samples.c.id.in_([2, 4]), samples.c.flag.is_not(None))
        .order_by(samples.c.id.desc())
    )
    assert _fetch(with_samples, some, True, monkeypatch)["id"].to_pylist() == [4, 2]
    none = select(samples).where(samples.c.on > date(2030, 1, 1))
    empty = _fetch(with_samples, none, True, monkeypatch)
    assert empty.num_rows == 0 and empty.schema == SCHEMA
