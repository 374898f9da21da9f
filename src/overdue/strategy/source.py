"""Reading a YAML document node by node, so that every problem can name its line.

The parser works on the node tree of :func:`yaml.compose` rather than on plain Python values: every node
keeps its start mark, so a problem reports ``file:line: field: message``. :class:`Reader` collects problems
instead of raising, and offers the few shapes a strategy file is made of (mappings with known keys, lists,
scalars).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import get_close_matches
from typing import TypeVar

import yaml

from overdue.strategy.errors import Problem

Node = yaml.Node
T = TypeVar("T")

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
"""Names of stages, treatments, templates, parameters, pauses, experiments and variants."""


def line_of(node: Node) -> int:
    """The 1-based line where ``node`` starts."""
    return int(node.start_mark.line) + 1


def suggestion(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """``" (did you mean 'x'?)"`` when ``word`` is close to one of ``choices``, else ``""``."""
    close = get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Reader:
    """Collects problems about one file while its nodes are read.

    file: the file name used in every problem.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def error(self, node: Node | None, field: str, message: str) -> None:
        """Record an error at ``node`` (None: the whole file)."""
        line = line_of(node) if node is not None else None
        self.problems.append(Problem(self.file, line, field, message))

    def warn(self, node: Node | None, field: str, message: str) -> None:
        """Record a warning at ``node``."""
        line = line_of(node) if node is not None else None
        self.problems.append(Problem(self.file, line, field, message, "warning"))

    def errors(self) -> list[Problem]:
        """The errors found so far, by line."""
        return sorted((p for p in self.problems if p.severity == "error"), key=lambda p: p.line or 0)

    def warnings(self) -> list[Problem]:
        """The warnings found so far, by line."""
        return sorted((p for p in self.problems if p.severity == "warning"), key=lambda p: p.line or 0)

    def value(self, node: Node) -> object:
        """The plain Python value of a node (str, int, float, bool, date, None, list or dict)."""
        return self._constructor.construct_object(node, deep=True)

    def key(self, node: Node) -> str | None:
        """A mapping key as written, always a string for a scalar (YAML 1.1 reads a bare ``on`` as true)."""
        return str(node.value) if isinstance(node, yaml.ScalarNode) else None

    def mapping(
        self,
        node: Node,
        field: str,
        *,
        allowed: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> dict[str, Node] | None:
        """The entries of a mapping node by key, reporting unknown, duplicate and missing keys.

        Returns None (after recording the problem) when ``node`` is not a mapping.
        """
        if not isinstance(node, yaml.MappingNode):
            self.error(node, field, "must be a mapping (key: value)")
            return None
        entries: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node)
            where = f"{field}.{key}" if field else str(key)
            if key is None:
                self.error(key_node, where, "keys must be words")
            elif key in entries:
                self.error(key_node, where, "duplicate key")
            elif key not in allowed:
                self.error(
                    key_node, where, f"unknown key{suggestion(key, allowed)}; allowed: {_listing(allowed)}"
                )
            else:
                entries[key] = value_node
        for key in sorted(required - entries.keys()):
            self.error(node, field, f"missing required key '{key}'")
        return entries

    def free_mapping(self, node: Node, field: str) -> list[tuple[str, Node, Node]]:
        """The entries of a mapping whose keys are names chosen by the author (parameters, templates).

        Returns (key, key node, value node) triples; non-string and duplicate keys are reported and skipped.
        """
        if not isinstance(node, yaml.MappingNode):
            self.error(node, field, "must be a mapping (key: value)")
            return []
        seen: set[str] = set()
        entries: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            key = self.key(key_node)
            if key is None:
                self.error(key_node, field, "keys must be words")
                continue
            if key in seen:
                self.error(key_node, f"{field}.{key}", "duplicate key")
                continue
            seen.add(key)
            entries.append((key, key_node, value_node))
        return entries

    def sequence(self, node: Node, field: str) -> list[Node]:
        """The items of a list node; records a problem and returns [] when ``node`` is not a list."""
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, field, "must be a list")
            return []
        return list(node.value)

    def scalar(self, node: Node, field: str, kind: type[T], what: str) -> T | None:
        """The value of a scalar node when it is of type ``kind`` (bool is never an int), else None."""
        value = self.value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.error(node, field, f"must be {what}, got {_shown(node, self.value)}")
        return None

    def name(self, node: Node, field: str) -> str | None:
        """A name: lower-case letters, digits and underscores, starting with a letter."""
        value = self.scalar(node, field, str, "a name")
        if value is not None and not NAME_PATTERN.match(value):
            self.error(node, field, f"{value!r} is not a name: use lower-case letters, digits and _")
            return None
        return value


def _listing(words: frozenset[str]) -> str:
    return ", ".join(sorted(words))


def _shown(node: Node, construct: Callable[[Node], object]) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return repr(construct(node))
