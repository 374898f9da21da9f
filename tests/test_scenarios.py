"""Every worked example in tests/scenarios/ and examples/ runs end to end, on SQLite and on PostgreSQL.

Each file's ``expect`` and ``expect_error`` checks must hold, and no event may fail that the file does not
expect to fail. The files are the readable spec of the product rules (DESIGN §4).
"""

from pathlib import Path

import pytest
from sqlalchemy import Engine

from overdue.services import scenario as scenarios

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "tests" / "scenarios").glob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))


def test_there_are_enough_worked_examples() -> None:
    assert len(list((ROOT / "tests" / "scenarios").glob("*.yaml"))) >= 30


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(path: Path, engine: Engine) -> None:
    scenario = scenarios.parse(path)
    result = scenarios.run(scenario, engine)
    failures = "\n".join(
        f"line {m['line']}: {m['path']}: expected {m['expected']!r}, got {m['actual']!r}"
        for m in result.mismatches
    )
    assert not result.mismatches, f"{path.name}:\n{failures}"
    assert not result.unexpected_errors, (
        f"{path.name}: events refused unexpectedly: {result.unexpected_errors}"
    )
    if path.parent.name == "scenarios":
        assert result.checks > 0, f"{path.name} checks nothing: add expect: to its snapshots"
    assert len(result.snapshots) == sum(1 for e in scenario.events if e.kind == "snapshot")
