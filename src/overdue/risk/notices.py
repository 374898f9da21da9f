"""The notice a borrower is sent when the limit review changes their line — a raise, a cut, a freeze or a
close — in the borrower's language (zh-CN or English; :func:`notice_locale`).

The texts pass the same template lint as collection messages (:mod:`overdue.compliance.lint`, under the
``cn`` and ``us`` rulebooks): they name the lender and the official app, state an amount (``{amount}`` is the
new limit) and carry an opt-out line. A cut is announced before it takes effect (``{effective_on}``) with
its reasons. A freeze and a close keep the limit (:func:`overdue.risk.review.review_limit` decides them with
the limit unchanged), so ``{amount}`` is the limit the line keeps: a freeze says the line cannot be used from
``{effective_on}`` because something is overdue, and that it is usable again once everything overdue is
repaid (the product's own unfreeze rule, :mod:`overdue.domain.delinquency`); a close says the line is closed
for good and that what is owed is still to be repaid. These notices are the review's; the collection
messages about the overdue statement go out as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from overdue.channels.templates import CUSTOMER, LENDER, REPAY_CHANNEL
from overdue.compliance.lint import LintProblem, TemplateUse, lint
from overdue.domain.money import Fen, format_yuan
from overdue.domain.state import DEFAULT_LANGUAGE
from overdue.risk.reasons import reason_text

NOTICE_CHANNEL = "sms"
NOTICE_TREATMENT = "limit_notice"
NOTICE_STAGE = "limit_review"
"""A notice is an action of this treatment and stage (type :data:`NOTICE_CHANNEL`), whoever sends it: the
end-of-day, the set-based review, the simulator."""

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "limit_raise": {
        "zh-CN": "【{lender}】{name}您好，感谢您一直按时还款，您的额度已由{old_limit}元提升至{amount}元，"
        "{effective_on}起生效，可在{repay_channel}查看。回TD退订",
        "en": "{lender}: Hello {name}, thank you for repaying on time. Your credit limit has been raised "
        "from {old_limit} to {amount} CNY from {effective_on}; see {repay_channel}. Reply STOP to opt out.",
    },
    "limit_cut": {
        "zh-CN": "【{lender}】{name}您好，根据您近期的用信情况（{reasons}），您的额度将于{effective_on}起由"
        "{old_limit}元调整为{amount}元，可在{repay_channel}查看或联系客服。回TD退订",
        "en": "{lender}: Hello {name}, from {effective_on} your credit limit will change from {old_limit} to "
        "{amount} CNY ({reasons}). See {repay_channel} for details or to contact us. Reply STOP to opt out.",
    },
    "limit_freeze": {
        "zh-CN": "【{lender}】{name}您好，因您有款项逾期未还（{reasons}），"
        "您{amount}元的额度自{effective_on}起暂停使用；逾期款项全部还清后额度自动恢复，"
        "可在{repay_channel}办理。回TD退订",
        "en": "{lender}: Hello {name}, because a payment is overdue ({reasons}), your credit limit of "
        "{amount} CNY cannot be used from {effective_on}. It is restored once everything overdue is repaid; "
        "see {repay_channel} to repay. Reply STOP to opt out.",
    },
    "limit_close": {
        "zh-CN": "【{lender}】{name}您好，您{amount}元的额度自{effective_on}起永久关闭（{reasons}），"
        "不能再使用；尚未还清的款项仍需归还，可在{repay_channel}办理。回TD退订",
        "en": "{lender}: Hello {name}, your credit line of {amount} CNY is closed for good from "
        "{effective_on} ({reasons}) and can no longer be used. What is still owed is to be repaid as "
        "before; see {repay_channel}. Reply STOP to opt out.",
    },
}
"""Template id → locale → text. ``{amount}`` is the new limit (for a freeze or close: the limit kept)."""

TEMPLATE_FOR = {"raise": "limit_raise", "cut": "limit_cut", "freeze": "limit_freeze", "close": "limit_close"}
"""Limit change action → its notice's template."""
FALLBACK_LOCALE = DEFAULT_LANGUAGE
"""The locale of a notice whose template has no text in the borrower's language (every template has it)."""


def notice_locale(template: str, language: str) -> str:
    """The locale ``template``'s notice is sent in to a borrower who reads ``language``: that language when
    the template has a text in it, else :data:`FALLBACK_LOCALE`."""
    return language if language in TEMPLATES[template] else FALLBACK_LOCALE


def notice_text(
    action: str,
    locale: str,
    *,
    old_limit: Fen,
    new_limit: Fen,
    effective_on: date,
    reasons: tuple[str, ...],
    name: str | None = None,
) -> str:
    """The notice of a ``raise``, ``cut``, ``freeze`` or ``close`` in ``locale`` (``zh-CN`` or ``en``).

    old_limit, new_limit: the change's limits (a freeze or close keeps the limit: both the same);
    effective_on: the day it takes effect; reasons: its reason codes; name: the borrower's name (else the
    locale's word for a customer)."""
    values = {
        "lender": LENDER[locale],
        "name": name or CUSTOMER[locale],
        "repay_channel": REPAY_CHANNEL[locale],
        "old_limit": format_yuan(old_limit),
        "amount": format_yuan(new_limit),
        "effective_on": effective_on.isoformat(),
        "reasons": reasons_shown(reasons, locale),
    }
    return TEMPLATES[TEMPLATE_FOR[action]][locale].format_map(values)


def reasons_shown(reasons: Sequence[str], locale: str) -> str:
    """The reasons a notice quotes: its raise and cut codes (all its codes when it has neither, as a freeze
    or a close has) in ``locale``'s language, joined as that language joins a list."""
    language = "zh" if locale == "zh-CN" else "en"
    shown = [c for c in reasons if c.startswith(("RAISE_", "CUT_"))] or list(reasons)
    return ("；" if language == "zh" else "; ").join(reason_text(c, language) for c in shown)


def lint_notices(rulebook: str = "cn") -> list[LintProblem]:
    """The lint's problems with the notice templates under ``rulebook`` (none are expected)."""
    uses = [TemplateUse(t, texts, NOTICE_CHANNEL, "debtor") for t, texts in TEMPLATES.items()]
    return lint(uses, set(), rulebook)
