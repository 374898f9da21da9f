"""Every validation problem, on real YAML texts: each names the file, the line and the field."""

import pytest
from strategy_helpers import MINI, find, line_with, problems_of

from overdue.risk.notices import NOTICE_TREATMENT as LIMIT_NOTICE
from overdue.setbased.collect_notice import NOTICE_TREATMENT as VALIDATION_NOTICE
from overdue.strategy import parse_strategy
from overdue.strategy.parser import RESERVED_TREATMENT_IDS


def test_the_mini_strategy_is_valid() -> None:
    strategy = parse_strategy(MINI, name="mini.yaml")
    assert [s.name for s in strategy.stages] == ["early", "late"]
    assert strategy.warnings == ()


def test_invalid_yaml_names_the_line() -> None:
    text = MINI.replace("next: late", "next: [late")
    (problem,) = problems_of(text)
    assert problem.file == "mini.yaml"
    assert problem.line is not None and problem.line > line_with(text, "next: [late") - 1
    assert "not valid YAML" in problem.message


def test_unknown_top_level_key() -> None:
    text = MINI.replace("description:", "descripton:")
    find(problems_of(text), line=2, field="descripton", message="unknown key (did you mean 'description'?)")


def test_unknown_treatment_key() -> None:
    text = MINI.replace(
        "{id: late_call, type: call, every_days: 3}", "{id: late_call, type: call, evry_days: 3}"
    )
    problem = find(
        problems_of(text),
        line=line_with(text, "evry_days"),
        field="treatments[0].evry_days",
        message="unknown key",
    )
    assert "did you mean 'every_days'" in problem.message


def test_unknown_action_type() -> None:
    text = MINI.replace("type: call,", "type: phone_call,")
    find(
        problems_of(text),
        line=line_with(text, "phone_call"),
        field="treatments[0].type",
        message="'phone_call'",
    )


def test_message_treatment_without_template() -> None:
    text = MINI.replace(
        "{id: early_sms, type: sms, template: notice, on_dpd: [1, 7]}", "{id: early_sms, type: sms}"
    )
    find(
        problems_of(text),
        line=line_with(text, "early_sms"),
        field="treatments[0].template",
        message="needs a template",
    )


def test_unknown_template() -> None:
    text = MINI.replace("type: sms, template: notice", "type: sms, template: notise")
    find(
        problems_of(text),
        line=line_with(text, "notise"),
        field="treatments[0].template",
        message="unknown template",
    )


def test_unused_template_is_a_warning() -> None:
    text = MINI.replace("templates:\n", 'templates:\n  spare: {zh-CN: "备用", en: "spare"}\n')
    strategy = parse_strategy(text, name="mini.yaml")
    (warning,) = strategy.warnings
    assert (warning.severity, warning.line, warning.field) == (
        "warning",
        line_with(text, "spare"),
        "templates.spare",
    )
    assert "never used" in warning.message


def test_unknown_placeholder_and_missing_locale() -> None:
    text = MINI.replace(
        'notice: {zh-CN: "请还款{amount}元", en: "Please repay {amount} CNY"}', 'notice: {en: "Pay {amout}"}'
    )
    problems = problems_of(text)
    line = line_with(text, "notice: {en")
    find(problems, line=line, field="templates.notice.en", message="unknown placeholder {amout}")
    find(problems, line=line, field="templates.notice", message="missing the zh-CN text")


def test_unknown_parameter() -> None:
    text = MINI.replace("from_dpd: $voice_from", "from_dpd: $voice_form")
    problem = find(
        problems_of(text),
        line=line_with(text, "$voice_form"),
        field="treatments[1].from_dpd",
        message="$voice_form",
    )
    assert "did you mean 'voice_from'" in problem.message


def test_parameter_of_the_wrong_kind() -> None:
    text = MINI.replace("from_dpd: $voice_from", "from_dpd: $large")
    find(
        problems_of(text),
        line=line_with(text, "$large}"),
        field="from_dpd",
        message="is an amount, but a number is needed",
    )


def test_amounts_are_never_floats() -> None:
    text = MINI.replace("{overdue_balance: {min: $large}}", "{overdue_balance: {min: 10000.5}}")
    find(
        problems_of(text),
        line=line_with(text, "10000.5"),
        field="when.overdue_balance.min",
        message="quoted yuan",
    )


