"""Irrigation water saved by retirement and fallow: retired 亩 × the crop's 亩均需水量.

The crop is the parcel's 原种植作物 (what would have been irrigated). Quotas are kept per township,
year and crop; a year without its own quota for a crop uses the latest earlier one, and area whose
crop has no quota at all is reported rather than silently counted as zero water.

The area counted is the one every other total uses: the households of `summary.load_households`
whose agreement is not 终止 (summary.counts_in_totals), each in its own village.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .store import Record, Store
from .summary import load_households

M3_PER_WAN = 10_000  # 万立方米


@dataclass
class VillageWater:
    village: str
    name: str
    retired_mu: float = 0.0
    fallow_mu: float = 0.0
    saved_m3: float = 0.0
    unquoted_mu: float = 0.0  # retired/fallow area whose crop has no quota
    unquoted_crops: set[str] = field(default_factory=set)

    @property
    def saved_wan_m3(self) -> float:
        return self.saved_m3 / M3_PER_WAN


def quotas(store: Store, township: str, year: int) -> dict[str, float]:
    """crop -> m³/亩 in force for the year (its own, else the latest earlier year's)."""
    rows = store.conn.execute(
        "SELECT crop, m3_per_mu FROM water_quota WHERE deleted=0 AND township=? AND year<=?"
        " ORDER BY year", (township, year)).fetchall()
    return {crop: value for crop, value in rows}  # later years overwrite earlier ones


def quota_record(store: Store, township: str, year: int, crop: str) -> Record | None:
    """The crop's quota record of that very year (None when the year takes an earlier one)."""
    return store.find_one("water_quota", "township=? AND year=? AND crop=?", (township, year, crop))


def set_quota(store: Store, township: str, year: int, crop: str, m3_per_mu: float) -> str:
    existing = quota_record(store, township, year, crop)
    if existing:
        store.update("water_quota", existing["uuid"], {"m3_per_mu": m3_per_mu})
        return existing["uuid"]
    return store.create("water_quota", {"township": township, "year": year, "crop": crop,
                                        "m3_per_mu": m3_per_mu})


def water_saved(store: Store, year: int) -> list[VillageWater]:
    """Per village, in village-code order."""
    villages: dict[str, VillageWater] = {}
    township_of: dict[str, str] = {}
    for village, name, township in store.conn.execute(
            "SELECT uuid, name, township FROM village WHERE deleted=0 ORDER BY code"):
        villages[village] = VillageWater(village, name)
        township_of[village] = township
    township_quotas: dict[str, dict[str, float]] = {}
    # One village's households at a time: the whole city's at once held ~270 MiB.
    for h in (h for v in villages for h in load_households(store, year, villages=[v])):
        entry = villages[h.village_uuid]
        if not h.participates:
            continue
        township = township_of[h.village_uuid]
        if township not in township_quotas:
            township_quotas[township] = quotas(store, township, year)
        for p in h.retiring_parcels:
            area = float(p.retired_mu + p.fallow_mu)
            entry.retired_mu += float(p.retired_mu)
            entry.fallow_mu += float(p.fallow_mu)
            quota = township_quotas[township].get(p.crop)
            if quota is None:
                entry.unquoted_mu += area
                entry.unquoted_crops.add(p.crop or "（未填作物）")
            else:
                entry.saved_m3 += area * quota
    return list(villages.values())


def compare_years(store: Store, year: int) -> dict[str, tuple[float, float]]:
    """village uuid -> (saved 万m³ last year, this year)."""
    before = defaultdict(float, {v.village: v.saved_wan_m3 for v in water_saved(store, year - 1)})
    return {v.village: (before[v.village], v.saved_wan_m3) for v in water_saved(store, year)}
