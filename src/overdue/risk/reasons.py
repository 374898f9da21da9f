"""Reason codes: stable identifiers for every risk decision, with their text in Chinese and English.

A decision carries codes (``SCORE_BAND``, ``THIN_FILE_FLOOR``, ``RAISE_ON_TIME`` …), never prose, so that the
codes can be counted, tested and shown in either language. A code for a model feature is
``<KIND>:<feature>`` (for instance ``LOW_POINTS:duration_in_month``); its text names the feature.
"""

from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
    # limit assignment
    "SCORE_BAND": ("按评分区间核定额度", "limit from the score band"),
    "DECLINED_LOW_SCORE": ("评分低于准入线，拒绝", "declined: score below the lowest band"),
    "THIN_FILE_FLOOR": ("信用记录不足，给予最低额度", "thin credit file: floor limit"),
    "INCOME_CAP": ("额度不超过申报月收入的倍数", "limit capped at a multiple of stated monthly income"),
    "INCOME_CAP_BELOW_MINIMUM": (
        "收入上限低于最低额度，拒绝",
        "declined: income cap below the minimum limit",
    ),
    # limit review
    "RAISE_ON_TIME": ("连续按时还款且用度健康，提额", "raise: on-time cycles with healthy utilisation"),
    "RAISE_AT_MAXIMUM": ("已达最高额度", "already at the maximum limit"),
    "RAISE_CAPPED": ("提额受上限限制", "raise capped"),
    "RECENT_CHANGE": ("近期已调整额度，暂不提额", "no raise: the limit changed recently"),
    "CUT_NEAR_FULL_UTILISATION": ("持续接近满额使用，降额", "cut: persistent near-full utilisation"),
    "CUT_MINIMUM_ONLY": ("多次仅还最低还款额，降额", "cut: repeated minimum-only payments"),
    "CUT_AT_MINIMUM": ("已是最低额度，无法再降", "already at the minimum limit"),
    "CUT_LIMITED_BY_BALANCE": ("降额不低于已用额度", "cut only down to what is owed"),
    "CUT_BELOW_BALANCE": ("已用额度不低于现额度，暂不降额", "no cut: what is owed is not below the limit"),
    "FREEZE_DELINQUENT": ("逾期，冻结额度", "freeze: delinquent"),
    "FREEZE_STATUS": ("账户已冻结", "freeze: the line is frozen"),
    "CLOSE_SEVERE_DELINQUENCY": ("严重逾期，关闭额度", "close: severe delinquency"),
    "CLOSE_STATUS": ("账户已关闭或核销", "close: the line is closed or written off"),
    "KEEP": ("额度不变", "no change"),
    "NOT_ENOUGH_HISTORY": ("还款记录不足", "not enough statement history"),
    # scores
    "LOW_POINTS": ("该项得分偏低", "low points on"),
    "RAISES_RISK": ("该项推高风险", "raises risk:"),
    "LOWERS_PROPENSITY": ("该项降低还款可能", "lowers propensity to pay:"),
}
"""Code → (zh-CN text, English text)."""


def reason_text(code: str, language: str = "en") -> str:
    """The text of ``code`` (``KIND:feature`` codes name the feature) in ``en`` or ``zh``."""
    kind, _, feature = code.partition(":")
    zh, en = REASONS.get(kind, (kind, kind))
    text = zh if language == "zh" else en
    return f"{text} {feature}" if feature else text
