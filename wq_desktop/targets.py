"""The township's targets and the progress toward them.

By 7月10日 each township sets next year's 用水总量控制目标 and, per village, the 退减灌溉 / 休耕轮作
亩 it plans ("前轻后重、分年推进", avoiding 碎片化, plan (五)1 and (六)1); by 8月10日 the agreements are
signed. `progress` sets each village's target beside the year's measures and the area under signed
agreements (both under summary.counts_in_totals, as every other total) and the 碎片化 findings of
its planned parcels (fragmentation.check_fragmentation, the one rule). `five_year_series` is the plan's
period 2021–2025 toward the city's 2025 cap of 12,446 万m³ of groundwater.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from .figures import ZERO, area_of_record, to_decimal, water_of_record
from .fragmentation import check_fragmentation
from .model import MeasureKind
from .planting import planting_survey
from .sqldriver import in_lists
from .store import Store
from .summary import SIGNED_STATUSES, counts_in_totals
from .water_use import WaterUseRow, water_use

PLAN_YEARS: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
# 确保2025年全市地下水用水量控制在12446万立方米以内 (plan 二、目标任务).
CITY_GROUNDWATER_CAP_2025 = Decimal("12446")
CAP_YEAR = 2025


def set_water_target(store: Store, township: str, year: int, total_wan_m3: object,
                     groundwater_wan_m3: object = None) -> str:
    """Enter or correct a township's 用水总量控制目标 for `year`; returns the record UUID."""
    values = {"township": township, "year": year, "total_wan_m3": total_wan_m3,
              "groundwater_wan_m3": groundwater_wan_m3}
    existing = store.find_one("water_target", "township=? AND year=?", (township, year))
    if existing:
        store.update("water_target", existing["uuid"], values)
        return existing["uuid"]
    return store.create("water_target", values)


def set_village_target(store: Store, village: str, year: int, retired_mu: object, fallow_mu: object,
                       water_wan_m3: object = None) -> str:
    """Enter or correct a village's planned 退减灌溉 / 休耕轮作 area (and water) for `year`."""
    values = {"village": village, "year": year, "retired_mu": retired_mu, "fallow_mu": fallow_mu,
              "water_wan_m3": water_wan_m3}
    existing = store.find_one("village_target", "village=? AND year=?", (village, year))
    if existing:
        store.update("village_target", existing["uuid"], values)
        return existing["uuid"]
    return store.create("village_target", values)


def water_target(store: Store, township: str, year: int) -> dict | None:
    return store.find_one("water_target", "township=? AND year=?", (township, year))


def village_targets(store: Store, year: int) -> dict[str, dict]:
    """village UUID -> its target record for the year."""
    return {r["village"]: r for r in store.find("village_target", "year=?", (year,))}


def _share(done: Decimal, target: Decimal) -> Fraction | None:
    return Fraction(done) / Fraction(target) if target else None


@dataclass
class VillageProgress:
    village: str  # UUID
    code: str
    name: str
    has_target: bool
    target_retired_mu: Decimal
    target_fallow_mu: Decimal
    target_water_wan_m3: Decimal | None
    retired_mu: Decimal  # measures of the year (counted by the one rule)
    fallow_mu: Decimal
    signed_retired_mu: Decimal  # of which under an agreement signed (已签订/已公示/已报备)
    signed_fallow_mu: Decimal
    fragmented: list[tuple[str, str]] = field(default_factory=list)  # (parcel UUID, message)

    @property
    def target_mu(self) -> Decimal:
        return self.target_retired_mu + self.target_fallow_mu

    @property
    def measured_mu(self) -> Decimal:
        return self.retired_mu + self.fallow_mu

    @property
    def signed_mu(self) -> Decimal:
        return self.signed_retired_mu + self.signed_fallow_mu

    @property
    def measured_share(self) -> Fraction | None:
        return _share(self.measured_mu, self.target_mu)

    @property
    def signed_share(self) -> Fraction | None:
        return _share(self.signed_mu, self.target_mu)


def _signed_areas(store: Store, year: int) -> dict[str, dict[str, Decimal]]:
    """village UUID -> {退减灌溉: 亩, 休耕轮作: 亩} under signed agreements."""
    out: dict[str, dict[str, Decimal]] = {}
    for village, kind, area, status in store.conn.execute(
            "SELECT p.village, m.kind, m.area_mu, a.status FROM measure m"
            " JOIN parcel p ON p.uuid=m.parcel JOIN operator o ON o.uuid=p.operator"
            " JOIN agreement a ON a.operator=o.uuid AND a.year=m.year AND a.deleted=0"
            " WHERE m.deleted=0 AND p.deleted=0 AND o.deleted=0 AND m.year=? AND m.kind<>?",
            (year, MeasureKind.PLANTED)):
        if status in SIGNED_STATUSES and counts_in_totals(status):
            areas = out.setdefault(village, {})
            areas[kind] = areas.get(kind, ZERO) + area_of_record(area)
    return out


