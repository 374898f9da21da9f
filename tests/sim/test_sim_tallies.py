"""The simulator's tallies: no money is recovered that was not first counted as exposure."""

from __future__ import annotations

from overdue.sim.tallies import EpisodeTallies


def test_money_falling_due_before_the_end_of_day_is_exposed_when_a_repayment_meets_it() -> None:
    tallies = EpisodeTallies(["all"], ["early"])
    tallies.follow_dpd(0, 12)
    tallies.enter_stage(0, "early", 12)
    tallies.past_due[0] = 1_000  # what the last end-of-day saw past due
    # The next statement fell due yesterday: 2,500 is past due when the borrower repays 3,000 this morning.
    tallies.recovered(0, 3_000, 2_500, False, 0)
    counts = tallies.counts
    assert counts[("recovered_total", "all")] == 2_500
    assert counts[("exposure_total", "all")] == 1_500 == counts[("exposure", "early", "all")]
    assert tallies.past_due[0] == 0
    # A repayment of money already exposed adds no exposure.
    tallies.past_due[0] = 800
    tallies.recovered(0, 500, 800, False, 300)
    assert counts[("exposure_total", "all")] == 1_500
    assert counts[("recovered_total", "all")] == 3_000
