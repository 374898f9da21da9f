"""What the Spark workspace holds from one day to the next: the planner's size estimate of a table must not
depend on how many days made it, and the checkpointed rows of a dropped or replaced table must be released.

Both once grew: a locally checkpointed DataFrame kept the size estimate of the query that made it, a join's
estimate is the product of its sides', so the estimates' digits multiplied day after day until planning
exhausted the driver's heap (``docs/setbased.md``, "The three backends"); and every day's checkpoints
stayed on the executors.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from ibis.backends import BaseBackend
from setbased_collect_helpers import FIXED
from setbased_helpers import HUABEI, SPARK_MARKS, before_end_of_day, field_differences, open_portfolio

from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.setbased import Portfolio, states_from_tables, tables_from_states
from overdue.setbased.backend import SparkWorkspace


def size_estimates(db: SparkWorkspace) -> dict[str, int]:
    """The planner's estimate (bytes) of each table the workspace holds."""
    return {
        name: int(frame._jdf.queryExecution().optimizedPlan().stats().sizeInBytes())
        for name, frame in db.frames.items()
    }


def persistent_rdds(session: Any) -> set[int]:
    return {int(key) for key in session.sparkContext._jsc.getPersistentRDDs().keySet()}


@pytest.mark.parametrize("engine", [pytest.param("spark", marks=SPARK_MARKS)])
def test_spark_tables_keep_their_size_estimate_and_release_old_rows(
    request: pytest.FixtureRequest, engine: str, spark_session: Any
) -> None:
    """Five days after a statement day with delinquent accounts (joins on every step): each state
    table's estimate on the last day equals the first day's, every checkpoint this portfolio made and
    no longer uses is released, and the state still equals the reference's."""
    backend: BaseBackend = request.getfixturevalue(engine)
    start = date(2025, 11, 3)
    states = open_portfolio(start, FIXED)
    for on in iter_days(start, date(2026, 1, 31)):
        before_end_of_day(states, FIXED, start, on)
        states = [rules.end_of_day(s, on).state for s in states]
    portfolio = Portfolio.load(tables_from_states(states, HUABEI), HUABEI, backend)
    db = portfolio.db
    assert isinstance(db, SparkWorkspace)
    made: set[int] = set()
    estimates: list[dict[str, int]] = []
    for n in range(5):
        on = date(2026, 2, 1) + timedelta(days=n)
        states = [rules.end_of_day(s, on).state for s in states]
        portfolio.run_day(on)
        estimates.append(size_estimates(db))
        held = {int(rows.id()) for rows in db.rows.values()}
        made |= held
        assert persistent_rdds(spark_session) & made == held, f"checkpoints left behind after {on}"
    for name in ("accounts", "statements", "bucket_spells"):
        assert estimates[-1][name] == estimates[0][name], name
    got = states_from_tables(portfolio.tables(), HUABEI)
    for g, w in zip(got, states, strict=True):
        assert g == w, f"{w.id}: " + "; ".join(field_differences(g, w))
