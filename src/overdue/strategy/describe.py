"""A strategy as plain data and as text, for ``overdue strategy show`` and the API."""

from __future__ import annotations

from overdue.domain.money import format_yuan
from overdue.strategy.conditions import Parameters, Ref
from overdue.strategy.model import Strategy, Treatment


def schedule_words(treatment: Treatment, parameters: Parameters | None = None) -> str:
    """The schedule of a treatment in words.

    parameters: values to show for ``$references``; None keeps them as written (``every_days $call_days``).
    """

    def _number(value: int | Ref) -> int | str:
        if isinstance(value, Ref):
            return str(value) if parameters is None else parameters[value.name]
        return value

    parts: list[str] = []
    if treatment.on_dpd:
        parts.append("on_dpd [" + ", ".join(str(_number(d)) for d in treatment.on_dpd) + "]")
    if treatment.on_days_to_due:
        parts.append("on_days_to_due [" + ", ".join(str(_number(d)) for d in treatment.on_days_to_due) + "]")
    for key, value in (("from_dpd", treatment.from_dpd), ("to_dpd", treatment.to_dpd)):
        if value is not None:
            parts.append(f"{key} {_number(value)}")
    if treatment.every_days is not None:
        parts.append(f"every_days {_number(treatment.every_days)}")
    if treatment.once:
        parts.append("once")
    if treatment.after is not None:
        parts.append(f"after {treatment.after.treatment} +{_number(treatment.after.days)}d")
    return ", ".join(parts) or "every day"


def outline(strategy: Strategy) -> dict[str, object]:
    """The strategy as JSON-ready data: parameters (amounts as yuan strings), stages, pauses, experiments."""
    params = strategy.parameters

    def param_value(name: str, value: int) -> int | str:
        return format_yuan(value) if strategy.parameter_kinds[name] == "amount" else value

    return {
        "strategy": strategy.name,
        "description": strategy.description,
        "parameters": {name: param_value(name, value) for name, value in params.items()},
        "templates": sorted(strategy.templates),
        "stages": [
            {
                "name": stage.name,
                "when": stage.when.describe(params),
                "next": stage.next,
                "treatments": [
                    {
                        "id": t.id,
                        "type": t.type,
                        "template": t.template,
                        "party": t.party,
                        "priority": t.priority,
                        "schedule": schedule_words(t),
                        "when": t.when.describe(params),
                    }
                    for t in stage.treatments
                ],
            }
            for stage in strategy.stages
        ],
        "pauses": [
            {"name": p.name, "when": p.when.describe(params), "exempt_stages": sorted(p.exempt_stages)}
            for p in strategy.pauses
        ],
        "experiments": [
            {
                "name": e.name,
                "variants": [
                    {
                        "name": v.name,
                        "share": v.share,
                        "parameters": {k: param_value(k, x) for k, x in v.parameters.items()},
                    }
                    for v in e.variants
                ],
            }
            for e in strategy.experiments
        ],
    }
