"""Act over tables: what the day's decisions and verdicts change, and the outbox's messages.

The reference (:func:`overdue.engine.collect.collect`) records each planned action once per (account, date,
treatment), queues an allowed message in the outbox and allowed work in its queue, and saves the account's
collection state: the episode and promise reviews, the stage and escalation after the decision, the agency
after an allowed placement (``unassigned``, placed today) or recall (none). Over tables:

- :func:`collections_next`: the ``collections`` table after the day — the accounts that ran get their
  reviewed state (those decided, the placement of their last allowed placement or recall); the others keep
  their row; an account that ran with a new account's records has no row (the engine's table is sparse);
- :func:`promises_next`: promises past their date broken (``resolved_on`` today) for the accounts that ran;
- :func:`done_next`: the last date each treatment was done, with today's queued actions;
- :func:`messages` (at the edge, with Arrow compute, one template at a time): the outbox's rows of the
  allowed messages, their text filled in as :func:`overdue.channels.templates.render` fills it;
- :func:`work_items`: the work queues' rows of the allowed human and back-office actions.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.channels.templates import placeholder_values, render
from overdue.engine.collect import DEFAULT_LOCALE, UNASSIGNED_AGENCY
from overdue.setbased.collect_tables import ENGINE, HOLDS, NEW_RECORD
from overdue.setbased.encode import DAY, day_number
from overdue.setbased.steps import Today, left_join, written_as
from overdue.strategy.model import Strategy

MESSAGES = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("channel", pa.string(), nullable=False),
        pa.field("template", pa.string()),
        pa.field("locale", pa.string(), nullable=False),
        pa.field("body", pa.string(), nullable=False),
    ]
)
"""The outbox's rows: one per allowed message action (``treatment`` names the action it belongs to)."""
WORK = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("business_date", pa.date32(), nullable=False),
        pa.field("treatment", pa.string(), nullable=False),
        pa.field("queue", pa.string(), nullable=False),
        pa.field("priority", pa.int32(), nullable=False),
    ]
)
"""The work queues' rows: one per allowed action for people (calls, visits, agencies, legal, back office)."""
PLACING = ("agency_placement", "agency_recall")


def collections_next(
    decided: ir.Table, carried: ir.Table, actions: ir.Table, types: Sequence[str], day: Today
) -> ir.Table:
    """``collections`` after the day (the engine's columns), sparse as the engine keeps it: the accounts
    decided today (``decided``) with their reviewed records and the placement of their last allowed
    placement or recall, and the other rows (``carried``:
    :func:`~overdue.setbased.collect_decide.carried_records`, reviewed for the accounts that ran). The row
    of an account that ran is left out when its records are a new account's
    (:data:`~overdue.setbased.collect_tables.NEW_RECORD`): the accounts that ran are listed apart
    (:class:`~overdue.setbased.collect.Collector`), and their rows filled back in when the records are read
    out.

    actions: the day's actions by ``treatment_index`` (their texts are not in the engine); types: each
    treatment's type by index."""
    on = day.on
    placements = [n for n, kind in enumerate(types) if kind == "agency_placement"]
    recalls = [n for n, kind in enumerate(types) if kind == "agency_recall"]
    allowed = actions.filter(
        actions.refused_rule.isnull() & actions.treatment_index.isin(placements + recalls or [-1])
    )
    ranked = allowed.mutate(
        n=ibis.row_number().over(
            group_by=allowed.account_key, order_by=ibis.desc(order_key(allowed, len(types)))
        )
    )
    last = ranked.filter(ranked.n == 0).select(
        "account_key",
        placing=ibis.ifelse(
            ranked.treatment_index.isin(recalls or [-1]), "agency_recall", "agency_placement"
        ),
    )
    t = left_join(decided, last)
    placed = t.placing == "agency_placement"
    recalled = t.placing == "agency_recall"
    ran = _record(
        t,
        ibis.cases((placed, UNASSIGNED_AGENCY), (recalled, ibis.null("string")), else_=t.agency),
        ibis.cases((placed, on), (recalled, ibis.null(DAY)), else_=t.placed_on).cast(DAY),
    )
    others = _record(carried, carried.agency, carried.placed_on, ran=carried.ran)
    after: ir.Table = ibis.union(
        ran.filter(~new_record(ran)), others.filter(~others.ran | ~new_record(others)).drop("ran")
    )
    return after