def test_unknown_condition_field() -> None:
    text = MINI.replace("when: {days_past_due: {min: 31}}", "when: {dpd: {min: 31}}")
    find(problems_of(text), line=line_with(text, "dpd: {min: 31}"), field="when.dpd", message="unknown field")


def test_enum_value_and_range_on_an_enum() -> None:
    text = MINI.replace("promise: {in: [pending, kept]}", "promise: {in: [pending, kpt]}, bucket: {min: M1}")
    problems = problems_of(text)
    line = line_with(text, "kpt")
    find(problems, line=line, field="when.promise.in[1]", message="'kpt' is not one of")
    find(problems, line=line, field="when.bucket", message="min/max need a number")


def test_empty_range() -> None:
    text = MINI.replace("{days_past_due: {min: 31}}", "{days_past_due: {min: 31, max: 20}}")
    find(
        problems_of(text),
        line=line_with(text, "max: 20"),
        field="when.days_past_due",
        message="range is empty",
    )


def test_duplicate_treatment_id() -> None:
    text = MINI.replace("{id: late_call,", "{id: early_sms,")
    find(
        problems_of(text), line=line_with(text, "early_sms", 2), field="treatments[0].id", message="duplicate"
    )


def test_the_end_of_days_own_notice_ids_are_reserved() -> None:
    for reserved in ("limit_notice", "validation_notice"):
        text = MINI.replace("{id: late_call,", "{id: " + reserved + ",")
        problem = find(
            problems_of(text), line=line_with(text, reserved), field="treatments[0].id", message="reserved"
        )
        assert "choose another" in problem.message
    # ... and they are the ids the end-of-day records its notices under.
    assert {LIMIT_NOTICE, VALIDATION_NOTICE} == RESERVED_TREATMENT_IDS


def test_duplicate_stage_name_and_duplicate_key() -> None:
    text = MINI.replace("  - name: late\n", "  - name: early\n").replace(
        "next: late", "next: early\n    next: late"
    )
    problems = problems_of(text)
    find(problems, line=line_with(text, "- name: early", 2), field="name", message="duplicate stage name")
    find(problems, line=line_with(text, "next: late"), field="next", message="duplicate key")


def test_contact_party_only_for_contact_call() -> None:
    text = MINI.replace("{id: late_call, type: call,", "{id: late_call, type: call, party: contact,")
    find(
        problems_of(text),
        line=line_with(text, "party: contact"),
        field="party",
        message="only by contact_call",
    )


def test_shares_must_add_up_to_100() -> None:
    text = MINI + (
        "experiments:\n"
        "  - name: voice\n"
        "    variants:\n"
        "      - {name: champion, share: 50}\n"
        "      - {name: challenger, share: 40, parameters: {voice_from: 2}}\n"
    )
    find(
        problems_of(text),
        line=line_with(text, "- {name: champion"),
        field="variants",
        message="add up to 90, not 100",
    )


def test_variant_overrides_must_be_known_parameters_of_the_same_kind() -> None:
    text = MINI + (
        "experiments:\n"
        "  - name: voice\n"
        "    variants:\n"
        "      - {name: champion, share: 50, parameters: {voice_frm: 3}}\n"
        '      - {name: challenger, share: 50, parameters: {voice_from: "2.00"}}\n'
    )
    problems = problems_of(text)
    find(
        problems, line=line_with(text, "voice_frm"), field="parameters.voice_frm", message="unknown parameter"
    )
    find(
        problems,
        line=line_with(text, '"2.00"'),
        field="parameters.voice_from",
        message="is a number, not an amount",
    )


def test_next_to_an_unknown_stage() -> None:
    text = MINI.replace("next: late", "next: later")
    find(
        problems_of(text), line=line_with(text, "next: later"), field="next", message="unknown stage 'later'"
    )


def test_next_links_in_a_cycle() -> None:
    text = MINI.replace(
        "    when: {days_past_due: {min: 31}}\n", "    when: {days_past_due: {min: 31}}\n    next: early\n"
    )
    find(
        problems_of(text),
        line=line_with(text, "next: late"),
        field="next",
        message="cycle: early -> late -> early",
    )


