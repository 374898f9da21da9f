"""Masking of personal data by role: pure functions, no database.

Roles that work the account in person (collectors, field agents, their supervisors, administrators) see a
borrower's phone, national id and address in full; a borrower sees their own in full (they can only ever see
their own). Every other role (strategists, agencies, compliance officers, auditors) sees them masked:

- phone ``13812341234`` → ``138****1234`` (the first 3 and last 4 characters kept);
- national id ``110101199001011234`` → ``110101********1234`` (the region code and last 4 kept);
- address → its first 6 characters and ``****`` (the province and city, not the street);
- name ``张三丰`` → ``张**`` (the family name kept).

A value too short to keep anything safely is masked completely, never shown.
"""

from __future__ import annotations

from typing import Any

FULL_PII_ROLES = frozenset({"admin", "supervisor", "collector", "field_agent", "borrower"})
"""Roles that see personal data unmasked (a borrower only ever sees their own)."""

MASK = "*"


def mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """``value`` with all but its first ``keep_start`` and last ``keep_end`` characters masked.

    A value no longer than what would be kept is masked completely (it would otherwise be shown in full).
    """
    if len(value) <= keep_start + keep_end:
        return MASK * len(value)
    return value[:keep_start] + MASK * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``."""
    return mask_middle(phone, 3, 4)


def mask_national_id(national_id: str) -> str:
    """``110101199001011234`` → ``110101********1234``."""
    return mask_middle(national_id, 6, 4)


def mask_address(address: str) -> str:
    """``北京市朝阳区建国路88号`` → ``北京市朝阳区****``."""
    if len(address) <= 6:
        return MASK * 4
    return address[:6] + MASK * 4


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``; a one-character name is masked completely."""
    if len(name) <= 1:
        return MASK * len(name)
    return name[0] + MASK * (len(name) - 1)


def needs_masking(role: str) -> bool:
    """Whether ``role`` sees personal data masked."""
    return role not in FULL_PII_ROLES


def borrower_view(borrower: dict[str, Any], role: str) -> dict[str, Any]:
    """The borrower's personal data as ``role`` may see it.

    borrower: ``id``, ``name``, ``phone``, ``national_id`` and ``address`` as stored.
    """
    view = {key: borrower[key] for key in ("id", "name", "phone", "national_id", "address")}
    if needs_masking(role):
        view.update(
            name=mask_name(view["name"]),
            phone=mask_phone(view["phone"]),
            national_id=mask_national_id(view["national_id"]),
            address=mask_address(view["address"]),
        )
    view["masked"] = needs_masking(role)
    return view
