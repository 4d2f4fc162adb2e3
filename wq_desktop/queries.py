"""Read-only queries the window needs: navigation tree, search, household detail, village table,
contacts, open rectifications, change history with field labels.

Plain values in, plain dataclasses out, so Qt models only wrap them. All SQL of the window lives
here; nothing in this module writes.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from . import figures, geo, rules
from .figures import ZERO
from .model import MeasureKind, PatrolResult, RecordOp, record_op_label
from .ordering import group_sort_key
from .schema import KINDS
from .store import Record, Store
from .summary import counts_in_totals

# ---------------------------------------------------------------- navigation


@dataclass(frozen=True)
class GroupNode:
    uuid: str
    name: str
    households: int


@dataclass(frozen=True)
class VillageNode:
    uuid: str
    name: str
    code: str
    households: int
    groups: list[GroupNode]
    ungrouped: int  # households without a 组


@dataclass(frozen=True)
class TownshipNode:
    uuid: str
    name: str
    code: str
    households: int
    villages: list[VillageNode]


def navigation_tree(store: Store) -> list[TownshipNode]:
    """乡镇 → 村 → 组, each with its number of live households."""
    conn = store.conn
    by_group = dict(conn.execute(
        'SELECT "group", count(*) FROM operator WHERE deleted=0 AND "group" IS NOT NULL GROUP BY "group"'))
    by_village = dict(conn.execute(
        "SELECT village, count(*) FROM operator WHERE deleted=0 GROUP BY village"))
    groups: dict[str, list[GroupNode]] = defaultdict(list)
    for uuid, village, name in conn.execute(
            "SELECT uuid, village, name FROM village_group WHERE deleted=0 ORDER BY name"):
        groups[village].append(GroupNode(uuid, name, by_group.get(uuid, 0)))
    for village_groups in groups.values():
        village_groups.sort(key=lambda g: group_sort_key(g.name))
    villages: dict[str, list[VillageNode]] = defaultdict(list)
    for uuid, township, name, code in conn.execute(
            "SELECT uuid, township, name, code FROM village WHERE deleted=0 ORDER BY code"):
        total = by_village.get(uuid, 0)
        grouped = sum(g.households for g in groups[uuid])
        villages[township].append(VillageNode(uuid, name, code, total, groups[uuid], total - grouped))
    return [TownshipNode(uuid, name, code, sum(v.households for v in villages[uuid]), villages[uuid])
            for uuid, name, code in conn.execute(
                "SELECT uuid, name, code FROM township WHERE deleted=0 ORDER BY code")]


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchHit:
    operator: str
    name: str
    village: str
    matched: str  # what matched, shown to the user (ID masked)


def search_households(store: Store, text: str, limit: int = 50) -> list[SearchHit]:
    """Households by name, by last digits of the ID number / credit code, or by parcel code."""
    # Full-width digits from a Chinese IME and pasted spaces are forgiven, as in the rules.
    query = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()
    if not query:
        return []
    like = f"%{query}%"
    hits: dict[str, SearchHit] = {}
    base = ("SELECT o.uuid, o.name, v.name, o.id_code FROM operator o JOIN village v ON v.uuid=o.village"
            " WHERE o.deleted=0 ")
    for uuid, name, village, _ in store.conn.execute(
            base + "AND o.name LIKE ? ORDER BY o.name LIMIT ?", (like, limit)):
        hits.setdefault(uuid, SearchHit(uuid, name, village, f"姓名：{name}"))
    if query.isalnum() and len(query) >= 3:
        for uuid, name, village, id_code in store.conn.execute(
                base + "AND o.id_code LIKE ? LIMIT ?", (f"%{query}", limit)):
            hits.setdefault(uuid, SearchHit(uuid, name, village, f"证件号：{rules.mask_id(id_code)}"))
    for uuid, name, village, code in store.conn.execute(
            "SELECT o.uuid, o.name, v.name, p.code FROM parcel p JOIN operator o ON o.uuid=p.operator"
            " JOIN village v ON v.uuid=p.village WHERE p.deleted=0 AND o.deleted=0 AND upper(p.code) LIKE ?"
            " ORDER BY p.code LIMIT ?", (like, limit)):
        hits.setdefault(uuid, SearchHit(uuid, name, village, f"地块：{code}"))
    return list(hits.values())[:limit]


# ---------------------------------------------------------------- years


def known_years(store: Store) -> list[int]:
    """Every year that has measures, agreements, notices or patrols, newest first."""
    years: set[int] = set()
    for table in ("measure", "agreement", "notice", "patrol"):
        years.update(y for (y,) in store.conn.execute(
            f"SELECT DISTINCT year FROM {table} WHERE deleted=0") if y)
    return sorted(years, reverse=True)


def latest_year(store: Store) -> int | None:
    years = known_years(store)
    return years[0] if years else None


# ---------------------------------------------------------------- household detail


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
        return "、".join(f"{m.kind} {rules.format_mu(m.area_mu)}" for m in self.measures) or "未登记"

    @property
    def subsidy(self) -> Decimal:
        return figures.sum_of_records(m.subsidy_amount for m in self.measures)


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
    rows = [ParcelRow(uuid, code, place or "", attribute, area or 0.0, geom is not None)
            for uuid, code, place, attribute, area, geom in store.conn.execute(
                "SELECT uuid, code, place_name, land_attribute, area_mu, geometry IS NOT NULL"
                " FROM parcel WHERE operator=? AND deleted=0 ORDER BY code", (operator_uuid,))]
    by_uuid = {r.uuid: r for r in rows}
    for r in rows:
        r.has_geometry = bool(r.has_geometry)  # SQLite gives 0/1
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


def village_groups(store: Store, village_uuid: str) -> list[tuple[str, str]]:
    """(uuid, name) of a village's 组 in counting order."""
    rows = store.conn.execute("SELECT uuid, name FROM village_group WHERE village=? AND deleted=0",
                              (village_uuid,)).fetchall()
    return sorted(rows, key=lambda r: group_sort_key(r[1]))


