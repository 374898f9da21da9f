"""The shipped huabei strategy follows the ladder of DESIGN §5."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from strategy_helpers import facts

from overdue.strategy import ACTION_TYPES, Decision, decide, default_strategy

ON = date(2026, 6, 1)


def types(decision: Decision) -> list[str]:
    return [a.type for a in decision.actions]


def test_it_loads_cleanly_and_uses_every_action_type() -> None:
    strategy = default_strategy()
    assert strategy.name == "huabei"
    assert strategy.warnings == ()
    assert {t.type for t in strategy.treatments} == set(ACTION_TYPES)
    assert strategy.parameters["large_balance"] == 1_000_000  # "10000.00" in fen


@pytest.mark.parametrize("days_to_due", [3, 1, 0])
def test_pre_due_reminders(days_to_due: int) -> None:
    decision = decide(default_strategy(), facts(0, days_to_due=days_to_due))
    assert decision.stage == "pre_due"
    assert types(decision) == ["sms", "push"]
    assert decision.actions[0].template == "pre_due_reminder"


@pytest.mark.parametrize("days_to_due", [5, 2, None])
def test_no_reminder_on_other_days(days_to_due: int | None) -> None:
    assert decide(default_strategy(), facts(0, days_to_due=days_to_due)).actions == ()


@pytest.mark.parametrize("dpd", [1, 3, 7, 11, 15])
def test_early_sms_on_its_days(dpd: int) -> None:
    decision = decide(default_strategy(), facts(dpd))
    assert decision.stage == "early"
    assert "sms" in types(decision)


def test_no_early_sms_on_dpd_2() -> None:
    assert "sms" not in types(decide(default_strategy(), facts(2)))


def test_human_call_at_dpd_35() -> None:
    decision = decide(default_strategy(), facts(35, bucket="M2"))
    assert decision.stage == "queue"
    assert types(decision)[0] == "call"
    assert decision.actions[0].party == "debtor"


def test_automated_and_human_calls_from_dpd_16() -> None:
    assert set(types(decide(default_strategy(), facts(16)))) == {"call", "ai_voice"}


def test_field_visit_once_on_entering_dpd_91() -> None:
    strategy = default_strategy()
    first = decide(strategy, facts(91, bucket="M4"))
    assert first.stage == "field"
    assert types(first)[0] == "field_visit"
    next_day = facts(92, bucket="M4", on=ON + timedelta(days=1), last_done={"field_visit": ON})
    decision = decide(strategy, next_day)
    assert "field_visit" not in types(decision)
    assert any("field_visit (field_visit): not today: once per episode" in line for line in decision.trace)


def test_field_visit_not_before_dpd_91_even_when_escalated() -> None:
    decision = decide(default_strategy(), facts(70, bucket="M3", escalation=1))
    assert decision.stage == "field"
    assert "field_visit" not in types(decision)


def test_lawyer_letter_at_dpd_181_only_for_large_balances() -> None:
    strategy = default_strategy()
    large = decide(strategy, facts(181, bucket="M7+", overdue_balance=1_000_000))
    assert "lawyer_letter" in types(large)
    small = decide(strategy, facts(181, bucket="M7+", overdue_balance=50_000))
    assert "lawyer_letter" not in types(small)
    assert any("overdue_balance >= 10000.00 (is 500.00)" in line for line in small.trace)


def test_litigation_follows_the_lawyer_letter() -> None:
    strategy = default_strategy()
    letter_on = ON
    too_soon = facts(200, bucket="M7+", overdue_balance=1_000_000, on=ON + timedelta(days=10))
    too_soon = replace(too_soon, last_done={"lawyer_letter": letter_on, "write_off": letter_on})
    assert "litigation" not in types(decide(strategy, too_soon))
    later = replace(too_soon, on=ON + timedelta(days=30))
    assert "litigation" in types(decide(strategy, later))


def test_write_off_at_dpd_180_once() -> None:
    strategy = default_strategy()
    assert "write_off" in types(decide(strategy, facts(180, bucket="M6")))
    done = facts(190, bucket="M7+", last_done={"write_off": ON})
    assert "write_off" not in types(decide(strategy, done))


def test_pre_agreed_contacts_only_when_lost_and_large() -> None:
    strategy = default_strategy()
    lost_large = facts(40, bucket="M2", contactability="lost_contact", overdue_balance=1_000_000)
    decision = decide(strategy, lost_large)
    contact = [a for a in decision.actions if a.type == "contact_call"]
    assert contact and contact[0].party == "contact" and contact[0].template == "contact_restore"
    assert "contact_call" not in types(decide(strategy, replace(lost_large, overdue_balance=999_999)))
    assert "contact_call" not in types(decide(strategy, replace(lost_large, contactability="reachable")))


def test_agency_placement_from_dpd_61_and_recall_after_the_term() -> None:
    strategy = default_strategy()
    assert "agency_placement" not in types(decide(strategy, facts(60, bucket="M2")))
    assert "agency_placement" in types(decide(strategy, facts(61, bucket="M3")))
    placed = facts(120, bucket="M4", agency="acme", days_placed=59, last_done={"field_visit": ON})
    assert not {"agency_placement", "agency_recall"} & set(types(decide(strategy, placed)))
    assert "agency_recall" in types(decide(strategy, replace(placed, days_placed=90)))


@pytest.mark.parametrize(
    ("changes", "pause"),
    [
        ({"promise": "pending"}, "promise"),
        ({"promise": "kept"}, "promise"),
        ({"plan": "active"}, "plan"),
        ({"dispute": True}, "dispute"),
        ({"litigation_hold": True}, "litigation_hold"),
    ],
)
def test_pauses_stop_every_action(changes: dict[str, object], pause: str) -> None:
    decision = decide(default_strategy(), facts(35, bucket="M2", **changes))
    assert decision.actions == ()
    assert decision.paused_by == pause
    assert decision.stage == "queue"


def test_pre_due_reminders_go_on_during_a_promise_but_not_a_dispute() -> None:
    strategy = default_strategy()
    assert types(decide(strategy, facts(0, days_to_due=3, promise="pending"))) == ["sms", "push"]
    assert decide(strategy, facts(0, days_to_due=3, dispute=True)).paused_by == "dispute"


def test_broken_promise_at_dpd_10_escalates_one_stage() -> None:
    strategy = default_strategy()
    plain = decide(strategy, facts(10, promise="broken"))
    assert plain.stage == "early"
    escalated = decide(strategy, facts(10, promise="broken", escalation=1))
    assert escalated.stage == "call"
    assert "call" in types(escalated)
    assert "escalation: early -> call" in escalated.trace


def test_escalation_stops_at_the_last_stage() -> None:
    decision = decide(default_strategy(), facts(200, bucket="M7+", escalation=3))
    assert decision.stage == "charge_off"


def test_actions_are_sorted_by_priority_and_record_the_experiment() -> None:
    decision = decide(default_strategy(), facts(91, bucket="M4"))
    priorities = [a.priority for a in decision.actions]
    assert priorities == sorted(priorities)
    assert {(a.experiment, a.variant) for a in decision.actions} <= {
        ("early_voice", "champion"),
        ("early_voice", "challenger"),
    }
    assert all(a.reason.startswith("stage field: ") for a in decision.actions)


def test_the_early_voice_challenger_calls_from_dpd_2() -> None:
    strategy = default_strategy()
    by_variant: dict[str, list[str]] = {}
    for n in range(40):
        decision = decide(strategy, facts(2, account_id=f"A{n}"))
        variant = decision.trace[0].rsplit(" ", 1)[1]
        by_variant.setdefault(variant, []).extend(types(decision))
        if "ai_voice" in types(decision):
            voice = next(a for a in decision.actions if a.type == "ai_voice")
            assert (voice.experiment, voice.variant) == ("early_voice", "challenger")
    assert "ai_voice" in by_variant["challenger"]
    assert "ai_voice" not in by_variant["champion"]
