"""Compliance: the rulebook every contact must pass before it is made.

This package holds the seam the end-of-day (and later the collector console, agencies and the scenario
runner) calls between *decide* and *act*: :class:`Rulebook` answers, for one planned contact, allowed or
refused with the rule's name.

``rules`` holds the rule functions (one signature, one registry, built-in and lenders' own alike) and
``rulebooks`` the CN default and the US option built from them (``rulebook("cn" | "us" | "none")``). They are
tested on their own; the end-of-day and the scenario runner still use :class:`NoRulebook` (which refuses
nothing) until the compliance issue wires the rulebooks in with the contact history they need.
"""

from overdue.compliance.history import PastContact
from overdue.compliance.rulebooks import CN_RULEBOOK, US_RULEBOOK, RuleSetRulebook, rulebook
from overdue.compliance.seam import NoRulebook, PlannedContact, Rulebook, Verdict

__all__ = [
    "CN_RULEBOOK",
    "US_RULEBOOK",
    "NoRulebook",
    "PastContact",
    "PlannedContact",
    "RuleSetRulebook",
    "Rulebook",
    "Verdict",
    "rulebook",
]
