"""Field routes: a day's field-visit orders grouped by city and district, each route worked by one team.

Field visits are made by teams of at least :data:`MIN_TEAM` collectors (CN rulebook ``cn.field_visit_team``).
The day's present field agents, in id order, form teams of ``team_size``; agents left over join the last
team (never a team below the minimum). Orders are grouped into one route per (city, district), routes in
(city, district) order; each route goes to the team with the fewest orders so far (ties: the earlier team),
so the day's work is balanced across teams.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from overdue.domain.errors import InvalidInput, Refused

MIN_TEAM = 2
UNKNOWN_PLACE = "unknown"
"""City or district of a borrower whose address is not known."""


@dataclass(frozen=True)
class FieldOrder:
    id: str
    city: str
    district: str


@dataclass(frozen=True)
class Route:
    city: str
    district: str
    team: tuple[str, ...]
    orders: tuple[str, ...]


def form_teams(agents: Sequence[str], team_size: int = MIN_TEAM) -> tuple[tuple[str, ...], ...]:
    """Teams of ``team_size`` from ``agents`` (in id order); the remainder joins the last team."""
    if team_size < MIN_TEAM:
        raise InvalidInput(f"a field team has at least {MIN_TEAM} collectors, not {team_size}")
    ordered = sorted(set(agents))
    if len(ordered) < team_size:
        raise Refused(
            f"field routes need at least {team_size} field agents present; {len(ordered)} are "
            f"(实地催收须至少{team_size}人同行)"
        )
    teams = [tuple(ordered[i : i + team_size]) for i in range(0, len(ordered) - team_size + 1, team_size)]
    rest = tuple(ordered[len(teams) * team_size :])
    teams[-1] = teams[-1] + rest
    return tuple(teams)


def plan_routes(
    orders: Iterable[FieldOrder], agents: Sequence[str], team_size: int = MIN_TEAM
) -> tuple[Route, ...]:
    """One route per (city, district) of ``orders``, each given a team formed from ``agents``."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for order in orders:
        grouped.setdefault((order.city, order.district), []).append(order.id)
    if not grouped:
        return ()
    teams = form_teams(agents, team_size)
    work = [0] * len(teams)
    routes: list[Route] = []
    for (city, district), ids in sorted(grouped.items()):
        chosen = min(range(len(teams)), key=lambda i: (work[i], i))
        work[chosen] += len(ids)
        routes.append(Route(city, district, teams[chosen], tuple(sorted(ids))))
    return tuple(routes)
