"""Strategies segmenting on the ``behaviour_score`` fact, and a small portfolio to run them on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from overdue.engine.reference import Collection, EodSummary
from overdue.engine.reference import run_eod as reference_run_eod
from overdue.services import accounts
from overdue.strategy import Strategy, parse_strategy

OPENED = date(2026, 1, 5)
FIRST_MONTH_END = date(2026, 1, 31)
REMINDER_DAY = date(2026, 2, 6)
"""Three days before the first statement's due date (2026-02-09)."""

WATCH = """\
strategy: behaviour_watch
description: a reminder SMS three days before the due date, only for accounts under a behaviour score
parameters: {{limit: {limit}}}
templates:
  reminder: {{zh-CN: "【{{lender}}】您的账单{{amount}}元即将到期，请通过{{repay_channel}}还款。",
              en: "{{lender}}: {{amount}} CNY falls due soon. Please repay through {{repay_channel}}."}}
stages:
  - name: watch
    when: {{days_to_due: 3, behaviour_score: {{max: $limit}}}}
    treatments:
      - {{id: watch_sms, type: sms, template: reminder}}
"""
"""An SMS on the day three days before the due date for accounts whose behaviour score is at most
``limit``; accounts without a score (before their first month end) match no stage."""

ON_DAY = """\
strategy: behaviour_on_day
description: an SMS on one day for accounts under a behaviour score
templates:
  notice: {{zh-CN: "【{{lender}}】请通过{{repay_channel}}还款。",
            en: "{{lender}}: please repay through {{repay_channel}}."}}
stages:
  - name: watch
    when: {{on: {on}, behaviour_score: {{max: {limit}}}}}
    treatments:
      - {{id: watch_sms, type: sms, template: notice}}
"""
"""An SMS on the date ``on`` for every account needing a decision whose behaviour score is at most
``limit``."""


def watch(limit: int) -> Strategy:
    return parse_strategy(WATCH.format(limit=limit), name="behaviour_watch")


def run_eod(engine: Engine, through: date, strategy: Strategy | None = None) -> EodSummary:
    """The reference end-of-day through ``through`` with ``strategy`` (default: the shipped one)."""
    return reference_run_eod(engine, through, collection=None if strategy is None else Collection(strategy))


def two_accounts(engine: Engine) -> None:
    """H1 spends 90 % of its line, L1 10 %: H1's behaviour score is the lower (utilisation raises risk)."""
    accounts.open_account(engine, "H1", OPENED, 500_000)
    accounts.open_account(engine, "L1", OPENED, 500_000)
    run_eod(engine, date(2026, 1, 9))
    accounts.purchase(engine, "H1", 450_000, on=date(2026, 1, 10))
    accounts.purchase(engine, "L1", 50_000, on=date(2026, 1, 10))
