"""Data checks over a whole store: broken history, records edited behind the core, rule breaks,
overlapping parcels. Each finding names the record it concerns so the app can open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import shapely

from . import geo, history
from .errors import ValidationError
from .schema import KINDS
from .store import Store, to_wire
from .validation import validate


class Severity(StrEnum):
    ERROR = "错误"
    WARNING = "提示"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str  # short Chinese name of the check
    message: str
    kind: str | None = None
    record: str | None = None


def check_history(store: Store) -> list[Finding]:
    """The chain must be intact and every record must equal what its history says."""
    findings = [Finding(Severity.ERROR, "变更历史", p.message, None, p.record)
                for p in history.verify_chain(store.conn)]
    replayed = history.replay(store.conn)
    seen: set[str] = set()
    for k in KINDS.values():
        cur = store.conn.execute(f'SELECT * FROM "{k.name}"')
        names = [d[0] for d in cur.description]
        for row in cur:
            rec = dict(zip(names, row, strict=True))
            seen.add(rec["uuid"])
            logged = replayed.get(rec["uuid"])
            if logged is None:
                findings.append(Finding(Severity.ERROR, "变更历史",
                                        f"{k.label}记录没有变更历史（绕过程序写入）", k.name, rec["uuid"]))
                continue
            _, rev, fields = logged
            differing = [f.label for f in k.fields
                         if to_wire(f, rec[f.name]) != fields.get(f.name)]
            if bool(rec["deleted"]) != bool(fields.get("deleted")):
                differing.append("删除标记")
            if differing or rev != rec["rev"]:
                findings.append(Finding(
                    Severity.ERROR, "变更历史",
                    f"{k.label}记录与变更历史不一致（{'、'.join(differing) or '版本号'}被绕过程序修改）",
                    k.name, rec["uuid"]))
    for uuid in replayed.keys() - seen:
        findings.append(Finding(Severity.ERROR, "变更历史", "变更历史中的记录在数据表中不存在（被删除）",
                                replayed[uuid][0], uuid))
    return findings


def check_rules(store: Store) -> list[Finding]:
    """Re-run the write-time rules on every live record (catches data from before a rule)."""
    findings: list[Finding] = []
    for k in KINDS.values():
        cur = store.conn.execute(f'SELECT * FROM "{k.name}" WHERE deleted=0')
        names = [d[0] for d in cur.description]
        for row in cur.fetchall():
            rec = dict(zip(names, row, strict=True))
            try:
                validate(store, k.name, dict(rec), rec, rec["uuid"])
            except ValidationError as err:
                findings.append(Finding(Severity.ERROR, "数据规则", str(err), k.name, rec["uuid"]))
    return findings


def check_overlaps(store: Store) -> list[Finding]:
    rows = store.conn.execute(
        "SELECT uuid, code, geometry FROM parcel WHERE deleted=0 AND geometry IS NOT NULL").fetchall()
    if not rows:
        return []
    codes = {r[0]: r[1] for r in rows}
    shapes = shapely.from_wkb([r[2] for r in rows])
    overlaps = geo.find_overlaps(zip([r[0] for r in rows], shapes, strict=True))
    return [Finding(Severity.ERROR, "地块重叠",
                    f"地块 {codes[o.a]} 与 {codes[o.b]} 重叠 {o.area_mu:.2f} 亩（面积会被重复统计）",
                    "parcel", o.a) for o in overlaps]


CHECKS: dict[str, Callable[[Store], list[Finding]]] = {
    "history": check_history,
    "rules": check_rules,
    "overlaps": check_overlaps,
}


def run_all(store: Store) -> list[Finding]:
    findings: list[Finding] = []
    for check in CHECKS.values():
        findings += check(store)
    return findings
