"""The simulator keeps each account's latest month-end behaviour score in memory and passes it in the
facts: a strategy segmenting on it acts on exactly the accounts whose score, computed from the final
in-memory state (paid statements set aside put back), is under its limit."""

from __future__ import annotations

from datetime import date

from behaviour_fact_helpers import ON_DAY

from overdue.engine.collect import needs_decision
from overdue.risk.behaviour import month_end_score
from overdue.sim import SimulationConfig, SimulationResult, simulate

END = date(2026, 3, 31)
"""The last day simulated, a month end: the final states are the states the month end scored."""


def _run(limit: int) -> SimulationResult:
    text = ON_DAY.format(on=END.isoformat(), limit=limit)
    config = SimulationConfig(
        accounts=150, months=3, seed=7, keep_records=True, workers=1, strategy_text=text
    )
    assert config.end == END
    return simulate(config)


def _sms_on_the_day(result: SimulationResult) -> set[str]:
    return {row[0] for row in result.actions if row[2] == "watch_sms" and row[1] == END}


def test_the_simulator_decides_on_the_month_end_score_of_its_in_memory_state() -> None:
    everyone = _run(100_000)
    points = {s.id: month_end_score(s, s.statements, END).points for s in everyone.states}
    deciding = {s.id for s in everyone.states if needs_decision(s, END)}
    assert _sms_on_the_day(everyone) == deciding and len(deciding) > 20

    limit = sorted(points[i] for i in deciding)[len(deciding) // 2]
    split = _run(limit)
    assert [s.id for s in split.states] == [s.id for s in everyone.states]
    assert _sms_on_the_day(split) == {i for i in deciding if points[i] <= limit}
    assert 0 < len(_sms_on_the_day(split)) < len(deciding)
    assert {row[1] for row in split.actions if row[2] == "watch_sms"} == {END}
