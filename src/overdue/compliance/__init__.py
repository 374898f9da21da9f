"""Compliance: the rulebook every contact must pass before it is made.

This package holds the seam the end-of-day (and later the collector console, agencies and the scenario
runner) calls between *decide* and *act*: :class:`Rulebook` answers, for one planned contact, allowed or
refused with the rule's name.

``rules`` holds the rule functions (one signature, one registry, built-in and lenders' own alike) and
``rulebooks`` the CN default and the US option built from them (``rulebook("cn" | "us" | "none")``). Each
product names its rulebook (``ProductTerms.rulebook``, ``cn`` by default). The end-of-day checks every
planned action (with no time yet: the time-of-day rules apply when a collector makes the call), and a
recorded contact is checked with its time and the account's contacts of the last days.
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
