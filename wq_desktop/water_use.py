"""用水量测算 (plan (三)4): the year's agricultural water use, village → township → city, from the
实际种植 area (含庭院, planting.planting_survey) by crop × the crop's 亩均需水量, beside the target.

Each line (one unit, one crop) is a figure of record: its area of record × the quota in m³/亩,
divided by 10,000 and rounded to 0.01 万m³ (figures.water_of_record), exactly what an auditor
multiplies out from the printed line. A unit's water use is the plain sum of its lines, a township's
the sum of its villages, the city's the sum of its townships. Area whose crop has no quota is
reported as 未定额面积, never counted as zero water.

Quotas are the township's (water.quotas: the year's own, else the latest earlier one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from .figures import ZERO, to_decimal, total, water_of_record
from .planting import PlantingRow, planting_survey
from .store import Store
from .water import M3_PER_WAN, quotas


@dataclass(frozen=True)
class CropWater:
    crop: str
    area_mu: Decimal
    quota: Decimal | None  # m³/亩; None: no quota reported (or townships differ, at city level)
    water_wan_m3: Decimal | None  # None: no quota for any of the area, nothing counted
    unquoted_mu: Decimal = ZERO  # the part of the area without a quota


@dataclass
class WaterUseRow:
    level: str
    code: str
    name: str
    uuid: str
    planted_mu: Decimal  # 实际种植（含庭院）
    lines: list[CropWater] = field(default_factory=list)
    water_wan_m3: Decimal = ZERO
    target_wan_m3: Decimal | None = None
    children: list[WaterUseRow] = field(default_factory=list)

    @property
    def unquoted_mu(self) -> Decimal:
        """未定额面积: planted area whose crop has no quota (not counted, not zero)."""
        return total(line.unquoted_mu for line in self.lines)

    @property
    def unquoted_crops(self) -> list[str]:
        return [line.crop for line in self.lines if line.unquoted_mu]

    @property
    def margin_wan_m3(self) -> Decimal | None:
        """Target − water use (negative: over the target)."""
        return None if self.target_wan_m3 is None else self.target_wan_m3 - self.water_wan_m3

    def walk(self) -> Iterator[WaterUseRow]:
        """Depth first, children before their parent."""
        for child in self.children:
            yield from child.walk()
        yield self

    def find(self, code: str) -> WaterUseRow | None:
        return next((r for r in self.walk() if r.code == code), None)


def line_water(area_mu: Decimal, quota: Decimal) -> Decimal:
    """One line's water use: area × m³/亩 ÷ 10,000, as 0.01 万m³."""
    return water_of_record(area_mu * quota / M3_PER_WAN)


def _village_row(row: PlantingRow, crop_quotas: dict[str, Decimal],
                 target: Decimal | None) -> WaterUseRow:
    out = WaterUseRow(row.level, row.code, row.name, row.uuid, row.planted_mu, target_wan_m3=target)
    for crop, area in row.sorted_crops():
        quota = crop_quotas.get(crop)
        water = line_water(area, quota) if quota is not None else None
        out.lines.append(CropWater(crop, area, quota, water, ZERO if quota is not None else area))
    out.water_wan_m3 = total(line.water_wan_m3 for line in out.lines if line.water_wan_m3 is not None)
    return out


def _roll_up(level: str, code: str, name: str, uuid: str, planted: Decimal,
             children: list[WaterUseRow], target: Decimal | None) -> WaterUseRow:
    """A parent's lines sum its children's lines crop by crop (area and water of record)."""
    out = WaterUseRow(level, code, name, uuid, planted, children=children, target_wan_m3=target)
    areas: dict[str, Decimal] = {}
    unquoted: dict[str, Decimal] = {}
    waters: dict[str, list[Decimal]] = {}
    quota_seen: dict[str, set[Decimal | None]] = {}
    for child in children:
        for line in child.lines:
            areas[line.crop] = areas.get(line.crop, ZERO) + line.area_mu
            unquoted[line.crop] = unquoted.get(line.crop, ZERO) + line.unquoted_mu
            if line.water_wan_m3 is not None:
                waters.setdefault(line.crop, []).append(line.water_wan_m3)
            quota_seen.setdefault(line.crop, set()).add(line.quota)
    for crop in sorted(areas, key=lambda c: (-areas[c], c)):
        # One quota for the whole line, or none shown (townships differ, or part has none).
        seen = quota_seen[crop]
        quota = next(iter(seen)) if len(seen) == 1 else None
        water = total(waters[crop]) if crop in waters else None
        out.lines.append(CropWater(crop, areas[crop], quota, water, unquoted[crop]))
    out.water_wan_m3 = total(child.water_wan_m3 for child in children)
    return out


def water_targets(store: Store, year: int) -> dict[str, Decimal]:
    """township UUID -> the year's 用水总量控制目标 (万m³)."""
    return {t: to_decimal(v) for t, v in store.conn.execute(
        "SELECT township, total_wan_m3 FROM water_target WHERE deleted=0 AND year=?", (year,))}


def village_water_targets(store: Store, year: int) -> dict[str, Decimal]:
    return {v: to_decimal(w) for v, w in store.conn.execute(
        "SELECT village, water_wan_m3 FROM village_target WHERE deleted=0 AND year=?"
        " AND water_wan_m3 IS NOT NULL", (year,))}


def water_use(store: Store, year: int, survey: PlantingRow | None = None) -> WaterUseRow:
    """The city row of the 用水量测算, townships and villages below it."""
    survey = survey or planting_survey(store, year)
    township_targets = water_targets(store, year)
    village_targets = village_water_targets(store, year)
    townships: list[WaterUseRow] = []
    for township in survey.children:
        crop_quotas = {crop: to_decimal(q) for crop, q in quotas(store, township.uuid, year).items()}
        villages = [_village_row(v, crop_quotas, village_targets.get(v.uuid))
                    for v in township.children]
        townships.append(_roll_up("township", township.code, township.name, township.uuid,
                                  township.planted_mu, villages, township_targets.get(township.uuid)))
    targets = [t.target_wan_m3 for t in townships]
    city_target = total(targets) if targets and all(t is not None for t in targets) else None
    return _roll_up("city", survey.code, survey.name, "", survey.planted_mu, townships, city_target)
