"""Where a set-based day's time goes: each engine operation and each piece of driver-side work, timed
while a recording is open.

A day is a few dozen engine statements (:class:`~overdue.setbased.backend.Workspace`'s ``create``,
``append``, ``fetch`` …) and, in the collection half, some work on the fetched rows (the texts, the
action rows, the messages). Inside :func:`recording` each of them is timed — wall seconds and the
process's CPU seconds — under a label (``create aged``, ``fetch collect_actions``, ``rows: actions,
messages and work``); outside one, :func:`timed` costs a check of one global. The benchmark's ``--steps``
prints them (``bench/eod.py``), and so does ``overdue eod --engine … --steps`` for each day of the nightly
job or of the run on the store.

The CPU seconds are the whole process's while the step ran (every thread: the engine's workers and the
driver's): where two steps overlap — the collection half fetches and renders its rows while the engine
writes the records — each counts the other's CPU too. The labels say what ran, not why; one recording at
a time per process (the steps of every thread go into it).

A step timed inside another of the same thread (the limit review's queries, a write's fetches, the drop
a rename makes) is one of the outer step's :attr:`Step.parts`, not a step of its own: the top-level
steps' times add up to the day's, and the parts say where an outer step's time went.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from overdue.domain.errors import InvalidInput


@dataclass(frozen=True)
class Step:
    """One label's time within a recording: all its calls together."""

    label: str
    seconds: float
    """Wall seconds, summed over the calls."""
    cpu_seconds: float
    """The process's CPU seconds while it ran, summed over the calls."""
    calls: int
    parts: tuple[Step, ...] = ()
    """The steps timed inside this one (on its thread), in the order they began; their time is part of
    this step's."""

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "step": self.label,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "calls": self.calls,
        }
        if self.parts:
            row["parts"] = [part.to_json() for part in self.parts]
        return row


def steps_entry(steps: tuple[Step, ...] | None) -> dict[str, Any]:
    """A day's JSON entry's ``steps`` (:meth:`Step.to_json` rows), or nothing when they were not timed."""
    return {} if steps is None else {"steps": [step.to_json() for step in steps]}


SHOWN_FROM = 0.001
"""The wall seconds from which :func:`steps_text` shows a step (the JSON keeps every one)."""


def steps_text(title: str, steps: dict[str, list[dict[str, Any]]]) -> str:
    """Steps as a table under ``title``: each group's (``steps``: group → :meth:`Step.to_json` rows) in the
    order they began, each step's parts indented under it; those under :data:`SHOWN_FROM` are counted
    at the end rather than shown."""
    lines = [f"{title} (wall s, process CPU s, calls):"]
    hidden = 0

    def add(group: str, rows: list[dict[str, Any]], depth: int) -> None:
        nonlocal hidden
        for row in rows:
            if row["seconds"] < SHOWN_FROM:
                hidden += 1 + _count(row.get("parts", []))
                continue
            times = f"{row['seconds']:>8.3f} {row['cpu_seconds']:>8.3f} {row['calls']:>5}"
            label = "  " * depth + row["step"]
            lines.append(f"  {group:<12} {label:<44} {times}")
            add("", row.get("parts", []), depth + 1)

    for group, rows in steps.items():
        add(group, rows, 0)
    if hidden:
        lines.append(f"  ({hidden} steps under {SHOWN_FROM * 1000:.0f} ms not shown)")
    return "\n".join(lines)


def _count(rows: list[dict[str, Any]]) -> int:
    """How many steps ``rows`` hold, their parts included."""
    return sum(1 + _count(row.get("parts", [])) for row in rows)


class StepTimes:
    """The steps timed while a :func:`recording` was open, in the order each label first began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[tuple[str, ...], list[float]] = {}
        """By path: the labels of the steps the step ran inside, then its own."""

    def add(self, path: tuple[str, ...], seconds: float, cpu_seconds: float) -> None:
        with self._lock:
            entry = self._steps.setdefault(path, [0.0, 0.0, 0.0])
            entry[0] += seconds
            entry[1] += cpu_seconds
            entry[2] += 1

    def _begin(self, path: tuple[str, ...]) -> None:
        """Give ``path`` its place in the order when it first begins (not when it first ends)."""
        with self._lock:
            self._steps.setdefault(path, [0.0, 0.0, 0.0])

    def steps(self) -> list[Step]:
        """The top-level steps (each with its parts), in the order they began."""
        with self._lock:
            done = {path: entry for path, entry in self._steps.items() if entry[2]}

        def within(outer: tuple[str, ...]) -> list[Step]:
            return [
                Step(path[-1], seconds, cpu, int(calls), tuple(within(path)))
                for path, (seconds, cpu, calls) in done.items()
                if len(path) == len(outer) + 1 and path[: len(outer)] == outer
            ]

        return within(())


_recording: StepTimes | None = None
_guard = threading.Lock()


@contextmanager
def recording_if(wanted: bool) -> Iterator[StepTimes | None]:
    """A :func:`recording` when ``wanted``, else nothing (``None``)."""
    if not wanted:
        yield None
        return
    with recording() as times:
        yield times


@contextmanager
def recording() -> Iterator[StepTimes]:
    """Time every step run until the block ends (in any thread of the process); yields the times, read
    with :meth:`StepTimes.steps` (during the block or after it)."""
    global _recording
    with _guard:
        if _recording is not None:
            raise InvalidInput("a recording of the steps' times is already open in this process")
        times = StepTimes()
        _recording = times
    try:
        yield times
    finally:
        with _guard:
            _recording = None


def active() -> bool:
    """Whether a recording is open (a caller whose label costs something to make can skip it)."""
    return _recording is not None


_inside = threading.local()
"""The path of the timed blocks this thread is inside (``path``: their labels, outermost first)."""


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Time the block under ``label`` when a :func:`recording` is open (else run it as it is). A block
    timed inside another of the same thread is one of the outer one's parts, its time part of the outer
    one's (a step named by its caller — ``checks`` — holds the engine operations it runs; ``rename`` the
    ``drop`` of the table it replaces)."""
    times = _recording
    if times is None:
        yield
        return
    outer: tuple[str, ...] = getattr(_inside, "path", ())
    path = (*outer, label)
    times._begin(path)
    _inside.path = path
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        times.add(path, time.perf_counter() - wall, time.process_time() - cpu)
        _inside.path = outer
