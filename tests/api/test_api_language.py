"""The borrower's language over the API: an account opened in English shows it, the default is zh-CN, and
a language no notice is written in is a 422 problem naming the accepted ones, never a 500."""

from __future__ import annotations

from api_world import OPENED, World, problem


def test_an_account_opened_in_english_shows_its_language(world: World) -> None:
    body = {"id": "E1", "opened_on": OPENED.isoformat(), "credit_limit": "5000.00", "language": "en"}
    made = world.post("admin", "/accounts", body)
    assert made.status_code == 201, made.text
    assert made.json()["language"] == "en"
    assert world.get("admin", "/accounts/E1").json()["language"] == "en"
    assert world.get("admin", "/accounts/A1").json()["language"] == "zh-CN"  # opened without one
    listed = {a["id"]: a["language"] for a in world.get("admin", "/accounts").json()["items"]}
    assert listed["E1"] == "en" and listed["A1"] == "zh-CN"


def test_an_unknown_language_is_refused(world: World) -> None:
    body = {"id": "F1", "opened_on": OPENED.isoformat(), "credit_limit": "5000.00", "language": "fr"}
    refused = problem(world.post("admin", "/accounts", body), 422, "invalid-input")
    assert "'fr'" in refused["detail"] and "zh-CN, en" in refused["detail"]
    problem(world.get("admin", "/accounts/F1"), 404, "not-found")