def _fragmented(store: Store, year: int) -> dict[str, list[tuple[str, str]]]:
    findings = check_fragmentation(store, year)
    if not findings:
        return {}
    # The villages of the parcels found only (a city's 106,400 parcels in a dict: ~20 MiB).
    records = sorted({f.record for f in findings if f.record})
    village_of: dict[str, str] = {}
    for marks, chunk in in_lists(records):
        village_of.update(store.conn.execute(
            f"SELECT uuid, village FROM parcel WHERE deleted=0 AND uuid IN ({marks})", chunk))
    out: dict[str, list[tuple[str, str]]] = {}
    for f in findings:
        village = village_of.get(f.record or "")
        if village:
            out.setdefault(village, []).append((f.record, f.message))
    return out


def progress(store: Store, year: int) -> list[VillageProgress]:
    """Every live village in code order, with its target (zeros when none) and the year's state."""
    survey = planting_survey(store, year)
    targets = village_targets(store, year)
    signed = _signed_areas(store, year)
    fragmented = _fragmented(store, year)
    rows = []
    for township in survey.children:
        for v in township.children:
            t = targets.get(v.uuid)
            s = signed.get(v.uuid, {})
            rows.append(VillageProgress(
                v.uuid, v.code, v.name, t is not None,
                area_of_record(t["retired_mu"]) if t else ZERO,
                area_of_record(t["fallow_mu"]) if t else ZERO,
                water_of_record(t["water_wan_m3"]) if t and t["water_wan_m3"] is not None else None,
                v.retired_mu, v.fallow_mu,
                s.get(MeasureKind.RETIRED, ZERO), s.get(MeasureKind.FALLOW, ZERO),
                fragmented.get(v.uuid, [])))
    return rows


@dataclass(frozen=True)
class YearPoint:
    year: int
    has_data: bool
    planted_mu: Decimal  # 实际种植（含庭院）
    retired_mu: Decimal
    fallow_mu: Decimal
    water_wan_m3: Decimal
    unquoted_mu: Decimal
    target_wan_m3: Decimal | None  # the townships' 用水总量控制目标 for the year (all of them set)
    groundwater_target_wan_m3: Decimal | None


def series_years(selected: int | None = None) -> tuple[int, ...]:
    """The plan's years, and later ones up to the selected year (the work goes on after 2025)."""
    last = max(PLAN_YEARS[-1], selected or 0)
    return tuple(range(PLAN_YEARS[0], last + 1))


def five_year_series(store: Store, years: tuple[int, ...] = PLAN_YEARS) -> list[YearPoint]:
    townships = [u for (u,) in store.conn.execute("SELECT uuid FROM township WHERE deleted=0")]
    points = []
    for year in years:
        survey = planting_survey(store, year)
        use = water_use(store, year, survey)
        has_data = bool(store.conn.execute(
            "SELECT EXISTS(SELECT 1 FROM measure WHERE deleted=0 AND year=?)"
            " OR EXISTS(SELECT 1 FROM courtyard WHERE deleted=0 AND year=?)", (year, year)
        ).fetchone()[0])
        ground = [to_decimal(g) for (g,) in store.conn.execute(
            "SELECT groundwater_wan_m3 FROM water_target WHERE deleted=0 AND year=?"
            " AND groundwater_wan_m3 IS NOT NULL", (year,))]
        points.append(YearPoint(
            year, has_data, survey.planted_mu, survey.retired_mu, survey.fallow_mu,
            use.water_wan_m3, use.unquoted_mu, use.target_wan_m3,
            sum(ground, ZERO) if townships and len(ground) == len(townships) else None))
    return points


@dataclass(frozen=True)
class TargetSheetRow:
    """One village line of the targets editor: what is stored for the year (None: nothing yet)."""

    village: str
    code: str
    name: str
    retired_mu: Decimal | None
    fallow_mu: Decimal | None
    water_wan_m3: Decimal | None


@dataclass(frozen=True)
class TargetSheet:
    township: str  # UUID
    township_name: str
    year: int
    total_wan_m3: Decimal | None
    groundwater_wan_m3: Decimal | None
    villages: list[TargetSheetRow]


