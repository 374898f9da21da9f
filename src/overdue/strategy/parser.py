"""Parsing a strategy file into a :class:`~overdue.strategy.model.Strategy`, reporting every problem.

The work is in passes over the YAML node tree: parameters first (so ``$references`` can be checked as they
are read), then templates, stages with their treatments, pauses and experiments; then the cross-checks that
need the whole file (template and treatment references, ``next`` links, overlap and reachability of stages,
in :mod:`overdue.strategy.checks`). Problems are collected, never raised one by one: the caller gets one
:class:`~overdue.strategy.errors.StrategyError` naming all of them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace

import yaml

from overdue.strategy.checks import check_links, check_stage_segments
from overdue.strategy.conditions import ALWAYS, Condition, Ref
from overdue.strategy.errors import Problem, StrategyError
from overdue.strategy.model import (
    ACTION_TYPES,
    MESSAGE_TYPES,
    PARTIES,
    PLACEHOLDERS,
    After,
    Pause,
    Stage,
    Strategy,
    Template,
    Treatment,
    frozen_mapping,
)
from overdue.strategy.parse_conditions import ParameterTable, parameter_value, parse_condition, parse_number
from overdue.strategy.parse_experiments import parse_experiments
from overdue.strategy.source import Node, Reader, suggestion

TOP_KEYS = frozenset(
    {"strategy", "description", "parameters", "templates", "stages", "pauses", "experiments"}
)
STAGE_KEYS = frozenset({"name", "description", "when", "next", "treatments"})
TREATMENT_KEYS = frozenset(
    {
        "id",
        "description",
        "type",
        "template",
        "party",
        "priority",
        "on_dpd",
        "on_days_to_due",
        "from_dpd",
        "to_dpd",
        "every_days",
        "once",
        "after",
        "when",
    }
)
PAUSE_KEYS = frozenset({"name", "description", "when", "exempt_stages"})
REQUIRED_LOCALES = ("zh-CN", "en")
RESERVED_TREATMENT_IDS = frozenset({"limit_notice", "validation_notice"})
"""Treatment ids the end-of-day records actions under outside any strategy — the limit review's notice
(:data:`overdue.risk.notices.NOTICE_TREATMENT`) and the US validation notice
(:data:`overdue.setbased.collect_notice.NOTICE_TREATMENT`): a strategy's treatment of the same id would read
their dates as its own schedule's."""


@dataclass
class _Pending:
    """References to check once the whole file is read: (name, node, field) triples."""

    templates: list[tuple[str, Node, str]] = field(default_factory=list)
    treatments: list[tuple[str, Node, str]] = field(default_factory=list)
    stages: list[tuple[str, Node, str]] = field(default_factory=list)
    clean_stages: set[str] = field(default_factory=set)
    stage_nodes: dict[str, Node] = field(default_factory=dict)
    template_nodes: dict[str, Node] = field(default_factory=dict)


