"""Rulebooks built from registered rules: :class:`RuleSetRulebook`, the CN default and the US option.

A rulebook is data: a name, a list of rule names from :data:`overdue.compliance.rules.RULES`, its numbers
(merged over :data:`~overdue.compliance.rules.DEFAULT_PARAMS`) and the debtor's time zone. Its
:meth:`~RuleSetRulebook.check` runs the rules in order and returns the first refusal, with the rule's name.

Local times are read in the planned contact's ``timezone`` (the debtor's); a contact without one uses the
rulebook's own (default ``Asia/Shanghai``; :meth:`RuleSetRulebook.for_timezone` gives another).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from overdue.compliance.history import PastContact
from overdue.compliance.rules import DEFAULT_PARAMS, DEFAULT_TIMEZONE, RULES, ParamValue, RuleInput, zone
from overdue.compliance.seam import ALLOWED, NoRulebook, PlannedContact, Rulebook, Verdict
from overdue.domain.errors import InvalidInput
from overdue.strategy.facts import AccountFacts

CN_RULES = (
    "cn.no_contact_after_sale",
    "cn.no_contact_during_litigation",
    "cn.no_contact_during_dispute",
    "cn.no_contact_during_plan",
    "cn.agency_whitelist",
    "cn.third_party",
    "cn.quiet_hours",
    "cn.connected_voice_per_day",
    "cn.unanswered_per_number_per_day",
    "cn.field_visit_team",
    "cn.field_visit_per_day",
)
"""China's default (DESIGN §6), in the order they are checked."""

US_RULES = (
    "us.no_contact_after_sale",
    "us.no_contact_during_litigation",
    "us.cease_communication",
    "us.no_contact_during_dispute",
    "us.validation_notice",
    "us.call_hours",
    "us.seven_in_seven",
)
"""US Regulation F option (DESIGN §6), in the order they are checked."""


class RuleSetRulebook:
    """A rulebook made of registered rules.

    name: the rulebook's name (``cn``, ``us``, or a lender's own).
    rules: names of registered rules, checked in this order.
    params: the rulebook's numbers; keys not given take :data:`DEFAULT_PARAMS`.
    timezone: the debtor's IANA time zone.
    """

    def __init__(
        self,
        name: str,
        rules: Sequence[str],
        params: Mapping[str, ParamValue] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        unknown = [rule for rule in rules if rule not in RULES]
        if unknown:
            raise InvalidInput(f"rulebook {name}: unknown compliance rules {', '.join(unknown)}")
        zone(timezone)
        self.name = name
        self.rules = tuple(rules)
        self.params: Mapping[str, ParamValue] = MappingProxyType({**DEFAULT_PARAMS, **(params or {})})
        self.timezone = timezone
        self._checks = tuple((rule, RULES[rule]) for rule in self.rules)

    @property
    def requires_validation_notice(self) -> bool:
        """Whether debts under this rulebook need a validation notice before collection contact."""
        return "us.validation_notice" in self.rules

    def for_timezone(self, timezone: str) -> RuleSetRulebook:
        """The same rulebook, reading local times in ``timezone``."""
        return RuleSetRulebook(self.name, self.rules, self.params, timezone)

    def check(self, contact: PlannedContact, facts: AccountFacts, history: Sequence[object]) -> Verdict:
        """Allowed, or the first refusal with the refusing rule's name."""
        refusals = self.refusals(contact, facts, history, first_only=True)
        return refusals[0] if refusals else ALLOWED

    def refusals(
        self,
        contact: PlannedContact,
        facts: AccountFacts,
        history: Sequence[object],
        *,
        first_only: bool = False,
    ) -> tuple[Verdict, ...]:
        """Every rule's refusal of ``contact`` (for audits), each with its rule's name."""
        timezone = contact.timezone or self.timezone
        zone(timezone)
        inp = RuleInput(contact, facts, _past_contacts(history), timezone, self.params)
        if contact.at is not None:
            _require_aware(contact.at)
        found: list[Verdict] = []
        for name, rule in self._checks:
            verdict = rule(inp)
            if verdict is not None and not verdict.allowed:
                found.append(dataclasses.replace(verdict, rule=name))
                if first_only:
                    break
        return tuple(found)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"a planned contact needs a time-zone aware time, got {at.isoformat()}")


def _past_contacts(history: Sequence[object]) -> tuple[PastContact, ...]:
    past = tuple(item for item in history if isinstance(item, PastContact))
    if len(past) != len(history):
        wrong = [type(item).__name__ for item in history if not isinstance(item, PastContact)]
        raise InvalidInput(
            f"contact history must hold PastContact records, got {', '.join(sorted(set(wrong)))}"
        )
    return past


CN_RULEBOOK = RuleSetRulebook("cn", CN_RULES)
US_RULEBOOK = RuleSetRulebook("us", US_RULES, timezone="America/New_York")

RULEBOOKS: Mapping[str, Rulebook] = MappingProxyType(
    {"cn": CN_RULEBOOK, "us": US_RULEBOOK, "none": NoRulebook()}
)


def rulebook(name: str = "cn") -> Rulebook:
    """The rulebook called ``name``: ``cn`` (default), ``us`` or ``none``."""
    try:
        return RULEBOOKS[name]
    except KeyError:
        raise InvalidInput(f"unknown rulebook {name!r}; known: {', '.join(RULEBOOKS)}") from None
