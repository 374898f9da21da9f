"""The portfolio simulator: try a strategy on a synthetic portfolio before it goes live.

Design overview
---------------
- :mod:`.borrowers` draws borrowers (Faker zh_CN names and phones, cities and their time zones, limits,
  latent ability and willingness to pay) from one seed;
- :mod:`.model` holds the behaviour assumptions: how treatments lift repayment;
- :mod:`.shard` runs a slice of accounts day by day through the real domain rules and the same
  decide → comply step as the nightly run (:func:`overdue.engine.collect.plan_collection`), in memory;
  :mod:`.behaviour` draws what the borrowers do and how they answer a contact, :mod:`.contacts` makes each
  contact at a local time after the rulebook's check and keeps the contact log, :mod:`.tallies` counts
  episodes, exposure and recovery, and :mod:`.skips` proves which steps a day can skip;
- :mod:`.run` cuts the portfolio into shards and runs them on worker processes; :mod:`.result` merges them;
- :mod:`.persist` writes the result into the database in bulk, and :mod:`.demo` runs ``overdue demo``'s
  pipeline: writing each finished shard while the next ones are simulated, then the report.

Reproducible: the same seed gives the same portfolio and the same numbers, whatever the number of workers.
Comparable: a borrower's random draws never depend on what was done to other accounts (:mod:`.draws`, common
random numbers), so two strategies, or two orders of the day's calls (:mod:`.calls`), run on one portfolio
differ only by what they did.
"""

from typing import TYPE_CHECKING

from overdue.lazy import exports

if TYPE_CHECKING:
    from overdue.sim.model import BehaviourModel
    from overdue.sim.result import SimulationResult
    from overdue.sim.run import SimulationConfig, simulate

__all__ = ["BehaviourModel", "SimulationConfig", "SimulationResult", "simulate"]

# Each imported on first use, so that a light module of the package (overdue.sim.defaults) loads alone.
__getattr__ = exports(
    __name__,
    {
        "BehaviourModel": "overdue.sim.model",
        "SimulationResult": "overdue.sim.result",
        "SimulationConfig": "overdue.sim.run",
        "simulate": "overdue.sim.run",
    },
)
