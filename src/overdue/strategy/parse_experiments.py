"""Parsing ``experiments:``: champion/challenger variants, their shares and parameter overrides."""

from __future__ import annotations

from overdue.strategy.model import Experiment, Variant, frozen_mapping
from overdue.strategy.parse_conditions import ParameterTable, article, parameter_value
from overdue.strategy.source import Node, Reader, suggestion

EXPERIMENT_KEYS = frozenset({"name", "description", "variants"})
VARIANT_KEYS = frozenset({"name", "share", "parameters"})


def parse_experiments(reader: Reader, params: ParameterTable, node: Node | None) -> list[Experiment]:
    experiments: list[Experiment] = []
    if node is None:
        return experiments
    overridden: dict[str, str] = {}
    for i, item in enumerate(reader.sequence(node, "experiments")):
        where = f"experiments[{i}]"
        entries = reader.mapping(
            item, where, allowed=EXPERIMENT_KEYS, required=frozenset({"name", "variants"})
        )
        if entries is None or "name" not in entries or "variants" not in entries:
            continue
        name = reader.name(entries["name"], f"{where}.name")
        if name is not None and any(e.name == name for e in experiments):
            reader.error(entries["name"], f"{where}.name", f"duplicate experiment name {name!r}")
        variants: list[Variant] = []
        for j, v_node in enumerate(reader.sequence(entries["variants"], f"{where}.variants")):
            variant = _variant(reader, params, v_node, f"{where}.variants[{j}]")
            if variant is None:
                continue
            if any(v.name == variant.name for v in variants):
                reader.error(
                    v_node, f"{where}.variants[{j}].name", f"duplicate variant name {variant.name!r}"
                )
            variants.append(variant)
        total = sum(v.share for v in variants)
        if variants and total != 100:
            reader.error(entries["variants"], f"{where}.variants", f"shares add up to {total}, not 100")
        for pname in sorted({p for v in variants for p in v.parameters}):
            if pname in overridden and overridden[pname] != name:
                reader.error(
                    entries["variants"],
                    f"{where}.variants",
                    f"parameter ${pname} is already varied by experiment {overridden[pname]!r}",
                )
            overridden.setdefault(pname, name or "")
        if name is not None:
            experiments.append(Experiment(name, tuple(variants)))
    return experiments


def _variant(reader: Reader, params: ParameterTable, node: Node, where: str) -> Variant | None:
    entries = reader.mapping(node, where, allowed=VARIANT_KEYS, required=frozenset({"name", "share"}))
    if entries is None or "name" not in entries or "share" not in entries:
        return None
    name = reader.name(entries["name"], f"{where}.name")
    share = reader.scalar(entries["share"], f"{where}.share", int, "a whole percentage")
    if share is not None and not 0 <= share <= 100:
        reader.error(entries["share"], f"{where}.share", f"must be between 0 and 100, got {share}")
        share = None
    overrides: dict[str, int] = {}
    if "parameters" in entries:
        for key, key_node, value_node in reader.free_mapping(entries["parameters"], f"{where}.parameters"):
            p_where = f"{where}.parameters.{key}"
            if key not in params.kinds:
                reader.error(
                    key_node, p_where, f"unknown parameter {key!r}{suggestion(key, frozenset(params.kinds))}"
                )
                continue
            parsed = parameter_value(reader, value_node, p_where)
            if parsed is not None and parsed[0] != params.kinds[key]:
                reader.error(
                    value_node,
                    p_where,
                    f"parameter {key!r} is {article(params.kinds[key])}, not {article(parsed[0])}",
                )
            elif parsed is not None:
                overrides[key] = parsed[1]
    if name is None or share is None:
        return None
    return Variant(name, share, frozen_mapping(overrides))
