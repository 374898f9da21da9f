"""Every notice in the borrower's language (the reference runner): a scenario's English-speaking borrower
whose limit is cut and who then misses a due date gets the cut notice and every collection message in
English — the template's ``en`` text, filled in with the same values as a zh-CN borrower's — while a
zh-CN borrower's stay as they were. A template without the borrower's language falls back to zh-CN."""

from __future__ import annotations

import dataclasses
import re
import string
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from overdue.engine.collect import DEFAULT_LOCALE, message_locale
from overdue.risk.notices import TEMPLATES as NOTICE_TEMPLATES
from overdue.risk.notices import notice_locale, notice_text
from overdue.services import scenario
from overdue.store.collection_tables import collection_actions, outbox
from overdue.strategy import default_strategy
from overdue.strategy.model import Template

SCENARIO = """\
title: An English-speaking borrower's limit is cut, then a statement goes unpaid
product: huabei
account: {{id: A1, opened: 2026-01-05, limit: "5000.00", timezone: Asia/Shanghai, language: {language}}}
events:
  - {{date: 2026-01-10, purchase: "1000.00"}}
  - {{date: 2026-02-05, repay: "600.00"}}
  - {{date: 2026-02-10, purchase: "1000.00"}}
  - {{date: 2026-03-05, repay: "600.00"}}
  - {{date: 2026-03-10, purchase: "1000.00"}}
  - {{date: 2026-04-05, repay: "600.00"}}
  - {{date: 2026-04-10, purchase: "1000.00"}}
  - date: 2026-05-01
    snapshot: true
    expect:
      limit_changes: [{{action: cut, new_limit: "3500.00", reasons: [CUT_MINIMUM_ONLY]}}]
      actions: [{{type: sms, treatment: limit_notice, template: limit_cut}}]
  - {{date: 2026-05-10, snapshot: true, expect: {{dpd: 1}}}}
"""


def _run(tmp_path: Path, language: str, engine: Engine) -> list[dict[str, Any]]:
    """The scenario run on ``engine`` for a borrower of ``language``: its outbox's messages."""
    path = tmp_path / f"{language}.yaml"
    path.write_text(textwrap.dedent(SCENARIO.format(language=language)), encoding="utf-8")
    parsed = scenario.parse(path)
    assert parsed.language == language
    ran = scenario.run(parsed, engine)
    assert not ran.mismatches, ran.mismatches
    return _messages(engine)


def _messages(engine: Engine) -> list[dict[str, Any]]:
    a, o = collection_actions.c, outbox.c
    query = (
        select(a.business_date, a.treatment, o.template, o.locale, o.body)
        .join_from(collection_actions, outbox, o.action_id == a.id)
        .order_by(a.business_date, a.treatment)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _values(text: str, body: str) -> list[tuple[str, str]]:
    """The placeholders' values that fill ``text`` in as ``body`` (asserting it does)."""
    names: list[str] = []
    pattern = ""
    for literal, name, _, _ in string.Formatter().parse(text):
        pattern += re.escape(literal)
        if name is not None:
            names.append(name)
            pattern += "(.*?)"
    found = re.fullmatch(pattern, body, re.DOTALL)
    assert found is not None, (text, body)
    return list(zip(names, found.groups(), strict=True))


def test_an_english_borrower_gets_every_notice_in_english(engine: Engine, tmp_path: Path) -> None:
    zh_engine = scenario.scratch_engine()
    try:
        chinese = _run(tmp_path, "zh-CN", zh_engine)
    finally:
        zh_engine.dispose()
    english = _run(tmp_path, "en", engine)
    treatments = [(m["business_date"], m["treatment"], m["template"]) for m in english]
    assert treatments == [(m["business_date"], m["treatment"], m["template"]) for m in chinese]
    assert (date(2026, 5, 1), "limit_notice", "limit_cut") in treatments
    assert (date(2026, 5, 10), "early_sms", "overdue_notice") in treatments
    assert {m["locale"] for m in chinese} == {"zh-CN"} and {m["locale"] for m in english} == {"en"}

    notice = next(m for m in english if m["treatment"] == "limit_notice")
    assert notice["body"] == notice_text(
        "cut",
        "en",
        old_limit=500_000,
        new_limit=350_000,
        effective_on=date(2026, 5, 8),
        reasons=("CUT_MINIMUM_ONLY",),
    )
    templates = default_strategy().templates
    for zh, en in zip(chinese, english, strict=True):
        if zh["treatment"] == "limit_notice":
            continue
        texts = templates[zh["template"]].texts
        zh_values = dict(_values(texts["zh-CN"], zh["body"]))
        en_values = dict(_values(texts["en"], en["body"]))
        for name in ("amount", "due_date", "days_past_due", "minimum", "total_due"):
            assert zh_values.get(name) == en_values.get(name), (name, zh, en)
        assert en_values.get("lender", "Huabei") == "Huabei"


def test_a_template_without_the_language_falls_back_to_zh_cn() -> None:
    strategy = default_strategy()
    only_chinese = Template("only_chinese", {"zh-CN": "【{lender}】您好"})
    patched = dataclasses.replace(strategy, templates={**strategy.templates, "only_chinese": only_chinese})
    assert message_locale(patched, "only_chinese", "en") == DEFAULT_LOCALE
    assert message_locale(patched, "overdue_notice", "en") == "en"
    assert message_locale(patched, None, "en") == DEFAULT_LOCALE
    assert all(notice_locale(t, "en") == "en" for t in NOTICE_TEMPLATES)
    assert notice_locale("limit_cut", "ja") == "zh-CN"


def test_a_scenario_with_an_unknown_language_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "fr.yaml"
    path.write_text(SCENARIO.format(language="fr"), encoding="utf-8")
    with pytest.raises(
        scenario.ScenarioError, match=r"fr\.yaml:3: unknown language 'fr' \(use one of: zh-CN, en\)"
    ):
        scenario.parse(path)
