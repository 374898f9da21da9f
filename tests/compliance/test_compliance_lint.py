"""Template lint: banned content, unplanned threats, third-party disclosure, required content, US opt-out."""

from datetime import date
from importlib import resources

import pytest
from sqlalchemy import Engine

from overdue.compliance.lint import TemplateUse, lint, lint_strategy
from overdue.domain.errors import InvalidInput
from overdue.engine.reference import Collection, run_eod
from overdue.services import accounts
from overdue.strategy import default_strategy, parse_strategy

GOOD_ZH = "【{lender}】{name}您好，您的账单{amount}元已逾期，请通过{repay_channel}还款。"
GOOD_EN = "{lender}: {name}, {amount} CNY is overdue. Please repay through {repay_channel}."


def use(zh: str = GOOD_ZH, en: str = GOOD_EN, *, action: str = "sms", party: str = "debtor") -> TemplateUse:
    return TemplateUse("t", {"zh-CN": zh, "en": en}, action, party)


def rules_of(problems: list) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {(p.rule, p.locale, p.phrase) for p in problems}


def test_a_polite_factual_message_passes() -> None:
    assert lint([use()], {"sms"}) == []


@pytest.mark.parametrize(
    ("zh", "en", "phrase", "locale"),
    [
        (GOOD_ZH + "否则派警察抓你坐牢。", GOOD_EN, "坐牢", "zh-CN"),
        (GOOD_ZH + "我们将通知你单位。", GOOD_EN, "通知你单位", "zh-CN"),
        (GOOD_ZH, GOOD_EN + " The police will arrest you.", "arrest", "en"),
        (GOOD_ZH, GOOD_EN + " Pay now, deadbeat.", "deadbeat", "en"),
    ],
)
def test_threats_impersonation_shaming_and_insults_are_refused(
    zh: str, en: str, phrase: str, locale: str
) -> None:
    assert ("lint.banned_phrase", locale, phrase) in rules_of(lint([use(zh, en)], {"sms"}))


def test_a_lawsuit_may_be_mentioned_only_when_litigation_is_planned() -> None:
    text = use(GOOD_ZH + "逾期不还将被起诉。", GOOD_EN + " We may sue.")
    assert ("lint.banned_phrase", "zh-CN", "起诉") in rules_of(lint([text], {"sms"}))
    assert ("lint.banned_phrase", "en", "sue") in rules_of(lint([text], {"sms"}))
    assert lint([text], {"sms", "litigation"}) == []


def test_a_message_to_a_third_party_must_not_mention_the_debt() -> None:
    to_contact = use(
        "您好，请转告{name}，他的欠款{amount}元已逾期。", "Tell {name} the debt is overdue.", party="contact"
    )
    found = rules_of(lint([to_contact], {"contact_call"}))
    assert ("lint.third_party_disclosure", "zh-CN", "欠款") in found
    assert ("lint.third_party_disclosure", "en", "debt") in found
    polite = use(
        "您好，我们联系不到{name}，请转告其致电{lender}客服。",
        "We cannot reach {name}; please ask them to call {lender}.",
        party="contact",
    )
    assert lint([polite], {"contact_call"}) == []


def test_a_message_to_the_debtor_names_lender_channel_and_amount() -> None:
    found = rules_of(lint([use("您好，请尽快还款。", "Please pay soon.")], {"sms"}))
    for locale in ("zh-CN", "en"):
        assert {
            ("lint.required_content", locale, p) for p in ("{lender}", "{repay_channel}", "{amount}")
        } <= found


def test_us_electronic_messages_need_an_opt_out_line() -> None:
    assert ("lint.opt_out", "en", "") in rules_of(lint([use()], {"sms"}, rulebook="us"))
    with_opt_out = use(GOOD_ZH + "回复退订。", GOOD_EN + " Reply STOP to opt out.")
    assert lint([with_opt_out], {"sms"}, rulebook="us") == []
    assert lint([use(action="letter")], {"letter"}, rulebook="us") == []


def test_the_shipped_strategy_passes_the_cn_lint() -> None:
    assert lint_strategy(default_strategy()) == []


def test_the_end_of_day_refuses_a_strategy_whose_templates_fail(engine: Engine) -> None:
    text = (
        resources.files("overdue.strategy").joinpath("strategies", "huabei.yaml").read_text(encoding="utf-8")
    )
    assert "请通过{repay_channel}按时还款" in text
    bad = parse_strategy(text.replace("请通过{repay_channel}按时还款", "否则坐牢"), name="bad.yaml")
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    with pytest.raises(InvalidInput, match=r"lint\.banned_phrase"):
        run_eod(engine, date(2026, 1, 6), collection=Collection(bad))


def test_the_shipped_strategy_passes_the_us_lint() -> None:
    assert lint_strategy(default_strategy(), "us") == []


def test_the_end_of_day_lints_under_the_rulebook_of_each_product_in_use(engine: Engine) -> None:
    text = (
        resources.files("overdue.strategy").joinpath("strategies", "huabei.yaml").read_text(encoding="utf-8")
    )
    assert text.count(" Reply STOP to opt out.") == 3
    no_opt_out = parse_strategy(text.replace(" Reply STOP to opt out.", ""), name="no-opt-out.yaml")
    accounts.open_account(engine, "A1", date(2026, 1, 5), 500_000)
    run_eod(
        engine, date(2026, 1, 6), collection=Collection(no_opt_out)
    )  # CN accounts only: no opt-out needed
    accounts.open_account(
        engine, "U1", date(2026, 1, 7), 500_000, overrides={"rulebook": "us"}, timezone="America/New_York"
    )
    with pytest.raises(InvalidInput, match=r"under the us rulebook: .*lint\.opt_out"):
        run_eod(engine, date(2026, 1, 8), collection=Collection(no_opt_out))
