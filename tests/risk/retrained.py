"""A retrained model is the shipped one when every number in it matches to floating-point rounding: training
is deterministic, but the last bits of a fitted coefficient vary with the CPU's vector instructions (the
shipped files were written on one machine; the tests run on others)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

RELATIVE = 1e-9
ABSOLUTE = 1e-12


def differences(shipped: Any, retrained: Any, where: str = "model") -> list[str]:
    """Where ``retrained`` differs from ``shipped``: any structure, name or count differs, or a float by more
    than rounding (relative :data:`RELATIVE`, absolute :data:`ABSOLUTE`)."""
    if isinstance(shipped, float) or isinstance(retrained, float):
        same = isinstance(shipped, int | float) and isinstance(retrained, int | float)
        if same and math.isclose(shipped, retrained, rel_tol=RELATIVE, abs_tol=ABSOLUTE):
            return []
        return [f"{where}: {shipped!r} != {retrained!r}"]
    if dataclasses.is_dataclass(shipped) and not isinstance(shipped, type):
        if type(shipped) is not type(retrained):
            return [f"{where}: {type(shipped).__name__} != {type(retrained).__name__}"]
        return [
            d
            for f in dataclasses.fields(shipped)
            for d in differences(getattr(shipped, f.name), getattr(retrained, f.name), f"{where}.{f.name}")
        ]
    if isinstance(shipped, list | tuple) and isinstance(retrained, list | tuple):
        if len(shipped) != len(retrained):
            return [f"{where}: {len(shipped)} items != {len(retrained)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(shipped, retrained, strict=True))
            for d in differences(a, b, f"{where}[{i}]")
        ]
    if isinstance(shipped, dict) and isinstance(retrained, dict):
        if shipped.keys() != retrained.keys():
            return [f"{where}: keys {sorted(shipped)} != {sorted(retrained)}"]
        return [d for k in shipped for d in differences(shipped[k], retrained[k], f"{where}[{k!r}]")]
    return [] if shipped == retrained else [f"{where}: {shipped!r} != {retrained!r}"]
