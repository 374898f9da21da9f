"""Messages whose templates quote ``{agency}`` and use format specs and conversions, set-based as the
reference writes them.

The reference fills ``{agency}`` in with the agency as the account's earlier actions of the day leave it
(:func:`overdue.engine.collect.plan_collection`): the records' agency, ``unassigned`` after an allowed
placement, nothing after an allowed recall; a refused one changes nothing. Its ``str.format`` applies
format specs and conversions, nested fields (``{total_due:_<{days_past_due}}``) included. The strategy
below puts messages before, between and after placements and recalls, and quotes every kind of field;
both runners run it on random collection records (Hypothesis, several days in a row), on the benchmark
portfolio and for two weeks on DuckDB, PostgreSQL and Spark: every message's text must be equal.
"""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from setbased_collect_helpers import FIXED, Plans, assert_same_plans, with_time_zones
from setbased_helpers import HUABEI, SPARK_MARKS, Borrower, before_end_of_day, open_portfolio
from test_setbased_bench_portfolio import bench_module
from test_setbased_collect import RULEBOOKS, TIGHT, check_day, check_days, portfolios, seeds, starts

from overdue.channels.templates import placeholder_values, render
from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.setbased import states_from_tables
from overdue.setbased.collect_act import messages, quotes_agency, template_parts
from overdue.strategy import Strategy, default_strategy, parse_strategy

QUOTING = parse_strategy(
    """
strategy: quoting
description: templates quoting the agency and using format specs, around placements and recalls
parameters:
  recall_days: 30
templates:
  plain:
    zh-CN: "{amount}元，{{agency}}：{agency}。"
    en: "{amount} yuan, agency {agency}."
  padded:
    zh-CN: "[{amount:>12}][{days_past_due:0>4}][{total_due:_<{days_past_due}}]\\
      [{due_date!s:.7}][{name!a}][{lender!r:^12}]"
    en: "{amount:>12} {due_date}"
  agency_shown:
    zh-CN: "委托{agency!r:*^16}，{agency:.3}，{agency:>{days_past_due}}|{minimum:{agency:.1}<14}"
    en: "agency {agency!r}"
stages:
  - name: current
    when: {days_past_due: 0}
    next: late
    treatments:
      - {id: remind, type: sms, template: padded, priority: 40, on_days_to_due: [3, 1, 0]}
      - {id: remind_placed, type: push, template: agency_shown, priority: 40, when: {agency: {in: [A1]}}}
  - name: late
    when: {days_past_due: {min: 1, max: 20}}
    next: deep
    treatments:
      - {id: late_sms, type: sms, template: padded, priority: 5, every_days: 2}
      - {id: late_recall, type: agency_recall, priority: 10, when: {days_placed: {min: $recall_days}}}
      - {id: late_letter, type: letter, template: agency_shown, priority: 15}
      - {id: late_place, type: agency_placement, priority: 20, when: {contactability: lost_contact}}
      - {id: late_ai, type: ai_voice, template: plain, priority: 30}
  - name: deep
    when: {days_past_due: {min: 21}}
    treatments:
      - {id: deep_sms, type: sms, template: agency_shown, priority: 5}
      - {id: deep_place, type: agency_placement, priority: 10, when: {agency: null}}
      - {id: deep_push, type: push, template: plain, priority: 15}
      - {id: deep_recall, type: agency_recall, priority: 20, when: {days_placed: {min: $recall_days}}}
      - {id: deep_lawyer, type: lawyer_letter, template: padded, priority: 25}
      - {id: deep_place_again, type: agency_placement, priority: 30, when: {contactability: lost_contact}}
      - {id: deep_ai, type: ai_voice, template: agency_shown, priority: 40}
"""
)
"""Messages before, between and after placements and recalls; ``{agency}`` plain, with a conversion and
specs, and in another field's spec (``{minimum:{agency:.1}<14}``: its first character, if any, as the
fill character)."""


def agencies_quoted(plans: Plans) -> set[str]:
    """The agencies the ``plain`` messages quote (the text after ``：``)."""
    return {
        body.split("：")[1].rstrip("。")
        for rows in plans.messages.values()
        for _, _, template, body in rows
        if template == "plain" and isinstance(body, str)
    }


