"""Reports: the portfolio's KPIs, the terminal summary and the HTML report.

Design overview
---------------
- :mod:`.metrics` defines every metric (formulas in docs/reports.md). Month-end metrics read a
  :class:`~.metrics.Panel`, which comes from a simulation in memory (:func:`~.metrics.panel_from_simulation`)
  or from the database (:func:`overdue.reports.database.panel_from_database`); both give the same numbers.
  Cure, recovery, 入催率 and champion/challenger need the simulator's daily tallies.
- :mod:`.charts` draws with matplotlib (Agg); :mod:`.html` renders the bilingual page with Jinja2;
  :mod:`.text` prints the terminal summary with rich.
"""

from typing import TYPE_CHECKING

from overdue.lazy import exports

if TYPE_CHECKING:
    from overdue.reports.metrics import Panel, ReportConfig, full_report, portfolio_summary

__all__ = ["Panel", "ReportConfig", "full_report", "portfolio_summary"]

# Each imported on first use, so that naming a module of the package does not load NumPy.
__getattr__ = exports(__name__, dict.fromkeys(__all__, "overdue.reports.metrics"))
