"""docs/strategy.md documents every key, field, action type and placeholder the language accepts."""

import re
from pathlib import Path

import pytest

from overdue.strategy import ACTION_TYPES
from overdue.strategy.facts import FIELDS
from overdue.strategy.model import PLACEHOLDERS
from overdue.strategy.parse_experiments import EXPERIMENT_KEYS, VARIANT_KEYS
from overdue.strategy.parser import PAUSE_KEYS, STAGE_KEYS, TOP_KEYS, TREATMENT_KEYS

DOC = (Path(__file__).parents[2] / "docs/strategy.md").read_text(encoding="utf-8")
WORDS = set(re.findall(r"`\{?([a-z_A-Z+0-9-]+)\}?(?::[^`]*)?`", DOC)) | set(
    re.findall(r"[{,]\s*([a-z_]+)[,}:]", DOC)
)

EVERYTHING = sorted(
    TOP_KEYS | STAGE_KEYS | TREATMENT_KEYS | PAUSE_KEYS | EXPERIMENT_KEYS | VARIANT_KEYS
    | set(FIELDS) | set(ACTION_TYPES) | PLACEHOLDERS
)  # fmt: skip


@pytest.mark.parametrize("word", EVERYTHING)
def test_documented(word: str) -> None:
    assert word in WORDS or f"`{word}`" in DOC or f"{{{word}}}" in DOC


def test_strategy_imports_only_stdlib_yaml_and_domain() -> None:
    import ast
    import sys

    package = Path(__file__).parents[2] / "src/overdue/strategy"
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or top in ("yaml", "__future__")
                allowed = allowed or name.startswith(("overdue.domain", "overdue.strategy"))
                assert allowed, f"{module.name} imports {name}"
