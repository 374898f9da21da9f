"""Helpers for strategy tests: a small valid strategy file and ways to look at the problems of broken ones."""

from datetime import date
from typing import Any

import pytest

from overdue.strategy import AccountFacts, Problem, StrategyError, parse_strategy

MINI = """\
strategy: mini
description: a two-stage ladder for tests
parameters:
  large: "10000.00"
  voice_from: 4
templates:
  notice: {zh-CN: "请还款{amount}元", en: "Please repay {amount} CNY"}
stages:
  - name: early
    when: {days_past_due: {min: 1, max: 30}}
    next: late
    treatments:
      - {id: early_sms, type: sms, template: notice, on_dpd: [1, 7]}
      - {id: early_voice, type: ai_voice, from_dpd: $voice_from}
  - name: late
    when: {days_past_due: {min: 31}}
    treatments:
      - {id: late_call, type: call, every_days: 3}
      - {id: late_letter, type: lawyer_letter, template: notice, once: true,
         when: {overdue_balance: {min: $large}}}
pauses:
  - {name: promise, when: {promise: {in: [pending, kept]}}}
"""
"""A valid strategy; tests break it with ``str.replace`` and look for the problem on the changed line."""


def problems_of(text: str, name: str = "mini.yaml") -> tuple[Problem, ...]:
    """The problems that parsing ``text`` raises (fails the test when it parses)."""
    with pytest.raises(StrategyError) as caught:
        parse_strategy(text, name=name)
    assert caught.value.code == "invalid-strategy"
    return caught.value.problems


def line_with(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based number of the line holding the ``occurrence``-th ``marker``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{marker!r} not in the text")


def find(problems: tuple[Problem, ...], *, line: int, field: str, message: str) -> Problem:
    """The one problem at ``line`` whose field ends with ``field`` and whose message has ``message``;
    the printed form must name the file, the line and the field."""
    matching = [p for p in problems if p.line == line and p.field.endswith(field) and message in p.message]
    assert matching, f"no problem at line {line} on {field} with {message!r}; got:\n" + "\n".join(
        map(str, problems)
    )
    found = matching[0]
    assert str(found).startswith(f"{found.file}:{line}: {found.field}: ")
    return found


def facts(days_past_due: int, **changes: Any) -> AccountFacts:
    """Facts of account A1 on 2026-06-01 at ``days_past_due``, an overdue balance of 500.00 unless changed."""
    values: dict[str, Any] = {
        "account_id": "A1",
        "product": "huabei",
        "on": date(2026, 6, 1),
        "days_past_due": days_past_due,
        "bucket": "M0" if days_past_due == 0 else "M1",
        "overdue_balance": 50_000 if days_past_due else 0,
        "total_due": 50_000,
        "days_to_due": -days_past_due if days_past_due else 5,
        "minimum_remaining": 5_000,
        "status": "frozen" if days_past_due else "active",
    }
    values.update(changes)
    return AccountFacts(**values)
