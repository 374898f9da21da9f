"""Risk fixtures: the German scorecard is trained once per test session (optbinning takes seconds)."""

from __future__ import annotations

import pytest

from overdue.risk.data import german_credit
from overdue.risk.training import Trained, train_application


@pytest.fixture(scope="session")
def german() -> Trained:
    return train_application(german_credit())