def _opt(value: object, of_record) -> Decimal | None:
    return None if value is None else of_record(value)


def target_sheet(store: Store, township: str, year: int) -> TargetSheet:
    t = store.get("township", township)
    w = water_target(store, township, year)
    stored = village_targets(store, year)
    rows = []
    for v in store.find("village", "township=?", (township,), order_by="code"):
        r = stored.get(v["uuid"])
        rows.append(TargetSheetRow(
            v["uuid"], v["code"], v["name"], _opt(r and r["retired_mu"], area_of_record),
            _opt(r and r["fallow_mu"], area_of_record), _opt(r and r["water_wan_m3"], water_of_record)))
    return TargetSheet(township, t["name"], year, _opt(w and w["total_wan_m3"], water_of_record),
                       _opt(w and w["groundwater_wan_m3"], water_of_record), rows)


def save_target_sheet(store: Store, township: str, year: int, total: str, groundwater: str,
                      villages: list[tuple[str, str, str, str]]) -> int:
    """Save the editor's typed values in one transaction: the township's target (when typed) and
    each village line (village UUID, retired, fallow, water as typed). A line left wholly empty
    is skipped; a stored line emptied is refused (deleting a target is a separate, explicit act).
    Returns the number of records written. Nothing is written when any value is refused."""
    from .errors import ValidationError

    sheet = target_sheet(store, township, year)
    stored = {r.village: r for r in sheet.villages}
    written = 0
    with store.transaction():
        if total.strip() or groundwater.strip():
            if not total.strip():
                raise ValidationError("请填写用水总量控制目标（万立方米）。", "total_wan_m3")
            set_water_target(store, township, year, total, groundwater or None)
            written += 1
        elif sheet.total_wan_m3 is not None:
            raise ValidationError("用水总量控制目标被清空；如需修改请填写新的数值。", "total_wan_m3")
        for village, retired, fallow, water in villages:
            row = stored[village]
            typed = [x.strip() for x in (retired, fallow, water)]
            if not any(typed):
                if row.retired_mu is not None:
                    raise ValidationError(f"“{row.name}”的退减目标被清空；如需修改请填写新的数值。",
                                          "retired_mu")
                continue
            if not typed[0] or not typed[1]:
                raise ValidationError(f"“{row.name}”请同时填写计划退减灌溉和休耕轮作面积（没有请填 0）。",
                                      "retired_mu")
            set_village_target(store, village, year, typed[0], typed[1], typed[2] or None)
            written += 1
    return written


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard's 目标与用水 page shows, computed together off the window's thread."""

    year: int
    progress: list[VillageProgress]
    water: WaterUseRow  # the city row, townships and villages below
    series: list[YearPoint]


def dashboard_data(store: Store, year: int) -> DashboardData:
    return DashboardData(year, progress(store, year), water_use(store, year),
                         five_year_series(store, series_years(year)))


def allotment_problems(store: Store, year: int) -> list[tuple[str, str, str]]:
    """(kind, record UUID, message) where the village targets of `year` do not fit the township's:
    the villages' water, 细化到村, adds up to more than the township's 用水总量控制目标, or a village
    plans to retire more than all its parcels."""
    problems: list[tuple[str, str, str]] = []
    planned = village_targets(store, year)
    by_township: dict[str, Decimal] = {}
    for v in store.find("village"):
        t = planned.get(v["uuid"])
        if t is None:
            continue
        if t["water_wan_m3"] is not None:
            by_township[v["township"]] = by_township.get(v["township"], ZERO) + water_of_record(
                t["water_wan_m3"])
        parcels = sum((area_of_record(a) for (a,) in store.conn.execute(
            "SELECT area_mu FROM parcel WHERE deleted=0 AND village=?", (v["uuid"],))), ZERO)
        planned_mu = area_of_record(t["retired_mu"]) + area_of_record(t["fallow_mu"])
        if planned_mu > parcels:
            problems.append(("village_target", t["uuid"],
                             f"{v['name']} {year} 年度计划退减灌溉和休耕轮作 {planned_mu} 亩，"
                             f"超过本村地块面积合计 {parcels} 亩"))
    for township, villages_water in by_township.items():
        target = water_target(store, township, year)
        if target is not None and villages_water > water_of_record(target["total_wan_m3"]):
            problems.append(("water_target", target["uuid"],
                             f"{year} 年度各村用水量控制目标合计 {villages_water} 万立方米，超过乡镇"
                             f"用水总量控制目标 {water_of_record(target['total_wan_m3'])} 万立方米"))
    return problems
