"""A row of a three-level roll-up (village, township, city) and how rows add up: the shape shared
by the 三级汇总表 (summary.Summary) and the 摸底核查汇总表 (planting.PlantingRow)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Self


@dataclass
class RollUpRow:
    """One unit's row; `children` holds the rows it adds up (townships, villages)."""

    level: str  # "village" | "township" | "city"
    code: str
    name: str
    children: list[Self] = field(default_factory=list, kw_only=True)

    def add(self, other: Self) -> None:
        """Add a child's counts and sums (exact) into this row: every number, and every
        per-key figure (by land attribute, crop, stage) key by key. Names and codes stay."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, dict):
                for key, value in theirs.items():
                    mine[key] = mine[key] + value if key in mine else value
            elif isinstance(mine, int | Decimal) and not isinstance(mine, bool):
                setattr(self, f.name, mine + theirs)

    def walk(self) -> Iterator[Self]:
        """This row and every row below it, depth first: villages, then their township's 小计,
        then the city's 合计."""
        for child in self.children:
            yield from child.walk()
        yield self

    def find(self, code: str) -> Self | None:
        return next((row for row in self.walk() if row.code == code), None)
