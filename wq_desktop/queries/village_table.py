"""Reads for the village table: one row per household with its totals, and the village notice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .. import figures
from ..figures import ZERO
from ..model import MeasureKind
from ..rules import masking
from ..store import Record, Store
from ..summary import counts_in_totals


@dataclass(frozen=True)
class HouseholdRow:
    operator: str
    group: str
    group_name: str
    name: str
    kind: str
    id_masked: str
    land_attributes: tuple[str, ...]
    parcels: int
    area_mu: Decimal  # verified area of all its parcels (sums of figures of record)
    retired_mu: Decimal
    fallow_mu: Decimal
    planted_mu: Decimal
    subsidy: Decimal  # 元
    measures: tuple[str, ...]
    agreement_status: str  # "" when none this year
    leader: str
    staff: str
    patrols: int

    @property
    def counted(self) -> bool:
        """Whether its 退减/休耕 areas and subsidy count in totals (not when the agreement is 终止)."""
        return counts_in_totals(self.agreement_status or None)


def village_households(store: Store, village_uuid: str, year: int) -> list[HouseholdRow]:
    conn = store.conn
    parcels: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for operator, attribute, area in conn.execute(
            "SELECT operator, land_attribute, area_mu FROM parcel WHERE village=? AND deleted=0"
            " AND operator IS NOT NULL", (village_uuid,)):
        parcels[operator].append((attribute, figures.to_decimal(area)))
    measures: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    subsidy: dict[str, Decimal] = defaultdict(Decimal)
    for operator, kind, area, amount in conn.execute(
            "SELECT p.operator, m.kind, m.area_mu, m.subsidy_amount FROM measure m JOIN parcel p"
            " ON p.uuid=m.parcel WHERE p.village=? AND p.deleted=0 AND m.deleted=0 AND m.year=?",
            (village_uuid, year)):
        measures[operator][kind] += figures.to_decimal(area)
        subsidy[operator] += figures.to_decimal(amount)
    status = dict(conn.execute(
        "SELECT a.operator, a.status FROM agreement a JOIN operator o ON o.uuid=a.operator"
        " WHERE o.village=? AND a.deleted=0 AND a.year=?", (village_uuid, year)))
    patrols = dict(conn.execute(
        "SELECT p.operator, count(*) FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
        " WHERE p.village=? AND t.deleted=0 AND t.year=? GROUP BY p.operator", (village_uuid, year)))
    contact_names = dict(conn.execute("SELECT uuid, name FROM contact WHERE deleted=0"))
    group_names = dict(conn.execute("SELECT uuid, name FROM village_group WHERE village=?", (village_uuid,)))
    rows = []
    for uuid, group, name, kind, id_code, leader, staff in conn.execute(
            'SELECT uuid, "group", name, kind, id_code, leader, staff FROM operator'
            " WHERE village=? AND deleted=0 ORDER BY rowid", (village_uuid,)):
        own = parcels.get(uuid, [])
        m = measures.get(uuid, {})
        rows.append(HouseholdRow(
            uuid, group or "", group_names.get(group, ""), name, kind, masking.mask_id(id_code),
            tuple(sorted({a for a, _ in own})), len(own), figures.total(a for _, a in own),
            m.get(MeasureKind.RETIRED, ZERO), m.get(MeasureKind.FALLOW, ZERO),
            m.get(MeasureKind.PLANTED, ZERO), subsidy.get(uuid, ZERO),
            tuple(k.value for k in MeasureKind if m.get(k)), status.get(uuid, ""),
            contact_names.get(leader, ""), contact_names.get(staff, ""), patrols.get(uuid, 0)))
    return rows


@dataclass(frozen=True)
class Totals:
    households: int
    area_mu: Decimal
    retired_mu: Decimal
    fallow_mu: Decimal
    subsidy: Decimal
    excluded_households: int = 0  # terminated agreements with 退减/休耕 area, left out of the sums
    excluded_mu: Decimal = ZERO  # their 退减 + 休耕 area


def totals(rows: list[HouseholdRow]) -> Totals:
    """Exact sums of the rows' figures of record. 退减/休耕 areas and subsidies follow the one
    counting rule (summary.counts_in_totals), so they equal the 公示 and the 汇总表."""
    counted = [r for r in rows if r.counted]
    left_out = [r for r in rows if not r.counted and (r.retired_mu or r.fallow_mu)]
    return Totals(len(rows), figures.total(r.area_mu for r in rows),
                  figures.total(r.retired_mu for r in counted), figures.total(r.fallow_mu for r in counted),
                  figures.total(r.subsidy for r in counted), len(left_out),
                  figures.total(r.retired_mu + r.fallow_mu for r in left_out))


def village_notice(store: Store, village_uuid: str, year: int) -> Record | None:
    return store.find_one("notice", "village=? AND year=?", (village_uuid, year))
