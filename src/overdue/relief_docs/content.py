"""What an agreement says: every term of a plan or settlement, as sections of rows, in zh-CN or English.

:func:`agreement_document` turns the facts of one arrangement into an :class:`AgreementDocument` — the same
content for the HTML and the PDF, so the two can never say different things. The terms, in order:

1. the parties and the agreement's reference, date and status;
2. the balance owed when it was agreed and its structure (principal, interest, fees);
3. the schedule: each payment's date and amount (principal and the plan's interest), as yuan strings;
4. interest and fees while it is kept;
5. what is set aside or forgiven, and who approved it (maker and checker);
6. the breach terms: how late a payment may be before the plan is cancelled, and what follows;
7. the effect on the credit line and on the credit bureau report.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from overdue.domain.installments import annual_rate
from overdue.domain.money import Fen, format_yuan
from overdue.domain.relief_state import (
    ACTIVE,
    BROKEN,
    CANCELLED,
    COMPLETED,
    LAPSED,
    PENDING,
    PLAN,
    SETTLEMENT,
    Arrangement,
)

LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True)
class BalanceStructure:
    """What was owed when the arrangement was agreed, before anything was set aside (fen)."""

    principal: Fen
    interest: Fen
    """Interest of every kind, overdue interest included."""
    fees: Fen

    @property
    def total(self) -> Fen:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class AgreementFacts:
    """Everything an agreement states, gathered by the service."""

    account_id: str
    borrower: str | None
    """The borrower's name, when the account has a borrower on file."""
    arrangement: Arrangement
    balance: BalanceStructure


