"""Reading strategy files: the only part of :mod:`overdue.strategy` that touches files."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from overdue.strategy.errors import Problem, StrategyError
from overdue.strategy.model import Strategy
from overdue.strategy.parser import parse_strategy

DEFAULT_STRATEGY = "huabei"


def load_strategy(path: str | Path) -> Strategy:
    """Read and validate the strategy file at ``path``; raises :class:`StrategyError` with every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyError([Problem(str(path), None, "", f"cannot read the file: {exc}")]) from exc
    return parse_strategy(text, name=str(path))


def shipped_strategy(name: str) -> Strategy:
    """A strategy shipped with overdue (``strategies/NAME.yaml`` in this package, also inside a wheel)."""
    return _shipped(name)


@cache
def _shipped(name: str) -> Strategy:
    resource = resources.files("overdue.strategy").joinpath("strategies", f"{name}.yaml")
    if not resource.is_file():
        raise StrategyError([Problem(f"{name}.yaml", None, "", f"no shipped strategy called {name!r}")])
    return parse_strategy(
        resource.read_text(encoding="utf-8"), name=f"overdue/strategy/strategies/{name}.yaml"
    )


def default_strategy() -> Strategy:
    """The default ``huabei`` strategy: the collection ladder of DESIGN §5, parsed once and cached."""
    return shipped_strategy(DEFAULT_STRATEGY)
