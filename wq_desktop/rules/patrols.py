"""Who was on a patrol (domain.md §3: 巡查人 at least two; the village 陪同人 is on site too)."""

from __future__ import annotations

import re

MIN_PATROL_PEOPLE = 2
_NAME_SPLIT = re.compile(r"[、，,；;\s]+")


def patrol_people(patrollers: object, escort: str | None) -> list[str]:
    """Everyone on site: the patrollers and the 陪同人, each name once, in the order given."""
    names: list[str] = []
    items = patrollers if isinstance(patrollers, (list, tuple)) else [patrollers or ""]
    for item in [*items, escort or ""]:
        for name in _NAME_SPLIT.split(str(item).strip()):
            if name and name not in names:
                names.append(name)
    return names


def patrol_people_warning(patrollers: object, escort: str | None) -> str | None:
    """The one sentence for a patrol with fewer than two people on site (a warning, not a refusal)."""
    people = patrol_people(patrollers, escort)
    if len(people) >= MIN_PATROL_PEOPLE:
        return None
    return (f"巡查应不少于{MIN_PATROL_PEOPLE}人（巡查人与陪同人合计），本次只有 {len(people)} 人"
            f"（{'、'.join(people) or '无'}）")
