"""The month-end metrics from the database, with SQLAlchemy Core queries.

:func:`panel_from_database` reads the month-end rows of ``account_days`` (the simulator writes one per
account per month end; the end-of-day writes one per day, of which only month ends are read), the accounts'
opening dates, and ``collection_actions``; the result is the same :class:`~overdue.reports.metrics.Panel`
that :func:`~overdue.reports.metrics.panel_from_simulation` builds in memory, so every month-end metric
(bucket distribution, roll rates, vintages, actions by channel and their cost) can be computed from either.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
from sqlalchemy import Engine, func, select

from overdue.domain.calendar import is_month_end
from overdue.reports.metrics import BUCKETS, Panel, month_key
from overdue.store.account_tables import account_days, accounts
from overdue.store.collection_tables import collection_actions

NO_VARIANT = "all"


def panel_from_database(engine: Engine) -> Panel:
    """The month-end panel of every account in ``engine``'s database, accounts ordered by id."""
    with engine.connect() as conn:
        account_rows = list(conn.execute(select(accounts.c.id, accounts.c.opened_on).order_by(accounts.c.id)))
        days = sorted(
            d
            for d in conn.execute(select(account_days.c.business_date).distinct()).scalars()
            if is_month_end(d)
        )
        position = {row.id: i for i, row in enumerate(account_rows)}
        column = {d: j for j, d in enumerate(days)}
        bucket = np.full((len(account_rows), len(days)), -1, dtype=np.int8)
        if days:
            for account_id, on, name in conn.execute(
                select(account_days.c.account_id, account_days.c.business_date, account_days.c.bucket).where(
                    account_days.c.business_date.in_(days)
                )
            ):
                bucket[position[account_id], column[on]] = BUCKETS.index(name)
        actions: Counter[tuple[str, str, str, str]] = Counter()
        for action_type, stage, variant, status, count in conn.execute(
            select(
                collection_actions.c.type,
                collection_actions.c.stage,
                collection_actions.c.variant,
                collection_actions.c.status,
                func.count(),
            ).group_by(
                collection_actions.c.type,
                collection_actions.c.stage,
                collection_actions.c.variant,
                collection_actions.c.status,
            )
        ):
            key = (action_type, stage, variant or NO_VARIANT, "refused" if status == "refused" else "allowed")
            actions[key] += int(count)
    opened: list[str] = [month_key(row.opened_on) for row in account_rows]
    month_ends: list[date] = list(days)
    return Panel(month_ends=month_ends, bucket=bucket, opened=opened, actions=actions)
