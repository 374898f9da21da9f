"""Template lint: every message a strategy can send is checked against the rulebook before the strategy runs.

For each template, in each of its locales (zh-CN and English), the lint looks for:

- **banned content** — threats of violence, arrest or jail, insults, impersonating courts, police or
  government, shaming (telling employers, relatives or the public), and threats of actions the strategy does
  not plan (a lawsuit with no ``litigation`` treatment, a home visit with no ``field_visit`` treatment);
- **disclosure to third parties** — a template sent to a pre-agreed contact must not mention the debt, an
  amount or a due date: it may only ask the debtor to get in touch;
- **required content** — a message to the debtor names the lender (``{lender}``) and the official
  repayment channel (``{repay_channel}``) and states the amount (``{amount}`` or ``{minimum}`` /
  ``{total_due}``); under the US rulebook an electronic message also carries an opt-out line.

Each problem names the rule (``lint.banned_phrase``, ``lint.third_party_disclosure``,
``lint.required_content``, ``lint.opt_out``), the template, the locale and the phrase. The lists are data:
a lender can extend them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from overdue.strategy import Strategy

BANNED: Mapping[str, tuple[str, ...]] = {
    "zh-CN": (
        "坐牢",
        "拘留",
        "逮捕",
        "抓你",
        "公安",
        "警察",
        "派出所",
        "法院已",
        "法院传票",
        "检察院",
        "政府部门",
        "通知你单位",
        "通知单位",
        "你的单位",
        "告诉你家人",
        "通知家人",
        "通讯录",
        "曝光",
        "公开你",
        "老赖",
        "骗子",
        "无赖",
        "不要脸",
        "后果自负",
        "让你好看",
        "全家",
    ),
    "en": (
        "arrest",
        "jail",
        "prison",
        "police",
        "criminal",
        "court order",
        "warrant",
        "government agency",
        "your employer",
        "your family will",
        "your contacts will",
        "publicly",
        "deadbeat",
        "liar",
        "scum",
        "you will regret",
        "or else",
    ),
}
"""Phrases no collection message may contain (threats, impersonation, shaming, insults)."""

UNPLANNED_THREATS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "litigation": {"zh-CN": ("起诉", "诉讼", "法院"), "en": ("sue", "lawsuit", "court")},
    "field_visit": {"zh-CN": ("上门",), "en": ("visit your home", "home visit", "come to your")},
}
"""Action type → phrases that threaten it: allowed only when the strategy actually plans that action."""

DEBT_WORDS: Mapping[str, tuple[str, ...]] = {
    "zh-CN": ("欠款", "逾期", "账单", "还款", "{amount}", "{minimum}", "{total_due}", "{due_date}"),
    "en": (
        "debt",
        "overdue",
        "owe",
        "statement",
        "repay",
        "{amount}",
        "{minimum}",
        "{total_due}",
        "{due_date}",
    ),
}
"""What a message to a third party must not mention."""

AMOUNTS = ("{amount}", "{minimum}", "{total_due}")
OPT_OUT: Mapping[str, tuple[str, ...]] = {"zh-CN": ("退订",), "en": ("reply stop", "opt out", "unsubscribe")}
ELECTRONIC = frozenset({"sms", "push"})


@dataclass(frozen=True)
class TemplateUse:
    """A template as a strategy uses it: by which action type, to which party."""

    template: str
    texts: Mapping[str, str]
    action_type: str
    party: str


@dataclass(frozen=True)
class LintProblem:
    rule: str
    template: str
    locale: str
    phrase: str
    message: str

    def __str__(self) -> str:
        return f"template {self.template} ({self.locale}): {self.rule}: {self.message}"


def lint(uses: Iterable[TemplateUse], planned_actions: set[str], rulebook: str = "cn") -> list[LintProblem]:
    """Every problem of every template use; an empty list means the templates may be sent."""
    problems: list[LintProblem] = []
    for use in uses:
        for locale, text in use.texts.items():
            lowered = text.lower()
            found = [p for p in BANNED.get(locale, ()) if p.lower() in lowered]
            for action, phrases in UNPLANNED_THREATS.items():
                if action not in planned_actions:
                    found += [p for p in phrases.get(locale, ()) if p.lower() in lowered]
            for phrase in found:
                problems.append(
                    LintProblem("lint.banned_phrase", use.template, locale, phrase, f"contains {phrase!r}")
                )
            if use.party != "debtor":
                for phrase in (p for p in DEBT_WORDS.get(locale, ()) if p.lower() in lowered):
                    problems.append(
                        LintProblem(
                            "lint.third_party_disclosure",
                            use.template,
                            locale,
                            phrase,
                            f"sent to a {use.party} but mentions the debt ({phrase!r})",
                        )
                    )
                continue
            missing = [p for p in ("{lender}", "{repay_channel}") if p not in text]
            if not any(a in text for a in AMOUNTS):
                missing.append("{amount}")
            for phrase in missing:
                problems.append(
                    LintProblem(
                        "lint.required_content", use.template, locale, phrase, f"must contain {phrase}"
                    )
                )
            needs_opt_out = rulebook == "us" and use.action_type in ELECTRONIC
            if needs_opt_out and not any(p in lowered for p in OPT_OUT.get(locale, ())):
                problems.append(
                    LintProblem(
                        "lint.opt_out",
                        use.template,
                        locale,
                        "",
                        "an electronic message needs an opt-out line",
                    )
                )
    return problems


def strategy_uses(strategy: Strategy) -> list[TemplateUse]:
    """Every (template, action type, party) a strategy can send."""
    return [
        TemplateUse(t.template, strategy.templates[t.template].texts, t.type, t.party)
        for stage in strategy.stages
        for t in stage.treatments
        if t.template is not None and t.template in strategy.templates
    ]


def lint_strategy(strategy: Strategy, rulebook: str = "cn") -> list[LintProblem]:
    """Lint every template the strategy can send, against what the strategy plans."""
    planned = {t.type for stage in strategy.stages for t in stage.treatments}
    return lint(strategy_uses(strategy), planned, rulebook)
