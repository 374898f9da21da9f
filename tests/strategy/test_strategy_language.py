"""The language itself, on small strategies: conditions, schedules, pauses, escalation, the trace."""

from datetime import date, timedelta

from strategy_helpers import MINI, facts

from overdue.strategy import decide, parse_strategy

ON = date(2026, 6, 1)

SCHEDULES = """\
strategy: schedules
parameters: {gap: 3, big: "2000.00"}
templates:
  t: {zh-CN: "{name}您好", en: "Hello {name}"}
stages:
  - name: all
    when: {days_past_due: {min: 0}}
    treatments:
      - {id: daily, type: call}
      - {id: gapped, type: ai_voice, every_days: $gap}
      - {id: first, type: letter, template: t, once: true}
      - {id: window, type: sms, template: t, from_dpd: 5, to_dpd: 9}
      - {id: due_soon, type: push, template: t, on_days_to_due: [2]}
      - {id: follow_up, type: field_visit, after: {treatment: first, days: 10}}
      - {id: big_or_lost, type: contact_call,
         when: {any: [{overdue_balance: {min: $big}}, {contactability: lost_contact}]}}
      - {id: unplaced, type: agency_placement, when: {agency: null, product: {not_in: [student]}}}
      - {id: in_june, type: debt_sale, when: {on: {min: 2026-06-01, max: 2026-06-30}}}
"""


def fired(text: str, **changes: object) -> set[str]:
    dpd = changes.pop("days_past_due", 1)
    assert isinstance(dpd, int)
    return {a.treatment for a in decide(parse_strategy(text), facts(dpd, **changes)).actions}


def test_no_schedule_means_every_day() -> None:
    assert "daily" in fired(SCHEDULES, last_done={"daily": ON})


def test_every_days_counts_from_last_done() -> None:
    assert "gapped" in fired(SCHEDULES)
    assert "gapped" not in fired(SCHEDULES, last_done={"gapped": ON - timedelta(days=2)})
    assert "gapped" in fired(SCHEDULES, last_done={"gapped": ON - timedelta(days=3)})


def test_once_per_episode() -> None:
    assert "first" in fired(SCHEDULES)
    assert "first" not in fired(SCHEDULES, last_done={"first": ON - timedelta(days=40)})


def test_from_and_to_dpd_are_inclusive() -> None:
    assert [d for d in range(12) if "window" in fired(SCHEDULES, days_past_due=d)] == [5, 6, 7, 8, 9]


def test_on_days_to_due() -> None:
    assert "due_soon" in fired(SCHEDULES, days_to_due=2)
    assert "due_soon" not in fired(SCHEDULES, days_to_due=None)


def test_after_another_treatment() -> None:
    assert "follow_up" not in fired(SCHEDULES)
    assert "follow_up" not in fired(SCHEDULES, last_done={"first": ON - timedelta(days=9)})
    assert "follow_up" in fired(SCHEDULES, last_done={"first": ON - timedelta(days=10)})


def test_any_of_alternatives() -> None:
    assert "big_or_lost" not in fired(SCHEDULES, overdue_balance=199_999)
    assert "big_or_lost" in fired(SCHEDULES, overdue_balance=200_000)
    assert "big_or_lost" in fired(SCHEDULES, contactability="lost_contact")


def test_null_equality_and_not_in() -> None:
    assert "unplaced" in fired(SCHEDULES)
    assert "unplaced" not in fired(SCHEDULES, agency="acme")
    assert "unplaced" not in fired(SCHEDULES, product="student")


def test_date_ranges() -> None:
    assert "in_june" in fired(SCHEDULES)
    assert "in_june" not in fired(SCHEDULES, on=date(2026, 7, 1))


def test_no_stage_matches() -> None:
    decision = decide(parse_strategy(MINI), facts(0))
    assert (decision.stage, decision.actions, decision.paused_by) == (None, (), None)
    assert decision.trace == ("no stage matches (days_past_due 0, bucket M0)",)


def test_trace_says_why_each_treatment_did_or_did_not_fire() -> None:
    decision = decide(parse_strategy(MINI), facts(2))
    assert decision.trace == (
        "stage early matched: days_past_due 1..30",
        "early_sms (sms): not today: DPD 2 not in on_dpd [1, 7]",
        "early_voice (ai_voice): not today: DPD 2 before from_dpd 4",
    )


def test_pause_and_escalation_on_a_small_strategy() -> None:
    strategy = parse_strategy(MINI)
    assert decide(strategy, facts(5, promise="kept")).paused_by == "promise"
    escalated = decide(strategy, facts(5, escalation=1, overdue_balance=1_000_000))
    assert escalated.stage == "late"
    assert [a.treatment for a in escalated.actions] == ["late_call", "late_letter"]
    assert {a.experiment for a in escalated.actions} == {None}


def test_the_strategy_is_immutable() -> None:
    strategy = parse_strategy(MINI)
    try:
        strategy.parameters["large"] = 1  # type: ignore[index]
    except TypeError:
        pass
    else:
        raise AssertionError("parameters can be changed")
    assert strategy.parameters["large"] == 1_000_000