def test_the_templates_are_split_as_str_format_splits_them() -> None:
    parts = template_parts(QUOTING)
    fields = {f.written: f.reads for _, f in parts["padded"] if f is not None and f.written is not None}
    assert fields["{total_due:_<{days_past_due}}"] == {"total_due", "days_past_due"}
    assert fields["{name!a}"] == {"name"}
    assert [literal for literal, _ in parts["plain"]] == ["", "元，{", "agency}", "：", "。"]
    assert quotes_agency(QUOTING)
    assert not quotes_agency(default_strategy())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=starts,
    portfolio=portfolios,
    checks=check_days,
    book=st.sampled_from(["cn", "tight", "none"]),
    seed=seeds,
    days=st.sampled_from([1, 4]),
)
def test_quoting_messages_equal_the_reference(
    start: date,
    portfolio: list[Borrower],
    checks: list[tuple[str, int, int]],
    book: str,
    seed: int,
    days: int,
) -> None:
    states = with_time_zones(open_portfolio(start, portfolio), seed)
    dates = {check_day(start, *check) for check in checks}
    for on in iter_days(start, max(dates)):
        before_end_of_day(states, portfolio, start, on)
        if on in dates:
            plans = assert_same_plans(
                states,
                on,
                HUABEI,
                QUOTING,
                RULEBOOKS[book],
                ibis.duckdb.connect(),
                seed + on.toordinal(),
                days,
            )
            event(f"agencies quoted: {sorted(agencies_quoted(plans))}")
        states = [rules.end_of_day(s, on).state for s in states]


@pytest.mark.parametrize("on", [date(2026, 3, 15), date(2026, 4, 7)])
def test_quoting_messages_equal_the_reference_on_the_benchmark_portfolio(on: date) -> None:
    bench = bench_module()
    states = with_time_zones(states_from_tables(bench.generate(300, on, seed=5), bench.TERMS), seed=5)
    plans = assert_same_plans(
        states, on, bench.TERMS, QUOTING, RULEBOOKS["cn"], ibis.duckdb.connect(), seed=on.toordinal(), days=2
    )
    # Before any placement (the records' A1 or none), after a placement, after a recall.
    assert agencies_quoted(plans) >= {"A1", "unassigned", ""}


@pytest.mark.parametrize(
    "engine",
    [
        "duckdb",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("spark", marks=SPARK_MARKS),
    ],
)
def test_two_weeks_of_quoting_messages_equal_the_reference(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """The records kept in the engine from day to day: the agency a placement leaves is quoted the days
    after it, under a rulebook that refuses some placements."""
    backend = request.getfixturevalue(engine)
    start = date(2025, 11, 3)
    states = with_time_zones(open_portfolio(start, FIXED), 3)
    for on in iter_days(start, date(2026, 1, 31)):
        before_end_of_day(states, FIXED, start, on)
        states = [rules.end_of_day(s, on).state for s in states]
    plans = assert_same_plans(states, date(2026, 2, 1), HUABEI, QUOTING, TIGHT, backend, seed=7, days=14)
    assert any(plans.messages.values())


def message_rows(template: str, days_past_due: list[int]) -> tuple[pa.Table, Strategy]:
    """Allowed sms rows of a one-template strategy (the facts a text quotes; no agency)."""
    strategy = parse_strategy(QUOTING_ONE.format(text=template.replace("\\", "\\\\").replace('"', '\\"')))
    n = len(days_past_due)
    rows = pa.table(
        {
            "account_key": pa.array(range(n), pa.int64()),
            "business_date": pa.array([date(2026, 3, 1)] * n, pa.date32()),
            "treatment": pa.array(["nudge"] * n),
            "channel": pa.array(["sms"] * n),
            "template": pa.array(["only"] * n),
            "refused_rule": pa.nulls(n, pa.string()),
            "overdue_balance": pa.array([1234 * d for d in days_past_due], pa.int64()),
            "total_due": pa.array([99_999] * n, pa.int64()),
            "days_to_due": pa.array([None if d else 3 for d in days_past_due], pa.int32()),
            "days_past_due": pa.array(days_past_due, pa.int32()),
            "minimum_remaining": pa.array([500] * n, pa.int64()),
        }
    )
    return rows, strategy


QUOTING_ONE = """
strategy: one
templates:
  only: {{zh-CN: "{text}", en: "x"}}
stages:
  - name: any
    when: {{days_past_due: {{min: 0}}}}
    treatments:
      - {{id: nudge, type: sms, template: only}}
"""


@pytest.mark.parametrize(
    "text",
    [
        "{amount:>{days_past_due}}|{due_date!r}|{lender:.1}{name!a:>{days_past_due}.{days_past_due}}",
        "{minimum:^9}{minimum!s}{total_due:{days_past_due}}",
        "no fields {{at all}}",
        "",
    ],
)
def test_each_text_is_the_one_render_writes(text: str) -> None:
    on = date(2026, 3, 1)
    days = [0, 3, 3, 12, 0, 40]
    rows, strategy = message_rows(text, days)
    got = messages(rows, on, strategy)["body"].to_pylist()
    want = [
        render(
            text,
            placeholder_values(
                "zh-CN",
                name=None,
                amount=1234 * d or 99_999,
                due_date=None if d else date(2026, 3, 4),
                days_past_due=d,
                minimum=500,
                total_due=99_999,
            ),
        )
        for d in days
    ]
    assert got == want


def test_a_spec_str_format_refuses_raises_as_the_reference_does() -> None:
    rows, strategy = message_rows("{amount:d}", [1, 2])
    with pytest.raises(ValueError, match="Unknown format code 'd'"):
        messages(rows, date(2026, 3, 1), strategy)
