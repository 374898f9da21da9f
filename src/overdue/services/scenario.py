"""Worked examples: run a scenario file (DESIGN §3) end to end through the store and the end-of-day.

A scenario opens one account, then for every date from its opening to its last event applies that date's
events in file order and runs that date's end-of-day; ``snapshot`` events are taken after it. Every event
gets a result (``ok``, and ``error``/``code`` when refused). Optional checks make a scenario a test:

- ``expect:`` on any event is a partial match against its result (for a snapshot: the snapshot JSON):
  mappings match key by key, lists item by item (same length), anything else must be equal;
- ``expect_error: CODE`` says the event must be refused with that error code, and ``expect_rule: RULE``
  that a compliance, relief or purchase-installments rule refused it (a refused contact is not made and counts
  toward no limit).

A purchase is ``purchase: "100.00"``, or ``purchase: {amount: "1200.00", installments: 6}`` to buy in
installments (add ``quote: true`` to only quote them).

The file is checked before anything runs; each problem names the file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

from overdue.domain.account import check_language
from overdue.domain.calendar import iter_days, parse_date
from overdue.domain.errors import InvalidInput, OverdueError, PurchaseInstallmentsRefused, ReliefRefused
from overdue.domain.money import parse_positive_yuan
from overdue.domain.snapshot import snapshot
from overdue.engine.limits import limit_snapshot
from overdue.engine.reference import run_eod
from overdue.services import accounts, scenario_relief
from overdue.services import collections as collections_service
from overdue.store import collections_repository as collections_store
from overdue.store import repository
from overdue.store.db import make_engine, upgrade

SUPPORTED = (
    "purchase",
    "repay",
    "installments",
    "promise",
    "dispute",
    "hold",
    "release",
    "agency",
    "contact",
    "relief",
    "snapshot",
)
NOT_YET = {"waiver": "a waiver is a relief event: {relief: {kind: waiver, interest: ..., fees: ...}}"}
TOP_LEVEL = {"title", "description", "description_zh", "product", "overrides", "account", "events"}
ACCOUNT_KEYS = {"id", "opened", "limit", "timezone", "language"}
EVENT_EXTRAS = {"date", "at", "expect", "expect_error", "expect_rule", "note"}
CONTACT_KEYS = {"channel", "party", "outcome", "agency", "collectors", "recording"}
PURCHASE_KEYS = {"amount", "installments", "quote"}


class ScenarioError(InvalidInput):
    """A scenario file that cannot be run; the message starts with ``FILE:LINE:``."""

    code = "invalid-scenario"


@dataclass(frozen=True)
class Event:
    line: int
    on: date
    kind: str
    value: Any
    expect: Any = None
    expect_error: str | None = None
    expect_rule: str | None = None


@dataclass(frozen=True)
class Scenario:
    path: str
    product: str
    overrides: dict[str, Any]
    account_id: str
    opened: date
    limit: int
    timezone: str
    events: tuple[Event, ...]
    title: str | None = None
    language: str = "zh-CN"
    """The borrower's language (``zh-CN`` or ``en``): every notice and message is sent in it."""


@dataclass
class ScenarioResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    checks: int = 0

    @property
    def unexpected_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events if not e["ok"] and "expect_error" not in e]

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "snapshots": self.snapshots,
            "expectations": {"checked": self.checks, "failed": self.mismatches},
        }


def _event_lines(text: str) -> tuple[int, dict[str, int], list[int]]:
    """Line numbers (1-based) of the top-level keys and of each item of ``events``."""
    node = yaml.compose(text)
    keys: dict[str, int] = {}
    events: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            keys[str(key_node.value)] = key_node.start_mark.line + 1
            if key_node.value == "events" and isinstance(value_node, yaml.SequenceNode):
                events = [item.start_mark.line + 1 for item in value_node.value]
    return (node.start_mark.line + 1 if node else 1), keys, events


