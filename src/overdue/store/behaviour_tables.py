"""The record of month-end behaviour scores (:mod:`overdue.risk.behaviour`).

One row per account and month end: the shipped behaviour model's score in whole scorecard points, its
probability of going 30+ DPD within 6 months in parts per million (integers: no floating-point column), the
model's version and its reason codes (space-separated, ``RAISES_RISK:<feature>``). The primary key (account,
month end) makes the scoring exactly-once: a repeated or resumed end-of-day records nothing twice. The
``behaviour_score`` strategy fact is the latest row on or before the business date.
"""

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text

from overdue.store.schema import metadata

PPM = 1_000_000

behaviour_scores = Table(
    "behaviour_scores",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("month_end", Date, primary_key=True),
    Column("score_points", Integer, nullable=False),
    Column("probability_bad_ppm", Integer, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("reasons", Text, nullable=False),
    CheckConstraint(f"probability_bad_ppm BETWEEN 0 AND {PPM}", name="probability_in_range"),
)
"""Every account's behaviour score at each month end it was on book."""
