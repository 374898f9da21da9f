"""Problems found in a strategy file, and the one error that carries them all.

The parser does not stop at the first problem: it collects every :class:`Problem` (file, line, field,
message) and raises one :class:`StrategyError` listing them all, so a strategist fixes a file in one pass.
Warnings (an unused template or parameter) are problems too, kept on the parsed strategy instead of raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from overdue.domain.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a strategy file.

    file: the file name (or ``<string>``) the text came from.
    line: 1-based line of the offending node, None when the problem is about the whole file.
    field: where in the document, as a path such as ``stages[2].treatments[0].type``.
    message: what is wrong, in words a strategist can act on.
    severity: ``error`` refuses the strategy; ``warning`` is reported but the strategy loads.
    """

    file: str
    line: int | None
    field: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        label = "warning: " if self.severity == "warning" else ""
        return (
            f"{where}: {self.field}: {label}{self.message}"
            if self.field
            else f"{where}: {label}{self.message}"
        )

    def as_dict(self) -> dict[str, object]:
        """The problem as JSON-ready data."""
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


class StrategyError(InvalidInput):
    """A strategy file that cannot be used; :attr:`problems` lists every error found in it."""

    code = "invalid-strategy"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid strategy ({count} {noun}):\n{lines}")
