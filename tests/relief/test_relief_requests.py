"""Relief requests and their clock: 7 working days on China's calendar, answers, and overdue requests."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import chinese_calendar  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from overdue.cli.main import app
from overdue.domain.errors import InvalidDate, InvalidInput, NotFound, ReliefRefused
from overdue.domain.relief_requests import (
    answer,
    answer_deadline,
    days_overdue,
    is_overdue,
    new_request,
)
from overdue.services import accounts, relief_requests
from overdue.services.relief_requests import china_workday


def weekdays(day: date) -> bool:
    return day.weekday() < 5


def test_seven_working_days_skip_weekends_and_start_after_the_day_of_the_request() -> None:
    # Friday 9 January: Mon 12 … Fri 16 are days 1–5, Mon 19 and Tue 20 days 6 and 7.
    assert answer_deadline(date(2026, 1, 9), weekdays) == date(2026, 1, 20)
    # A request on a Saturday counts from the Monday, as one on the Friday before does.
    assert answer_deadline(date(2026, 1, 10), weekdays) == date(2026, 1, 20)
    assert answer_deadline(date(2026, 1, 9), weekdays, working_days=1) == date(2026, 1, 12)


def test_national_day_2026_on_chinas_calendar() -> None:
    # What chinese_calendar says about 2026 (checked, not assumed): 1–7 October are holidays, Thursday
    # 8 October is a working day, and Saturday 10 October is a make-up working day (调休上班).
    assert [chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 12)] == [
        False, False, False, False, False, False, False, True, True, True, False,
    ]  # fmt: skip
    assert date(2026, 10, 10).weekday() == 5
    # The last working day before the holiday, 30 September (a Wednesday): 8, 9, 10 (Saturday), 12, 13, 14
    # and 15 October are its 7 working days.
    assert answer_deadline(date(2026, 9, 30), china_workday) == date(2026, 10, 15)
    # Weekends alone would have put it in the middle of the holiday.
    assert answer_deadline(date(2026, 9, 30), weekdays) == date(2026, 10, 9)


def test_a_year_the_calendar_does_not_know_is_a_clear_error() -> None:
    with pytest.raises(InvalidDate, match=r"2031.*chinese-calendar"):
        china_workday(date(2031, 1, 2))
    # A request late in the last year it knows reaches into the next one.
    last_known = max(y for y in range(2026, 2040) if _known(y))
    with pytest.raises(InvalidDate, match=str(last_known + 1)):
        answer_deadline(date(last_known, 12, 28), china_workday)


def _known(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def test_the_deadline_day_is_in_time_and_the_day_after_is_overdue() -> None:
    request = new_request(
        "R", "A1", "plan", "borrower", "张三", "phone", date(2026, 9, 30), date(2026, 10, 15)
    )
    assert not is_overdue(request, date(2026, 10, 15))
    assert is_overdue(request, date(2026, 10, 16)) and days_overdue(request, date(2026, 10, 16)) == 1
    answered = answer(request, "approved", date(2026, 10, 16), "agent1")
    assert not is_overdue(answered, date(2026, 10, 20)) and answered.answered_late()
    assert not answer(request, "withdrawn", date(2026, 10, 15), "张三").answered_late()


def test_answers_are_checked() -> None:
    request = new_request(
        "R", "A1", "settlement", "collector", "agent1", "app", date(2026, 3, 2), date(2026, 3, 11)
    )
    with pytest.raises(ReliefRefused) as refused:
        answer(request, "refused", date(2026, 3, 3), "lead", reason="  ")
    assert refused.value.rule == "relief.request.reason_missing"
    done = answer(request, "refused", date(2026, 3, 3), "lead", reason="income not verified")
    assert done.status == "refused" and done.reason == "income not verified"
    with pytest.raises(ReliefRefused) as again:
        answer(done, "approved", date(2026, 3, 4), "lead")
    assert again.value.rule == "relief.request.not_open"
    with pytest.raises(ReliefRefused, match=r"relief\.request\.before_request"):
        answer(request, "approved", date(2026, 3, 1), "lead")
    with pytest.raises(InvalidInput, match="one of approved, refused, withdrawn"):
        answer(request, "maybe", date(2026, 3, 3), "lead")
    with pytest.raises(InvalidInput, match="unknown relief kind"):
        new_request("R", "A1", "holiday", "borrower", "x", "app", date(2026, 3, 2), date(2026, 3, 11))
    with pytest.raises(InvalidInput, match="unknown channel"):
        new_request("R", "A1", "plan", "borrower", "x", "fax", date(2026, 3, 2), date(2026, 3, 11))


def test_requests_through_the_store(engine: Engine) -> None:
    accounts.open_account(engine, "A1", date(2026, 9, 1), 500_000)
    first = relief_requests.record_request(
        engine, "A1", "plan", "张三", channel="phone", on=date(2026, 9, 30), note="失业，请求分期"
    )
    assert first["deadline"] == "2026-10-15" and first["status"] == "open"
    second = relief_requests.record_request(
        engine, "A1", "deferral", "agent7", party="collector", on=date(2026, 10, 9)
    )
    assert second["id"] == "A1/request/2026-10-09/2" and second["deadline"] == "2026-10-19"

    assert relief_requests.overdue_requests(engine, date(2026, 10, 15))["overdue"] == []
    flagged = relief_requests.overdue_requests(engine, date(2026, 10, 16))["overdue"]
    assert [(r["id"], r["days_overdue"]) for r in flagged] == [(first["id"], 1)]
    late = relief_requests.overdue_requests(engine, date(2026, 10, 22))["overdue"]
    assert [r["id"] for r in late] == [first["id"], second["id"]]

    answered = relief_requests.answer_request(engine, first["id"], "approved", "lead", on=date(2026, 10, 22))
    assert answered["answered_late"] is True
    with pytest.raises(ReliefRefused, match=r"relief\.request\.not_open"):
        relief_requests.answer_request(engine, first["id"], "withdrawn", "张三", on=date(2026, 10, 22))
    relief_requests.answer_request(
        engine, second["id"], "refused", "lead", reason="not eligible", on=date(2026, 10, 19)
    )
    assert relief_requests.overdue_requests(engine, date(2026, 10, 22))["overdue"] == []
    statuses = [(r["status"], r["answered_late"]) for r in relief_requests.requests_of(engine, "A1")]
    assert statuses == [("approved", True), ("refused", False)]
    with pytest.raises(NotFound):
        relief_requests.answer_request(engine, "A1/request/none", "approved", "lead")


def test_cli_request_answer_overdue(tmp_path: Path) -> None:
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path}/r.db", *args])
        return result.exit_code, result.stdout

    assert invoke("account", "open", "A1", "--limit", "5000.00", "--opened", "2026-09-01")[0] == 0
    code, out = invoke(
        "relief", "request", "A1", "--kind", "plan", "--by", "张三", "--on", "2026-09-30", "--json"
    )
    assert code == 0
    request = json.loads(out)
    assert request["deadline"] == "2026-10-15"
    code, out = invoke("relief", "overdue", "--on", "2026-10-16")
    assert code == 0 and request["id"] in out and "1 days overdue" in out
    code, out = invoke("relief", "answer", request["id"], "--status", "refused", "--on", "2026-10-16")
    assert code == 2 and out == ""
    code, out = invoke(
        "relief",
        "answer",
        request["id"],
        "--status",
        "refused",
        "--reason",
        "no income",
        "--on",
        "2026-10-16",
    )
    assert code == 0 and "refused on 2026-10-16 (after its deadline 2026-10-15)" in out
    code, out = invoke("relief", "overdue", "--on", "2026-10-16", "--json")
    assert code == 0 and json.loads(out) == {"date": "2026-10-16", "overdue": []}
    beyond = max(y for y in range(2026, 2040) if _known(y))
    result = runner.invoke(
        app, ["--db", f"sqlite:///{tmp_path}/r.db", "relief", "request", "A1", "--kind", "plan", "--by", "x",
              "--on", f"{beyond}-12-28"],
    )  # fmt: skip
    assert result.exit_code == 2 and f"China's holiday calendar for {beyond + 1}" in result.output
