"""Property tests of the morning allocation (:func:`overdue.operations.allocation.allocate`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.operations.allocation import Allocation, CaseToAllocate, Collector, allocate, totals

COLLECTOR_IDS = [f"c{i}" for i in range(6)]


@st.composite
def days(
    draw: st.DrawFn, *, sticky: bool = True, caps: tuple[int, int] = (0, 8)
) -> tuple[list[CaseToAllocate], list[Collector]]:
    people = draw(
        st.dictionaries(
            st.sampled_from(COLLECTOR_IDS),
            st.tuples(st.integers(*caps), st.booleans() if sticky else st.just(True)),
            min_size=1,
        )
    )
    collectors = [Collector(c, cap, present) for c, (cap, present) in sorted(people.items())]
    previous = st.one_of(st.none(), st.sampled_from(COLLECTOR_IDS)) if sticky else st.none()
    rows = draw(st.lists(st.tuples(st.integers(1, 5_000_000), st.integers(0, 1000), previous), max_size=30))
    cases = [
        CaseToAllocate(f"case{i}", amount, priority, prev) for i, (amount, priority, prev) in enumerate(rows)
    ]
    return cases, collectors


def _check_shape(result: Allocation, cases: list[CaseToAllocate], collectors: list[Collector]) -> None:
    assigned = [a.case_id for a in result.assignments]
    assert len(assigned) == len(set(assigned)), "a case went to two collectors"
    assert set(assigned).isdisjoint(result.unassigned)
    assert set(assigned) | set(result.unassigned) == {c.case_id for c in cases}
    working = {c.id for c in collectors if c.present and c.cap > 0}
    assert {a.collector for a in result.assignments} <= working, "a case went to an absent collector"


@given(days())
@settings(max_examples=100, deadline=None)
def test_no_collector_over_cap_and_every_case_once(day: tuple[list[CaseToAllocate], list[Collector]]) -> None:
    cases, collectors = day
    result = allocate(cases, collectors)
    _check_shape(result, cases, collectors)
    caps = {c.id: c.cap for c in collectors}
    for collector, given_cases in result.by_collector().items():
        assert len(given_cases) <= caps[collector]


@given(days())
@settings(max_examples=100, deadline=None)
def test_every_case_assigned_when_capacity_allows(day: tuple[list[CaseToAllocate], list[Collector]]) -> None:
    cases, collectors = day
    capacity = sum(c.cap for c in collectors if c.present)
    result = allocate(cases, collectors)
    if capacity >= len(cases):
        assert result.unassigned == ()
    else:
        assert len(result.assignments) == capacity
        # The cases left out are never of higher priority than a case given out from the pool.
        pooled = {a.case_id for a in result.assignments if not a.sticky}
        by_id = {c.case_id: c for c in cases}
        if pooled and result.unassigned:
            assert max(by_id[c].priority for c in result.unassigned) <= max(by_id[c].priority for c in pooled)


@given(days())
@settings(max_examples=100, deadline=None)
def test_stickiness_is_kept_while_the_previous_collector_has_room(
    day: tuple[list[CaseToAllocate], list[Collector]],
) -> None:
    cases, collectors = day
    result = allocate(cases, collectors)
    got = {a.case_id: a for a in result.assignments}
    by_collector = {c.id: c for c in collectors}
    for collector in collectors:
        theirs = [c for c in cases if c.previous_collector == collector.id]
        if not collector.present or collector.cap == 0:
            assert all(not (c.case_id in got and got[c.case_id].sticky) for c in theirs)
            continue
        kept = [c for c in theirs if c.case_id in got and got[c.case_id].collector == collector.id]
        # They keep as many of their cases as their cap allows, the highest priority ones.
        assert len(kept) >= min(len(theirs), by_collector[collector.id].cap)
        if len(kept) < len(theirs):
            lost = [c for c in theirs if c not in kept]
            assert min(c.priority for c in kept) >= max(c.priority for c in lost)


@given(days(sticky=False, caps=(30, 30)))
@settings(max_examples=100, deadline=None)
def test_totals_balanced_within_one_case(day: tuple[list[CaseToAllocate], list[Collector]]) -> None:
    cases, collectors = day  # no previous collectors, caps never binding (30 cases at most)
    result = allocate(cases, collectors)
    loads = totals(result, cases)
    amounts = [loads.get(c.id, 0) for c in collectors]
    if cases:
        assert max(amounts) - min(amounts) <= max(c.overdue for c in cases)
    assert sum(amounts) == sum(c.overdue for c in cases)


def test_absent_collectors_cases_are_redistributed() -> None:
    cases = [CaseToAllocate(f"k{i}", 100 * (i + 1), 10, "ann") for i in range(4)]
    result = allocate(cases, [Collector("ann", 10, present=False), Collector("bob", 10), Collector("cy", 10)])
    assert {a.collector for a in result.assignments} == {"bob", "cy"}
    assert not any(a.sticky for a in result.assignments)
    assert totals(result, cases) == {"bob": 500, "cy": 500}


def test_same_input_same_allocation() -> None:
    cases = [CaseToAllocate(f"k{i}", 1000 - i, i % 3, None) for i in range(10)]
    people = [Collector("a", 4), Collector("b", 4)]
    assert allocate(cases, people) == allocate(list(reversed(cases)), people)