ACTION_ORDER = ("priority", "treatment_index")
"""The order of an account's actions, which their positions number: by priority, file order among equals."""


def order_key(t: ir.Table, treatments: int) -> ir.IntegerValue:
    """One number that orders an account's actions as :data:`ACTION_ORDER` does (of ``treatments``
    treatments)."""
    priority, index = ACTION_ORDER
    key: ir.IntegerValue = t[priority].cast("int64") * treatments + t[index].cast("int64")
    return key


def new_record(t: ir.Table) -> ir.BooleanValue:
    """Whether each row of ``t`` (the engine's ``collections`` columns) is a new account's records
    (:data:`~overdue.setbased.collect_tables.NEW_RECORD`)."""
    same: ir.BooleanValue = ibis.literal(True)
    for f in ENGINE["collections"]:
        if f.name == "account_key":
            continue
        if f.name in NEW_RECORD:
            same = same & (t[f.name] == NEW_RECORD[f.name]).fill_null(False)
        else:
            same = same & t[f.name].isnull()
    return same


def _record(
    t: ir.Table, agency: ir.StringValue, placed_on: ir.IntegerValue, ran: ir.BooleanValue | None = None
) -> ir.Table:
    """A ``collections`` row of each row of ``t`` (reviewed records, as
    :func:`~overdue.setbased.collect_decide.account_facts` names them); ran: kept beside them as ``ran``."""
    schema = ENGINE["collections"]
    row = t.select(
        "account_key",
        "episode_started_on",
        stage=t.previous_stage,
        escalation=t.escalation,
        escalated_from=t.escalated_from,
        contactability=t.contactability,
        dispute_open=t.collection_dispute_open,
        litigation_hold=t.collection_litigation_hold,
        attempts=t.attempts,
        connects=t.connects,
        last_contact_on=t.last_contact_on,
        agency=agency,
        placed_on=placed_on,
        **{f"hold_{kind}": t[f"hold_{kind}"] for kind in HOLDS},
        validation_notice_on=t.validation_notice_on,
        **({} if ran is None else {"ran": ran}),
    )
    cast: ir.Table = row.select(
        **{f.name: written_as(row[f.name], ibis.dtype(f.type)) for f in schema},
        **({} if ran is None else {"ran": row.ran}),
    )
    return cast


def reviewed_promises(promises: ir.Table, day: Today, among: ir.BooleanValue | None = None) -> ir.Table:
    """``promises`` after today's review (:func:`overdue.domain.collections.review_promises`): one pending
    past its date is broken today (``status``, ``resolved_on``), marked ``breaks``. among: only the rows it
    holds for are reviewed (default: all)."""
    p = promises
    breaks = (p.status == "pending") & (day.on > p.due_on)
    if among is not None:
        breaks = among & breaks
    reviewed: ir.Table = p.mutate(
        breaks=breaks,
        status=ibis.ifelse(breaks, "broken", p.status),
        resolved_on=ibis.ifelse(breaks, day.on, p.resolved_on).cast(DAY),
    )
    return reviewed


def promises_next(promises: ir.Table, accounts: ir.Table, day: Today) -> ir.Table:
    """Promises of the accounts that ran, those pending past their date broken today."""
    ran = accounts.filter(accounts.last_eod == day.on)
    keys = ran.select(ran_key=ran.account_key, ran=ibis.literal(True))
    p = promises.left_join(keys, promises.account_key == keys.ran_key).drop("ran_key")
    after: ir.Table = reviewed_promises(p, day, among=p.ran.fill_null(False)).select(
        *ENGINE["promises"].names
    )
    return after


def done_next(done: ir.Table, actions: ir.Table, day: Today) -> ir.Table:
    """The last date each treatment was done, with today's queued actions.

    ``done`` holds the dates before today, so a treatment queued today is done last today: its old row is
    left out and today's put in (cheaper than taking the latest of the old and the new rows by group)."""
    allowed = actions.filter(actions.refused_rule.isnull())
    # An account has one action a treatment at most (its stage and combination meet each treatment's row
    # once: :func:`~overdue.setbased.collect_decide.planned_actions`), so the keys are not made distinct
    # (a grouping of the day's 2 M actions, a third of this query).
    queued = allowed.select(queued_key=allowed.account_key, queued_index=allowed.treatment_index)
    kept = done.anti_join(
        queued, (done.account_key == queued.queued_key) & (done.treatment_index == queued.queued_index)
    ).select("account_key", "treatment_index", "last_done")
    today = queued.select(
        account_key=queued.queued_key, treatment_index=queued.queued_index, last_done=day.on.cast(DAY)
    )
    after: ir.Table = ibis.union(kept, today)
    return after


