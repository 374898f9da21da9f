"""Request bodies of the relief endpoints, and their translation into the service's :class:`ReliefRequest`.

One body (:class:`QuoteRequest`) carries every option's parameters, as ``overdue relief quote`` does; which of
them matter depends on ``kind``, and the service names what a kind is missing. An acceptance is the same
terms plus the ``fingerprint`` the quote showed. Amounts are yuan strings; a plan's reduced rate is a decimal
string (``"0.005"`` a month), never a JSON number.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from overdue.api.schemas import Body, Yuan
from overdue.domain import relief_requests
from overdue.domain.calendar import parse_date
from overdue.domain.errors import InvalidAmount
from overdue.domain.money import parse_positive_yuan, parse_yuan
from overdue.domain.relief_common import KINDS
from overdue.services.relief import ReliefRequest


def _yuan_or_zero(value: str) -> str:
    try:
        parse_yuan(value)
    except InvalidAmount as error:
        raise ValueError(str(error)) from error
    return value


YuanOrZero = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples=["0.00"], description="Yuan, at most 2 places."),
    AfterValidator(_yuan_or_zero),
]

_KIND = Field(json_schema_extra={"enum": list(KINDS)}, description=f"One of {', '.join(KINDS)}.")


def _kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"unknown relief kind {value!r}; expected one of {', '.join(KINDS)}")
    return value


Kind = Annotated[str, _KIND, AfterValidator(_kind)]


class QuoteRequest(Body):
    """A relief option and its parameters (those another kind does not use are ignored)."""

    kind: Kind
    statement: str | None = Field(
        default=None,
        max_length=100,
        examples=["2026-02-01"],
        description="installments, deferral: the statement's date (YYYY-MM-DD) or id.",
    )
    periods: int | None = Field(default=None, ge=1, le=120, description="installments or plan payments.")
    days: int | None = Field(default=None, ge=1, le=366, description="deferral: days to move the due date.")
    amount: Yuan | None = Field(default=None, description="settlement: the agreed amount.")
    pay_by: dt.date | None = Field(default=None, description="settlement: the day it is paid by.")
    down_payment: YuanOrZero = Field(default="0.00", description="plan: the down payment.")
    monthly_rate: str | None = Field(
        default=None,
        pattern=r"^(0(\.[0-9]{1,6})?|1(\.0{1,6})?)$",
        examples=["0.005"],
        description="plan: a reduced monthly rate (default: the product's, which stops interest).",
    )
    waive_fees: bool = Field(default=True, description="plan: set the fees aside (needs approval).")
    waive_interest: bool = Field(default=False, description="plan: set the interest aside (needs approval).")
    interest: YuanOrZero = Field(default="0.00", description="waiver: the interest to waive.")
    fees: YuanOrZero = Field(default="0.00", description="waiver: the fees to waive.")
    reason: str | None = Field(default=None, max_length=500, description="waiver: why.")
    date: dt.date | None = Field(default=None, description="The business date (default: the current one).")

    def relief_request(self) -> ReliefRequest:
        """The service's request for these terms."""
        statement = self.statement
        return ReliefRequest(
            kind=self.kind,
            statement=(
                parse_date(statement, field="statement")
                if statement is not None and "/" not in statement
                else statement
            ),
            periods=self.periods,
            days=self.days,
            amount=None if self.amount is None else parse_positive_yuan(self.amount, field="amount"),
            pay_by=self.pay_by,
            down_payment=parse_yuan(self.down_payment, field="down_payment"),
            monthly_rate=None if self.monthly_rate is None else Decimal(self.monthly_rate),
            waive_fees=self.waive_fees,
            waive_interest=self.waive_interest,
            interest=parse_yuan(self.interest, field="interest"),
            fees=parse_yuan(self.fees, field="fees"),
            reason=self.reason,
        )


class AcceptRequest(QuoteRequest):
    """The terms of a quote and the fingerprint it showed: a balance changed since refuses it (409)."""

    fingerprint: str = Field(min_length=1, max_length=100, description="The quote's fingerprint.")


class ApproveRequest(Body):
    date: dt.date | None = Field(default=None, description="The business date (default: the current one).")


def _channel(value: str) -> str:
    if value not in relief_requests.CHANNELS:
        raise ValueError(f"unknown channel {value!r}; expected one of {', '.join(relief_requests.CHANNELS)}")
    return value


class ReliefAskRequest(Body):
    """A request for relief, to be answered within 7 working days; who asked is the authenticated user."""

    kind: Kind
    channel: Annotated[
        str, Field(json_schema_extra={"enum": list(relief_requests.CHANNELS)}), AfterValidator(_channel)
    ] = "app"
    note: str | None = Field(default=None, max_length=2000, description="What was asked.")
    date: dt.date | None = Field(default=None, description="The day it was made (default: the current one).")


class AnswerRequest(Body):
    status: Literal["approved", "refused", "withdrawn"]
    reason: str | None = Field(default=None, max_length=2000, description="Required for a refusal.")
    date: dt.date | None = Field(
        default=None, description="The day of the answer (default: the current one)."
    )
