"""Request bodies of the operations endpoints (Pydantic): a malformed body is a 422 problem.

As in :mod:`overdue.api.schemas`, amounts are yuan strings (``"100.00"``), never JSON numbers, and unknown
fields are refused. A ``date`` left out means the current business date (the day after the last end-of-day).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field

from overdue.api.schemas import Body, Yuan
from overdue.domain.collections import CONTACT_OUTCOMES
from overdue.domain.errors import InvalidAmount
from overdue.domain.money import parse_yuan
from overdue.operations.legal import EVENT_KINDS, OUTCOMES

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
"""A collector, agency or sale id: 1 to 64 characters, no control characters."""
Text = Annotated[str, Field(min_length=1, max_length=2000)]
DocumentRef = Annotated[str, Field(min_length=1, max_length=200)]


def _cost(value: str) -> str:
    try:
        parse_yuan(value, field="cost")
    except InvalidAmount as error:
        raise ValueError(str(error)) from error
    return value


Cost = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples=["500.00"], description="Yuan, zero or more."),
    AfterValidator(_cost),
]


class DateRequest(Body):
    """A business date (default: the current one)."""

    date: dt.date | None = None


class ReassignRequest(Body):
    to: Id = Field(description="The collector who takes the case.")
    reason: Text
    date: dt.date | None = None


class AbsenceRequest(Body):
    date: dt.date
    reason: str | None = Field(default=None, max_length=500)


class PlanRoutesRequest(Body):
    date: dt.date | None = None
    team_size: int = Field(default=2, ge=2, le=10, description="Field agents per team (at least 2).")


def _plain_year(at: dt.datetime) -> dt.datetime:
    if not 1 < at.year < 9999:  # so that it converts to any time zone
        raise ValueError("a year between 2 and 9998")
    return at


class CloseFieldOrderRequest(Body):
    """A field visit's result: an order closes only with a recording reference and an outcome."""

    at: Annotated[dt.datetime, AfterValidator(_plain_year)] = Field(
        description="When; without an offset, the debtor's local time."
    )
    outcome: Annotated[str, Field(json_schema_extra={"enum": list(CONTACT_OUTCOMES)})]
    recording_ref: str = Field(min_length=1, max_length=200, description="The visit's recording (录音录像).")
    team: list[Id] | None = Field(default=None, max_length=20, description="Who went (default: the team).")
    note: str | None = Field(default=None, max_length=2000)


class OpenLegalRequest(Body):
    """A legal case starts with a lawyer's letter (律师函) on ``date``."""

    date: dt.date | None = None
    cost: Cost = "0.00"
    documents: list[DocumentRef] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=2000)


class LegalStepRequest(Body):
    step: Annotated[str, Field(json_schema_extra={"enum": list(EVENT_KINDS)})]
    date: dt.date | None = None
    cost: Cost = "0.00"
    documents: list[DocumentRef] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=2000)
    outcome: Annotated[str | None, Field(default=None, json_schema_extra={"enum": list(OUTCOMES)})] = None


class PlacementRequest(Body):
    """Place the accounts waiting for an agency that fit these rules."""

    date: dt.date | None = None
    min_days_past_due: int = Field(default=61, ge=0, le=10_000)
    min_balance: Yuan = "0.01"
    max_balance: Yuan | None = None
    term_days: int = Field(default=90, ge=1, le=3650)


class SaleSelectRequest(Body):
    """A debt sale's portfolio: accounts chosen by DPD, status and outstanding balance."""

    sale: Id
    buyer: str = Field(min_length=1, max_length=200)
    date: dt.date | None = None
    min_days_past_due: int = Field(default=0, ge=0, le=10_000)
    statuses: list[Annotated[str, Field(max_length=32)]] = Field(default_factory=list, max_length=10)
    min_balance: Yuan = "0.01"
    max_balance: Yuan | None = None


class ForwardedPaymentRequest(Body):
    """Money received on a sold account: owed to the sale's buyer, never posted to the ledger."""

    account_id: Id
    amount: Yuan
    reference: Id = Field(description="The payment's own reference (a bank or channel id); recorded once.")
    date: dt.date | None = None
