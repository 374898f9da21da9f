"""Money: yuan strings at the edges, integer fen inside, one rounding rule, splits that sum to the whole."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.domain.errors import InvalidAmount
from overdue.domain.money import (
    allocate,
    format_yuan,
    parse_positive_yuan,
    parse_yuan,
    round_half_up,
    split_evenly,
)

# --- parse_yuan / format_yuan ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1000.00", 100_000),
        ("12.5", 1_250),
        ("7", 700),
        ("0.01", 1),
        ("0.10", 10),
        ("0", 0),
        ("-0.05", -5),
        ("-12.34", -1_234),
        (" 3.20 ", 320),
        ("999999999999999.99", 99_999_999_999_999_999),
        (7, 700),
        (0, 0),
    ],
)
def test_parse_yuan(text: str | int, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (1, "0.01"), (10, "0.10"), (100_000, "1000.00"), (123_456, "1234.56"), (-5, "-0.05")],
)
def test_format_yuan(fen: int, text: str) -> None:
    assert format_yuan(fen) == text


@given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
def test_format_then_parse_is_the_identity(fen: int) -> None:
    text = format_yuan(fen)
    assert parse_yuan(text) == fen
    whole, _, cents = text.lstrip("-").partition(".")
    assert len(cents) == 2 and whole.isdigit()


@given(st.integers(min_value=0, max_value=10**15 - 1), st.integers(min_value=0, max_value=99))
def test_parse_then_format_is_the_identity(whole: int, cents: int) -> None:
    text = f"{whole}.{cents:02d}"
    assert format_yuan(parse_yuan(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "0.001",  # sub-fen
        "1.005",
        "100.000",
        "1e3",  # exponent
        "1E2",
        "1.5e-2",
        "abc",  # garbage
        "",
        " ",
        "1,000.00",
        "¥100",
        "100 yuan",
        "1.2.3",
        ".50",
        "5.",
        "+5.00",
        "--5",
        "NaN",
        "Infinity",
        "0x10",
        "1_000",
        "1000000000000000.00",  # 16 digits of yuan
    ],
)
def test_parse_yuan_refuses_malformed_text(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(text)


@pytest.mark.parametrize(
    "value", [1.5, 0.1, 100.0, float("nan"), True, False, None, Decimal("1.00"), b"1.00"]
)
def test_parse_yuan_refuses_non_strings(value: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(value)  # type: ignore[arg-type]


def test_parse_yuan_names_the_field() -> None:
    with pytest.raises(InvalidAmount, match=r"^limit "):
        parse_yuan("0.001", field="limit")


@pytest.mark.parametrize("text", ["0", "0.00", "-0.01", "-5"])
def test_parse_positive_yuan_refuses_zero_and_negative(text: str) -> None:
    with pytest.raises(InvalidAmount, match="greater than zero"):
        parse_positive_yuan(text)


def test_parse_positive_yuan_accepts_one_fen() -> None:
    assert parse_positive_yuan("0.01") == 1


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_ever_accepted(value: float) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(value)  # type: ignore[arg-type]


# --- round_half_up ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exact", "fen"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),  # half-up, not to even
        ("0.49999", 0),
        ("0.50001", 1),
        ("-0.5", -1),
        ("-1.5", -2),
        ("-2.5", -3),
        ("-0.49999", 0),
        ("-0.50001", -1),
        ("0", 0),
        ("122.5", 123),
        ("12345.4999999999", 12345),
        ("0.617285", 1),
    ],
)
def test_round_half_up(exact: str, fen: int) -> None:
    assert round_half_up(Decimal(exact)) == fen


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_round_half_up_at_every_half(n: int) -> None:
    half = Decimal(n) + Decimal("0.5")
    assert round_half_up(half) == (n + 1 if half > 0 else n)
    assert round_half_up(Decimal(n)) == n


def test_round_half_up_returns_int() -> None:
    assert type(round_half_up(Decimal("1.5"))) is int


# --- split_evenly -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (100_000, 3, (33_334, 33_333, 33_333)),
        (8_800, 12, (737, *([733] * 11))),
        (100, 1, (100,)),
        (0, 3, (0, 0, 0)),
        (2, 3, (2, 0, 0)),
        (12, 12, (1,) * 12),
    ],
)
def test_split_evenly_gives_the_remainder_to_the_first_part(
    total: int, parts: int, expected: tuple[int, ...]
) -> None:
    assert split_evenly(total, parts) == expected


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=60))
def test_split_evenly_sums_to_the_total(total: int, parts: int) -> None:
    split = split_evenly(total, parts)
    assert len(split) == parts
    assert sum(split) == total
    rest = split[1:]
    assert all(p == total // parts for p in rest)
    assert 0 <= split[0] - total // parts < parts


@pytest.mark.parametrize("parts", [0, -1])
def test_split_evenly_needs_parts(parts: int) -> None:
    with pytest.raises(ValueError, match="parts"):
        split_evenly(100, parts)


# --- allocate ---------------------------------------------------------------------------------------------


def test_allocate_worked_example() -> None:
    assert allocate(100, [1, 1, 1]) == (34, 33, 33)
    assert allocate(10, [3, 7]) == (3, 7)
    assert allocate(1, [1, 1]) == (1, 0)  # ties go to the earlier weight
    assert allocate(0, [0, 0]) == (0, 0)
    assert allocate(5, [0, 2]) == (0, 5)


@settings(max_examples=300)
@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
)
def test_allocate_sums_to_the_total_and_is_proportional(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert type(part) is int
        assert part >= 0
        exact = Decimal(total) * weight / weight_sum
        assert abs(Decimal(part) - exact) < 1
        if weight == 0:
            assert part == 0


def test_allocate_refuses_bad_weights() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(10, [1, -1])
    with pytest.raises(ValueError, match="zero weights"):
        allocate(10, [0, 0])


@pytest.mark.parametrize("text", ["\uff11\uff10\uff10.\uff10\uff10", "\u0661\u0660\u0660"])
def test_parse_yuan_refuses_non_ascii_digits(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(text)
