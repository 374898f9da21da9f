"""Comply over tables: the rulebook's rules as joins and ``CASE``\\ s over the planned actions.

The reference checks each planned action with :meth:`overdue.compliance.RuleSetRulebook.check`: the rules
in the rulebook's order, the first refusal wins and names its rule. The end-of-day's plans are not
scheduled yet (no time of day, no agency, no team: :class:`~overdue.compliance.PlannedContact` with
``at=None``), so the time windows (``cn.quiet_hours``, ``us.call_hours``), the field visit's team check and
the agency whitelist have no objection to them, as in the reference; they are checked when a collector
makes the contact. The others read the facts and the contacts already made:

- holds: ``*.no_contact_after_sale``, ``*.no_contact_during_litigation`` (legal steps still go on),
  ``*.no_contact_during_dispute``, ``cn.no_contact_during_plan``, ``us.cease_communication``;
- ``cn.third_party``: a pre-agreed contact only while the debtor has lost contact, never after it objected
  (its first objection, from the contacts);
- caps on the day (the debtor's local day of each past contact, :mod:`~overdue.setbased.collect_tables`):
  ``cn.connected_voice_per_day`` (conversations on calls), ``cn.unanswered_per_number_per_day``
  (unanswered calls to the party: the plans do not say which number they will dial, so every call to the
  party counts, as the reference counts it), ``cn.field_visit_per_day``.

- ``us.seven_in_seven`` (Regulation F, calls only): the calls (``voice``, ``ai_voice``, any party, any
  outcome) of the ``call_window_days`` local days to today, today included, against
  ``max_calls_in_window``; before that, the last telephone conversation on a call up to today, which
  stops calls for ``days_after_conversation`` days counting its own. The plans have no time, so "today" is
  the business date (the reference's ``facts.on``) and each past contact counts on its local day. Numbers
  over ``HISTORY_DAYS - 1`` days are refused: the reference's history is ``HISTORY_DAYS`` of contacts by
  business date;
- ``us.validation_notice``: an account past due needs its validation notice sent on or before today; the
  notice the end-of-day sends today (:mod:`~overdue.setbased.collect_notice`) is in the facts already.

Each is a boolean column; the refusing rule is a ``CASE`` over them in the rulebook's order, with the count
or date its reason quotes. The reason's text is written when the rows are fetched
(:func:`refusal_reasons`). Rules not listed here (a lender's own) are refused with
:class:`~overdue.setbased.params.Unsupported`: never checked differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis  # type: ignore[import-untyped]
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from overdue.compliance import NoRulebook, RuleSetRulebook
from overdue.compliance.rules import CALL_CHANNELS, LEGAL_STEPS, UNANSWERED, ParamValue
from overdue.domain.collections import CONVERSATIONS
from overdue.engine.collect import HISTORY_DAYS
from overdue.setbased.collect_tables import enum_code
from overdue.setbased.params import Unsupported
from overdue.setbased.steps import Today, left_join

UNSCHEDULED = frozenset({"cn.quiet_hours", "us.call_hours", "cn.field_visit_team", "cn.agency_whitelist"})
"""Rules that have no objection to a contact without a time, an agency or a team (the end-of-day's)."""

FIXED_REASONS = {
    "cn.no_contact_after_sale": "the debt was sold; its buyer collects it",
    "us.no_contact_after_sale": "the debt was sold; its buyer collects it",
    "cn.no_contact_during_litigation": (
        "a legal case holds the account; the case goes on through the lawyer and the court"
    ),
    "us.no_contact_during_litigation": (
        "a legal case holds the account; the case goes on through the lawyer and the court"
    ),
    "cn.no_contact_during_dispute": "a dispute is open",
    "us.no_contact_during_dispute": "a dispute is open",
    "cn.no_contact_during_plan": "a negotiated repayment plan is active",
    "us.cease_communication": "the debtor asked that communication cease",
    "us.validation_notice": "no validation notice has been sent for this debt yet",
}
"""The reason each hold rule gives (as :mod:`overdue.compliance.rules` words it)."""
CAP_REASONS = {
    "cn.connected_voice_per_day": " voice conversations already on {on}; at most {limit} a day",
    "cn.unanswered_per_number_per_day": (
        " unanswered calls to this number already on {on}; at most {limit} a day"
    ),
    "cn.field_visit_per_day": " field visit(s) already on {on}; at most {limit} a day",
}
"""The reason of each cap, after the count (as :mod:`overdue.compliance.rules` words it)."""
LOST_CONTACT = enum_code("contactability", "lost_contact")
"""The debtor's ``contactability`` that lets a pre-agreed contact be contacted, as the engine holds it."""
LOST_CONTACT_ONLY = "a pre-agreed contact may be contacted only while the debtor has lost contact"
SEVEN_IN_SEVEN = ("max_calls_in_window", "call_window_days", "days_after_conversation")
"""The numbers ``us.seven_in_seven`` reads, in :attr:`CompiledRulebook.seven_in_seven`'s order."""


@dataclass(frozen=True)
class CompiledRulebook:
    """The rules of a rulebook that the expressions check, in order, and its numbers."""

    name: str
    rules: tuple[str, ...]
    """The rules that can object to an end-of-day plan (those in :data:`UNSCHEDULED` left out)."""
    limits: tuple[tuple[str, int], ...]
    """The caps' numbers, by rule."""
    seven_in_seven: tuple[int, int, int] | None = None
    """``us.seven_in_seven``'s numbers (:data:`SEVEN_IN_SEVEN`), when the rulebook has it."""
    validation_notice: bool = False
    """Whether the rulebook requires the US validation notice (the end-of-day sends it)."""

    def limit(self, rule: str) -> int | None:
        return dict(self.limits).get(rule)


COMPILED = (
    frozenset(FIXED_REASONS)
    | UNSCHEDULED
    | {
        "cn.third_party",
        "cn.connected_voice_per_day",
        "cn.unanswered_per_number_per_day",
        "cn.field_visit_per_day",
        "us.seven_in_seven",
    }
)
"""Every rule the expressions cover."""
LIMITS = {
    "cn.connected_voice_per_day": "max_voice_conversations_per_day",
    "cn.unanswered_per_number_per_day": "max_unanswered_per_number_per_day",
    "cn.field_visit_per_day": "max_field_visits_per_day",
}


def compile_rulebook(rulebook: object) -> CompiledRulebook:
    """A :class:`~overdue.compliance.RuleSetRulebook` (or the ``none`` rulebook) for the expressions;
    :class:`Unsupported` names the rules that are not compiled."""
    if isinstance(rulebook, NoRulebook):
        return CompiledRulebook("none", (), ())
    if not isinstance(rulebook, RuleSetRulebook):
        raise Unsupported(
            f"rulebook {getattr(rulebook, 'name', rulebook)!r}: only rule-set rulebooks compile"
        )
    missing = [rule for rule in rulebook.rules if rule not in COMPILED]
    if missing:
        raise Unsupported(
            f"rulebook {rulebook.name}: the set-based comply does not check {', '.join(missing)}"
        )
    limits = tuple((rule, _count(rulebook.params, LIMITS[rule])) for rule in rulebook.rules if rule in LIMITS)
    kept = tuple(rule for rule in rulebook.rules if rule not in UNSCHEDULED)
    seven = None
    if "us.seven_in_seven" in rulebook.rules:
        limit, window, quiet = (_count(rulebook.params, key) for key in SEVEN_IN_SEVEN)
        if max(window, quiet) > HISTORY_DAYS - 1:
            # The reference reads HISTORY_DAYS of contacts by business date; a longer window would count
            # what each date's history happens to hold, which the tables of a run of several dates do not.
            raise Unsupported(
                f"rulebook {rulebook.name}: us.seven_in_seven over more than {HISTORY_DAYS - 1} days "
                f"(call_window_days {window}, days_after_conversation {quiet}): the contact history the "
                f"end-of-day reads covers {HISTORY_DAYS} days"
            )
        seven = (limit, window, quiet)
    return CompiledRulebook(rulebook.name, kept, limits, seven, rulebook.requires_validation_notice)


def _count(params: Mapping[str, ParamValue], key: str) -> int:
    value = params.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Unsupported(f"compliance parameter {key} must be a whole number ≥ 0, got {value!r}")
    return value


def comply(planned: ir.Table, contacts: ir.Table, rulebook: CompiledRulebook, day: Today) -> ir.Table:
    """The planned actions with ``refused_rule`` (null: allowed) and ``refusal_count``/``refusal_day``, the
    number or date its reason quotes (null ``refusal_day`` when it quotes none).

    planned: :func:`overdue.setbased.collect_decide.planned_actions` (the facts and ``contact_channel``,
    the channel the rulebook sees). contacts: the engine's contacts (local day numbers).
    """
    on = day.on
    h = contacts
    today = h.filter(h.day == on)
    call = today.channel.isin(sorted(CALL_CHANNELS))
    per_account = today.group_by("account_key").aggregate(
        conversations=today.account_key.count(where=call & today.outcome.isin(sorted(CONVERSATIONS))),
        field_visits=today.account_key.count(where=today.channel == "field"),
    )
    unanswered = (
        today.filter(call & today.outcome.isin(sorted(UNANSWERED)))
        .group_by(["account_key", "party"])
        .aggregate(unanswered=lambda t: t.account_key.count())
        .rename(unanswered_key="account_key", unanswered_party="party")
    )
    objections = h.filter((h.party == "contact") & (h.outcome == "refused"))
    objected = objections.group_by("account_key").aggregate(objected_on=objections.day.min())
    p = left_join(left_join(planned, per_account), objected)
    p = p.left_join(
        unanswered, (p.account_key == unanswered.unanswered_key) & (p.party == unanswered.unanswered_party)
    ).drop("unanswered_key", "unanswered_party")
    if rulebook.seven_in_seven is not None:
        p = left_join(p, _recent_calls(h, rulebook.seven_in_seven[1], day))
    p = p.mutate(
        conversations=p.conversations.fill_null(0),
        field_visits=p.field_visits.fill_null(0),
        unanswered=p.unanswered.fill_null(0),
    )
    calls = p.contact_channel.isin(sorted(CALL_CHANNELS))
    # cn.third_party asks whether the debtor has lost contact before it looks at objections.
    objected_on = ibis.ifelse(
        p.contactability == LOST_CONTACT, p.objected_on, ibis.null(p.objected_on.type())
    )
    zero = ibis.literal(0, type="int64")
    no_day = ibis.null(p.objected_on.type())

    def seven_in_seven(limit: int, quiet: int) -> tuple[ir.BooleanValue, ir.IntegerValue, ir.Value]:
        """Refused: a conversation within ``quiet`` days (its day quoted), or ``limit`` calls placed in
        the window (:func:`_recent_calls`; their count quoted)."""
        placed = p.window_calls.fill_null(0).cast("int64")
        talked = calls & p.last_talk.notnull() & ((on - p.last_talk) < quiet)
        return (
            calls & (talked | (placed >= limit)),
            placed,
            ibis.ifelse(talked, p.last_talk, no_day),
        )

    def notice_missing() -> ir.BooleanValue:
        missing: ir.BooleanValue = (p.days_past_due > 0) & (
            p.validation_notice_on.isnull() | (p.validation_notice_on > on)
        )
        return missing

    refusals: dict[str, Callable[[], tuple[ir.BooleanValue, ir.IntegerValue]]] = {
        "cn.no_contact_after_sale": lambda: (p.sold, zero),
        "us.no_contact_after_sale": lambda: (p.sold, zero),
        "cn.no_contact_during_litigation": lambda: (
            p.litigation_hold & ~p.type.isin(sorted(LEGAL_STEPS)),
            zero,
        ),
        "us.no_contact_during_litigation": lambda: (
            p.litigation_hold & ~p.type.isin(sorted(LEGAL_STEPS)),
            zero,
        ),
        "cn.no_contact_during_dispute": lambda: (p.dispute, zero),
        "us.no_contact_during_dispute": lambda: (p.dispute, zero),
        "cn.no_contact_during_plan": lambda: (p.plan == enum_code("plan", "active"), zero),
        "us.cease_communication": lambda: (p.cease, zero),
        "cn.third_party": lambda: (
            ~p.party.isin(["debtor", "guarantor"])
            & ((p.party != "contact") | (p.contactability != LOST_CONTACT) | p.objected_on.notnull()),
            zero,
        ),
        "cn.connected_voice_per_day": lambda: (
            calls & (p.conversations >= rulebook.limit("cn.connected_voice_per_day")),
            p.conversations.cast("int64"),
        ),
        "cn.unanswered_per_number_per_day": lambda: (
            calls & (p.unanswered >= rulebook.limit("cn.unanswered_per_number_per_day")),
            p.unanswered.cast("int64"),
        ),
        "cn.field_visit_per_day": lambda: (
            (p.contact_channel == "field") & (p.field_visits >= rulebook.limit("cn.field_visit_per_day")),
            p.field_visits.cast("int64"),
        ),
        "us.validation_notice": lambda: (notice_missing(), zero),
    }
    checks: list[tuple[str, ir.BooleanValue, ir.IntegerValue, ir.Value]] = []
    for rule in rulebook.rules:
        if rule == "us.seven_in_seven" and rulebook.seven_in_seven is not None:
            limit, _, quiet = rulebook.seven_in_seven
            checks.append((rule, *seven_in_seven(limit, quiet)))
        else:
            when, count = refusals[rule]()
            checks.append((rule, when, count, objected_on if rule == "cn.third_party" else no_day))
    if not checks:
        refused: ir.Table = p.mutate(
            refused_rule=ibis.null("string"), refusal_count=zero, refusal_day=objected_on
        )
        return refused
    refused = p.mutate(
        refused_rule=ibis.cases(*((when, rule) for rule, when, _, _ in checks), else_=ibis.null("string")),
        refusal_count=ibis.cases(*((when, count) for _, when, count, _ in checks), else_=zero).cast("int64"),
        refusal_day=ibis.cases(*((when, on_day) for _, when, _, on_day in checks), else_=no_day),
    )
    return refused


def _recent_calls(contacts: ir.Table, window: int, day: Today) -> ir.Table:
    """Per account, for ``us.seven_in_seven``: ``window_calls``, the calls of the ``window`` local days to
    today (today included), and ``last_talk``, the local day of the last conversation on a call up to
    today. Contacts after today (none on an end-of-day's run, a history may still hold them) do not
    count."""
    on = day.on
    h = contacts
    calls = h.filter(h.channel.isin(sorted(CALL_CHANNELS)) & (h.day <= on))
    recent: ir.Table = calls.group_by("account_key").aggregate(
        window_calls=calls.account_key.count(where=calls.day >= on - (window - 1)),
        last_talk=calls.day.max(where=calls.outcome.isin(sorted(CONVERSATIONS))),
    )
    return recent


def refusal_reasons(rows: pa.Table, on_iso: str, rulebook: CompiledRulebook) -> pa.Array:
    """The reason each refused row gives, as the rule words it (null for allowed rows): from the rows'
    ``refused_rule``, ``refusal_count``, ``refusal_day`` (a date: a third party's objection, or the
    conversation that stops calls) and ``party``."""
    refused_rule = rows["refused_rule"]
    count = pc.cast(rows["refusal_count"], pa.string())
    objected = pc.cast(rows["refusal_day"], pa.string())
    reason = pa.nulls(rows.num_rows, pa.string())

    def when(name: str, text: pa.Array | pa.Scalar) -> None:
        nonlocal reason
        reason = pc.if_else(pc.fill_null(pc.equal(refused_rule, name), False), text, reason)

    def joined(*parts: pa.Array | str) -> pa.Array:
        return pc.binary_join_element_wise(*parts, "")

    for name, text in FIXED_REASONS.items():
        when(name, pa.scalar(text))
    not_party = joined("'", rows["party"], "' is not the debtor, a guarantor or a pre-agreed contact")
    third = pc.if_else(
        pc.is_in(rows["party"], pa.array(["contact"])),
        pc.if_else(
            pc.is_valid(rows["refusal_day"]),
            joined("this contact objected on ", objected, "; never again"),
            pa.scalar(LOST_CONTACT_ONLY),
        ),
        not_party,
    )
    when("cn.third_party", third)
    for cap, text in CAP_REASONS.items():
        limit = rulebook.limit(cap)
        if limit is not None:
            when(cap, joined(count, text.format(on=on_iso, limit=limit)))
    if rulebook.seven_in_seven is not None:
        calls, window, quiet = rulebook.seven_in_seven
        talked = joined("a telephone conversation on ", objected, f"; no call for {quiet} days")
        placed = (
            pa.scalar("calls are not allowed (max_calls_in_window is 0)")
            if calls == 0
            else joined(count, f" calls in the {window} days to {on_iso}; at most {calls}")
        )
        when("us.seven_in_seven", pc.if_else(pc.is_valid(rows["refusal_day"]), talked, placed))
    return reason