def _bad_timestamp_line(text: str) -> int:
    """The line of the first date-looking scalar that is not a real date (for PyYAML's ValueError)."""
    pending = [yaml.compose(text)]
    while pending:
        node = pending.pop(0)
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
            try:
                datetime.fromisoformat(str(node.value).replace(" ", "T").rstrip("Z"))
            except ValueError:
                return node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(v for pair in node.value for v in pair)
    return 1


def parse(path: str | Path) -> Scenario:
    """Read and check a scenario file; raises :class:`ScenarioError` naming file, line and field."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        first, key_lines, event_lines = _event_lines(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ScenarioError(f"{where}: malformed YAML: {getattr(exc, 'problem', None) or exc}") from None
    except ValueError as exc:  # PyYAML builds unquoted dates itself and fails on e.g. 2026-02-30
        line = _bad_timestamp_line(text)
        raise ScenarioError(f"{name}:{line}: invalid date: {exc}") from None

    def fail(line: int | None, message: str) -> ScenarioError:
        return ScenarioError(f"{name}:{line or first}: {message}")

    if not isinstance(data, dict):
        raise fail(first, "a scenario is a mapping with product, account and events")
    for key in data:
        if key not in TOP_LEVEL:
            raise fail(
                key_lines.get(key), f"unknown key {key!r}; expected one of {', '.join(sorted(TOP_LEVEL))}"
            )
    for key in ("account", "events"):
        if key not in data:
            raise fail(first, f"missing {key!r}")
    account = data["account"]
    if not isinstance(account, dict):
        raise fail(key_lines.get("account"), "account must be a mapping {id, opened, limit, timezone}")
    account_line = key_lines.get("account")
    for key in account:
        if key not in ACCOUNT_KEYS:
            raise fail(
                account_line, f"unknown account field {key!r}; expected {', '.join(sorted(ACCOUNT_KEYS))}"
            )
    for key in ("id", "opened", "limit"):
        if key not in account:
            raise fail(account_line, f"account needs {key!r}")
    overrides = data.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise fail(key_lines.get("overrides"), "overrides must be a mapping of product terms")
    try:
        opened = parse_date(account["opened"], field="account.opened")
        limit = parse_positive_yuan(account["limit"], field="account.limit")
        check_language(str(account.get("language", "zh-CN")))
    except OverdueError as exc:
        raise fail(account_line, str(exc)) from None
    raw_events = data["events"]
    if not isinstance(raw_events, list):
        raise fail(key_lines.get("events"), "events must be a list")
    events: list[Event] = []
    for index, raw in enumerate(raw_events):
        events.append(_parse_event(raw, event_lines[index] if index < len(event_lines) else None, fail))
    previous = min([opened, *(e.on for e in events[:1])])
    for event in events:
        if event.on < previous:
            raise fail(
                event.line,
                f"event dated {event.on.isoformat()} comes after one dated {previous.isoformat()}: "
                "events must be in date order",
            )
        previous = event.on
    return Scenario(
        path=name,
        product=str(data.get("product", "huabei")),
        overrides=overrides,
        account_id=str(account["id"]),
        opened=opened,
        limit=limit,
        timezone=str(account.get("timezone", "Asia/Shanghai")),
        events=tuple(events),
        title=data.get("title"),
        language=str(account.get("language", "zh-CN")),
    )


def _parse_event(raw: Any, line: int | None, fail: Callable[[int | None, str], ScenarioError]) -> Event:
    if not isinstance(raw, dict):
        raise fail(line, 'each event is a mapping such as {date: 2026-01-10, purchase: "100.00"}')
    kinds = [k for k in raw if k not in EVENT_EXTRAS]
    if len(kinds) != 1:
        raise fail(line, f"an event needs exactly one kind ({', '.join(SUPPORTED)}), found {kinds or 'none'}")
    kind = str(kinds[0])
    if kind in NOT_YET:
        raise fail(line, f"event {kind!r} is not supported yet: {NOT_YET[kind]}")
    if kind not in SUPPORTED:
        raise fail(line, f"unknown event {kind!r}; supported events: {', '.join(SUPPORTED)}")
    if ("date" in raw) == ("at" in raw):
        raise fail(line, "an event needs either date: YYYY-MM-DD or at: YYYY-MM-DDTHH:MM")
    moment: Any = None
    try:
        if "at" in raw:
            moment = raw["at"]
            if isinstance(moment, str):
                moment = datetime.fromisoformat(moment)
            if not isinstance(moment, datetime):
                raise InvalidInput(f"at must be a local time written YYYY-MM-DDTHH:MM, got {raw['at']!r}")
            on = moment.date()
        else:
            on = parse_date(raw["date"], field="date")
    except (OverdueError, ValueError) as exc:
        raise fail(line, str(exc)) from None
    value = raw[kind]
    try:
        if kind == "purchase" and isinstance(value, dict):
            value = _purchase_in_installments(value, check_amount="expect_error" not in raw)
        elif kind in ("purchase", "repay"):
            if value is None or isinstance(value, (float, bool)):
                raise InvalidInput(f'{kind} must be an amount in yuan written as a string such as "100.00"')
            if "expect_error" not in raw:  # a refused amount is only a worked example when it says so
                parse_positive_yuan(value, field=kind)
        elif kind == "installments":
            if not isinstance(value, dict) or set(value) != {"statement", "periods"}:
                raise InvalidInput("installments must be {statement: YYYY-MM-DD, periods: N}")
            if isinstance(value["periods"], bool) or not isinstance(value["periods"], int):
                raise InvalidInput("installments.periods must be a whole number")
            value = {
                "statement": parse_date(value["statement"], field="installments.statement"),
                "periods": value["periods"],
            }
        elif kind == "promise":
            if not isinstance(value, dict) or set(value) != {"amount", "due"}:
                raise InvalidInput('promise must be {amount: "500.00", due: YYYY-MM-DD}')
            value = {
                "amount": parse_positive_yuan(value["amount"], field="promise.amount"),
                "due": parse_date(value["due"], field="promise.due"),
            }
        elif kind == "dispute":
            if value not in ("open", "resolved"):
                raise InvalidInput("dispute must be open or resolved")
        elif kind in ("hold", "release"):
            allowed: tuple[str, ...] = collections_service.HOLDS_BY_REQUEST
            if value not in allowed:
                raise InvalidInput(f"{kind} must be one of {', '.join(allowed)}")
        elif kind == "agency":
            if not isinstance(value, dict) or not {"id", "name"} <= set(value) <= {
                "id",
                "name",
                "reviewed",
                "valid_until",
            }:
                raise InvalidInput(
                    "agency must be {id: AG1, name: ..., reviewed: YYYY-MM-DD, valid_until: YYYY-MM-DD}"
                )
            if ("reviewed" in value) != ("valid_until" in value):
                raise InvalidInput("an agency review needs both reviewed and valid_until")
            value = {
                "id": str(value["id"]),
                "name": str(value["name"]),
                "reviewed": parse_date(value["reviewed"], field="agency.reviewed")
                if "reviewed" in value
                else None,
                "valid_until": parse_date(value["valid_until"], field="agency.valid_until")
                if "valid_until" in value
                else None,
            }
        elif kind == "contact":
            if not isinstance(value, dict) or not {"channel", "outcome"} <= set(value) <= CONTACT_KEYS:
                raise InvalidInput(
                    "contact must be {channel: voice, party: debtor, outcome: no_answer} "
                    "(optionally with agency, collectors, recording)"
                )
            if "at" not in raw:
                raise InvalidInput("a contact needs at: YYYY-MM-DDTHH:MM (the debtor's local time)")
            team = value.get("collectors")
            if team is not None and (isinstance(team, bool) or not isinstance(team, int) or team < 1):
                raise InvalidInput("contact.collectors must be a whole number ≥ 1")
            value = {"party": "debtor", **value, "at": moment}
        elif kind == "relief":
            value = scenario_relief.parse_event(value)
        elif kind == "snapshot" and value is not True:
            raise InvalidInput("snapshot must be true")
    except OverdueError as exc:
        raise fail(line, str(exc)) from None
    expect_error = raw.get("expect_error")
    expect_rule = raw.get("expect_rule")
    return Event(
        line or 0,
        on,
        kind,
        value,
        raw.get("expect"),
        None if expect_error is None else str(expect_error),
        None if expect_rule is None else str(expect_rule),
    )


def _purchase_in_installments(value: dict[Any, Any], *, check_amount: bool) -> dict[str, Any]:
    """``{amount: "1200.00", installments: 6, quote: false}`` checked; the amount stays a yuan string."""
    if not {"amount", "installments"} <= set(value) <= PURCHASE_KEYS:
        raise InvalidInput('a purchase in installments is {amount: "1200.00", installments: N, quote: false}')
    amount, periods, quote = value["amount"], value["installments"], value.get("quote", False)
    if amount is None or isinstance(amount, (float, bool)):
        raise InvalidInput('purchase.amount must be an amount in yuan written as a string such as "100.00"')
    if check_amount:
        parse_positive_yuan(amount, field="purchase.amount")
    if isinstance(periods, bool) or not isinstance(periods, int):
        raise InvalidInput("purchase.installments must be a whole number of periods")
    if not isinstance(quote, bool):
        raise InvalidInput("purchase.quote must be true or false")
    return {"amount": amount, "installments": periods, "quote": quote}


def scratch_engine() -> Engine:
    """A private in-memory SQLite database, migrated, for one scenario run."""
    engine = make_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    upgrade(engine)
    return engine


def _match(expected: Any, actual: Any, path: str, line: int, out: list[dict[str, Any]]) -> int:
    """Compare ``expected`` (partial) with ``actual``; append mismatches to ``out``; return checks made."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append({"line": line, "path": path, "expected": _plain(expected), "actual": actual})
            return 1
        return sum(
            _match(v, actual.get(str(k)), f"{path}.{k}" if path else str(k), line, out)
            for k, v in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return sum(
            _match(e, a, f"{path}[{i}]", line, out)
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
        )
    normalised = _plain(expected)
    if normalised != actual:
        out.append({"line": line, "path": path, "expected": normalised, "actual": actual})
    return 1


def _plain(value: Any) -> Any:
    """``value`` as the results show it: YAML's dates (also inside lists and mappings) as ISO strings."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run(scenario: Scenario, engine: Engine | None = None) -> ScenarioResult:
    """Run ``scenario``; ``engine`` defaults to a private in-memory database."""
    engine = engine or scratch_engine()
    result = ScenarioResult()
    accounts.open_account(
        engine,
        scenario.account_id,
        scenario.opened,
        scenario.limit,
        product=scenario.product,
        overrides=scenario.overrides,
        timezone=scenario.timezone,
        language=scenario.language,
    )
    last = max([e.on for e in scenario.events], default=scenario.opened)
    by_date: dict[date, list[Event]] = {}
    for event in scenario.events:
        by_date.setdefault(event.on, []).append(event)
    first = min([scenario.opened, *(e.on for e in scenario.events)])
    for day in iter_days(first, last):
        todays = by_date.get(day, [])
        for event in todays:
            if event.kind != "snapshot":
                result.events.append(_apply(engine, scenario, event, result))
        run_eod(engine, day)
        for event in todays:
            if event.kind == "snapshot":
                with engine.connect() as conn:
                    state, _ = repository.load_account(conn, scenario.account_id, full_history=True)
                    actions = collections_store.actions_on(conn, scenario.account_id, day)
                    limits = limit_snapshot(conn, state)
                shot = snapshot(state, day)
                shot["limit_changes"] = limits["limit_changes"]
                shot["bureau"]["credit_limit"] = limits["bureau_credit_limit"]
                shot["plan"] = scenario_relief.plan_snapshot(state)
                shot["actions"] = [_action_json(a) for a in actions if a["status"] != "refused"]
                shot["refused_actions"] = [_action_json(a) for a in actions if a["status"] == "refused"]
                result.snapshots.append(shot)
                result.events.append(
                    {"line": event.line, "date": day.isoformat(), "event": "snapshot", "ok": True}
                )
                if event.expect is not None:
                    result.checks += _match(event.expect, shot, "", event.line, result.mismatches)
    return result


def _apply(engine: Engine, scenario: Scenario, event: Event, result: ScenarioResult) -> dict[str, Any]:
    out: dict[str, Any] = {"line": event.line, "date": event.on.isoformat(), "event": event.kind}
    detail: dict[str, Any] = {}
    try:
        if event.kind == "purchase" and isinstance(event.value, dict):
            v = event.value
            if v["quote"]:
                detail = accounts.quote_purchase_installments(
                    engine,
                    scenario.account_id,
                    parse_positive_yuan(v["amount"]),
                    v["installments"],
                    on=event.on,
                )
            else:
                detail = accounts.purchase(
                    engine,
                    scenario.account_id,
                    parse_positive_yuan(v["amount"]),
                    periods=v["installments"],
                    on=event.on,
                )
        elif event.kind == "purchase":
            detail = accounts.purchase(
                engine, scenario.account_id, parse_positive_yuan(event.value), on=event.on
            )
        elif event.kind == "repay":
            detail = accounts.repay(
                engine, scenario.account_id, parse_positive_yuan(event.value), on=event.on
            )
        elif event.kind == "promise":
            detail = collections_service.make_promise(
                engine, scenario.account_id, event.on, event.value["amount"], event.value["due"]
            )
        elif event.kind == "dispute":
            detail = collections_service.set_dispute(
                engine, scenario.account_id, event.on, open_=event.value == "open"
            )
        elif event.kind in ("hold", "release"):
            detail = collections_service.set_hold(
                engine, scenario.account_id, event.value, event.on, start=event.kind == "hold"
            )
        elif event.kind == "agency":
            v = event.value
            moment = datetime.combine(event.on, time(0), tzinfo=ZoneInfo(scenario.timezone))
            detail = collections_service.add_agency(engine, v["id"], v["name"], moment)
            if v["reviewed"] is not None:
                detail |= collections_service.review_agency(
                    engine, v["id"], v["reviewed"], v["valid_until"], "scenario"
                )
        elif event.kind == "contact":
            v = event.value
            detail = collections_service.record_contact(
                engine,
                scenario.account_id,
                v["at"],
                v["channel"],
                v["party"],
                v["outcome"],
                source="scenario",
                agency=v.get("agency"),
                collectors=v.get("collectors"),
                recording_ref=v.get("recording"),
            )
        elif event.kind == "relief":
            detail = scenario_relief.apply(engine, scenario.account_id, event.on, event.value)
        elif event.kind == "installments":
            detail = accounts.request_installments(
                engine, scenario.account_id, event.value["statement"], event.value["periods"], on=event.on
            )
            detail = detail["quote"] or {}
        out.update(ok=True, result=detail)
    except OverdueError as exc:
        out.update(ok=False, error=str(exc), code=exc.code)
        if isinstance(exc, (collections_service.ContactRefused, ReliefRefused, PurchaseInstallmentsRefused)):
            out["rule"] = exc.rule
    if event.expect_error is not None:
        out["expect_error"] = event.expect_error
        result.checks += 1
        if out.get("code") != event.expect_error:
            result.mismatches.append(
                {
                    "line": event.line,
                    "path": "error",
                    "expected": event.expect_error,
                    "actual": out.get("code"),
                }
            )
    if event.expect_rule is not None:
        result.checks += 1
        if out.get("rule") != event.expect_rule:
            result.mismatches.append(
                {"line": event.line, "path": "rule", "expected": event.expect_rule, "actual": out.get("rule")}
            )
    if event.expect is not None:
        result.checks += _match(event.expect, out.get("result"), "", event.line, result.mismatches)
    return out


def _action_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {
        "type": row["type"],
        "treatment": row["treatment"],
        "stage": row["stage"],
        "template": row["template"],
        "party": row["party"],
    }
    if row["variant"]:
        out["experiment"], out["variant"] = row["experiment"], row["variant"]
    if row["status"] == "refused":
        out["rule"] = row["refused_rule"]
    return out
