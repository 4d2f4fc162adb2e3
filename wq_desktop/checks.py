"""Data checks over a whole store: broken history and security log, records edited behind the
core, rule breaks, overlapping or duplicate parcels, missing households, agreements and notices,
open violations, 碎片化, targets. Each finding names the record it concerns so the app can open it."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from . import history
from .errors import ValidationError
from .findings import Finding, Severity
from .fragmentation import check_fragmentation
from .geo.overlaps import find_overlaps_tiled
from .model import DEFAULT_NOTICE_DAYS, AgreementStatus, MeasureKind, PatrolResult
from .rules import masking, patrols, quantities
from .schema import KINDS, Kind
from .sqldriver import in_lists
from .store import Store, to_wire
from .targets import allotment_problems
from .validation import validate


def check_history(store: Store) -> list[Finding]:
    """The chain must be intact and every record must equal what its history says. Records and
    their replayed history are walked side by side in record order, one record at a time."""
    findings = [Finding(Severity.ERROR, "变更历史", p.message, None, p.record)
                for p in history.verify_chain(store.conn)]
    replayed = history.replay_by_record(store.conn)
    logged = next(replayed, None)

    def orphan(entry: tuple[str, str, int, dict[str, Any]]) -> Finding:
        return Finding(Severity.ERROR, "变更历史", "变更历史中的记录在数据表中不存在（被删除）",
                       entry[1], entry[0])

    for k, rec in _records_in_uuid_order(store):
        while logged is not None and logged[0] < rec["uuid"]:
            findings.append(orphan(logged))
            logged = next(replayed, None)
        if logged is None or logged[0] != rec["uuid"]:
            findings.append(Finding(Severity.ERROR, "变更历史",
                                    f"{k.label}记录没有变更历史（绕过程序写入）", k.name, rec["uuid"]))
            continue
        _, _, rev, fields = logged
        logged = next(replayed, None)
        differing = [f.label for f in k.fields
                     if to_wire(f, rec[f.name]) != fields.get(f.name)]
        if bool(rec["deleted"]) != bool(fields.get("deleted")):
            differing.append("删除标记")
        if differing or rev != rec["rev"]:
            findings.append(Finding(
                Severity.ERROR, "变更历史",
                f"{k.label}记录与变更历史不一致（{'、'.join(differing) or '版本号'}被绕过程序修改）",
                k.name, rec["uuid"]))
    while logged is not None:
        findings.append(orphan(logged))
        logged = next(replayed, None)
    return findings


def _records_in_uuid_order(store: Store) -> Iterator[tuple[Kind, dict[str, Any]]]:
    """Every row of every record table, merged in uuid order (SQLite's and Python's orders of
    text agree: UTF-8 bytes sort as code points)."""

    def rows(k: Kind) -> Iterator[tuple[str, Kind, dict[str, Any]]]:
        cur = store.conn.execute(f'SELECT * FROM "{k.name}" ORDER BY uuid')
        names = [d[0] for d in cur.description]
        for row in cur:
            rec = dict(zip(names, row, strict=True))
            yield rec["uuid"], k, rec

    for _, k, rec in heapq.merge(*(rows(k) for k in KINDS.values()), key=lambda item: item[0]):
        yield k, rec


def check_security_log(store: Store) -> list[Finding]:
    """The security log's chain must be intact (an entry rewritten, removed or slipped in)."""
    from . import audit

    return [Finding(Severity.ERROR, "安全日志", message) for _, message in audit.verify(store.conn)]


def check_rules(store: Store) -> list[Finding]:
    """Re-run the write-time rules on every live record (catches data from before a rule).
    Records are read one at a time: a whole table at once held 49 MiB on the township store."""
    findings: list[Finding] = []
    for k in KINDS.values():
        cur = store.conn.execute(f'SELECT * FROM "{k.name}" WHERE deleted=0')
        names = [d[0] for d in cur.description]
        for row in cur:
            rec = dict(zip(names, row, strict=True))
            try:
                validate(store, k.name, dict(rec), rec, rec["uuid"])
            except ValidationError as err:
                findings.append(Finding(Severity.ERROR, "数据规则", str(err), k.name, rec["uuid"]))
    return findings


