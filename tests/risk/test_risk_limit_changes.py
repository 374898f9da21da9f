"""Limit changes: the review's balance floor, which decisions are changes, applying them, the limit in force
on a day, the schedule, and the notice templates."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from overdue.compliance.lint import LintProblem, TemplateUse, lint
from overdue.domain import account as rules
from overdue.domain.calendar import iter_days
from overdue.domain.state import AccountStatus, BucketSpell
from overdue.domain.terms import product_terms
from overdue.errors import InvalidInput
from overdue.risk.changes import (
    CHANGE_ACTIONS,
    NOTICE_ACTIONS,
    PastChange,
    ReviewSchedule,
    apply_change,
    change_to_record,
    delinquent_since,
    is_change,
    limit_in_force,
    limit_to_apply,
    parameters_for,
    review_input,
)
from overdue.risk.notices import TEMPLATE_FOR, TEMPLATES, lint_notices, notice_text
from overdue.risk.reasons import reason_text
from overdue.risk.review import CycleRecord, ReviewDecision, ReviewInput, ReviewParameters, review_limit

AS_OF = date(2026, 5, 1)
LIMIT = 500_000  # 5,000.00
MINIMUM_ONLY = tuple(CycleRecord(date(2026, m, 1), 150_000, LIMIT, True, True) for m in (2, 3, 4))


def cut_facts(owed: int) -> ReviewInput:
    return ReviewInput("L1", AS_OF, LIMIT, "active", 0, MINIMUM_ONLY, owed=owed)


def test_a_cut_never_goes_below_what_is_owed() -> None:
    free = review_limit(cut_facts(200_000))
    assert (free.action, free.new_limit, free.reasons) == ("cut", 350_000, ("CUT_MINIMUM_ONLY",))
    held = review_limit(cut_facts(412_345))  # 4,123.45 owed: the cut stops at 4,200.00
    assert (held.action, held.new_limit) == ("cut", 420_000)
    assert held.reasons == ("CUT_MINIMUM_ONLY", "CUT_LIMITED_BY_BALANCE")
    assert held.effective_on == date(2026, 5, 8)
    full = review_limit(cut_facts(495_000))  # rounded up to the step it is the limit: no cut
    assert (full.action, full.new_limit, full.reasons) == (
        "keep",
        LIMIT,
        ("CUT_MINIMUM_ONLY", "CUT_BELOW_BALANCE"),
    )


def decision(action: str, new_limit: int = LIMIT) -> ReviewDecision:
    return ReviewDecision("L1", action, LIMIT, new_limit, AS_OF, ())


def past(
    action: str, review_date: date, applied_on: date | None = None, old: int = LIMIT, new: int = LIMIT
) -> PastChange:
    return PastChange(review_date, review_date, action, old, new, applied_on)


def test_raises_and_cuts_are_changes_keeps_are_not_and_a_freeze_once_per_episode() -> None:
    assert is_change(decision("raise", 600_000), None, None)
    assert is_change(decision("cut", 350_000), past("cut", date(2026, 1, 1)), None)
    assert not is_change(decision("keep"), None, None)
    assert is_change(decision("freeze"), None, date(2026, 4, 10))
    earlier = past("freeze", date(2026, 4, 1))
    assert not is_change(decision("freeze"), earlier, date(2026, 3, 10))  # same episode
    assert is_change(decision("freeze"), earlier, date(2026, 4, 20))  # a new episode since
    assert is_change(decision("close"), earlier, date(2026, 3, 10))


def test_delinquent_since_is_the_start_of_the_current_run_of_buckets() -> None:
    spells = [
        BucketSpell("M0", date(2026, 1, 5), date(2026, 2, 10)),
        BucketSpell("M1", date(2026, 2, 10), date(2026, 3, 12)),
        BucketSpell("M2", date(2026, 3, 12)),
    ]
    assert delinquent_since(spells) == date(2026, 2, 10)
    assert delinquent_since([*spells[:2], BucketSpell("M0", date(2026, 3, 12))]) is None


def test_limit_in_force_on_a_day_follows_applied_changes() -> None:
    changes = [
        past("raise", date(2026, 3, 1), date(2026, 3, 1), old=LIMIT, new=600_000),
        past("cut", date(2026, 5, 1), date(2026, 5, 8), old=600_000, new=420_000),
        past("freeze", date(2026, 6, 1), date(2026, 6, 1), old=420_000, new=420_000),
        PastChange(date(2026, 7, 1), date(2026, 7, 8), "cut", 420_000, 300_000, None),  # not applied yet
    ]
    assert limit_in_force(changes, 420_000, date(2026, 2, 28)) == LIMIT
    assert limit_in_force(changes, 420_000, date(2026, 3, 31)) == 600_000
    assert limit_in_force(changes, 420_000, date(2026, 5, 7)) == 600_000
    assert limit_in_force(changes, 420_000, date(2026, 5, 31)) == 420_000
    assert limit_in_force(changes, 420_000, date(2026, 7, 31)) == 420_000


def test_applying_a_cut_stops_at_what_is_owed_then_and_a_freeze_freezes() -> None:
    terms = product_terms("huabei")
    state = rules.open_account("L1", "huabei", terms, date(2026, 1, 5), LIMIT)
    state = rules.purchase(state, date(2026, 1, 5), 380_050).state  # 3,800.50 owed since the review
    params = ReviewParameters()
    assert limit_to_apply(state, 350_000, params) == (390_000, True)
    assert limit_to_apply(state, 600_000, params) == (600_000, False)
    cut = apply_change(state, "cut", 390_000)
    assert (cut.credit_limit, cut.status, cut.available_credit) == (390_000, AccountStatus.ACTIVE, 9_950)
    assert apply_change(state, "freeze", LIMIT).status is AccountStatus.FROZEN
    assert apply_change(state, "close", LIMIT).status is AccountStatus.CLOSED  # for good; still repayable


def test_parameters_stay_within_the_product() -> None:
    terms = dataclasses.replace(product_terms("huabei"), freeze_at_dpd=5, max_limit=2_000_000)
    params = parameters_for(ReviewParameters(), terms)
    assert (params.freeze_dpd, params.raise_cap, params.minimum_limit) == (5, 2_000_000, 50_000)


def test_schedule_defaults_to_the_statement_day() -> None:
    terms = product_terms("huabei")
    assert ReviewSchedule().due(terms, date(2026, 5, 1))
    assert not ReviewSchedule().due(terms, date(2026, 5, 2))
    assert ReviewSchedule(day_of_month=15).due(terms, date(2026, 5, 15))
    assert not ReviewSchedule(enabled=False).due(terms, date(2026, 5, 1))
    with pytest.raises(InvalidInput):
        ReviewSchedule(day_of_month=31)


@pytest.mark.parametrize("rulebook", ["cn", "us"])
def test_notice_templates_pass_the_lint(rulebook: str) -> None:
    assert lint_notices(rulebook) == []
    # The lint does catch a bad notice: one without the official channel or an amount.
    bad = lint_notices_of({"zh-CN": "【{lender}】额度已调整。"}, rulebook)
    assert {p.rule for p in bad} >= {"lint.required_content"}


def lint_notices_of(texts: dict[str, str], rulebook: str) -> list[LintProblem]:
    return lint([TemplateUse("bad", texts, "sms", "debtor")], set(), rulebook)


def test_notice_text_in_both_languages() -> None:
    assert set(TEMPLATES) == {"limit_raise", "limit_cut", "limit_freeze", "limit_close"}
    zh = notice_text(
        "cut",
        "zh-CN",
        old_limit=LIMIT,
        new_limit=350_000,
        effective_on=date(2026, 5, 8),
        reasons=("CUT_MINIMUM_ONLY",),
    )
    assert "5000.00" in zh and "3500.00" in zh and "2026-05-08" in zh and "多次仅还最低还款额" in zh
    en = notice_text(
        "raise", "en", old_limit=LIMIT, new_limit=600_000, effective_on=AS_OF, reasons=("RAISE_ON_TIME",)
    )
    assert en.startswith("Huabei: Hello customer") and "raised from 5000.00 to 6000.00 CNY" in en
    assert "Reply STOP to opt out." in en


@pytest.mark.parametrize(
    ("action", "code", "zh_says", "en_says"),
    [
        (
            "freeze",
            "FREEZE_DELINQUENT",
            ("暂停使用", "逾期，冻结额度", "自动恢复"),
            ("cannot be used", "restored"),
        ),
        (
            "close",
            "CLOSE_SEVERE_DELINQUENCY",
            ("永久关闭", "严重逾期，关闭额度", "仍需归还"),
            ("closed for good",),
        ),
    ],
)
def test_a_freeze_or_close_notice_states_the_limit_kept_its_date_and_reason(
    action: str, code: str, zh_says: tuple[str, ...], en_says: tuple[str, ...]
) -> None:
    """A freeze or a close keeps the limit: the notice states it as the amount, with the date and the reason,
    and passes the lint like the raise and cut notices."""
    assert NOTICE_ACTIONS == CHANGE_ACTIONS and {TEMPLATE_FOR[a] for a in CHANGE_ACTIONS} == set(TEMPLATES)
    for locale, says in (("zh-CN", zh_says), ("en", en_says)):
        text = notice_text(
            action, locale, old_limit=LIMIT, new_limit=LIMIT, effective_on=date(2026, 3, 1), reasons=(code,)
        )
        assert "5000.00" in text and "2026-03-01" in text, text
        assert all(phrase in text for phrase in says), text
        assert "{" not in text
    en = notice_text(
        action, "en", old_limit=LIMIT, new_limit=LIMIT, effective_on=AS_OF, reasons=(code,), name="Li Lei"
    )
    assert en.startswith("Huabei: Hello Li Lei,") and en.endswith("Reply STOP to opt out.")
    assert f"({reason_text(code)})" in en
    template = {TEMPLATE_FOR[action]: TEMPLATES[TEMPLATE_FOR[action]]}
    for rulebook in ("cn", "us"):
        uses = [TemplateUse(t, texts, "sms", "debtor") for t, texts in template.items()]
        assert lint(uses, set(), rulebook) == []


def test_a_closed_line_is_not_reviewed_and_a_delinquent_one_is_frozen_once() -> None:
    """The review of one account (what the end-of-day and the simulator both call): a line past due is frozen
    once per episode; a closed line is not reviewed at all, however delinquent (the review would say
    ``close``); an account without a finished cycle is not reviewed."""
    terms = product_terms("huabei")
    state = rules.open_account("L1", "huabei", terms, date(2026, 1, 5), LIMIT)
    state = rules.purchase(state, date(2026, 1, 5), 200_000).state
    params = parameters_for(ReviewParameters(), terms)
    for day in iter_days(date(2026, 1, 5), date(2026, 3, 1)):
        state = rules.end_of_day(state, day).state
    on = date(2026, 3, 1)
    assert state.days_past_due > 0
    assert (
        change_to_record(state, state.statements, state.bucket_history, date(2026, 1, 31), (), params) is None
    )
    frozen = change_to_record(state, state.statements, state.bucket_history, on, (), params)
    assert frozen is not None and frozen.action == "freeze"
    again = past("freeze", on, on)
    assert change_to_record(state, state.statements, state.bucket_history, on, (again,), params) is None
    closed = apply_change(state, "close", LIMIT)
    assert review_limit(review_input(closed, closed.statements, closed.bucket_history, on)).action == "close"
    assert change_to_record(closed, closed.statements, closed.bucket_history, on, (), params) is None