def villages(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT uuid, name FROM village WHERE deleted=0 ORDER BY code").fetchall()


def townships(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT uuid, name FROM township WHERE deleted=0 ORDER BY code").fetchall()


def contacts_by_role(store: Store, role: str) -> list[tuple[str, str]]:
    """(uuid, "name（post）") of contacts with the role, by name."""
    return [(u, f"{n}（{p}）" if p else n) for u, n, p in store.conn.execute(
        "SELECT uuid, name, post FROM contact WHERE deleted=0 AND role=? ORDER BY name", (role,))]


def last_subsidy_rate(store: Store, kind: str) -> float | None:
    """The rate most recently entered for a measure kind: the default for the next entry."""
    row = store.conn.execute(
        "SELECT subsidy_rate FROM measure WHERE deleted=0 AND kind=? AND subsidy_rate IS NOT NULL"
        " ORDER BY updated_at DESC, year DESC LIMIT 1", (kind,)).fetchone()
    return row[0] if row else None


def photos_of(store: Store, owner_uuid: str) -> list[Record]:
    return store.find("photo", "owner=?", (owner_uuid,), order_by="taken_at, created_at")


# ---------------------------------------------------------------- village table


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
            uuid, group or "", group_names.get(group, ""), name, kind, rules.mask_id(id_code),
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


# ---------------------------------------------------------------- contacts


@dataclass(frozen=True)
class ContactRow:
    uuid: str
    role: str
    name: str
    post: str
    level: str
    phone: str
    households: int


def contact_rows(store: Store) -> list[ContactRow]:
    counts: dict[str, int] = defaultdict(int)
    for leader, staff in store.conn.execute("SELECT leader, staff FROM operator WHERE deleted=0"):
        for c in {leader, staff} - {None}:
            counts[c] += 1
    return [ContactRow(u, role, n, post or "", level or "", rules.format_phone(phone or ""), counts[u])
            for u, role, n, post, level, phone in store.conn.execute(
                "SELECT uuid, role, name, post, level, phone FROM contact WHERE deleted=0"
                " ORDER BY role, name")]


@dataclass(frozen=True)
class AssignRow:
    operator: str
    village: str
    group: str
    name: str
    leader: str
    staff: str


def assignment_rows(store: Store, village_uuid: str | None = None) -> list[AssignRow]:
    sql = ("SELECT o.uuid, v.name, coalesce(g.name, ''), o.name, coalesce(l.name, ''), coalesce(s.name, '')"
           " FROM operator o JOIN village v ON v.uuid=o.village"
           ' LEFT JOIN village_group g ON g.uuid=o."group" LEFT JOIN contact l ON l.uuid=o.leader'
           " LEFT JOIN contact s ON s.uuid=o.staff WHERE o.deleted=0")
    params: tuple[str, ...] = ()
    if village_uuid:
        sql += " AND o.village=?"
        params = (village_uuid,)
    return [AssignRow(*r) for r in store.conn.execute(sql + " ORDER BY v.code, o.rowid", params)]


# ---------------------------------------------------------------- rectifications


@dataclass(frozen=True)
class RectificationRow:
    patrol: str
    operator: str
    operator_name: str
    village: str
    parcel_code: str
    visited_on: str
    result: str
    requirement: str
    deadline: str
    responsible: str
    overdue_days: int  # > 0 when past the deadline

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def open_rectifications(store: Store, today: date | None = None) -> list[RectificationRow]:
    """Violations not yet closed, overdue ones first."""
    today = today or date.today()
    rows = []
    for uuid, op, op_name, village, code, visited, result, req, deadline, resp in store.conn.execute(
            "SELECT t.uuid, o.uuid, o.name, v.name, p.code, t.visited_on, t.result, t.rect_requirement,"
            " t.rect_deadline, t.rect_responsible FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
            " JOIN operator o ON o.uuid=p.operator JOIN village v ON v.uuid=p.village"
            " WHERE t.deleted=0 AND t.closed_on IS NULL"
            " AND (t.result<>? OR t.rect_requirement IS NOT NULL OR t.rect_deadline IS NOT NULL)",
            (PatrolResult.COMPLIANT,)):
        overdue = (today - date.fromisoformat(deadline)).days if deadline else 0
        rows.append(RectificationRow(uuid, op, op_name, village, code, visited, result, req or "",
                                     deadline or "", resp or "", max(overdue, 0)))
    rows.sort(key=lambda r: (-r.overdue_days, r.deadline or "9999", r.visited_on))
    return rows


# ---------------------------------------------------------------- change history


@dataclass(frozen=True)
class ChangeRow:
    at: str  # local-readable "2026-07-28 10:02"
    user: str
    record: str  # "协议 2026-652301105-901-001", "地块 001-1"
    action: str  # 新建 / 修改 / 删除 / 恢复
    field: str  # Chinese label
    old: str
    new: str




def _record_title(store: Store, kind_name: str, uuid: str) -> str:
    k = KINDS[kind_name]
    try:
        rec = store.get(kind_name, uuid, include_deleted=True)
    except Exception:  # a record only known from history: show its kind
        return k.label
    if kind_name == "operator":
        return f"{k.label} {rec['name']}"
    if kind_name == "parcel":
        return f"{k.label} {rec['code']}"
    if kind_name == "measure":
        parcel = store.get("parcel", rec["parcel"], include_deleted=True)
        return f"{rec['year']}年度措施（地块 {parcel['code']}，{rec['kind']}）"
    if kind_name == "agreement":
        return f"{rec['year']}年度协议 {rec['number'] or ''}".rstrip()
    if kind_name == "patrol":
        return f"巡查 {rec['visited_on']} {rec['stage']}"
    if kind_name == "courtyard":
        return f"{rec['year']}年度庭院种植（{rec['crop']}）"
    if kind_name == "photo":
        return f"照片 {rec['file_name'] or rec['sha256'][:8]}"
    if kind_name == "notice":
        village = store.conn.execute("SELECT name FROM village WHERE uuid=?", (rec["village"],)).fetchone()
        return f"{rec['year']}年度公示（{village[0] if village else ''}）"
    return k.label


def _photo_owner_title(store: Store, uuid: str) -> str:
    """A photo's owner (a patrol or a notice) as the user knows it, not its UUID."""
    for kind_name in ("patrol", "notice"):
        if store.conn.execute(f'SELECT 1 FROM "{kind_name}" WHERE uuid=?', (uuid,)).fetchone():
            return _record_title(store, kind_name, uuid)
    return "（已不存在的记录）"


def _display_value(store: Store, kind_name: str, name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "（空）"
    if name == "deleted":
        return "已删除" if value else "有效"
    if kind_name == "photo" and name == "owner_kind":
        return KINDS[value].label if value in KINDS else str(value)
    if kind_name == "photo" and name == "owner":
        return _photo_owner_title(store, str(value))
    if kind_name == "photo" and name in ("lat", "lon") and isinstance(value, (int, float)):
        return f"{value:.6f}"  # 2 decimals would be a kilometre off
    f = KINDS[kind_name].field(name)
    if f.type == "geom":
        try:
            shape = geo.from_wkb(bytes.fromhex(value))
            return f"已绘制图形（{rules.format_mu(geo.area_mu(shape))}亩）"
        except Exception:
            return "图形"
    if f.type == "json":
        return "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if f.ref:
        row = store.conn.execute(f'SELECT * FROM "{f.ref}" WHERE uuid=?', (value,)).fetchone()
        if row is None:
            return "（已不存在的记录）"
        cols = [d[0] for d in store.conn.execute(f'SELECT * FROM "{f.ref}" LIMIT 0').description]
        rec = dict(zip(cols, row, strict=True))
        return str(rec.get("name") or rec.get("code") or KINDS[f.ref].label)
    if name == "id_code":
        return rules.mask_id(str(value))
    if name == "phone":
        return rules.mask_phone(str(value))
    if f.type == "real":
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    return str(value)


def _hide_in_history(kind_name: str, name: str) -> bool:
    if name == "deleted":
        return False
    if kind_name == "photo" and name in ("sha256", "size"):
        return True  # file fingerprints: kept in the history, meaningless on screen
    f = KINDS[kind_name].field(name)
    # The bounding box only mirrors the geometry; the geometry line already says what changed.
    return f.derived and name in ("minx", "miny", "maxx", "maxy")


def _local_time(at: str) -> str:
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return at
    return moment.strftime("%Y-%m-%d %H:%M")


def change_rows(store: Store, records: list[tuple[str, str]]) -> list[ChangeRow]:
    """Every history entry of the given (kind, uuid) records, one row per changed field, newest first."""
    entries = []
    for kind_name, uuid in records:
        entries += [(e, kind_name) for e in store.history(uuid)]
    entries.sort(key=lambda pair: pair[0].seq, reverse=True)
    rows = []
    titles: dict[str, str] = {}
    for entry, kind_name in entries:
        if entry.record not in titles:
            titles[entry.record] = _record_title(store, kind_name, entry.record)
        for name, (old, new) in entry.changes.items():
            if _hide_in_history(kind_name, name):
                continue
            # A new record's empty fields and its "live" flag say nothing the user needs.
            if entry.op == RecordOp.CREATE and (new is None or name == "deleted"):
                continue
            label = "状态" if name == "deleted" else KINDS[kind_name].field(name).label
            rows.append(ChangeRow(_local_time(entry.at), entry.user, titles[entry.record],
                                  record_op_label(entry.op), label,
                                  _display_value(store, kind_name, name, old),
                                  _display_value(store, kind_name, name, new)))
    return rows


def household_records(store: Store, operator_uuid: str) -> list[tuple[str, str]]:
    """(kind, uuid) of the household and everything hanging off it, deleted ones included, so the
    history also shows what was removed."""
    conn = store.conn
    out = [("operator", operator_uuid)]
    parcels = [u for (u,) in conn.execute("SELECT uuid FROM parcel WHERE operator=?", (operator_uuid,))]
    out += [("parcel", u) for u in parcels]
    marks = ",".join("?" * len(parcels))
    if parcels:
        out += [("measure", u) for (u,) in conn.execute(
            f"SELECT uuid FROM measure WHERE parcel IN ({marks})", parcels)]
        patrols = [u for (u,) in conn.execute(f"SELECT uuid FROM patrol WHERE parcel IN ({marks})", parcels)]
        out += [("patrol", u) for u in patrols]
        if patrols:
            out += [("photo", u) for (u,) in conn.execute(
                f"SELECT uuid FROM photo WHERE owner IN ({','.join('?' * len(patrols))})", patrols)]
    out += [("agreement", u) for (u,) in conn.execute(
        "SELECT uuid FROM agreement WHERE operator=?", (operator_uuid,))]
    out += [("courtyard", u) for (u,) in conn.execute(
        "SELECT uuid FROM courtyard WHERE operator=?", (operator_uuid,))]
    return out


@dataclass(frozen=True)
class RecordPlace:
    """Where in the window a record is shown: its household, else its village."""

    operator: str | None
    village: str | None
    patrol: str | None = None


def place_of(store: Store, kind_name: str, uuid: str) -> RecordPlace:
    """The household (or village) view that shows a record, for opening a check's finding."""
    q = store.conn.execute
    if kind_name == "operator":
        row = q("SELECT uuid, village FROM operator WHERE uuid=?", (uuid,)).fetchone()
    elif kind_name == "parcel":
        row = q("SELECT operator, village FROM parcel WHERE uuid=?", (uuid,)).fetchone()
    elif kind_name == "measure":
        row = q("SELECT p.operator, p.village FROM measure m JOIN parcel p ON p.uuid=m.parcel"
                " WHERE m.uuid=?", (uuid,)).fetchone()
    elif kind_name == "agreement":
        row = q("SELECT o.uuid, o.village FROM agreement a JOIN operator o ON o.uuid=a.operator"
                " WHERE a.uuid=?", (uuid,)).fetchone()
    elif kind_name == "patrol":
        row = q("SELECT p.operator, p.village FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
                " WHERE t.uuid=?", (uuid,)).fetchone()
        return RecordPlace(row[0], row[1], uuid) if row else RecordPlace(None, None)
    elif kind_name == "courtyard":
        row = q("SELECT o.uuid, o.village FROM courtyard c JOIN operator o ON o.uuid=c.operator"
                " WHERE c.uuid=?", (uuid,)).fetchone()
    elif kind_name in ("notice", "village_group", "village_target"):
        row = q(f'SELECT NULL, village FROM "{kind_name}" WHERE uuid=?', (uuid,)).fetchone()
    elif kind_name == "village":
        row = (None, uuid)
    else:
        row = None
    return RecordPlace(row[0], row[1]) if row else RecordPlace(None, None)
