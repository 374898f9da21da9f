"""Masking of personal data by role (pure functions)."""

import pytest

from overdue.api.masking import (
    borrower_view,
    mask_address,
    mask_name,
    mask_national_id,
    mask_phone,
    needs_masking,
)
from overdue.store.roles import ROLES

BORROWER = {
    "id": "B-1",
    "name": "张三丰",
    "phone": "13812341234",
    "national_id": "110101199001011234",
    "address": "北京市朝阳区建国路88号",
}


def test_phone_keeps_first_three_and_last_four() -> None:
    assert mask_phone("13812341234") == "138****1234"


def test_national_id_keeps_region_and_last_four() -> None:
    assert mask_national_id("110101199001011234") == "110101********1234"
    assert mask_national_id("11010119900101123X") == "110101********123X"


def test_address_keeps_province_and_city_only() -> None:
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区****"


def test_name_keeps_family_name() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "*"


@pytest.mark.parametrize("value", ["", "1", "1381234"])
def test_a_value_too_short_to_mask_is_masked_completely(value: str) -> None:
    masked = mask_phone(value)
    assert masked == "*" * len(value)
    assert mask_national_id(value[:10]) == "*" * len(value[:10])


def test_roles_that_work_the_account_see_it_in_full() -> None:
    full = {role for role in ROLES if not needs_masking(role)}
    assert full == {"admin", "supervisor", "collector", "field_agent", "borrower"}
    view = borrower_view(BORROWER, "collector")
    assert view == {**BORROWER, "masked": False}


@pytest.mark.parametrize("role", ["agency", "auditor", "strategist", "compliance_officer"])
def test_other_roles_see_it_masked(role: str) -> None:
    view = borrower_view(BORROWER, role)
    assert view == {
        "id": "B-1",
        "name": "张**",
        "phone": "138****1234",
        "national_id": "110101********1234",
        "address": "北京市朝阳区****",
        "masked": True,
    }
