"""Reads for the household view: parcels with their measures, patrols, the agreement, photos,
the rate to suggest for the next measure; its totals come from household_totals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .. import figures
from ..model import MeasureKind, PatrolResult
from ..rules import quantities
from ..store import Record, Store


@dataclass
class MeasureCell:
    uuid: str
    kind: str
    area_mu: float
    subsidy_rate: float | None
    subsidy_amount: float | None


@dataclass
class ParcelRow:
    uuid: str
    code: str
    place_name: str
    land_attribute: str
    area_mu: float
    has_geometry: bool
    measures: list[MeasureCell] = field(default_factory=list)

    @property
    def measure_text(self) -> str:
        return "、".join(f"{m.kind} {quantities.format_mu(m.area_mu)}" for m in self.measures) or "未登记"

    @property
    def subsidy(self) -> Decimal:
        return figures.sum_of_records(m.subsidy_amount for m in self.measures)

    def _area_of(self, kind: MeasureKind) -> Decimal:
        return figures.sum_of_records(m.area_mu for m in self.measures if m.kind == kind)

    @property
    def retired_mu(self) -> Decimal:
        return self._area_of(MeasureKind.RETIRED)

    @property
    def fallow_mu(self) -> Decimal:
        return self._area_of(MeasureKind.FALLOW)

    @property
    def verified_mu(self) -> Decimal:
        """核实种植面积: everything verified on the parcel this year (planted + retired + fallow)."""
        return figures.sum_of_records(m.area_mu for m in self.measures)


@dataclass
class PatrolRow:
    uuid: str
    parcel_code: str
    year: int
    stage: str
    visited_on: str
    patrollers: str
    result: str
    rectification: str  # "", "整改中", "已逾期", "已结案"
    photos: int


@dataclass
class HouseholdDetail:
    operator: Record
    village: Record
    group_name: str
    parcels: list[ParcelRow]
    agreement: Record | None
    leader: Record | None
    staff: Record | None
    patrols: list[PatrolRow]


def parcel_rows(store: Store, operator_uuid: str, year: int) -> list[ParcelRow]:
    # `geometry IS NOT NULL` comes back as 0/1: 0 is not None, so test the value itself.
    rows = [ParcelRow(uuid, code, place or "", attribute, area or 0.0, bool(geom))
            for uuid, code, place, attribute, area, geom in store.conn.execute(
                "SELECT uuid, code, place_name, land_attribute, area_mu, geometry IS NOT NULL"
                " FROM parcel WHERE operator=? AND deleted=0 ORDER BY code", (operator_uuid,))]
    by_uuid = {r.uuid: r for r in rows}
    order = {k.value: i for i, k in enumerate(MeasureKind)}
    for m_uuid, parcel, kind, area, rate, amount in store.conn.execute(
            "SELECT m.uuid, m.parcel, m.kind, m.area_mu, m.subsidy_rate, m.subsidy_amount FROM measure m"
            " JOIN parcel p ON p.uuid=m.parcel WHERE p.operator=? AND p.deleted=0 AND m.deleted=0"
            " AND m.year=?", (operator_uuid, year)):
        by_uuid[parcel].measures.append(MeasureCell(m_uuid, kind, area, rate, amount))
    for r in rows:
        r.measures.sort(key=lambda m: order.get(m.kind, 9))
    return rows


def rectification_state(patrol: dict[str, Any], today: date | None = None) -> str:
    """"" when no rectification was ordered, else 整改中 / 已逾期 / 已结案."""
    if patrol["result"] == PatrolResult.COMPLIANT and not patrol.get("rect_requirement") \
            and not patrol.get("rect_deadline"):
        return ""
    if patrol.get("closed_on"):
        return "已结案"
    deadline = patrol.get("rect_deadline")
    if deadline and date.fromisoformat(deadline) < (today or date.today()):
        return "已逾期"
    return "整改中"


def patrol_rows(store: Store, operator_uuid: str) -> list[PatrolRow]:
    cur = store.conn.execute(
        "SELECT t.uuid, p.code, t.year, t.stage, t.visited_on, t.patrollers, t.result, t.rect_requirement,"
        " t.rect_deadline, t.closed_on, (SELECT count(*) FROM photo f WHERE f.owner=t.uuid AND f.deleted=0)"
        " FROM patrol t JOIN parcel p ON p.uuid=t.parcel WHERE p.operator=? AND t.deleted=0"
        " ORDER BY t.visited_on DESC, p.code", (operator_uuid,))
    out = []
    for uuid, code, year, stage, visited, patrollers, result, req, deadline, closed, photos in cur:
        state = rectification_state({"result": result, "rect_requirement": req,
                                     "rect_deadline": deadline, "closed_on": closed})
        out.append(PatrolRow(uuid, code, year, stage, visited, "、".join(json.loads(patrollers)),
                             result, state, photos))
    return out


def agreement_for(store: Store, operator_uuid: str, year: int) -> Record | None:
    return store.find_one("agreement", "operator=? AND year=?", (operator_uuid, year))


def household_detail(store: Store, operator_uuid: str, year: int) -> HouseholdDetail:
    operator = store.get("operator", operator_uuid)
    village = store.get("village", operator["village"])
    group_name = ""
    if operator["group"]:
        group = store.find_one("village_group", "uuid=?", (operator["group"],))
        group_name = group["name"] if group else ""
    leader = store.find_one("contact", "uuid=?", (operator["leader"],)) if operator["leader"] else None
    staff = store.find_one("contact", "uuid=?", (operator["staff"],)) if operator["staff"] else None
    return HouseholdDetail(operator, village, group_name, parcel_rows(store, operator_uuid, year),
                           agreement_for(store, operator_uuid, year), leader, staff,
                           patrol_rows(store, operator_uuid))


def last_subsidy_rate(store: Store, kind: str) -> float | None:
    """The rate most recently entered for a measure kind: the default for the next entry."""
    row = store.conn.execute(
        "SELECT subsidy_rate FROM measure WHERE deleted=0 AND kind=? AND subsidy_rate IS NOT NULL"
        " ORDER BY updated_at DESC, year DESC LIMIT 1", (kind,)).fetchone()
    return row[0] if row else None


def photos_of(store: Store, owner_uuid: str) -> list[Record]:
    return store.find("photo", "owner=?", (owner_uuid,), order_by="taken_at, created_at")
