"""Filling message templates: ``{placeholder}`` → the account's values, in zh-CN or English."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from overdue.domain.money import Fen, format_yuan

LENDER = {"zh-CN": "花呗", "en": "Huabei"}
REPAY_CHANNEL = {"zh-CN": "支付宝App-花呗还款", "en": "the Alipay app (Huabei > Repay)"}
CUSTOMER = {"zh-CN": "客户", "en": "customer"}


def placeholder_values(
    locale: str,
    *,
    name: str | None,
    amount: Fen,
    due_date: date | None,
    days_past_due: int,
    minimum: Fen,
    total_due: Fen,
    agency: str | None = None,
) -> dict[str, str]:
    return {
        "name": name or CUSTOMER[locale],
        "amount": format_yuan(amount),
        "due_date": due_date.isoformat() if due_date else "",
        "lender": LENDER[locale],
        "repay_channel": REPAY_CHANNEL[locale],
        "days_past_due": str(days_past_due),
        "minimum": format_yuan(minimum),
        "total_due": format_yuan(total_due),
        "agency": agency or "",
    }


def render(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``{name}`` replaced; the strategy loader has already checked the names."""
    return text.format_map(dict(values))
