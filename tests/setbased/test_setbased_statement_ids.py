"""Statement ids: the date a statement id names (the set-based layout keeps dates, not ids), and the
refusal of a set-aside or a bill-installment plan naming a statement otherwise."""

from __future__ import annotations

from datetime import date

import pytest

from overdue.domain.billing import statement_date_of, statement_id
from overdue.setbased.arrangements import set_aside_date
from overdue.setbased.params import Unsupported


def test_the_date_of_a_statement_id_and_of_ids_not_in_the_pattern() -> None:
    day = date(2026, 3, 1)
    assert statement_date_of("A1", statement_id("A1", day)) == day
    assert statement_date_of("A1/x", statement_id("A1/x", day)) == day
    for other in ("A2/2026-03-01", "A1/2026-3-1", "A1/20260301", "A1-2026-03-01", "A1/2026-02-30", ""):
        assert statement_date_of("A1", other) is None, other


def test_a_set_aside_naming_its_statement_otherwise_is_refused() -> None:
    assert set_aside_date("A1", "P1", "A1/2026-03-01") == date(2026, 3, 1)
    with pytest.raises(Unsupported, match=r"relief arrangement 'P1' of account A1: a set-aside on statement"):
        set_aside_date("A1", "P1", "S-7")
