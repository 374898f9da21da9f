"""Agreement documents: gather a plan's or settlement's facts from the store and render them.

The balance and its structure are those of the day of agreement, read from the journal: the receivables
(principal, interest, fees, or their ``written_off:*`` claims) as posted through that business date, less the
arrangement's own postings (its set-aside waiver, its plan interest, its completion or breach). Their total is
checked against what the arrangement restructured plus what it sets aside or forgives; if they differ — a
repayment made later on the day of agreement, once the arrangement was in force — the document is refused
rather than printed with a structure that does not add up (``relief.agreement.balance_unknown``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, and_, func, not_, or_, select

from overdue.domain.errors import InvalidInput, NotFound
from overdue.domain.ledger import LedgerAccount
from overdue.domain.money import format_yuan
from overdue.domain.relief_common import refuse
from overdue.domain.relief_state import CANCELLED, Arrangement
from overdue.relief_docs.content import LANGUAGES, AgreementFacts, BalanceStructure, agreement_document
from overdue.relief_docs.html import render_html
from overdue.relief_docs.pdf import render_pdf
from overdue.store import audit_trail, relief_repository
from overdue.store.api_tables import borrower_accounts, borrowers
from overdue.store.schema import ledger_postings, ledger_transactions

FORMATS = ("html", "pdf")

_PARTS = {
    "principal": (LedgerAccount.PRINCIPAL, LedgerAccount.WRITTEN_OFF_PRINCIPAL),
    "interest": (LedgerAccount.INTEREST, LedgerAccount.WRITTEN_OFF_INTEREST),
    "fees": (LedgerAccount.FEES, LedgerAccount.WRITTEN_OFF_FEES),
}


def _balance_when_agreed(conn: Connection, arrangement: Arrangement, account_id: str) -> BalanceStructure:
    t = ledger_transactions
    own = and_(
        t.c.business_date == arrangement.agreed_on,
        t.c.memo.is_not(None),
        or_(
            t.c.memo.contains(arrangement.id, autoescape=True),
            and_(t.c.kind == "revolving_interest", t.c.memo.like("plan interest%")),
        ),
    )
    rows = conn.execute(
        select(ledger_postings.c.ledger_account, func.sum(ledger_postings.c.amount_fen))
        .join(t, t.c.id == ledger_postings.c.transaction_id)
        .where(
            t.c.account_id == account_id,
            t.c.business_date <= arrangement.agreed_on,
            not_(own),
        )
        .group_by(ledger_postings.c.ledger_account)
    )
    balances = {str(name): int(total) for name, total in rows}
    parts = {part: sum(balances.get(str(a), 0) for a in accounts) for part, accounts in _PARTS.items()}
    structure = BalanceStructure(parts["principal"], parts["interest"], parts["fees"])
    # A plan restructures what is owed less what it sets aside; a settlement's one payment and what it
    # forgives make up everything owed. Either way: the schedule's principal plus ``waived``.
    agreed_total = sum(p.principal for p in arrangement.schedule) + arrangement.waived
    if structure.total != agreed_total:
        raise refuse(
            "relief.agreement.balance_unknown",
            f"the journal shows {format_yuan(structure.total)} owed on {arrangement.agreed_on}, not the "
            f"{format_yuan(agreed_total)} {arrangement.id} was agreed on",
        )
    return structure


def agreement_facts(engine: Engine, account_id: str, arrangement_id: str) -> AgreementFacts:
    """The facts of one of the account's plans or settlements (a cancelled one has no agreement)."""
    with engine.connect() as conn:
        arrangement = next(
            (a for a in relief_repository.arrangements_of(conn, account_id) if a.id == arrangement_id), None
        )
        if arrangement is None:
            raise NotFound(f"account {account_id} has no plan or settlement {arrangement_id}")
        if arrangement.status == CANCELLED:
            raise refuse(
                "relief.agreement.cancelled",
                f"{arrangement_id} was replaced before it was approved; it has no agreement",
            )
        borrower = conn.execute(
            select(borrowers.c.name)
            .join(borrower_accounts, borrower_accounts.c.borrower_id == borrowers.c.id)
            .where(borrower_accounts.c.account_id == account_id)
        ).scalar()
        balance = _balance_when_agreed(conn, arrangement, account_id)
    return AgreementFacts(account_id, None if borrower is None else str(borrower), arrangement, balance)


def render_agreement(engine: Engine, account_id: str, arrangement_id: str, fmt: str, lang: str) -> bytes:
    """The agreement ``arrangement_id`` as ``fmt`` (``html`` or ``pdf``) in ``lang`` (``zh-CN``, ``en``)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if lang not in LANGUAGES:
        raise InvalidInput(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    document = agreement_document(agreement_facts(engine, account_id, arrangement_id), lang)
    if fmt == "html":
        return render_html(document).encode("utf-8")
    return render_pdf(document).data


def write_agreement(
    engine: Engine, account_id: str, arrangement_id: str, fmt: str, lang: str, out: Path
) -> dict[str, object]:
    """Render the agreement and write it to ``out``; returns what was written.

    The agreement names the borrower, so its reading is audited (before the file is written)."""
    data = render_agreement(engine, account_id, arrangement_id, fmt, lang)
    with engine.begin() as conn:
        detail = {"account": account_id, "format": fmt, "lang": lang}
        audit_trail.read(conn, "relief_agreement", arrangement_id, detail)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return {
        "account_id": account_id,
        "id": arrangement_id,
        "format": fmt,
        "lang": lang,
        "path": str(out),
        "bytes": len(data),
    }
