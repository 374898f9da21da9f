"""Parsing conditions and the values in them, with ``$parameter`` references checked against their kind.

Values are written the way the field is: integers for days and counts, quoted yuan strings for money
(``"10000.00"``, never a float), dates as ``2026-03-01``, words for enum fields, ``null`` for an optional
field that is unset. A value may instead be ``$name``: a number parameter where a number is expected, an
amount parameter where money is expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import yaml

from overdue.domain.errors import InvalidAmount
from overdue.domain.money import parse_yuan
from overdue.strategy.conditions import Condition, Ref, Test, Value
from overdue.strategy.facts import FIELDS, FieldSpec
from overdue.strategy.source import Node, Reader, suggestion

RANGE_KEYS = frozenset({"min", "max"})
TEST_KEYS = frozenset({"min", "max", "in", "not_in"})


@dataclass
class ParameterTable:
    """The parameters declared by a strategy and the references read so far.

    kinds: parameter name → ``amount`` or ``number``.
    used: the parameters referenced from stages, treatments or pauses.
    """

    kinds: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def ref(self, reader: Reader, node: Node, where: str, text: str, kind: str) -> Ref | None:
        """The :class:`Ref` written as ``text`` (``$name``), checked to exist and to be of ``kind``."""
        name = text[1:]
        if name not in self.kinds:
            reader.error(node, where, f"unknown parameter ${name}{suggestion(name, frozenset(self.kinds))}")
            return None
        self.used.add(name)
        if self.kinds[name] != kind:
            reader.error(
                node,
                where,
                f"parameter ${name} is {article(self.kinds[name])}, but {article(kind)} is needed",
            )
            return None
        return Ref(name)


def article(kind: str) -> str:
    """``an amount`` or ``a number``."""
    return "an amount" if kind == "amount" else "a number"


def parameter_value(reader: Reader, node: Node, where: str) -> tuple[str, int] | None:
    """A parameter value: an integer is a number, a quoted yuan string an amount (kept in fen)."""
    raw = reader.value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return "number", raw
    if isinstance(raw, str):
        try:
            return "amount", parse_yuan(raw, field=where)
        except InvalidAmount as exc:
            reader.error(node, where, str(exc))
            return None
    reader.error(
        node, where, f'must be a whole number or a quoted yuan amount such as "10000.00", got {raw!r}'
    )
    return None


def parse_number(reader: Reader, params: ParameterTable, node: Node, where: str) -> int | Ref | None:
    """An integer, or a ``$number`` parameter."""
    raw = reader.value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(raw, str) and raw.startswith("$"):
        return params.ref(reader, node, where, raw, "number")
    return reader.scalar(node, where, int, "a whole number")


def parse_amount(reader: Reader, params: ParameterTable, node: Node, where: str) -> int | Ref | None:
    """A yuan amount (``"10000.00"``) in fen, or a ``$amount`` parameter."""
    raw = reader.value(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(raw, str) and raw.startswith("$"):
        return params.ref(reader, node, where, raw, "amount")
    if isinstance(raw, float):
        reader.error(node, where, f'write amounts as quoted yuan strings such as "100.00", got {raw!r}')
        return None
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        try:
            return parse_yuan(raw, field=where)
        except InvalidAmount as exc:
            reader.error(node, where, str(exc))
            return None
    reader.error(node, where, f'must be an amount in yuan such as "100.00", got {raw!r}')
    return None


def parse_value(
    reader: Reader, params: ParameterTable, spec: FieldSpec, node: Node, where: str
) -> tuple[bool, Value]:
    """A value of field ``spec``; returns (ok, value) since None is a valid value of optional fields."""
    raw = reader.value(node) if isinstance(node, yaml.ScalarNode) else None
    if raw is None and isinstance(node, yaml.ScalarNode):
        if spec.optional:
            return True, None
        reader.error(node, where, f"{spec.name} is never null")
        return False, None
    if spec.kind == "number":
        number = parse_number(reader, params, node, where)
        return number is not None, number
    if spec.kind == "amount":
        amount = parse_amount(reader, params, node, where)
        return amount is not None, amount
    if spec.kind == "date":
        if isinstance(raw, date):
            return True, raw
        reader.error(node, where, f"must be a date such as 2026-03-01, got {raw!r}")
        return False, None
    if spec.kind == "flag":
        if isinstance(raw, bool):
            return True, raw
        reader.error(node, where, f"must be true or false, got {raw!r}")
        return False, None
    if not isinstance(raw, str):
        reader.error(node, where, f"must be a word, got {raw!r}")
        return False, None
    if spec.kind == "enum" and raw not in spec.values:
        reader.error(
            node, where, f"{raw!r} is not one of {', '.join(spec.values)}{suggestion(raw, spec.values)}"
        )
        return False, None
    return True, raw


def parse_condition(reader: Reader, params: ParameterTable, node: Node, where: str) -> Condition | None:
    """A ``when:`` mapping (field → test, plus ``any:``); None when it has problems (all recorded)."""
    if not isinstance(node, yaml.MappingNode):
        reader.error(node, where, "must be a mapping of field: test")
        return None
    ok = True
    tests: list[Test] = []
    alternatives: list[Condition] = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = reader.key(key_node)
        field_where = f"{where}.{key}"
        if key is None or key in seen:
            reader.error(
                key_node, field_where, "duplicate key" if key in seen else "keys must be field names"
            )
            ok = False
            continue
        seen.add(key)
        if key == "any":
            items = reader.sequence(value_node, field_where)
            if not items and isinstance(value_node, yaml.SequenceNode):
                reader.error(value_node, field_where, "needs at least one condition")
                ok = False
            for i, item in enumerate(items):
                alternative = parse_condition(reader, params, item, f"{field_where}[{i}]")
                ok = ok and alternative is not None
                if alternative is not None:
                    alternatives.append(alternative)
            ok = ok and bool(items)
            continue
        spec = FIELDS.get(key)
        if spec is None:
            hint = suggestion(key, frozenset(FIELDS) | {"any"})
            reader.error(key_node, field_where, f"unknown field{hint}; fields: {', '.join(FIELDS)}, any")
            ok = False
            continue
        test = _parse_test(reader, params, spec, value_node, field_where)
        ok = ok and test is not None
        if test is not None:
            tests.append(test)
    return Condition(tuple(tests), tuple(alternatives)) if ok else None


def _parse_test(
    reader: Reader, params: ParameterTable, spec: FieldSpec, node: Node, where: str
) -> Test | None:
    if isinstance(node, yaml.SequenceNode):
        reader.error(node, where, "write a list of values as {in: [...]}")
        return None
    if not isinstance(node, yaml.MappingNode):
        ok, value = parse_value(reader, params, spec, node, where)
        return Test(spec.name, "eq", value=value) if ok else None
    entries = reader.mapping(node, where, allowed=TEST_KEYS)
    if entries is None:
        return None
    keys = set(entries)
    if not keys or (keys & RANGE_KEYS and keys - RANGE_KEYS) or len(keys - RANGE_KEYS) > 1:
        if keys <= TEST_KEYS:
            reader.error(
                node, where, "a test is {min, max}, {in: [...]} or {not_in: [...]}, one kind at a time"
            )
        return None
    if keys <= RANGE_KEYS:
        return _parse_range(reader, params, spec, entries, node, where)
    op = "in" if "in" in keys else "not_in"
    items = reader.sequence(entries[op], f"{where}.{op}")
    values: list[Value] = []
    ok = bool(items)
    if not items and isinstance(entries[op], yaml.SequenceNode):
        reader.error(entries[op], f"{where}.{op}", "needs at least one value")
    for i, item in enumerate(items):
        item_ok, value = parse_value(reader, params, spec, item, f"{where}.{op}[{i}]")
        ok = ok and item_ok
        values.append(value)
    return Test(spec.name, "in" if op == "in" else "not_in", values=tuple(values)) if ok else None


def _parse_range(
    reader: Reader, params: ParameterTable, spec: FieldSpec, entries: dict[str, Node], node: Node, where: str
) -> Test | None:
    if not spec.ordered:
        reader.error(
            node, where, f"{spec.name} is a {spec.kind} field: min/max need a number, amount or date"
        )
        return None
    bounds: dict[str, Value] = {}
    ok = True
    for key in ("min", "max"):
        if key in entries:
            bound_ok, bound = parse_value(reader, params, spec, entries[key], f"{where}.{key}")
            if bound_ok and bound is None:
                reader.error(entries[key], f"{where}.{key}", "a range bound cannot be null")
                bound_ok = False
            ok = ok and bound_ok
            bounds[key] = bound
    low, high = bounds.get("min"), bounds.get("max")
    literal = not isinstance(low, Ref) and not isinstance(high, Ref)
    if ok and low is not None and high is not None and literal and low > high:  # type: ignore[operator]
        reader.error(node, where, "min is above max: the range is empty")
        return None
    return Test(spec.name, "range", low=low, high=high) if ok else None