def parse_strategy(text: str, name: str = "<string>") -> Strategy:
    """Parse and validate the strategy written in ``text``.

    text: the YAML text of the strategy file.
    name: the file name to put in problems (the path, or ``<string>``).

    Raises :class:`StrategyError` listing every problem found; warnings end up in ``Strategy.warnings``.
    """
    reader = Reader(name)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = int(mark.line) + 1 if mark is not None else None
        problem = Problem(name, line, "", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        raise StrategyError([problem]) from exc
    if root is None:
        reader.error(None, "", "the file is empty")
        raise StrategyError(reader.errors())
    top = reader.mapping(root, "", allowed=TOP_KEYS, required=frozenset({"strategy", "stages"}))
    if top is None:
        raise StrategyError(reader.errors())

    params = ParameterTable()
    parameters = _parameters(reader, params, top.get("parameters"))
    pending = _Pending()
    templates = _templates(reader, top.get("templates"), pending.template_nodes)
    stages = _stages(reader, params, pending, top.get("stages"))
    pauses = _pauses(reader, params, pending, top.get("pauses"))
    experiments = parse_experiments(reader, params, top.get("experiments"))

    strategy_name = reader.name(top["strategy"], "strategy") if "strategy" in top else None
    description = ""
    if "description" in top:
        description = reader.scalar(top["description"], "description", str, "text") or ""

    _check_references(reader, pending, templates, stages)
    check_links(reader, stages, pending.stage_nodes)
    strategy = Strategy(
        name=strategy_name or "",
        description=description,
        source=name,
        parameters=frozen_mapping(parameters),
        parameter_kinds=frozen_mapping(params.kinds),
        templates=frozen_mapping(templates),
        stages=tuple(stages),
        pauses=tuple(pauses),
        experiments=tuple(experiments),
    )
    if not reader.errors():
        clean = tuple(s for s in stages if s.name in pending.clean_stages)
        check_stage_segments(reader, strategy, clean, pending.stage_nodes)
    for pname, node in _declared_nodes(top.get("parameters")):
        if pname not in params.used and pname in params.kinds:
            reader.warn(node, f"parameters.{pname}", "never used")
    if reader.errors():
        raise StrategyError(reader.errors())
    return replace(strategy, warnings=tuple(reader.warnings()))


def _declared_nodes(node: Node | None) -> list[tuple[str, Node]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(str(k.value), k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]


# --- parameters and templates ---------------------------------------------------------------------------


def _parameters(reader: Reader, params: ParameterTable, node: Node | None) -> dict[str, int]:
    values: dict[str, int] = {}
    if node is None:
        return values
    for key, key_node, value_node in reader.free_mapping(node, "parameters"):
        where = f"parameters.{key}"
        if reader.name(key_node, where) is None:
            continue
        parsed = parameter_value(reader, value_node, where)
        if parsed is not None:
            params.kinds[key], values[key] = parsed
    return values


def _templates(reader: Reader, node: Node | None, pending_nodes: dict[str, Node]) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    if node is None:
        return templates
    for key, key_node, value_node in reader.free_mapping(node, "templates"):
        where = f"templates.{key}"
        if reader.name(key_node, where) is None:
            continue
        texts: dict[str, str] = {}
        for locale, _, text_node in reader.free_mapping(value_node, where):
            text = reader.scalar(text_node, f"{where}.{locale}", str, "the text of the message")
            if text is not None and _placeholders_ok(reader, text_node, f"{where}.{locale}", text):
                texts[locale] = text
        if isinstance(value_node, yaml.MappingNode):
            for locale in REQUIRED_LOCALES:
                if locale not in {str(k.value) for k, _ in value_node.value}:
                    reader.error(value_node, where, f"missing the {locale} text")
        templates[key] = Template(key, frozen_mapping(texts))
        pending_nodes[key] = key_node
    return templates


def _placeholders_ok(reader: Reader, node: Node, where: str, text: str) -> bool:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        reader.error(node, where, f"badly formed placeholder: {exc}")
        return False
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    for name in unknown:
        reader.error(
            node, where, f"unknown placeholder {{{name}}}; placeholders: {', '.join(sorted(PLACEHOLDERS))}"
        )
    return not unknown


# --- stages and treatments ------------------------------------------------------------------------------


def _stages(reader: Reader, params: ParameterTable, pending: _Pending, node: Node | None) -> list[Stage]:
    stages: list[Stage] = []
    if node is None:
        return stages
    items = reader.sequence(node, "stages")
    if not items and isinstance(node, yaml.SequenceNode):
        reader.error(node, "stages", "needs at least one stage")
    treatment_ids: set[str] = set()
    for i, item in enumerate(items):
        where = f"stages[{i}]"
        entries = reader.mapping(item, where, allowed=STAGE_KEYS, required=frozenset({"name", "when"}))
        if entries is None:
            continue
        name = reader.name(entries["name"], f"{where}.name") if "name" in entries else None
        if name is not None:
            where = f"stages[{i}]({name})"
            if name in pending.stage_nodes:
                reader.error(entries["name"], f"{where}.name", f"duplicate stage name {name!r}")
            pending.stage_nodes.setdefault(name, item)
        when: Condition | None = None
        if "when" in entries:
            when = parse_condition(reader, params, entries["when"], f"{where}.when")
        if name is not None and when is not None:
            pending.clean_stages.add(name)
        next_name = None
        if "next" in entries:
            next_name = reader.name(entries["next"], f"{where}.next")
            if next_name is not None:
                pending.stages.append((next_name, entries["next"], f"{where}.next"))
        treatments: list[Treatment] = []
        if "treatments" in entries:
            for j, t_node in enumerate(reader.sequence(entries["treatments"], f"{where}.treatments")):
                treatment = _treatment(
                    reader, params, pending, t_node, f"{where}.treatments[{j}]", treatment_ids
                )
                if treatment is not None:
                    treatments.append(treatment)
        stages.append(Stage(name or f"#{i}", when or ALWAYS, next_name, tuple(treatments)))
    return stages


def _treatment(
    reader: Reader, params: ParameterTable, pending: _Pending, node: Node, where: str, ids: set[str]
) -> Treatment | None:
    entries = reader.mapping(node, where, allowed=TREATMENT_KEYS, required=frozenset({"id", "type"}))
    if entries is None:
        return None
    count = len(reader.errors())
    tid = reader.name(entries["id"], f"{where}.id") if "id" in entries else None
    if tid is not None:
        if tid in ids:
            reader.error(entries["id"], f"{where}.id", f"duplicate treatment id {tid!r}")
        if tid in RESERVED_TREATMENT_IDS:
            reader.error(
                entries["id"],
                f"{where}.id",
                f"treatment id {tid!r} is reserved for the end-of-day's own notices "
                f"({', '.join(sorted(RESERVED_TREATMENT_IDS))}); choose another",
            )
        ids.add(tid)
    kind = (
        reader.scalar(entries["type"], f"{where}.type", str, "an action type") if "type" in entries else None
    )
    if kind is not None and kind not in ACTION_TYPES:
        reader.error(
            entries["type"],
            f"{where}.type",
            f"unknown action type {kind!r}{suggestion(kind, ACTION_TYPES)}; types: {', '.join(ACTION_TYPES)}",
        )
    template = None
    if "template" in entries:
        template = reader.name(entries["template"], f"{where}.template")
        if template is not None:
            pending.templates.append((template, entries["template"], f"{where}.template"))
    elif kind in MESSAGE_TYPES:
        reader.error(node, f"{where}.template", f"a {kind} treatment needs a template")
    party = "contact" if kind == "contact_call" else "debtor"
    if "party" in entries:
        party = reader.scalar(entries["party"], f"{where}.party", str, "a party") or party
        if party not in PARTIES:
            reader.error(
                entries["party"], f"{where}.party", f"unknown party {party!r}; parties: {', '.join(PARTIES)}"
            )
        elif (party == "contact") != (kind == "contact_call"):
            reader.error(
                entries["party"],
                f"{where}.party",
                "pre-agreed contacts are called only by contact_call treatments",
            )
    priority = 50
    if "priority" in entries:
        priority = reader.scalar(entries["priority"], f"{where}.priority", int, "a whole number") or 50

    def number(key: str) -> int | Ref | None:
        return parse_number(reader, params, entries[key], f"{where}.{key}") if key in entries else None

    def numbers(key: str) -> tuple[int | Ref, ...]:
        if key not in entries:
            return ()
        items = reader.sequence(entries[key], f"{where}.{key}")
        if not items and isinstance(entries[key], yaml.SequenceNode):
            reader.error(entries[key], f"{where}.{key}", "needs at least one day")
        parsed = [parse_number(reader, params, n, f"{where}.{key}[{k}]") for k, n in enumerate(items)]
        return tuple(p for p in parsed if p is not None)

    every_days = number("every_days")
    if isinstance(every_days, int) and every_days < 1:
        reader.error(entries["every_days"], f"{where}.every_days", "must be at least 1")
    once = False
    if "once" in entries:
        once = bool(reader.scalar(entries["once"], f"{where}.once", bool, "true or false"))
    after = _after(reader, params, pending, entries.get("after"), f"{where}.after")
    when = ALWAYS
    if "when" in entries:
        when = parse_condition(reader, params, entries["when"], f"{where}.when") or ALWAYS
    if len(reader.errors()) > count or tid is None or kind is None:
        return None
    return Treatment(
        id=tid,
        type=kind,
        template=template,
        party=party,
        priority=priority,
        on_dpd=numbers("on_dpd"),
        on_days_to_due=numbers("on_days_to_due"),
        from_dpd=number("from_dpd"),
        to_dpd=number("to_dpd"),
        every_days=every_days,
        once=once,
        after=after,
        when=when,
    )


def _after(
    reader: Reader, params: ParameterTable, pending: _Pending, node: Node | None, where: str
) -> After | None:
    if node is None:
        return None
    entries = reader.mapping(
        node, where, allowed=frozenset({"treatment", "days"}), required=frozenset({"treatment"})
    )
    if entries is None or "treatment" not in entries:
        return None
    target = reader.name(entries["treatment"], f"{where}.treatment")
    if target is None:
        return None
    pending.treatments.append((target, entries["treatment"], f"{where}.treatment"))
    days: int | Ref | None = 0
    if "days" in entries:
        days = parse_number(reader, params, entries["days"], f"{where}.days")
    return After(target, days) if days is not None else None


# --- pauses -----------------------------------------------------------------------------


def _pauses(reader: Reader, params: ParameterTable, pending: _Pending, node: Node | None) -> list[Pause]:
    pauses: list[Pause] = []
    if node is None:
        return pauses
    names: set[str] = set()
    for i, item in enumerate(reader.sequence(node, "pauses")):
        where = f"pauses[{i}]"
        entries = reader.mapping(item, where, allowed=PAUSE_KEYS, required=frozenset({"name", "when"}))
        if entries is None or "name" not in entries or "when" not in entries:
            continue
        name = reader.name(entries["name"], f"{where}.name")
        if name in names:
            reader.error(entries["name"], f"{where}.name", f"duplicate pause name {name!r}")
        when = parse_condition(reader, params, entries["when"], f"{where}.when")
        exempt: set[str] = set()
        if "exempt_stages" in entries:
            for j, s_node in enumerate(reader.sequence(entries["exempt_stages"], f"{where}.exempt_stages")):
                stage = reader.name(s_node, f"{where}.exempt_stages[{j}]")
                if stage is not None:
                    pending.stages.append((stage, s_node, f"{where}.exempt_stages[{j}]"))
                    exempt.add(stage)
        if name is not None and when is not None:
            names.add(name)
            pauses.append(Pause(name, when, frozenset(exempt)))
    return pauses


# --- cross-references -----------------------------------------------------------------------------------


def _check_references(
    reader: Reader, pending: _Pending, templates: dict[str, Template], stages: list[Stage]
) -> None:
    used_templates = set()
    for name, node, where in pending.templates:
        used_templates.add(name)
        if name not in templates:
            reader.error(node, where, f"unknown template {name!r}{suggestion(name, frozenset(templates))}")
    treatment_ids = frozenset(t.id for s in stages for t in s.treatments)
    for name, node, where in pending.treatments:
        if name not in treatment_ids:
            reader.error(node, where, f"unknown treatment {name!r}{suggestion(name, treatment_ids)}")
    known_stages = frozenset(pending.stage_nodes)
    for name, node, where in pending.stages:
        if name not in known_stages:
            reader.error(node, where, f"unknown stage {name!r}{suggestion(name, known_stages)}")
    for name in sorted(set(templates) - used_templates):
        reader.warn(pending.template_nodes.get(name), f"templates.{name}", "never used by a treatment")
