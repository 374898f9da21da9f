"""Compliance: the rulebook every contact must pass before it is made.

This package holds the seam the end-of-day (and later the collector console, agencies and the scenario
runner) calls between *decide* and *act*: :class:`Rulebook` answers, for one planned contact, allowed or
refused with the rule's name. The rulebooks themselves (China's default, US Regulation F) arrive with the
compliance issue; until then :class:`NoRulebook` is the only one, and it refuses nothing.
"""

from overdue.compliance.seam import NoRulebook, PlannedContact, Rulebook, Verdict

__all__ = ["NoRulebook", "PlannedContact", "Rulebook", "Verdict"]
