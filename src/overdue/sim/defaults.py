"""The simulator's defaults that the command line shows in its help: their own module, without NumPy or the
simulator, so that ``overdue demo --help`` does not load them."""

DEFAULT_FRAUD_SHARE = 0.01
"""Share of fraudulent borrowers in the default portfolio (1 %; docs/risk.md "Fraudulent borrowers")."""

ENGINES = ("auto", "arrays", "reference")
"""The simulation runners (:func:`overdue.sim.run.simulate`): ``auto`` chooses."""

COMPARISON_ACCOUNTS = 20_000
"""The demo's comparison: a portfolio of its own of this many accounts, whatever the demo's size (at 20,000
one portfolio's difference between the orders varies about half as much as at 5,000: docs/risk.md)."""
