"""Promises, disputes and contacts over HTTP; every contact passes the rulebook first."""

from __future__ import annotations

from api_world import World, problem

CALL = {"channel": "voice", "party": "debtor", "outcome": "no_answer"}


def test_promises_and_disputes(world: World) -> None:
    made = world.post("collector", "/accounts/A1/promises", {"amount": "200.00", "due_on": "2026-01-20"})
    assert made.status_code == 201
    assert made.json() == {"promise": "A1/promise/2026-01-05/1", "amount": "200.00", "due": "2026-01-20"}
    promises = world.get("auditor", "/accounts/A1/promises").json()["items"]
    assert [(p["amount"], p["status"], p["due_on"]) for p in promises] == [
        ("200.00", "pending", "2026-01-20")
    ]
    early = world.post("borrower", "/accounts/A1/promises", {"amount": "1.00", "due_on": "2026-01-01"})
    problem(early, 422, "invalid-input")

    assert world.post("borrower", "/accounts/A1/disputes", {"status": "open"}).json() == {"dispute": "open"}
    problem(world.post("borrower", "/accounts/A1/disputes", {"status": "resolved"}), 403, "forbidden")
    problem(world.post("collector", "/accounts/A1/disputes", {"status": "maybe"}), 422, "validation-failed")
    resolved = world.post("compliance_officer", "/accounts/A1/disputes", {"status": "resolved"})
    assert resolved.json() == {"dispute": "resolved"}


def test_contacts_are_checked_by_the_rulebook_and_a_refusal_names_its_rule(world: World) -> None:
    late = world.post("collector", "/accounts/A1/contacts", {**CALL, "at": "2026-01-05T22:30:00"})
    assert problem(late, 409, "contact-refused")["rule"] == "cn.quiet_hours"
    assert world.get("collector", "/accounts/A1/contacts").json() == {"items": []}  # not made, not recorded

    made = world.post("collector", "/accounts/A1/contacts", {**CALL, "at": "2026-01-05T10:00:00+08:00"})
    assert made.status_code == 201
    third_party = {**CALL, "party": "contact", "at": "2026-01-05T11:00:00"}
    assert problem(world.post("collector", "/accounts/A1/contacts", third_party), 409, "contact-refused")[
        "rule"
    ]

    # An agency's contact is made as that agency (and so checked against the agency whitelist).
    by_agency = world.post("agency", "/accounts/A2/contacts", {**CALL, "at": "2026-01-05T12:00:00"})
    assert by_agency.status_code == 201
    logged = world.get("compliance_officer", "/accounts/A2/contacts").json()["items"]
    assert [(c["agency"], c["source"], c["at"]) for c in logged] == [
        ("AG1", "agency", "2026-01-05T04:00:00+00:00")
    ]

    world.post("borrower", "/accounts/A1/disputes", {"status": "open"})
    during_dispute = world.post("collector", "/accounts/A1/contacts", {**CALL, "at": "2026-01-05T15:00:00"})
    assert problem(during_dispute, 409, "contact-refused")["rule"] == "cn.no_contact_during_dispute"
    assert len(world.get("collector", "/accounts/A1/contacts").json()["items"]) == 1
    problem(
        world.post(
            "collector", "/accounts/A1/contacts", {**CALL, "channel": "pigeon", "at": "2026-01-05T10:00:00"}
        ),
        422,
        "validation-failed",
    )
