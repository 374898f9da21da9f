"""The simulator tells the borrower of every limit change it records, as the end-of-day does."""

from __future__ import annotations

from collections import Counter

from sim_helpers import small_portfolio

from overdue.risk.notices import NOTICE_CHANNEL, NOTICE_STAGE, NOTICE_TREATMENT, TEMPLATE_FOR
from overdue.sim.shard import NO_VARIANT


def test_every_limit_change_is_told_once_as_an_sms_of_no_variant() -> None:
    result = small_portfolio()
    changes = Counter({k[1]: 0 for k in result.tallies if k[0] == "limit_changes"})
    for key, count in result.tallies.items():
        if key[0] == "limit_changes":
            changes[key[1]] += count
    assert sum(changes.values()) > 0
    notices = [row for row in result.actions if row[2] == NOTICE_TREATMENT]
    told = Counter(row[5] for row in notices)
    assert told == Counter({TEMPLATE_FOR[action]: n for action, n in changes.items() if n})
    for (
        account,
        _on,
        _t,
        kind,
        stage,
        _tpl,
        party,
        priority,
        experiment,
        variant,
        status,
        rule,
        reason,
    ) in notices:
        assert (kind, stage, party, priority, status) == (
            NOTICE_CHANNEL,
            NOTICE_STAGE,
            "debtor",
            0,
            "recorded",
        )
        assert experiment is None and variant is None and rule is None and reason
        assert account.startswith("SIM")
    # Counted and costed with the other actions, under no variant.
    counted = sum(n for k, n in result.tallies.items() if k[:3] == ("actions", NOTICE_CHANNEL, NOTICE_STAGE))
    assert counted == len(notices)
    assert result.tallies[("actions", NOTICE_CHANNEL, NOTICE_STAGE, NO_VARIANT, "allowed")] == len(notices)
    # One notice per account and day at most: a change is recorded once per review.
    assert max(Counter((row[0], row[1]) for row in notices).values()) == 1
