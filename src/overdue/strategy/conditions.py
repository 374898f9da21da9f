"""Segment conditions: tests on fields of :class:`~overdue.strategy.facts.AccountFacts` that must all hold.

A condition is written in a strategy file as a mapping from field name to a test::

    when:
      days_past_due: {min: 31, max: 60}     # range, both ends inclusive; either end may be left out
      overdue_balance: {min: $large_balance} # money in yuan strings; $name reads a parameter
      contactability: lost_contact          # equality (null matches a field that is None)
      promise: {in: [none, broken]}         # membership; {not_in: [...]} is the opposite
      any:                                  # at least one of these conditions holds
        - {promise: none}
        - {contactability: lost_contact}

Values are kept in their inside form (fen for amounts) or as a :class:`Ref` to a parameter, resolved with the
parameter values in force for the account (the strategy's own, overridden by its experiment variant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from overdue.domain.money import format_yuan
from overdue.strategy.facts import FIELDS


@dataclass(frozen=True)
class Ref:
    """A reference to a parameter, written ``$name`` in a strategy file."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


Scalar = int | str | bool | date | None
"""A value a field may hold: amounts in fen, days as int, words as str."""
Value = Scalar | Ref
"""A value as written in a condition: a literal or a parameter."""
Parameters = Mapping[str, int]
"""Parameter values in force: amounts in fen, numbers as int."""


def resolve(value: Value, parameters: Parameters) -> Scalar:
    """The literal ``value``, or the value of the parameter it refers to."""
    return parameters[value.name] if isinstance(value, Ref) else value


def show_value(field: str, value: Scalar) -> str:
    """A value as a strategist writes it: amounts as yuan strings, None as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if FIELDS[field].kind == "amount" and isinstance(value, int):
        return format_yuan(value)
    return str(value)


@dataclass(frozen=True)
class Test:
    """One test on one field.

    op: ``eq`` (``value``), ``range`` (``low``/``high``, inclusive, either may be None), ``in`` or
    ``not_in`` (``values``).
    """

    field: str
    op: Literal["eq", "range", "in", "not_in"]
    value: Value = None
    low: Value = None
    high: Value = None
    values: tuple[Value, ...] = ()

    def holds(self, subject: object, parameters: Parameters) -> bool:
        """Whether the subject's field passes the test."""
        actual = getattr(subject, self.field)
        if self.op == "eq":
            return bool(actual == resolve(self.value, parameters))
        if self.op == "in":
            return actual in {resolve(v, parameters) for v in self.values}
        if self.op == "not_in":
            return actual not in {resolve(v, parameters) for v in self.values}
        if actual is None:
            return False
        low, high = resolve(self.low, parameters), resolve(self.high, parameters)
        return (low is None or low <= actual) and (high is None or actual <= high)

    def describe(self, parameters: Parameters) -> str:
        """The test in words, e.g. ``days_past_due 31..60`` or ``overdue_balance >= 10000.00``."""
        name = self.field
        if self.op == "eq":
            return f"{name} = {show_value(name, resolve(self.value, parameters))}"
        if self.op in ("in", "not_in"):
            words = ", ".join(show_value(name, resolve(v, parameters)) for v in self.values)
            return f"{name} {'in' if self.op == 'in' else 'not in'} [{words}]"
        low, high = resolve(self.low, parameters), resolve(self.high, parameters)
        if low is not None and high is not None:
            return f"{name} {show_value(name, low)}..{show_value(name, high)}"
        if low is not None:
            return f"{name} >= {show_value(name, low)}"
        return f"{name} <= {show_value(name, high)}"


@dataclass(frozen=True)
class Condition:
    """Tests that must all hold, and optionally alternatives of which at least one must hold."""

    tests: tuple[Test, ...] = ()
    any_of: tuple[Condition, ...] = ()

    def holds(self, subject: object, parameters: Parameters) -> bool:
        """Whether every test holds (and, when there are alternatives, at least one of them)."""
        for test in self.tests:  # a loop rather than all() of a generator: deciding calls this often
            if not test.holds(subject, parameters):
                return False
        return not self.any_of or any(alt.holds(subject, parameters) for alt in self.any_of)

    def fields(self) -> frozenset[str]:
        """Every field this condition looks at, alternatives included."""
        names = {test.field for test in self.tests}
        for alt in self.any_of:
            names |= alt.fields()
        return frozenset(names)

    def refs(self) -> frozenset[str]:
        """Every parameter this condition reads."""
        names: set[str] = set()
        for test in self.tests:
            for value in (test.value, test.low, test.high, *test.values):
                if isinstance(value, Ref):
                    names.add(value.name)
        for alt in self.any_of:
            names |= alt.refs()
        return frozenset(names)

    def describe(self, parameters: Parameters) -> str:
        """The whole condition in words; ``always`` when it has no tests."""
        parts = [test.describe(parameters) for test in self.tests]
        if self.any_of:
            parts.append("any of (" + " | ".join(alt.describe(parameters) for alt in self.any_of) + ")")
        return ", ".join(parts) or "always"

    def failures(self, subject: object, parameters: Parameters) -> list[str]:
        """Why the condition does not hold: one line per failing test, with the subject's value."""
        reasons = [
            f"{test.describe(parameters)} (is {show_value(test.field, getattr(subject, test.field))})"
            for test in self.tests
            if not test.holds(subject, parameters)
        ]
        if self.any_of and not any(alt.holds(subject, parameters) for alt in self.any_of):
            reasons.append("none of (" + " | ".join(alt.describe(parameters) for alt in self.any_of) + ")")
        return reasons


ALWAYS = Condition()
"""The condition with no tests: it always holds."""
