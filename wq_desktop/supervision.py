"""督办: the city office's findings sent to a township, and the township's answers.

The office issues one (web view on the server) about a township, village, household or parcel,
with a note and a due date. It syncs to that township's laptops as a record of its own kind,
shows in the dashboard's 督办待办 list and on the record it concerns; the staff answer it
(回复, or 已整改 when the problem is put right) and the answer syncs back. The office writes the
issuing fields, the township only the answering ones (`REPLY_FIELDS`; the server holds the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .errors import ValidationError
from .model import SUPERVISION_TARGETS, SupervisionStatus

if TYPE_CHECKING:
    from .store import Store

REPLY_FIELDS = frozenset({"status", "reply", "replied_by", "replied_on"})
ISSUE_FIELDS = frozenset({"township", "target_kind", "target", "note", "due_on", "issued_by",
                          "issued_on", "status"})

# The township of a record of each kind a 督办 can name.
_TOWNSHIP_OF = {
    "township": "SELECT uuid FROM township WHERE uuid=? AND deleted=0",
    "village": "SELECT township FROM village WHERE uuid=? AND deleted=0",
    "operator": "SELECT v.township FROM operator o JOIN village v ON v.uuid=o.village"
                " WHERE o.uuid=? AND o.deleted=0",
    "parcel": "SELECT v.township FROM parcel p JOIN village v ON v.uuid=p.village"
              " WHERE p.uuid=? AND p.deleted=0",
}
_TITLE_OF = {
    "township": "SELECT name FROM township WHERE uuid=?",
    "village": "SELECT t.name || ' ' || v.name FROM village v JOIN township t ON t.uuid=v.township"
               " WHERE v.uuid=?",
    "operator": "SELECT v.name || ' ' || o.name FROM operator o JOIN village v ON v.uuid=o.village"
                " WHERE o.uuid=?",
    "parcel": "SELECT v.name || ' 地块' || p.code || coalesce('（' || o.name || '）', '')"
              " FROM parcel p JOIN village v ON v.uuid=p.village"
              " LEFT JOIN operator o ON o.uuid=p.operator WHERE p.uuid=?",
}


def township_of(store: Store, target_kind: str, target: str) -> str | None:
    """The township (UUID) of a live record a 督办 may name; None when there is none."""
    sql = _TOWNSHIP_OF.get(target_kind)
    row = store.conn.execute(sql, (target,)).fetchone() if sql else None
    return row[0] if row else None


def target_title(store: Store, target_kind: str, target: str) -> str:
    """How the office and the staff name the record: "六工镇 甲村", "甲村 张三", "甲村 地块P3（张三）".
    Names only (a household's name is what a 督办 is about); never an ID number or phone."""
    row = store.conn.execute(_TITLE_OF[target_kind], (target,)).fetchone()
    return row[0] if row and row[0] else f"（已删除的{SUPERVISION_TARGETS[target_kind]}）"


def validate(store: Store, new: dict, old: dict | None) -> None:
    """The record's own rules (called from validation)."""
    town = township_of(store, new["target_kind"], new["target"])
    if old is None and town is None:
        raise ValidationError(f"督办对象（{SUPERVISION_TARGETS[new['target_kind']]}）不存在或已删除。",
                              "target")
    if town is not None and town != new["township"]:
        raise ValidationError("督办对象不属于该乡镇。", "target")
    if not (new["note"] or "").strip():
        raise ValidationError("请填写督办事项。", "note")
    if new["issued_on"] and str(new["due_on"]) < str(new["issued_on"]):
        raise ValidationError("办理期限不能早于督办日期。", "due_on")
    if new["status"] != SupervisionStatus.OPEN and not (new["reply"] or "").strip():
        raise ValidationError("回复或标记已整改时请填写回复内容（做了什么、结果如何）。", "reply")


@dataclass(frozen=True)
class SupervisionRow:
    uuid: str
    township: str
    township_name: str
    target_kind: str
    target: str
    title: str  # the record it concerns, by name
    note: str
    due_on: str
    issued_by: str
    issued_on: str
    status: str
    reply: str
    replied_by: str
    replied_on: str
    overdue: bool  # still 待办理 after its due date

    @property
    def target_label(self) -> str:
        return SUPERVISION_TARGETS[self.target_kind]

    @property
    def state(self) -> str:
        """open / answered / rectified / overdue: what the office filters by."""
        if self.overdue:
            return "overdue"
        return {SupervisionStatus.OPEN: "open", SupervisionStatus.ANSWERED: "answered"}.get(
            self.status, "rectified")


STATE_NAMES = {"open": "待办理", "overdue": "已逾期", "answered": "已回复", "rectified": "已整改"}


def supervision_rows(store: Store, township: str | None = None, today: date | None = None,
                     targets: list[str] | None = None) -> list[SupervisionRow]:
    """Live 督办 (of one township, or about the given records), overdue first, then open by due
    date, then answered ones, latest first."""
    today = today or date.today()
    where, params = ["s.deleted=0"], []
    if township:
        where.append("s.township=?")
        params.append(township)
    if targets is not None:
        where.append(f"s.target IN ({','.join('?' * len(targets))})")
        params += targets
    rows = []
    for r in store.conn.execute(
            "SELECT s.uuid, s.township, t.name, s.target_kind, s.target, s.note, s.due_on,"
            " coalesce(s.issued_by, ''), coalesce(s.issued_on, ''), s.status, coalesce(s.reply, ''),"
            " coalesce(s.replied_by, ''), coalesce(s.replied_on, '') FROM supervision s"
            f" JOIN township t ON t.uuid=s.township WHERE {' AND '.join(where)}", params):
        overdue = r[9] == SupervisionStatus.OPEN and r[6] < today.isoformat()
        rows.append(SupervisionRow(r[0], r[1], r[2], r[3], r[4], target_title(store, r[3], r[4]),
                                   *r[5:], overdue=overdue))
    order = {"overdue": 0, "open": 1, "answered": 2, "rectified": 3}
    rows.sort(key=lambda s: (order[s.state], s.due_on if s.state in ("overdue", "open") else "",
                             "" if s.state in ("overdue", "open") else _desc(s.replied_on)))
    return rows


def _desc(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)  # latest first within a string sort


def about_record(store: Store, kind_name: str, uuid: str, today: date | None = None
                 ) -> list[SupervisionRow]:
    """督办 shown on a record: those naming it, and for a household those naming its parcels."""
    targets = [uuid]
    if kind_name == "operator":
        targets += [p for (p,) in store.conn.execute(
            "SELECT uuid FROM parcel WHERE operator=? AND deleted=0", (uuid,))]
    return supervision_rows(store, targets=targets, today=today)


def issue_values(store: Store, target_kind: str, target: str, note: str, due_on: date | str,
                 issued_by: str, today: date | None = None) -> dict:
    """The fields of a new 督办 (its township found from the record), checked; raises a Chinese
    ValidationError for a bad choice."""
    if target_kind not in SUPERVISION_TARGETS:
        raise ValidationError("请选择督办对象：乡镇、村、农户或地块。", "target_kind")
    town = township_of(store, target_kind, target)
    if town is None:
        raise ValidationError(f"找不到要督办的{SUPERVISION_TARGETS[target_kind]}，可能已被删除。", "target")
    return {"township": town, "target_kind": target_kind, "target": target, "note": note.strip(),
            "due_on": str(due_on), "issued_by": issued_by,
            "issued_on": (today or date.today()).isoformat(), "status": SupervisionStatus.OPEN}


def answer(store: Store, uuid: str, reply: str, rectified: bool, today: date | None = None) -> int:
    """The township's answer (回复, or 已整改), by the signed-in user; returns the new revision."""
    status = SupervisionStatus.RECTIFIED if rectified else SupervisionStatus.ANSWERED
    return store.update("supervision", uuid, {
        "status": status, "reply": reply.strip(), "replied_by": store.user,
        "replied_on": (today or date.today()).isoformat()})
