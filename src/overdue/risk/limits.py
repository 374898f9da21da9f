"""Initial limit assignment: application score → band → credit limit, with policy overrides.

The band table is a YAML file shipped in this package (``limit_bands.yaml``; :func:`load_limit_table` reads
it or another file): bands by minimum score, each with a limit in yuan, parsed to fen; every limit must lie
within the product's 500.00–50,000.00 and limits may not rise as the score falls.

:func:`assign_limit` is a pure function. In order:

1. the score's band gives the limit (reason ``SCORE_BAND``); below the lowest band the applicant is declined
   (``DECLINED_LOW_SCORE``, band ``X``, limit 0);
2. a **thin file** (fewer than ``thin_file_months`` months of credit history) gets at most the floor limit
   (``THIN_FILE_FLOOR``);
3. a stated **monthly income** caps the limit at ``income_multiple`` × income, rounded down to the limit step
   (``INCOME_CAP``); a cap below the minimum limit declines the application (``INCOME_CAP_BELOW_MINIMUM``).

Every decision carries its reason codes (:mod:`overdue.risk.reasons`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from overdue.domain.errors import InvalidAmount, InvalidTerms
from overdue.domain.money import Fen, format_yuan, parse_yuan

PRODUCT_MINIMUM_FEN = 50_000
PRODUCT_MAXIMUM_FEN = 5_000_000
"""The product's limits: 500.00–50,000.00 yuan."""


@dataclass(frozen=True)
class LimitBand:
    band: str
    min_score: float
    limit: Fen


@dataclass(frozen=True)
class LimitTable:
    bands: tuple[LimitBand, ...]
    """Highest ``min_score`` first."""
    minimum_limit: Fen
    maximum_limit: Fen
    limit_step: Fen
    declined_band: str
    thin_file_months: int
    thin_file_limit: Fen
    income_multiple: Decimal


@dataclass(frozen=True)
class LimitDecision:
    approved: bool
    limit_fen: Fen
    """The assigned limit; 0 when declined."""
    band: str
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "approved": self.approved,
            "limit": format_yuan(self.limit_fen),
            "band": self.band,
            "reasons": list(self.reasons),
        }


def _yuan(data: Mapping[str, Any], key: str, where: str) -> Fen:
    if key not in data:
        raise InvalidTerms(f"{where}: {key} is missing")
    try:
        return parse_yuan(str(data[key]), field=f"{where}: {key}")
    except InvalidAmount as error:
        raise InvalidTerms(str(error)) from error


def parse_limit_table(data: Any, source: str = "limit table") -> LimitTable:
    """Validate a parsed band table (see ``limit_bands.yaml``) and turn its amounts into fen."""
    if not isinstance(data, dict):
        raise InvalidTerms(f"{source}: expected a mapping")
    minimum = _yuan(data, "minimum_limit", source)
    maximum = _yuan(data, "maximum_limit", source)
    step = _yuan(data, "limit_step", source)
    if not PRODUCT_MINIMUM_FEN <= minimum < maximum <= PRODUCT_MAXIMUM_FEN or step <= 0:
        raise InvalidTerms(
            f"{source}: limits must satisfy 500.00 <= minimum_limit < maximum_limit <= 50000.00, step > 0"
        )
    raw_bands = data.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise InvalidTerms(f"{source}: bands must be a non-empty list")
    bands = []
    for i, raw in enumerate(raw_bands):
        where = f"{source}: bands[{i}]"
        if not isinstance(raw, dict) or "band" not in raw or "min_score" not in raw:
            raise InvalidTerms(f"{where}: needs band, min_score and limit")
        limit = _yuan(raw, "limit", where)
        if not minimum <= limit <= maximum:
            raise InvalidTerms(
                f"{where}: limit {format_yuan(limit)} outside {format_yuan(minimum)}–{format_yuan(maximum)}"
            )
        bands.append(LimitBand(str(raw["band"]), float(raw["min_score"]), limit))
    for higher, lower in itertools.pairwise(bands):
        if not higher.min_score > lower.min_score:
            raise InvalidTerms(f"{source}: bands must be ordered by strictly falling min_score")
        if higher.limit < lower.limit:
            raise InvalidTerms(f"{source}: band {lower.band} has a larger limit than {higher.band}")
    if len({b.band for b in bands}) != len(bands):
        raise InvalidTerms(f"{source}: band names must be unique")
    policy = data.get("policy") or {}
    if not isinstance(policy, dict):
        raise InvalidTerms(f"{source}: policy must be a mapping")
    thin_limit = _yuan(policy, "thin_file_limit", f"{source}: policy")
    if not minimum <= thin_limit <= maximum:
        raise InvalidTerms(f"{source}: policy: thin_file_limit outside the product's limits")
    try:
        multiple = Decimal(str(policy.get("income_multiple", "2")))
    except InvalidOperation as error:
        raise InvalidTerms(f"{source}: policy: income_multiple is not a number") from error
    if multiple <= 0:
        raise InvalidTerms(f"{source}: policy: income_multiple must be positive")
    declined = str(data.get("declined_band", "X"))
    if declined in {b.band for b in bands}:
        raise InvalidTerms(f"{source}: declined_band {declined!r} is also a band")
    return LimitTable(
        bands=tuple(bands),
        minimum_limit=minimum,
        maximum_limit=maximum,
        limit_step=step,
        declined_band=declined,
        thin_file_months=int(policy.get("thin_file_months", 6)),
        thin_file_limit=thin_limit,
        income_multiple=multiple,
    )


def load_limit_table(path: Path | None = None) -> LimitTable:
    """The band table at ``path``, or the shipped ``limit_bands.yaml``."""
    if path is None:
        text = resources.files("overdue.risk").joinpath("limit_bands.yaml").read_text(encoding="utf-8")
        source = "limit_bands.yaml"
    else:
        text = path.read_text(encoding="utf-8")
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidTerms(f"{source}: not YAML: {error}") from error
    return parse_limit_table(data, source)


def band_for(score: float, table: LimitTable) -> LimitBand | None:
    """The band ``score`` falls in (its ``min_score`` or above, below the next band's); None: declined."""
    for band in table.bands:
        if score >= band.min_score:
            return band
    return None


def assign_limit(
    score: float,
    table: LimitTable,
    *,
    credit_history_months: int | None = None,
    monthly_income_fen: Fen | None = None,
) -> LimitDecision:
    """The initial limit for an applicant with application ``score``.

    credit_history_months: months of credit history (None: unknown, not treated as thin).
    monthly_income_fen: stated monthly income in fen (None: not stated, no income cap).
    """
    band = band_for(score, table)
    if band is None:
        return LimitDecision(False, 0, table.declined_band, ("DECLINED_LOW_SCORE",))
    limit = band.limit
    reasons = ["SCORE_BAND"]
    if credit_history_months is not None and credit_history_months < table.thin_file_months:
        if limit > table.thin_file_limit:
            limit = table.thin_file_limit
        reasons.append("THIN_FILE_FLOOR")
    if monthly_income_fen is not None:
        exact = Decimal(monthly_income_fen) * table.income_multiple
        cap = int(exact // table.limit_step) * table.limit_step
        if cap < table.minimum_limit:
            return LimitDecision(False, 0, band.band, (*reasons, "INCOME_CAP_BELOW_MINIMUM"))
        if cap < limit:
            limit = cap
            reasons.append("INCOME_CAP")
    limit = max(table.minimum_limit, min(limit, table.maximum_limit))
    return LimitDecision(True, limit, band.band, tuple(reasons))