def check_overlaps(store: Store, year: int | None = None) -> list[Finding]:
    """不重复: overlapping parcels count the same land twice. The outlines are kept as WKB and
    compared one block of the map at a time (geo.tiles): decoded at once with their STRtree,
    the city's 106,400 peaked at +165 MiB (+51 MiB in blocks)."""
    with store.snapshot():  # the codes looked up after are those of the outlines compared
        uuids: list[str] = []
        wkbs: list[bytes] = []
        for uuid, wkb in store.conn.execute(
                "SELECT uuid, geometry FROM parcel WHERE deleted=0 AND geometry IS NOT NULL"):
            uuids.append(uuid)
            wkbs.append(wkb)
        overlaps = find_overlaps_tiled(uuids, wkbs)
        del uuids, wkbs
        codes: dict[str, str] = {}
        for marks, chunk in in_lists(sorted({u for o in overlaps for u in (o.a, o.b)})):
            codes.update(store.conn.execute(f"SELECT uuid, code FROM parcel WHERE uuid IN ({marks})", chunk))
    return [Finding(Severity.ERROR, "地块重叠",
                    f"地块 {codes[o.a]} 与 {codes[o.b]} 重叠 {o.area_mu:.2f} 亩（面积会被重复统计）",
                    "parcel", o.a, o.b) for o in overlaps]


def check_duplicate_ids(store: Store, year: int | None = None) -> list[Finding]:
    """不重复 across townships: the same person or body registered in two townships. Within one
    township a second registration is refused by the operator rule (validation.id_clash), and one
    that came in before the rule is reported by the rules check in that rule's words."""
    findings = []
    for id_code, count in store.conn.execute(
            "SELECT o.id_code, count(DISTINCT v.township) FROM operator o"
            " JOIN village v ON v.uuid=o.village WHERE o.deleted=0"
            " GROUP BY o.id_code HAVING count(DISTINCT v.township) > 1"):
        rows = store.conn.execute(
            "SELECT o.uuid, o.name, t.name || v.name FROM operator o JOIN village v ON v.uuid=o.village"
            " JOIN township t ON t.uuid=v.township"
            " WHERE o.deleted=0 AND o.id_code=? ORDER BY v.code, o.name", (id_code,)).fetchall()
        where = "、".join(f"{village}的{name}" for _, name, village in rows)
        message = f"证件号 {masking.mask_id(id_code)} 在 {count} 个乡镇登记了 {len(rows)} 户：{where}"
        findings.append(Finding(Severity.WARNING, "重复登记", message, "operator", rows[0][0]))
    return findings


def check_missing(store: Store, year: int | None = None) -> list[Finding]:
    """不遗漏: every parcel needs a mapped shape and a verified measure for the year."""
    findings = [Finding(Severity.WARNING, "未落图", f"地块 {code} 还没有图形（四至界限未落图）",
                        "parcel", uuid)
                for uuid, code in store.conn.execute(
                    "SELECT uuid, code FROM parcel WHERE deleted=0 AND geometry IS NULL ORDER BY code")]
    if year is not None:
        findings += [
            Finding(Severity.WARNING, "未核实", f"地块 {code} 没有 {year} 年度的核实措施", "parcel", uuid)
            for uuid, code in store.conn.execute(
                "SELECT p.uuid, p.code FROM parcel p WHERE p.deleted=0 AND NOT EXISTS ("
                " SELECT 1 FROM measure m WHERE m.parcel=p.uuid AND m.year=? AND m.deleted=0)"
                " ORDER BY p.code", (year,))]
    return findings


def check_agreements(store: Store, year: int | None = None) -> list[Finding]:
    """Signed agreements must be publicized; notices must run the full period."""
    if year is None:
        return []
    findings = []
    for uuid, number, name, village, has_notice in store.conn.execute(
            "SELECT a.uuid, a.number, o.name, v.name, EXISTS(SELECT 1 FROM notice n WHERE n.village=v.uuid"
            "  AND n.year=a.year AND n.deleted=0)"
            " FROM agreement a JOIN operator o ON o.uuid=a.operator JOIN village v ON v.uuid=o.village"
            " WHERE a.deleted=0 AND a.year=? AND a.status=? ORDER BY a.number",
            (year, AgreementStatus.SIGNED)):
        reason = "" if has_notice else f"，且{village}尚无 {year} 年度公示记录"
        findings.append(Finding(Severity.WARNING, "签订未公示",
                                f"协议 {number}（{name}）已签订但未公示{reason}", "agreement", uuid))
    for uuid, village, start, end in store.conn.execute(
            "SELECT n.uuid, v.name, n.start_on, n.end_on FROM notice n JOIN village v ON v.uuid=n.village"
            " WHERE n.deleted=0 AND n.year=?", (year,)):
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        if days < DEFAULT_NOTICE_DAYS:
            findings.append(Finding(Severity.ERROR, "公示期不足",
                                    f"{village} {year} 年度公示只有 {days} 天（{start} 至 {end}），"
                                    f"应不少于 {DEFAULT_NOTICE_DAYS} 天", "notice", uuid))
    return findings


