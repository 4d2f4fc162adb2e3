"""Reads for the change history: each recorded change of a record as a row with field labels
and values as staff read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..geo import polygons
from ..household_scope import household_record_list
from ..model import RecordOp, record_op_label
from ..rules import masking
from ..schema import KINDS
from ..store import EVENT_FIELD, Store


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
    if kind_name == "supervision":
        from wq_desktop.supervision import target_title

        return f"督办（{target_title(store, rec['target_kind'], rec['target'])}，期限 {rec['due_on']}）"
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
            shape = polygons.from_wkb(bytes.fromhex(value))
            # The drawn area with its own precision: the 面积 line beside it is the figure of record.
            return f"已绘制图形（图形面积 {polygons.area_mu(shape):.4f} 亩）"
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
        return masking.mask_id(str(value))
    if name == "phone":
        return masking.mask_phone(str(value))
    if f.type == "real":
        return f"{value:.2f}" if isinstance(value, float) else str(value)
    return str(value)


def _hide_in_history(kind_name: str, name: str) -> bool:
    if name in ("deleted", EVENT_FIELD):
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
            if name == EVENT_FIELD:  # an event (an unmasked export), not a field change
                rows.append(ChangeRow(_local_time(entry.at), entry.user, titles[entry.record],
                                      record_op_label(entry.op), "", "", str(new)))
                continue
            label = "状态" if name == "deleted" else KINDS[kind_name].field(name).label
            rows.append(ChangeRow(_local_time(entry.at), entry.user, titles[entry.record],
                                  record_op_label(entry.op), label,
                                  _display_value(store, kind_name, name, old),
                                  _display_value(store, kind_name, name, new)))
    return rows


def household_history(store: Store, operator_uuid: str) -> list[ChangeRow]:
    """The change history of the household and everything that belongs to it
    (household_scope), deleted records included, so the history also shows what was removed."""
    return change_rows(store, household_record_list(store, operator_uuid, include_deleted=True))
