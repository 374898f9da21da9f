"""Request bodies, validated by Pydantic before any use case runs: a malformed body is a 422 problem.

Amounts are yuan strings with at most two places (``"100.00"``); a JSON number is refused, so no float ever
carries money. Unknown fields are refused too, so a misspelt field is an error rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from overdue.domain.collections import CONTACT_CHANNELS, CONTACT_OUTCOMES, CONTACT_PARTIES
from overdue.domain.errors import InvalidAmount
from overdue.domain.money import parse_positive_yuan


def _positive_yuan(value: str) -> str:
    try:
        parse_positive_yuan(value)
    except InvalidAmount as error:
        raise ValueError(str(error)) from error
    return value


Yuan = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$", examples=["100.00"], description="Yuan, at most 2 places."
    ),
    AfterValidator(_positive_yuan),
]


def _one_of(values: tuple[str, ...], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(values)}")
        return value

    return AfterValidator(check)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginRequest(Body):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class BorrowerIn(Body):
    """The borrower who owes a new account (all of a person's accounts share one borrower)."""

    name: str = Field(min_length=1, max_length=100, examples=["张三"])
    phone: str = Field(pattern=r"^1[3-9][0-9]{9}$", examples=["13812341234"])
    national_id: str = Field(pattern=r"^[0-9]{17}[0-9X]$", examples=["110101199001011234"])
    address: str = Field(min_length=1, max_length=500, examples=["北京市朝阳区建国路88号"])


class OpenAccountRequest(Body):
    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", examples=["A1"])
    opened_on: dt.date
    credit_limit: Yuan
    product: str = Field(default="huabei", max_length=32)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    language: str = Field(
        default="zh-CN",
        max_length=16,
        description="The borrower's language, in which every notice is sent: zh-CN or en.",
        examples=["zh-CN", "en"],
    )
    borrower: BorrowerIn | None = None


class MoneyRequest(Body):
    """A purchase or a repayment; ``date`` left out means the account's current business date."""

    amount: Yuan
    date: dt.date | None = None


class PurchaseRequest(MoneyRequest):
    """A purchase; with ``installments``, in that many monthly purchase installments (消费分期)."""

    installments: int | None = Field(
        default=None,
        strict=True,
        examples=[6],
        description="Number of periods (3, 6, 9 or 12 for huabei); left out: a plain purchase.",
    )


class PromiseRequest(Body):
    amount: Yuan
    due_on: dt.date
    date: dt.date | None = Field(
        default=None, description="When it is made (default: current business date)."
    )


class DisputeRequest(Body):
    status: Literal["open", "resolved"]
    date: dt.date | None = None


class ContactRequest(Body):
    """A contact attempt; it is checked against the rulebook first and refused (409) when a rule says no."""

    at: dt.datetime = Field(description="When; without an offset it is the debtor's local time.")
    channel: Annotated[
        str, Field(json_schema_extra={"enum": list(CONTACT_CHANNELS)}), _one_of(CONTACT_CHANNELS, "channel")
    ]
    party: Annotated[
        str, Field(json_schema_extra={"enum": list(CONTACT_PARTIES)}), _one_of(CONTACT_PARTIES, "party")
    ]
    outcome: Annotated[
        str, Field(json_schema_extra={"enum": list(CONTACT_OUTCOMES)}), _one_of(CONTACT_OUTCOMES, "outcome")
    ]
    note: str | None = Field(default=None, max_length=2000)
    collectors: int | None = Field(default=None, ge=1, le=20, description="Field visits: the team's size.")
    recording_ref: str | None = Field(
        default=None, max_length=200, description="Field visits: the recording."
    )
