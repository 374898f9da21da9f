"""Whole-strategy checks: ``next`` links, and stages that overlap or that no account can reach.

**Overlap and reachability by a grid of representative facts.** Every test in a condition compares one
field with constants (or parameters, resolved first), so a field's values fall into a few classes that every
test treats alike: for an ordered field, the intervals between the boundary values written in the
conditions. The grid takes, for each field a stage condition names:

- number and amount fields: every boundary ``b``, ``b - 1`` and ``b + 1``, plus 0 and a very large value
  (and null for optional fields) — one value in every interval, both sides of every edge;
- date fields: every boundary and the days either side, plus a day long before and one long after;
- enum and flag fields: all their values; text fields: every word written, plus one that is none of them.

A stage is **unreachable** when no point of the grid over its own fields matches it; two stages **overlap**
when some point of the grid over the fields either names matches both (other fields do not matter: each
test reads one field, so any value of a field neither stage names extends the point). Because every class
of every field is represented, the answer is exact, not a sample.

Fields are varied independently, with one exception: when stages name both ``bucket`` and
``days_past_due``, the bucket is derived from DPD (M1 = 1–30, …, M7+ from 181) so that "bucket M2" and
"DPD 31..60" are not reported as overlapping through an impossible account. Every check is repeated with
the parameter values of each experiment variant; a problem that only a variant has says which.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from types import SimpleNamespace

import yaml

from overdue.strategy.conditions import Condition, Parameters, Scalar, resolve, show_value
from overdue.strategy.facts import FIELDS
from overdue.strategy.model import Stage, Strategy
from overdue.strategy.source import Node, Reader

LARGE_NUMBER = 1_000_000
LARGE_AMOUNT = 100_000_000_000  # one billion yuan, in fen
EARLY_DATE = date(1970, 1, 1)
LATE_DATE = date(2999, 12, 31)
BUCKET_EDGES = (0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181)
MAX_POINTS = 200_000
"""Grids larger than this are not walked; the strategy gets a warning instead."""

Point = SimpleNamespace


def bucket_of(days_past_due: int) -> str:
    """The bucket of the default ladder for a DPD (30-day buckets, M7+ from 181)."""
    if days_past_due <= 0:
        return "M0"
    number = min(7, (days_past_due - 1) // 30 + 1)
    return "M7+" if number == 7 else f"M{number}"


def check_links(reader: Reader, stages: Sequence[Stage], stage_nodes: Mapping[str, Node]) -> None:
    """Report ``next`` links that go round in a cycle (unknown targets are reported with the references)."""
    links = {s.name: s.next for s in stages if s.next is not None and s.next in stage_nodes}
    reported: set[frozenset[str]] = set()
    for start in links:
        path = [start]
        current = links.get(start)
        while current is not None and current not in path:
            path.append(current)
            current = links.get(current)
        if current is None:
            continue
        cycle = path[path.index(current) :]
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        first = min(cycle, key=lambda n: [s.name for s in stages].index(n))
        ring = cycle[cycle.index(first) :] + cycle[: cycle.index(first)] + [first]
        node = _child(stage_nodes[first], "next")
        reader.error(node, f"stages({first}).next", "next links form a cycle: " + " -> ".join(ring))


def check_stage_segments(
    reader: Reader, strategy: Strategy, stages: Sequence[Stage], stage_nodes: Mapping[str, Node]
) -> None:
    """Report unreachable stages and overlapping pairs of stages, for every set of parameter values."""
    reported: set[str] = set()

    def report(stage: Stage, message: str, label: str | None) -> None:
        if message in reported:
            return
        reported.add(message)
        suffix = f" (with the parameters of variant {label})" if label else ""
        reader.error(_child(stage_nodes[stage.name], "when"), f"stages({stage.name}).when", message + suffix)

    for label, parameters in strategy.parameter_sets():
        for stage in stages:
            found = _first_match([stage.when], parameters, reader)
            if found is None:
                report(stage, f"unreachable: no account matches {stage.when.describe(parameters)}", label)
        for earlier, later in itertools.combinations(stages, 2):
            point = _first_match([earlier.when, later.when], parameters, reader)
            if point is not None and point is not _TOO_LARGE:
                example = ", ".join(f"{k}={show_value(k, v)}" for k, v in sorted(vars(point).items()))
                report(
                    later, f"overlaps stage {earlier.name!r}: both match {example or 'every account'}", label
                )


_TOO_LARGE = Point()


def _first_match(conditions: Sequence[Condition], parameters: Parameters, reader: Reader) -> Point | None:
    """The first grid point that every condition matches, None when there is none."""
    names = sorted(frozenset().union(*(c.fields() for c in conditions)))
    derive_bucket = "bucket" in names and "days_past_due" in names
    axes: dict[str, list[Scalar]] = {}
    for name in names:
        if name == "bucket" and derive_bucket:
            continue
        axes[name] = representative_values(name, conditions, parameters)
    if derive_bucket:
        axes["days_past_due"] = sorted({*axes["days_past_due"], *BUCKET_EDGES}, key=_order)
    size = 1
    for values in axes.values():
        size *= len(values)
    if size > MAX_POINTS:
        reader.warn(None, "stages", f"conditions on {', '.join(names)} are too many to check for overlaps")
        return _TOO_LARGE
    for point in _points(axes, derive_bucket):
        if all(c.holds(point, parameters) for c in conditions):
            return point
    return None


def _points(axes: dict[str, list[Scalar]], derive_bucket: bool) -> Iterator[Point]:
    names = list(axes)
    for combination in itertools.product(*(axes[n] for n in names)):
        values = dict(zip(names, combination, strict=True))
        if derive_bucket:
            dpd = values["days_past_due"]
            values["bucket"] = bucket_of(dpd if isinstance(dpd, int) else 0)
        yield Point(**values)


def representative_values(name: str, conditions: Sequence[Condition], parameters: Parameters) -> list[Scalar]:
    """One value of field ``name`` in every class the conditions' tests tell apart (see the module doc)."""
    spec = FIELDS[name]
    written = [value for c in conditions for value in _constants(c, name, parameters)]
    values: set[Scalar]
    if spec.kind in ("number", "amount"):
        values = {0, LARGE_AMOUNT if spec.kind == "amount" else LARGE_NUMBER}
        for b in written:
            if isinstance(b, int):
                values |= {b - 1, b, b + 1}
    elif spec.kind == "date":
        values = {EARLY_DATE, LATE_DATE}
        for b in written:
            if isinstance(b, date):
                values |= {b - timedelta(days=1), b, b + timedelta(days=1)}
    elif spec.kind == "enum":
        values = set(spec.values)
    elif spec.kind == "flag":
        values = {False, True}
    else:
        values = {b for b in written if isinstance(b, str)}
        values.add("\x00none-of-these")
    if spec.optional:
        values.add(None)
    return sorted(values, key=_order)


def _order(value: Scalar) -> tuple[int, int, str]:
    if value is None:
        return (0, 0, "")
    if isinstance(value, int):
        return (1, value, "")
    return (2, 0, str(value))


def _constants(condition: Condition, name: str, parameters: Parameters) -> Iterator[Scalar]:
    for test in condition.tests:
        if test.field == name:
            for value in (test.value, test.low, test.high, *test.values):
                yield resolve(value, parameters)
    for alternative in condition.any_of:
        yield from _constants(alternative, name, parameters)


def _child(node: Node, key: str) -> Node:
    """The value node of ``key`` in a mapping node, or the node itself."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: Node = value_node
                return found
    return node