@dataclass(frozen=True)
class Field:
    """One replacement field of a template's text."""

    name: str
    """The placeholder it quotes."""
    written: str | None
    """The field as written (``{amount:>10}``, ``{name!r}``) when it has a format spec or a conversion,
    which ``str.format`` applies to the placeholder's text; None for a plain ``{name}``."""
    reads: frozenset[str]
    """The placeholders its text depends on: its own, and those its format spec quotes
    (``{amount:>{days_past_due}}``)."""


def template_parts(
    strategy: Strategy, locale: str = DEFAULT_LOCALE
) -> dict[str, list[tuple[str, Field | None]]]:
    """Each template's text in ``locale`` (zh-CN where it has none) as (literal, field) pieces, split as
    ``str.format`` splits it."""
    parts: dict[str, list[tuple[str, Field | None]]] = {}
    for template in strategy.templates.values():
        pieces: list[tuple[str, Field | None]] = []
        text = template.texts.get(locale, template.texts[DEFAULT_LOCALE])
        for literal, name, spec, conversion in string.Formatter().parse(text):
            if name is None:
                pieces.append((literal, None))
            elif not spec and not conversion:
                pieces.append((literal, Field(name, None, frozenset([name]))))
            else:
                written = (
                    "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                )
                pieces.append((literal, Field(name, written, frozenset([name, *_spec_reads(spec or "")]))))
        parts[template.id] = pieces
    return parts


_FIELD_HEAD = re.compile(r"[^.\[]*")
"""The placeholder of a field name as ``str.format`` looks it up: before any ``.attribute`` or ``[index]``."""


def _spec_reads(spec: str) -> list[str]:
    """The placeholders the fields nested in a format spec quote (``>{days_past_due}``)."""
    try:
        nested = [name for _, name, _, _ in string.Formatter().parse(spec) if name is not None]
    except ValueError:  # str.format raises it when it fills the text in, as the reference's render does
        return []
    return [match.group(0) for name in nested if (match := _FIELD_HEAD.match(name))]


def quotes_agency(strategy: Strategy) -> bool:
    """Whether a message of ``strategy`` quotes ``{agency}`` (in its text or in a format spec, in any
    locale)."""
    return any(
        f is not None and "agency" in f.reads
        for locale in _locales(strategy)
        for pieces in template_parts(strategy, locale).values()
        for _, f in pieces
    )


def _locales(strategy: Strategy) -> list[str]:
    """Every locale a template of ``strategy`` has a text in, zh-CN first."""
    written = {locale for template in strategy.templates.values() for locale in template.texts}
    return [DEFAULT_LOCALE, *sorted(written - {DEFAULT_LOCALE})]


def with_quoted_agency(actions: ir.Table, strategy: Strategy) -> ir.Table:
    """``actions`` with ``quoted_agency``, the agency a message of each row quotes, when a template of
    ``strategy`` quotes ``{agency}`` (else ``actions`` as they are).

    The reference fills ``{agency}`` in with the agency as the account's earlier actions of the day leave
    it, one after the other (:func:`overdue.engine.collect.plan_collection`): the records' agency, until an
    allowed placement makes it ``unassigned`` or an allowed recall none (null; the text is then empty).
    Over tables: the last allowed placement or recall before the row in the account's order
    (:func:`order_key`), coded as the key times 2 plus 1 for a recall so that one windowed maximum finds it
    and says which it was.

    actions: the day's planned actions after compliance (``account_key``, ``priority``,
    ``treatment_index``, ``type``, ``refused_rule`` and the records' ``agency``)."""
    if not quotes_agency(strategy):
        return actions
    a = actions
    placing = a.refused_rule.isnull() & a.type.isin(list(PLACING))
    key = order_key(a, len(strategy.treatments))
    code = key * 2 + ibis.ifelse(a.type == "agency_recall", 1, 0)
    before = ibis.window(group_by=a.account_key, order_by=key, rows=(None, -1))
    t = a.mutate(placing_before=ibis.ifelse(placing, code, ibis.null("int64")).max().over(before))
    quoted: ir.Table = t.mutate(
        quoted_agency=ibis.cases(
            (t.placing_before.isnull(), t.agency),
            (t.placing_before % 2 == 0, ibis.literal(UNASSIGNED_AGENCY)),
            else_=ibis.null("string"),
        )
    ).drop("placing_before")
    return quoted


def _yuan(fen: pa.Array) -> pa.Array:
    """:func:`overdue.domain.money.format_yuan` over a column."""
    size = pc.abs(fen)
    whole = pc.cast(pc.divide(size, 100), pa.string())
    cents = pc.utf8_lpad(
        pc.cast(pc.subtract(size, pc.multiply(pc.divide(size, 100), 100)), pa.string()), 2, "0"
    )
    sign = pc.if_else(pc.less(fen, 0), pa.scalar("-"), pa.scalar(""))
    joined: pa.Array = pc.binary_join_element_wise(sign, whole, ".", cents, "")
    return joined


def messages(actions: pa.Table, on: date, strategy: Strategy, languages: pa.Table | None = None) -> pa.Table:
    """The outbox's rows of the allowed message actions, in the order of ``actions``, each in its
    borrower's language.

    actions: the day's action rows with the facts a text quotes (``overdue_balance``, ``total_due``,
    ``days_to_due``, ``days_past_due``, ``minimum_remaining``, and ``quoted_agency`` when a template quotes
    ``{agency}``: :func:`with_quoted_agency`). languages: the accounts' languages (``account_key``,
    ``language``; an account without a row, and every account when None, is zh-CN). A message is written in
    the language when its template has a text in it, else in zh-CN
    (:func:`overdue.engine.collect.message_locale`). Each template and locale is filled in over its own rows
    only, and the texts are put back in the rows' order at the end."""
    # Only the columns the outbox and the texts read are gathered, each once (not the whole action row).
    kept = pc.indices_nonzero(
        pc.and_(pc.is_valid(actions["channel"]), pc.is_null(actions["refused_rule"])).combine_chunks()
    )

    def gathered(name: str) -> pa.Array:
        return _chunk(actions[name]).take(kept)

    keys = gathered("account_key")
    template_column = gathered("template")
    templates = pc.fill_null(template_column, "")
    locales = _row_locales(keys, templates, strategy, languages)
    texts: list[pa.Array] = []
    where: list[pa.Array] = []
    quoted = pa.table({name: gathered(name) for name in QUOTED if name in actions.column_names})
    present = set(pc.unique(locales).to_pylist())
    pieces_of = {
        (template, locale): pieces
        for locale in _locales(strategy)
        if locale in present
        for template, pieces in template_parts(strategy, locale).items()
    }
    for (template, locale), pieces in pieces_of.items():
        chosen = pc.equal(templates, template)
        if len(present) > 1:
            chosen = pc.and_(chosen, pc.equal(locales, locale))
        mine = pc.indices_nonzero(chosen)
        if len(mine) == 0:
            continue
        fixed = placeholder_values(
            locale, name=None, amount=0, due_date=None, days_past_due=0, minimum=0, total_due=0
        )
        subset = quoted.take(mine)
        reads = set().union(*(f.reads for _, f in pieces if f is not None)) & set(ACCOUNT_PLACEHOLDERS)
        values = {name: _placeholder(name, subset, on) for name in sorted(reads)}
        columns: list[pa.Array | str] = []
        for literal, f in pieces:
            columns.append(literal)
            if f is not None and f.written is not None:
                columns.append(_formatted(f.written, sorted(f.reads & reads), values, fixed))
            elif f is not None:
                columns.append(values[f.name] if f.name in values else fixed[f.name])
        text = pc.binary_join_element_wise(*columns, "") if len(columns) > 1 else pa.scalar("".join(columns))
        if isinstance(text, pa.Scalar):
            texts.append(pa.repeat(text, len(mine)))
        else:
            texts += text.chunks if isinstance(text, pa.ChunkedArray) else [text]
        where.append(mine)
    known = pa.array(list(template_parts(strategy)), pa.string())
    others = pc.indices_nonzero(pc.invert(pc.is_in(templates, value_set=known)))
    texts.append(pa.repeat(pa.scalar("", pa.string()), len(others)))
    where.append(others)
    # The texts are in the order of ``where`` (a permutation of the rows): the row of each is its inverse.
    order = np.empty(len(kept), np.int64)
    order[np.concatenate([np.asarray(w, np.int64) for w in where])] = np.arange(len(kept))
    body = pa.concat_arrays([pc.cast(text, pa.string()) for text in texts]).take(pa.array(order))
    return pa.table(
        {
            "account_key": keys,
            "business_date": pa.repeat(pa.scalar(on, pa.date32()), len(kept)),
            "treatment": gathered("treatment"),
            "channel": gathered("channel"),
            "template": template_column,
            "locale": locales,
            "body": body,
        },
        schema=MESSAGES,
    )


def _row_locales(
    keys: pa.Array, templates: pa.Array, strategy: Strategy, languages: pa.Table | None
) -> pa.Array:
    """The locale of each message row (``keys``: its account, ``templates``: its template, "" for none): its
    account's language where the template has a text in it, else zh-CN."""
    n = len(keys)
    if languages is None or languages.num_rows == 0:
        return pa.repeat(pa.scalar(DEFAULT_LOCALE, pa.string()), n)
    found = pc.take(languages["language"], pc.index_in(keys, value_set=languages["account_key"]))
    language = pc.fill_null(pc.cast(found, pa.string()), DEFAULT_LOCALE)
    locales = pa.repeat(pa.scalar(DEFAULT_LOCALE, pa.string()), n)
    for template in strategy.templates.values():
        written = pa.array(list(template.texts), pa.string())
        mine = pc.and_(pc.equal(templates, template.id), pc.is_in(language, value_set=written))
        locales = pc.if_else(mine, language, locales)
    return _chunk(locales)


ACCOUNT_PLACEHOLDERS = ("agency", "amount", "due_date", "days_past_due", "minimum", "total_due")
"""The placeholders whose value depends on the account (the others are fixed texts)."""
QUOTED = (
    "overdue_balance",
    "total_due",
    "days_to_due",
    "days_past_due",
    "minimum_remaining",
    "quoted_agency",
)
"""The action rows' columns the texts quote."""


def _placeholder(name: str, rows: pa.Table, on: date) -> pa.Array:
    """The value of placeholder ``name`` on each of ``rows``, as :func:`placeholder_values` writes it."""
    if name == "amount":
        overdue = rows["overdue_balance"]
        return _yuan(pc.if_else(pc.not_equal(overdue, 0), overdue, rows["total_due"]))
    if name == "due_date":
        due = pc.add(pa.scalar(day_number(on), pa.int32()), pc.cast(rows["days_to_due"], pa.int32()))
        filled: pa.Array = pc.fill_null(pc.cast(pc.cast(due, pa.date32()), pa.string()), "")
        return filled
    if name == "days_past_due":
        return pc.cast(rows["days_past_due"], pa.string())
    if name == "agency":
        agency: pa.Array = pc.fill_null(rows["quoted_agency"], "")
        return agency
    return _yuan(rows["minimum_remaining" if name == "minimum" else "total_due"])


def _formatted(
    written: str, reads: list[str], values: dict[str, pa.Array], fixed: dict[str, str]
) -> pa.Array | str:
    """A field with a format spec or a conversion (``written``) filled in on each row by ``str.format``
    itself, as the reference's :func:`~overdue.channels.templates.render` fills it, once per distinct
    combination of the texts it reads.

    reads: the account's placeholders it reads (``values``: their texts on the rows); fixed: every
    placeholder's text where it does not depend on the account."""
    if not reads:
        return render(written, fixed)
    encoded = [pc.dictionary_encode(_chunk(values[name])) for name in reads]
    codes = np.stack(
        [np.asarray(e.indices.to_numpy(zero_copy_only=False), np.int64) for e in encoded], axis=1
    )
    combinations, inverse = np.unique(codes, axis=0, return_inverse=True)
    dictionaries = [e.dictionary.to_pylist() for e in encoded]
    filled = [
        render(
            written, fixed | {name: d[code] for name, d, code in zip(reads, dictionaries, row, strict=True)}
        )
        for row in combinations.tolist()
    ]
    return pa.array(filled, pa.string()).take(pa.array(inverse.reshape(-1)))


def _chunk(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of ``array``'s chunks."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def work_items(actions: pa.Table) -> pa.Table:
    """The work queues' rows of the allowed actions for people."""
    allowed = pc.and_(pc.is_valid(actions["queue"]), pc.is_null(actions["refused_rule"]))
    # only the queues' columns are filtered (a fifth of the action rows' columns: a few million rows)
    return actions.select(WORK.names).filter(allowed).cast(WORK)
