"""三级种植面积摸底核查汇总表 (plan (二)1): village → township → city.

实际种植 is the year's 实际种植 measures on parcels, by land attribute, plus the households'
庭院种植 (courtyard planting, recorded per household and year without a parcel): the plan counts
it in 实际种植面积 ("含庭院种植面积"). 退减灌溉 and 休耕轮作 come from the measures under the one
counting rule (`summary.counts_in_totals`: a terminated agreement's area is not counted). Courtyard
planting is never retired, fallowed or paid, so it appears in 实际种植 and in the crop structure only.

Every area is a figure of record (figures.area_of_record) where it is read: one measure's area, one
courtyard entry's area. Rows and totals are plain sums of those, so the crop rows of a unit add up
exactly to its 实际种植 total and a township's row to its villages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .errors import ValidationError
from .figures import ZERO, area_of_record
from .model import LandAttribute, MeasureKind
from .rollup import RollUpRow
from .store import Store
from .summary import CITY_CODE, CITY_NAME, counts_in_totals

NO_CROP = "（未填作物）"
ATTRIBUTES: tuple[str, ...] = tuple(a.value for a in LandAttribute)


def _by_attribute() -> dict[str, Decimal]:
    return dict.fromkeys(ATTRIBUTES, ZERO)


@dataclass
class PlantingRow(RollUpRow):
    """One unit (village, township or city) of the 摸底核查汇总表."""

    uuid: str = ""  # village or township UUID ("" for the city)
    planted_by_attribute: dict[str, Decimal] = field(default_factory=_by_attribute)
    courtyard_mu: Decimal = ZERO
    retired_by_attribute: dict[str, Decimal] = field(default_factory=_by_attribute)
    fallow_by_attribute: dict[str, Decimal] = field(default_factory=_by_attribute)
    crops: dict[str, Decimal] = field(default_factory=dict)  # 实际种植 (含庭院) by crop
    courtyard_households: int = 0

    @property
    def field_planted_mu(self) -> Decimal:
        """实际种植 on parcels (without 庭院)."""
        return sum(self.planted_by_attribute.values(), ZERO)

    @property
    def planted_mu(self) -> Decimal:
        """实际种植面积（含庭院种植面积）."""
        return self.field_planted_mu + self.courtyard_mu

    @property
    def retired_mu(self) -> Decimal:
        return sum(self.retired_by_attribute.values(), ZERO)

    @property
    def fallow_mu(self) -> Decimal:
        return sum(self.fallow_by_attribute.values(), ZERO)

    def sorted_crops(self) -> list[tuple[str, Decimal]]:
        """Largest area first; the row without a crop last."""
        return sorted(self.crops.items(), key=lambda kv: (kv[0] == NO_CROP, -kv[1], kv[0]))


@dataclass(frozen=True)
class Courtyard:
    uuid: str
    operator: str
    year: int
    crop: str
    area_mu: Decimal


def courtyards(store: Store, operator: str, year: int) -> list[Courtyard]:
    """A household's 庭院种植 of the year, by crop."""
    return [Courtyard(r["uuid"], r["operator"], r["year"], r["crop"], area_of_record(r["area_mu"]))
            for r in store.find("courtyard", "operator=? AND year=?", (operator, year),
                                order_by="crop")]


def set_courtyard(store: Store, operator: str, year: int, crop: str, area_mu: object,
                  record: str | None = None) -> str:
    """Record (or correct) one courtyard crop of a household in a year; returns the record UUID."""
    values = {"operator": operator, "year": year, "crop": crop, "area_mu": area_mu}
    if record:
        store.update("courtyard", record, values)
        return record
    return store.create("courtyard", values)


def _measure_rows(store: Store, year: int) -> Iterable[tuple]:
    """(village, land attribute, crop, kind, area, agreement status) per live measure of a live
    parcel of a live household."""
    return store.conn.execute(
        "SELECT p.village, p.land_attribute, coalesce(p.crop, ''), m.kind, m.area_mu, a.status"
        " FROM measure m JOIN parcel p ON p.uuid=m.parcel JOIN operator o ON o.uuid=p.operator"
        " LEFT JOIN agreement a ON a.operator=o.uuid AND a.year=m.year AND a.deleted=0"
        " WHERE m.deleted=0 AND p.deleted=0 AND o.deleted=0 AND m.year=?", (year,))


def _courtyard_rows(store: Store, year: int) -> Iterable[tuple]:
    return store.conn.execute(
        "SELECT o.village, o.uuid, c.crop, c.area_mu FROM courtyard c"
        " JOIN operator o ON o.uuid=c.operator WHERE c.deleted=0 AND o.deleted=0 AND c.year=?",
        (year,))


def planting_survey(store: Store, year: int) -> PlantingRow:
    """The city row with one child per township and one grandchild per village (every live
    village, also one without data, so a missing village shows as zeros)."""
    villages: dict[str, PlantingRow] = {}
    city = PlantingRow("city", CITY_CODE, CITY_NAME)
    townships: dict[str, PlantingRow] = {}
    for v_uuid, v_code, v_name, t_uuid, t_code, t_name in store.conn.execute(
            "SELECT v.uuid, v.code, v.name, t.uuid, t.code, t.name FROM village v"
            " JOIN township t ON t.uuid=v.township WHERE v.deleted=0 AND t.deleted=0"
            " ORDER BY t.code, v.code"):
        township = townships.get(t_uuid)
        if township is None:
            township = townships[t_uuid] = PlantingRow("township", t_code, t_name, t_uuid)
            city.children.append(township)
        villages[v_uuid] = row = PlantingRow("village", v_code, v_name, v_uuid)
        township.children.append(row)
    for village, attribute, crop, kind, area, status in _measure_rows(store, year):
        row = villages.get(village)
        if row is None:
            continue
        area = area_of_record(area)
        if kind == MeasureKind.PLANTED:
            row.planted_by_attribute[attribute] += area
            name = crop or NO_CROP
            row.crops[name] = row.crops.get(name, ZERO) + area
        elif counts_in_totals(status):
            target = (row.retired_by_attribute if kind == MeasureKind.RETIRED
                      else row.fallow_by_attribute)
            target[attribute] += area
    seen: dict[str, set[str]] = defaultdict(set)
    for village, operator, crop, area in _courtyard_rows(store, year):
        row = villages.get(village)
        if row is None:
            continue
        area = area_of_record(area)
        row.courtyard_mu += area
        row.crops[crop] = row.crops.get(crop, ZERO) + area
        seen[village].add(operator)
    for village, operators in seen.items():
        villages[village].courtyard_households = len(operators)
    for township in city.children:
        for row in township.children:
            township.add(row)
        city.add(township)
    return city


def scoped(root: PlantingRow, village_code: str | None) -> PlantingRow:
    """The whole tree, or just one village's row."""
    if not village_code:
        return root
    row = root.find(village_code)
    if row is None or row.level != "village":
        raise ValidationError(f"找不到村代码为“{village_code}”的村。", "village")
    return row


def known_crops(store: Store) -> list[str]:
    """Crops already named anywhere (quotas, parcels, courtyards), for the entry forms' lists."""
    rows = store.conn.execute(
        "SELECT crop FROM water_quota WHERE deleted=0 UNION SELECT crop FROM parcel WHERE deleted=0"
        " UNION SELECT crop FROM courtyard WHERE deleted=0")
    return sorted({c.strip() for (c,) in rows if c and c.strip()})
