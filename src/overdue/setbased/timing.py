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

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.label,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "calls": self.calls,
        }


def steps_entry(steps: tuple[Step, ...] | None) -> dict[str, Any]:
    """A day's JSON entry's ``steps`` (:meth:`Step.to_json` rows), or nothing when they were not timed."""
    return {} if steps is None else {"steps": [step.to_json() for step in steps]}


def steps_text(title: str, steps: dict[str, list[dict[str, Any]]]) -> str:
    """Steps as a table under ``title``: each group's (``steps``: group → :meth:`Step.to_json` rows) in the
    order they began."""
    lines = [f"{title} (wall s, process CPU s, calls):"]
    for group, rows in steps.items():
        for row in rows:
            times = f"{row['seconds']:>8.3f} {row['cpu_seconds']:>8.3f} {row['calls']:>5}"
            lines.append(f"  {group:<12} {row['step']:<40} {times}")
    return "\n".join(lines)


class StepTimes:
    """The steps timed while a :func:`recording` was open, in the order each label first began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: dict[str, list[float]] = {}

    def add(self, label: str, seconds: float, cpu_seconds: float) -> None:
        with self._lock:
            entry = self._steps.setdefault(label, [0.0, 0.0, 0.0])
            entry[0] += seconds
            entry[1] += cpu_seconds
            entry[2] += 1

    def _begin(self, label: str) -> None:
        """Give ``label`` its place in the order when it first begins (not when it first ends)."""
        with self._lock:
            self._steps.setdefault(label, [0.0, 0.0, 0.0])

    def steps(self) -> list[Step]:
        with self._lock:
            return [
                Step(label, seconds, cpu, int(calls))
                for label, (seconds, cpu, calls) in self._steps.items()
                if calls
            ]


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
"""Whether this thread is inside a timed block already."""


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Time the block under ``label`` when a :func:`recording` is open (else run it as it is). A block
    timed inside another of the same thread is part of the outer one's time, not a step of its own (a
    step named by its caller — ``checks`` — holds the engine operations it runs; ``rename`` the ``drop``
    of the table it replaces)."""
    times = _recording
    if times is None or getattr(_inside, "step", False):
        yield
        return
    times._begin(label)
    _inside.step = True
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        times.add(label, time.perf_counter() - wall, time.process_time() - cpu)
        _inside.step = False
