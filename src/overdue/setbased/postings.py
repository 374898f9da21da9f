"""The day's ledger postings as rows: interest, write-offs and installment fees.

The same transactions as :mod:`overdue.domain.ledger` builds for one account, one posting per row (layout
:data:`~overdue.setbased.layout.POSTINGS`); a transaction is the postings of one (account, kind, statement
date), and :func:`overdue.setbased.convert.transactions_from_postings` rebuilds it. Kinds and ledger
accounts are codes (:mod:`~overdue.setbased.encode`), decoded when the rows are fetched; only a
write-off's memo is a string.
"""

from __future__ import annotations

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]

from overdue.domain.ledger import WRITTEN_OFF, LedgerAccount
from overdue.setbased import encode
from overdue.setbased.encode import CODE, DAY, ledger_code
from overdue.setbased.steps import Today, int_sum, left_join, principal


def _code(value: int | ir.IntegerValue) -> ir.IntegerValue:
    code: ir.IntegerValue = (ibis.literal(value) if isinstance(value, int) else value).cast(CODE)
    return code


def posting_rows(
    rows: ir.Table,
    day: Today,
    kind: int | ir.IntegerValue,
    statement_date: ir.IntegerValue,
    memo: ir.StringValue,
    order: int,
    ledger_account: int | ir.IntegerValue,
    amount: ir.IntegerValue,
) -> ir.Table:
    out: ir.Table = rows.select(
        account_key=rows.account_key,
        business_date=day.on.cast(DAY),
        kind=_code(kind),
        statement_date=statement_date.cast(DAY),
        memo=memo,
        posting_order=_code(order),
        ledger_account=_code(ledger_account),
        amount=amount.cast("int64"),
    )
    return out


def interest(accrued: ir.Table, day: Today) -> list[ir.Table]:
    """Dr ``interest``, Cr the interest's income, for every statement that posted interest today."""
    rows = accrued.filter((accrued.overdue_posted > 0) | (accrued.revolving_posted > 0))
    overdue = rows.overdue_posted > 0
    kind = overdue.ifelse(encode.OVERDUE_INTEREST, encode.REVOLVING_INTEREST)
    income = overdue.ifelse(
        ledger_code(LedgerAccount.OVERDUE_INTEREST_INCOME),
        ledger_code(LedgerAccount.REVOLVING_INTEREST_INCOME),
    )
    amount = rows.overdue_posted + rows.revolving_posted
    no_memo = ibis.null("string")
    return [
        posting_rows(
            rows, day, kind, rows.statement_date, no_memo, 0, ledger_code(LedgerAccount.INTEREST), amount
        ),
        posting_rows(rows, day, kind, rows.statement_date, no_memo, 1, income, -amount),
    ]


def write_off(
    aged: ir.Table, accrued: ir.Table, unbilled: ir.Table, periods: ir.Table, day: Today
) -> list[ir.Table]:
    """Every receivable of the accounts written off today moves to its ``written_off:*`` claim
    (:func:`overdue.domain.delinquency.write_off`): principal billed, unbilled and of future installments,
    interest and fees. Only the rows of those accounts (a few a day) are summed."""
    gone = aged.filter(aged.writes_off).select("account_key", "days_past_due")
    keys = gone.select("account_key")
    s = accrued.join(keys, "account_key")
    statement_sum = s.group_by("account_key").aggregate(
        statement_principal=int_sum(principal(s)),
        statement_interest=int_sum(s.interest + s.overdue_interest),
        statement_fees=int_sum(s.fees),
    )
    u = unbilled.join(keys, "account_key")
    unbilled_sum = u.group_by("account_key").aggregate(unbilled_principal=int_sum(u.principal))
    p = periods.join(keys, "account_key")
    plan_sum = p.group_by("account_key").aggregate(plan_principal=int_sum(p.principal, where=~p.billed))
    t = left_join(left_join(left_join(gone, statement_sum), unbilled_sum), plan_sum)
    t = t.mutate(
        written_principal=t.statement_principal.fill_null(0)
        + t.unbilled_principal.fill_null(0)
        + t.plan_principal.fill_null(0),
        written_interest=t.statement_interest.fill_null(0),
        written_fees=t.statement_fees.fill_null(0),
        memo_text=ibis.literal("written off at ") + t.days_past_due.cast("string") + " days past due",
    )
    kind = encode.WRITE_OFF
    no_date = ibis.null(DAY)
    out: list[ir.Table] = []
    for n, receivable in enumerate((LedgerAccount.PRINCIPAL, LedgerAccount.INTEREST, LedgerAccount.FEES)):
        column = f"written_{receivable.value}"
        rows = t.filter(t[column] != 0)
        claim = ledger_code(WRITTEN_OFF[receivable])
        memo = rows.memo_text
        out.append(posting_rows(rows, day, kind, no_date, memo, 2 * n, claim, rows[column]))
        out.append(
            posting_rows(rows, day, kind, no_date, memo, 2 * n + 1, ledger_code(receivable), -rows[column])
        )
    return out


def installment_fees(rows: ir.Table, day: Today) -> list[ir.Table]:
    """Dr ``fees``, Cr installment-fee income, for the installment fees billed on today's statements
    (``rows``: :func:`overdue.setbased.steps.installment_fees_billed`)."""
    kind = encode.INSTALLMENT_FEE
    no_memo = ibis.null("string")
    fee = rows.installment_fee
    income = ledger_code(LedgerAccount.INSTALLMENT_FEE_INCOME)
    return [
        posting_rows(rows, day, kind, day.on, no_memo, 0, ledger_code(LedgerAccount.FEES), fee),
        posting_rows(rows, day, kind, day.on, no_memo, 1, income, -fee),
    ]
