"""Backends for the set-based differential tests: DuckDB in-process, PostgreSQL (a fresh database of the
test server) and Spark (one ``local[2]`` session for the whole test run: it takes seconds to start).

``backend`` is parametrised over the three; the PostgreSQL case is marked ``postgres`` (skipped without a
server, as the store's tests are) and the Spark case ``slow``. The Spark cases ignore ``ResourceWarning``:
PySpark's gateway leaves sockets to the garbage collector, which pytest would otherwise report as errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import pytest
from ibis.backends import BaseBackend
from setbased_helpers import SPARK_MARKS


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """A local Spark session with two worker threads, no web UI, sized for small test tables."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("overdue-setbased-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def spark(spark_session: Any) -> BaseBackend:
    """An Ibis connection to the test run's Spark session."""
    return ibis.pyspark.connect(spark_session)


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[BaseBackend]:
    """An Ibis connection to a fresh PostgreSQL database."""
    con = ibis.connect(postgres_url.replace("postgresql+psycopg://", "postgres://", 1))
    yield con
    con.disconnect()


@pytest.fixture
def duckdb() -> BaseBackend:
    return ibis.duckdb.connect()


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=SPARK_MARKS),
    ]
)
def backend(request: pytest.FixtureRequest) -> BaseBackend:
    """Each backend the set-based day runs on."""
    con: BaseBackend = request.getfixturevalue(request.param)
    return con