def test_after_an_unknown_treatment_and_pause_exempting_an_unknown_stage() -> None:
    text = MINI.replace("once: true,", "once: true, after: {treatment: late_cal, days: 30},").replace(
        "{name: promise,", "{name: promise, exempt_stages: [pre_due],"
    )
    problems = problems_of(text)
    find(
        problems,
        line=line_with(text, "late_cal,"),
        field="after.treatment",
        message="unknown treatment 'late_cal'",
    )
    find(
        problems, line=line_with(text, "pre_due"), field="exempt_stages[0]", message="unknown stage 'pre_due'"
    )


def test_overlapping_stages() -> None:
    text = MINI.replace("{days_past_due: {min: 31}}", "{days_past_due: {min: 30}}")
    problem = find(
        problems_of(text),
        line=line_with(text, "{min: 30}}"),
        field="stages(late).when",
        message="overlaps stage 'early'",
    )
    assert "days_past_due=30" in problem.message


def test_overlap_through_alternatives_and_other_fields() -> None:
    text = MINI.replace(
        "{days_past_due: {min: 31}}", "{any: [{days_past_due: {min: 31}}, {contactability: lost_contact}]}"
    )
    problem = find(
        problems_of(text), line=line_with(text, "any:"), field="when", message="overlaps stage 'early'"
    )
    assert "contactability=lost_contact" in problem.message


def test_bucket_and_dpd_together_are_not_reported_as_overlapping() -> None:
    text = MINI.replace("{days_past_due: {min: 31}}", "{bucket: {in: [M2, M3, M4, M5, M6, M7+]}}")
    assert [s.name for s in parse_strategy(text).stages] == ["early", "late"]


def test_unreachable_stage() -> None:
    text = MINI.replace("{days_past_due: {min: 31}}", "{days_past_due: {min: 31}, bucket: M1}")
    find(
        problems_of(text),
        line=line_with(text, "bucket: M1"),
        field="stages(late).when",
        message="unreachable",
    )


def test_unreachable_through_contradicting_tests() -> None:
    text = MINI.replace(
        "{days_past_due: {min: 31}}", "{days_past_due: {min: 31}, promise: none, any: [{promise: kept}]}"
    )
    find(
        problems_of(text),
        line=line_with(text, "any: [{promise"),
        field="stages(late).when",
        message="unreachable",
    )


def test_overlap_only_with_a_variant_names_the_variant() -> None:
    text = (
        MINI.replace("  voice_from: 4\n", "  voice_from: 4\n  early_end: 30\n")
        .replace("{min: 1, max: 30}", "{min: 1, max: $early_end}")
        .replace(
            "pauses:",
            "experiments:\n  - name: longer\n    variants:\n      - {name: champion, share: 50}\n"
            "      - {name: challenger, share: 50, parameters: {early_end: 45}}\npauses:",
        )
    )
    problem = find(
        problems_of(text), line=line_with(text, "{min: 31}"), field="stages(late).when", message="overlaps"
    )
    assert "variant longer/challenger" in problem.message


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        MINI.replace("description:", "descripton:")
        .replace("type: call,", "type: phone_call,")
        .replace("template: notice, on_dpd", "template: notise, on_dpd")
        .replace("next: late", "next: later")
        .replace("from_dpd: $voice_from", "from_dpd: $nope")
    )
    problems = problems_of(text)
    assert len(problems) == 5
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    for marker, field in [
        ("descripton", "descripton"),
        ("phone_call", "type"),
        ("notise", "template"),
        ("next: later", "next"),
        ("$nope", "from_dpd"),
    ]:
        find(problems, line=line_with(text, marker), field=field, message="")


def test_the_error_message_lists_every_problem() -> None:
    text = MINI.replace("type: call,", "type: phone_call,").replace("next: late", "next: later")
    with pytest.raises(Exception) as caught:
        parse_strategy(text, name="mini.yaml")
    message = str(caught.value)
    assert message.startswith("invalid strategy (2 problems):")
    assert f"mini.yaml:{line_with(text, 'phone_call')}:" in message
    assert f"mini.yaml:{line_with(text, 'next: later')}:" in message


@pytest.mark.parametrize("text", ["", "just words", "- a list\n"])
def test_not_a_strategy_at_all(text: str) -> None:
    assert problems_of(text)
