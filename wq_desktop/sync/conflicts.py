"""Sync conflicts for the UI: list them, show mine and theirs field by field, resolve.

A conflict record is synced like any record, so it shows on every device; resolving it writes
the chosen values to the record and marks the conflict resolved, both as ordinary changes that
sync to every device (a resolution is never forgotten by the next sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from ..model import RecordOp
from ..schema import KINDS
from ..store import Store, _user_form
from . import protocol as p

MINE, THEIRS = "mine", "theirs"


@dataclass(frozen=True)
class ConflictSummary:
    uuid: str
    record_kind: str
    kind_label: str
    record: str
    title: str  # the record's name or code, for the list
    field_labels: list[str]
    mine_user: str | None
    theirs_user: str | None
    mine_op: str
    theirs_op: str
    status: str


@dataclass(frozen=True)
class FieldChoice:
    name: str  # field name, or "deleted" for the record's tombstone
    label: str
    mine: Any  # wire form
    theirs: Any
    mine_text: str  # as shown to the user
    theirs_text: str


@dataclass(frozen=True)
class ConflictDetail:
    summary: ConflictSummary
    fields: list[FieldChoice]


def _label(kind_name: str, name: str) -> str:
    if name == "deleted":
        return "删除状态"
    try:
        return KINDS[kind_name].field(name).label
    except KeyError:
        return name


def _text(kind_name: str, name: str, value: Any, op: str) -> str:
    if name == "deleted":
        return "已删除" if value else "保留"
    if value is None:
        return "（删除记录）" if op == "delete" else "（空）"
    try:
        f = KINDS[kind_name].field(name)
    except KeyError:
        return str(value)
    if f.type == "geom":
        return "（地块图形）"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "（空）"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _title(store: Store, kind_name: str, record: str) -> str:
    from .status import record_title  # the name a user recognises, or its household's or parcel's

    return record_title(store, kind_name, record)


def _swapped(store: Store, c: dict[str, Any]) -> bool:
    """True on the device whose edit reached the server first: its own side is stored as theirs."""
    return c["theirs_device"] == store.device and c["mine_device"] != store.device


def _side(store: Store, c: dict[str, Any], side: str) -> str:
    return {MINE: THEIRS, THEIRS: MINE}[side] if _swapped(store, c) else side


def _summary(store: Store, c: dict[str, Any]) -> ConflictSummary:
    kind_name = c["record_kind"]
    mine, theirs = _side(store, c, MINE), _side(store, c, THEIRS)
    return ConflictSummary(
        c["uuid"], kind_name, KINDS[kind_name].label if kind_name in KINDS else kind_name, c["record"],
        _title(store, kind_name, c["record"]), [_label(kind_name, n) for n in c["fields"]],
        c[f"{mine}_user"], c[f"{theirs}_user"], c[f"{mine}_op"], c[f"{theirs}_op"], c["status"])


def list_conflicts(store: Store, *, include_resolved: bool = False) -> list[ConflictSummary]:
    where = "" if include_resolved else "status=?"
    params = () if include_resolved else (p.OPEN,)
    return [_summary(store, c) for c in store.find("conflict", where, params)]


def conflict_detail(store: Store, conflict_uuid: str) -> ConflictDetail:
    c = store.get("conflict", conflict_uuid)
    kind_name = c["record_kind"]
    mine, theirs = _side(store, c, MINE), _side(store, c, THEIRS)
    fields = [FieldChoice(name, _label(kind_name, name), sides.get(mine), sides.get(theirs),
                          _text(kind_name, name, sides.get(mine), c[f"{mine}_op"]),
                          _text(kind_name, name, sides.get(theirs), c[f"{theirs}_op"]))
              for name, sides in c["fields"].items()]
    return ConflictDetail(_summary(store, c), fields)


def resolve_conflict(store: Store, conflict_uuid: str, choices: dict[str, str]) -> None:
    """Apply a choice of MINE or THEIRS (as conflict_detail showed them on this device) for every
    field in dispute; syncs as new changes. The side that reached the server first is what the
    record holds now: choosing it keeps the current value (the server's, or anything newer)."""
    c = store.get("conflict", conflict_uuid)
    choices = {n: _side(store, c, v) if v in (MINE, THEIRS) else v for n, v in choices.items()}
    if c["status"] != p.OPEN:
        raise ValidationError("该冲突已处理。")
    disputed = c["fields"]
    missing = [_label(c["record_kind"], n) for n in disputed if choices.get(n) not in (MINE, THEIRS)]
    if missing:
        raise ValidationError(f"请为每个冲突字段选择保留哪一方：{'、'.join(missing)}。")
    k = KINDS[c["record_kind"]]
    record = c["record"]
    with store.transaction():
        current = store.get(k.name, record, include_deleted=True)
        want_deleted = bool(current["deleted"])
        if "deleted" in disputed and choices["deleted"] == MINE:
            want_deleted = bool(disputed["deleted"][MINE])
        values: dict[str, Any] = {}
        if c["mine_op"] != RecordOp.DELETE:  # a deleting side has no field values to bring back
            values = {n: _user_form(k.field(n), sides[MINE]) for n, sides in disputed.items()
                      if n != "deleted" and choices[n] == MINE and not k.field(n).derived}
        if current["deleted"] and not want_deleted:
            store.restore(k.name, record)
        if values and not want_deleted:
            store.update(k.name, record, values)
        if want_deleted and not current["deleted"]:
            store.delete(k.name, record)
        store.update("conflict", conflict_uuid, {
            "status": p.RESOLVED, "resolved_by": store.user, "resolved_at": store.clock(),
            "resolution": {n: choices[n] for n in disputed}})