@dataclass(frozen=True)
class Section:
    """One part of the agreement: rows of (label, value), then a table (first row: headings), then clauses."""

    heading: str
    rows: tuple[tuple[str, str], ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    clauses: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgreementDocument:
    lang: str
    title: str
    reference: str
    sections: tuple[Section, ...]


def _t(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh-CN" else en


def _percent(rate: Decimal) -> str:
    """A fraction as a percentage with no trailing zeros: 0.005 → "0.5 %", 0.1825 → "18.25 %"."""
    text = f"{rate * 100:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


_STATUS = {
    PENDING: ("awaiting approval", "待审批"),
    ACTIVE: ("in force", "履行中"),
    COMPLETED: ("completed", "已履行完毕"),
    BROKEN: ("cancelled for breach", "因违约已终止"),
    LAPSED: ("lapsed (not paid by the date)", "已失效（未按期付款）"),
    CANCELLED: ("replaced before approval", "审批前已被替代"),
}


def schedule_rows(arrangement: Arrangement, lang: str) -> tuple[tuple[str, ...], ...]:
    """The schedule as a table: a heading row, one row per payment, and a total row; amounts in yuan."""
    header = (
        _t(lang, "No.", "期数"),
        _t(lang, "Due date", "还款日"),
        _t(lang, "Principal", "本金"),
        _t(lang, "Interest", "利息"),
        _t(lang, "Amount", "应还金额"),
    )
    rows = [
        (
            _t(lang, "down payment", "首付") if p.number == 0 else str(p.number),
            p.due_date.isoformat(),
            format_yuan(p.principal),
            format_yuan(p.interest),
            format_yuan(p.amount),
        )
        for p in arrangement.schedule
    ]
    total = (
        _t(lang, "Total", "合计"),
        "",
        format_yuan(sum(p.principal for p in arrangement.schedule)),
        format_yuan(sum(p.interest for p in arrangement.schedule)),
        format_yuan(arrangement.amount),
    )
    return (header, *rows, total)


def _parties(facts: AgreementFacts, lang: str) -> Section:
    a = facts.arrangement
    en_status, zh_status = _STATUS.get(a.status, (a.status, a.status))
    rows = [
        (_t(lang, "Agreement no.", "协议编号"), a.id),
        (_t(lang, "Borrower", "借款人"), facts.borrower or "—"),
        (_t(lang, "Credit account", "信用账户"), facts.account_id),
        (_t(lang, "Agreed on", "协议日期"), a.agreed_on.isoformat()),
        (_t(lang, "Status", "状态"), _t(lang, en_status, zh_status)),
    ]
    if a.started_on is not None:
        rows.append((_t(lang, "In force from", "生效日期"), a.started_on.isoformat()))
    if a.ended_on is not None:
        rows.append((_t(lang, "Ended on", "终止日期"), a.ended_on.isoformat()))
    return Section(_t(lang, "1. Parties and agreement", "一、协议双方"), rows=tuple(rows))


def _balance(facts: AgreementFacts, lang: str) -> Section:
    b = facts.balance
    return Section(
        _t(lang, "2. The balance owed and its structure", "二、欠款金额及构成"),
        rows=(
            (_t(lang, "Principal", "本金"), format_yuan(b.principal)),
            (_t(lang, "Interest (overdue interest included)", "利息（含逾期利息）"), format_yuan(b.interest)),
            (_t(lang, "Fees", "费用"), format_yuan(b.fees)),
            (_t(lang, "Total owed when agreed", "协议时欠款总额"), format_yuan(b.total)),
        ),
        clauses=(
            _t(
                lang,
                "Amounts are in yuan (CNY), as they stood on the day of agreement, "
                "before anything was set aside.",
                "金额单位为人民币元，为协议当日、挂账或减免之前的欠款余额。",
            ),
        ),
    )


def _schedule(facts: AgreementFacts, lang: str) -> Section:
    a = facts.arrangement
    if a.kind == SETTLEMENT:
        payment = a.schedule[-1]
        clause = _t(
            lang,
            f"The borrower pays {format_yuan(payment.amount)} yuan in one or more repayments on or before "
            f"{payment.due_date.isoformat()}.",
            f"借款人须于{payment.due_date.isoformat()}（含）前一次或分次还款合计{format_yuan(payment.amount)}元。",
        )
    else:
        monthly = [p for p in a.schedule if p.number > 0]
        clause = _t(
            lang,
            f"{len(monthly)} monthly payments"
            + (", after the down payment" if len(monthly) < len(a.schedule) else "")
            + ". Every repayment counts toward the schedule, payments in order; paying early is allowed.",
            f"共{len(monthly)}期按月还款"
            + ("（另有首付）" if len(monthly) < len(a.schedule) else "")
            + "。每笔还款按期次顺序计入还款计划，可提前还款。",
        )
    return Section(
        _t(lang, "3. Repayment schedule", "三、还款计划"), table=schedule_rows(a, lang), clauses=(clause,)
    )


def _interest_and_fees(facts: AgreementFacts, lang: str) -> Section:
    a = facts.arrangement
    if a.kind == SETTLEMENT:
        return Section(
            _t(lang, "4. Interest and fees", "四、利息和费用"),
            clauses=(
                _t(
                    lang,
                    "While the settlement is pending no interest accrues and no fees are charged.",
                    "协商结清期间不计利息，不收取任何费用。",
                ),
            ),
        )
    plan_interest = sum(p.interest for p in a.schedule)
    financed = sum(p.principal for p in a.schedule if p.number > 0)
    monthly = [p.amount for p in a.schedule if p.number > 0]
    rows: list[tuple[str, str]] = [
        (_t(lang, "Plan interest rate", "分期利率"), _percent(a.monthly_rate) + _t(lang, " a month", "/月")),
        (_t(lang, "Plan interest in total", "分期利息合计"), format_yuan(plan_interest)),
    ]
    if financed and plan_interest:
        rows.append(
            (
                _t(lang, "Annualised rate (monthly IRR × 12)", "年化利率（月内部收益率×12）"),
                _percent(annual_rate(financed, monthly)),
            )
        )
    stopped = a.monthly_rate == 0
    return Section(
        _t(lang, "4. Interest and fees during the plan", "四、分期期间的利息和费用"),
        rows=tuple(rows),
        clauses=(
            _t(
                lang,
                "Interest is stopped while the plan is kept."
                if stopped
                else "The plan's interest is the monthly rate on what is left to repay, charged as each "
                "month begins, as shown in the schedule; no other interest accrues.",
                "履约期间停止计息。"
                if stopped
                else "分期利息按月利率乘以剩余应还本金计算，于每月开始时计收，"
                "金额见还款计划；不另计其他利息。",
            ),
            _t(
                lang,
                "No fees are charged while the plan is kept, "
                "and installment fees not yet billed are not billed.",
                "履约期间不收取任何费用，尚未入账的分期手续费不再入账。",
            ),
        ),
    )


def _waived(facts: AgreementFacts, lang: str) -> Section:
    a = facts.arrangement
    if a.kind == SETTLEMENT:
        rows = [
            (_t(lang, "Forgiven once the agreed amount is paid", "按约还款后减免"), format_yuan(a.waived))
        ]
        clause = _t(
            lang,
            "The rest of the balance is forgiven only when the agreed amount has been paid in full "
            "by the date.",
            "借款人按期足额还款后，剩余欠款予以减免。",
        )
    else:
        fees = a.waived - a.waived_interest
        rows = [
            (_t(lang, "Interest set aside", "挂账利息"), format_yuan(a.waived_interest)),
            (_t(lang, "Fees set aside", "挂账费用"), format_yuan(fees)),
        ]
        clause = _t(
            lang,
            "What is set aside is taken off the balance when the plan takes effect and forgiven for good "
            "when the plan is completed; if the plan is cancelled for breach it is owed again.",
            "挂账金额自协议生效时从欠款中扣除，履约完毕后正式减免；如因违约终止，挂账金额恢复计入欠款。",
        )
    rows.append((_t(lang, "Requested by", "申请人"), a.maker))
    if a.waived == 0:
        approval = _t(lang, "not needed (nothing forgiven)", "无需审批（无减免）")
    elif a.approver is None:
        approval = _t(lang, "awaiting approval", "待审批")
    else:
        approval = f"{a.approver} ({a.approver_role})" if a.approver_role else a.approver
    rows.append((_t(lang, "Approved by", "审批人"), approval))
    return Section(
        _t(lang, "5. What is set aside or forgiven, and its approval", "五、挂账、减免及审批"),
        rows=tuple(rows),
        clauses=(clause,),
    )


def breach_clause(arrangement: Arrangement, lang: str) -> str:
    """What breaks the arrangement and what follows, in one paragraph."""
    if arrangement.kind == SETTLEMENT:
        day = arrangement.schedule[-1].due_date.isoformat()
        return _t(
            lang,
            f"If the agreed amount is not paid in full by {day}, the settlement lapses the next day: "
            "nothing is forgiven, everything owed on the open statements is due at once, interest and "
            "days past due resume where they stood, and collection resumes.",
            f"如未于{day}前足额还款，协商结清自次日起失效：不予减免，已出账单的全部欠款立即到期，"
            "利息和逾期天数从原处继续计算，并恢复催收。",
        )
    return _t(
        lang,
        f"If any payment is more than {arrangement.breach_days} days late, the plan is cancelled that day: "
        "the interest and fees set aside are owed again, everything owed on the open statements is due at "
        "once, interest resumes at the normal rates, days past due resume where they stopped, and collection "
        "resumes one stage higher than before the plan.",
        f"任一期还款逾期超过{arrangement.breach_days}天，本协议即于当日终止：挂账的利息和费用恢复计入欠款，"
        "已出账单的全部欠款立即到期，按正常利率恢复计息，逾期天数从原处继续计算，催收恢复并提升一级。",
    )


def _breach(facts: AgreementFacts, lang: str) -> Section:
    return Section(_t(lang, "6. Breach", "六、违约条款"), clauses=(breach_clause(facts.arrangement, lang),))


def _line_and_bureau(facts: AgreementFacts, lang: str) -> Section:
    a = facts.arrangement
    if a.kind == SETTLEMENT:
        line = _t(lang, "The account closes once the agreed amount is paid.", "按约还款后账户关闭。")
        bureau = _t(
            lang,
            "Once paid, the credit bureau is told the account was settled for less than owed (status G).",
            "按约还清后，向征信机构报送为“协商结清”（G）。",
        )
    else:
        after_en = "closed for good" if a.closes_line else "usable again"
        after_zh = "永久关闭" if a.closes_line else "恢复使用"
        line = _t(
            lang,
            f"The credit line is closed while the plan is kept and is {after_en} once it is completed.",
            f"履约期间信用额度关闭，履约完毕后额度{after_zh}。",
        )
        bureau = _t(
            lang,
            "While the plan is kept, days past due and the monthly credit-bureau status stay as they were "
            "the day the plan took effect"
            + ("; once completed the account is reported closed (C)." if a.closes_line else ".")
            + " If the plan is cancelled they resume.",
            "履约期间，逾期天数和征信月度状态保持协议生效当日的状态"
            + ("；履约完毕后报送为“销户”（C）。" if a.closes_line else "。")
            + "协议终止后恢复计算。",
        )
    return Section(_t(lang, "7. Credit line and credit bureau", "七、信用额度和征信"), clauses=(line, bureau))


def agreement_document(facts: AgreementFacts, lang: str) -> AgreementDocument:
    """The agreement of ``facts.arrangement`` in ``lang`` (``zh-CN`` or ``en``)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    kind = facts.arrangement.kind
    if kind not in (PLAN, SETTLEMENT):
        raise ValueError(f"no agreement for {kind!r}")
    title = (
        _t(lang, "Negotiated repayment plan agreement", "个性化分期还款协议")
        if kind == PLAN
        else _t(lang, "Settlement agreement", "协商结清协议")
    )
    return AgreementDocument(
        lang=lang,
        title=title,
        reference=facts.arrangement.id,
        sections=(
            _parties(facts, lang),
            _balance(facts, lang),
            _schedule(facts, lang),
            _interest_and_fees(facts, lang),
            _waived(facts, lang),
            _breach(facts, lang),
            _line_and_bureau(facts, lang),
        ),
    )