def check_terminated_measures(store: Store, year: int | None = None) -> list[Finding]:
    """A 终止 agreement is not paid (summary.counts_in_totals) and drops out of every total, so
    退减/休耕 measures still registered for that household that year need a look."""
    if year is None:
        return []
    findings = []
    for uuid, number, name, area in store.conn.execute(
            "SELECT a.uuid, a.number, o.name, sum(m.area_mu) FROM agreement a"
            " JOIN operator o ON o.uuid=a.operator"
            " JOIN parcel p ON p.operator=o.uuid AND p.deleted=0"
            " JOIN measure m ON m.parcel=p.uuid AND m.deleted=0 AND m.year=a.year AND m.kind<>?"
            " WHERE a.deleted=0 AND o.deleted=0 AND a.year=? AND a.status=?"
            " GROUP BY a.uuid ORDER BY a.number",
            (MeasureKind.PLANTED, year, AgreementStatus.TERMINATED)):
        findings.append(Finding(
            Severity.WARNING, "协议终止仍有退减",
            f"{name}（协议 {number}）：协议已终止，但仍登记 {quantities.format_mu(area)} 亩退减/休耕措施，"
            "请核实后修改措施", "agreement", uuid))
    return findings


def check_targets(store: Store, year: int | None = None) -> list[Finding]:
    """细化到村: this year's and next year's village targets fit the township's (targets.py)."""
    if year is None:
        return []
    return [Finding(Severity.WARNING, "目标分解", message, kind, record)
            for y in (year, year + 1) for kind, record, message in allotment_problems(store, y)]


def check_patrollers(store: Store, year: int | None = None) -> list[Finding]:
    """At least two people on site (巡查人 and 陪同人, domain.md §3); one alone is allowed but flagged
    (the patrol form asks before saving with the same sentence)."""
    sql = ("SELECT t.uuid, p.code, t.visited_on, t.stage, t.patrollers, t.escort FROM patrol t"
           " JOIN parcel p ON p.uuid=t.parcel WHERE t.deleted=0")
    params: tuple[object, ...] = ()
    if year is not None:
        sql += " AND t.year=?"
        params = (year,)
    findings = []
    for uuid, code, visited, stage, patrollers, escort in store.conn.execute(
            sql + " ORDER BY t.visited_on", params):
        warning = patrols.patrol_people_warning(json.loads(patrollers or "[]"), escort)
        if warning:
            findings.append(Finding(Severity.WARNING, "巡查人少于2人",
                                    f"地块 {code} 在 {visited} 的{stage}巡查：{warning}", "patrol", uuid))
    return findings


def check_violations(store: Store, year: int | None = None) -> list[Finding]:
    """Retired land found irrigated or planted must have a closed rectification."""
    if year is None:
        return []
    today = date.today().isoformat()
    findings = []
    for uuid, code, visited, result, deadline in store.conn.execute(
            "SELECT t.uuid, p.code, t.visited_on, t.result, t.rect_deadline FROM patrol t"
            " JOIN parcel p ON p.uuid=t.parcel WHERE t.deleted=0 AND t.year=? AND t.result<>?"
            " AND t.closed_on IS NULL ORDER BY t.visited_on", (year, PatrolResult.COMPLIANT)):
        overdue = "，已超过整改期限" if deadline and deadline < today else ""
        findings.append(Finding(Severity.WARNING, "违规未整改",
                                f"地块 {code} 在 {visited} 巡查判定为“{result}”，整改尚未结案{overdue}",
                                "patrol", uuid))
    return findings


# name -> (label, check). Each check takes the store and the year it concerns.
CHECKS: dict[str, tuple[str, Callable[..., list[Finding]]]] = {
    "history": ("变更历史", lambda store, year=None: check_history(store)),
    "security_log": ("安全日志", lambda store, year=None: check_security_log(store)),
    "rules": ("数据规则", lambda store, year=None: check_rules(store)),
    "overlaps": ("地块重叠", check_overlaps),
    "duplicates": ("重复登记", check_duplicate_ids),
    "missing": ("不遗漏", check_missing),
    "agreements": ("协议与公示", check_agreements),
    "terminated": ("协议终止仍有退减", check_terminated_measures),
    "violations": ("违规整改", check_violations),
    "patrollers": ("巡查人少于2人", check_patrollers),
    "fragmentation": ("碎片化", check_fragmentation),
    "targets": ("目标分解", check_targets),
}


def run_all(store: Store, year: int | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for _, check in CHECKS.values():
        findings += check(store, year)
    return findings
