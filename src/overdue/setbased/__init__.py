"""The set-based end-of-day: the domain's daily rules over whole tables at once, with Ibis on DuckDB,
PostgreSQL or Spark.

Design overview
---------------
The reference runner (:mod:`overdue.engine.reference`) applies :func:`overdue.domain.account.end_of_day` to
one account at a time. This package computes the same day — accrue → age → bill → bureau month — for a whole
portfolio with a handful of set operations, and no Python per account in the hot path:

1. **Tables** (:mod:`~overdue.setbased.layout`): the state of every account as columnar Arrow tables —
   accounts, statements, unbilled cycles, installment plans and periods, closed bucket spells — with amounts
   as ``int64`` fen and the interest carry as ``int64`` carry units. The day's outputs are tables too:
   postings, bucket spells, bureau months. Inside the engine the same tables hold integers only on the hot
   path (:mod:`~overdue.setbased.encode`: day numbers, codes).
2. **Conversion** (:mod:`~overdue.setbased.convert`): :class:`~overdue.domain.state.AccountState` objects to
   tables and back, exactly, and posting rows to ledger transactions; so the two runners can start from
   one state and be compared field by field.
3. **The day** (:mod:`~overdue.setbased.day`): a :class:`Portfolio` holds the tables inside a backend
   (:mod:`~overdue.setbased.backend`: DuckDB in-process by default, PostgreSQL, Spark) and runs day after
   day there, each step a table created from the ones before (:mod:`~overdue.setbased.plan`: Ibis
   expressions with the product's terms as parameters, :mod:`~overdue.setbased.params`, compiled once per
   dialect); :func:`run_day` is one day over Arrow tables.
4. **Collections** (:mod:`~overdue.setbased.collect`): after the day, a
   :class:`~overdue.setbased.collect.Collector` runs decide → comply → act over the same tables — a strategy
   and a rulebook compiled to expressions (:mod:`~overdue.setbased.collect_decide`,
   :mod:`~overdue.setbased.collect_comply`), the collection records
   (:mod:`~overdue.setbased.collect_tables`) kept in the backend from day to day
   (:mod:`~overdue.setbased.collect_act`).

Both runners must give the same result: the differential tests in ``tests/setbased`` check every field of
every account and every posting, on the three backends. What the set-based runner does not cover yet is
refused with :class:`Unsupported` (nothing is computed), never computed differently; ``docs/setbased.md``
lists it.
"""

from overdue.setbased.convert import states_from_tables, tables_from_states, transactions_from_postings
from overdue.setbased.day import DayRun, Portfolio, run_day
from overdue.setbased.layout import TABLES, DayResult, PortfolioTables
from overdue.setbased.params import Unsupported

__all__ = [
    "TABLES",
    "DayResult",
    "DayRun",
    "Portfolio",
    "PortfolioTables",
    "Unsupported",
    "run_day",
    "states_from_tables",
    "tables_from_states",
    "transactions_from_postings",
]
