"""Apply pushed changes: scope, idempotency, automatic merge, conflicts kept, and the pull feed.

For an update based on an older server revision, the fields other devices changed since that
revision are compared with the fields this change sets: different fields merge; the same field
with a different value keeps both sides (the record keeps the server's value, a synced conflict
record keeps this device's). An edit against a delete, either way round, is kept the same way.
Everything one push does commits in one transaction before the answer is sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from wq_desktop.errors import ConflictError, DuplicateError, NotFoundError, ValidationError, WqError
from wq_desktop.model import SYNCED_OPS, RecordOp
from wq_desktop.schema import KINDS, Kind
from wq_desktop.store import new_uuid, to_wire
from wq_desktop.sync import protocol as p
from wq_desktop.sync.checks import is_uuid

from . import authors, bodies, scope
from .auth import OFFICE, STAFF, User
from .db import SERVER_DEVICE, SERVER_USER, ServerDB, Session

OPS = tuple(op.value for op in SYNCED_OPS)
log = logging.getLogger(__name__)


class Forbidden(WqError):
    """A change or read outside the user's township (HTTP 403)."""


def push(db: ServerDB, user: User, device: str, changes: list[Any],
         accounts: list[authors.Account] | None = None) -> list[p.Result]:
    """Apply a page of changes in one transaction, under the user's township's write lock."""
    results = []
    with db.writing(user.township if user.can_write else None) as store:
        authors.register(store, user, device, accounts or [], store.clock())
        store.read_ahead(*_named(changes))
        for change in changes:
            results.append(_apply_one(store, user, device, change))
    return results


def _named(changes: list[Any]) -> tuple[list[str], dict[str | None, set[str]]]:
    """The change ids a page names, and the records (by kind; None: of any kind) its changes and
    their references name: what the store may read at once before applying them one by one."""
    ids: list[str] = []
    records: dict[str | None, set[str]] = {}
    for ch in changes:
        # Not yet parsed (bodies.parse_change refuses a bad change by itself): a kind that is no
        # text, a list say, must not end the whole page here.
        if (not isinstance(ch, dict) or not isinstance(ch.get("kind"), str) or ch["kind"] not in KINDS
                or not isinstance(ch.get("record"), str)):
            continue
        if isinstance(ch.get("change_id"), str):
            ids.append(ch["change_id"])
        records.setdefault(ch["kind"], set()).add(ch["record"])
        fields = ch.get("fields") if isinstance(ch.get("fields"), dict) else {}
        for name, ref in scope.uuid_fields(ch["kind"]):
            value = fields.get(name)
            if isinstance(value, str):
                records.setdefault(ref, set()).add(value)
    return ids, records


def _apply_one(store: Session, user: User, device: str, raw: Any) -> p.Result:
    # Types and lengths (bodies.Change, from the schema), then identity: UUIDs, known fields.
    parsed, reason, shown_id = bodies.parse_change(raw)
    problem = reason or (f"变更格式不正确：{_shape_problem(raw)}" if _shape_problem(raw) else None)
    if parsed is None or problem:  # refused before it touches anything; no receipt (no trusted id)
        return {"change_id": shown_id, "status": p.REJECTED, "code": 422, "reason": problem,
                "rev": None, "state": None, "conflict": None, "duplicate": False,
                "duplicate_of": None}
    ch = parsed.model_dump()
    change_id, kind_name, record = ch["change_id"], ch["kind"], ch["record"]
    seen = store.receipt(change_id)
    if seen:
        result: p.Result = {"change_id": change_id, "status": seen[0], "code": seen[1],
                            "reason": seen[2], "conflict": seen[3], "duplicate": True}
    else:
        try:
            with store.one_change():
                status, conflict = _decide(store, user, device, ch)
            result = {"change_id": change_id, "status": status,
                      "code": 409 if status == p.CONFLICT else 200, "reason": None,
                      "conflict": conflict, "duplicate": False}
        except Forbidden as err:
            result = {"change_id": change_id, "status": p.FORBIDDEN, "code": 403, "reason": str(err),
                      "conflict": None, "duplicate": False}
        except (ValidationError, NotFoundError, ConflictError) as err:
            result = {"change_id": change_id, "status": p.REJECTED, "code": 422,
                      "reason": f"服务器拒绝：{err}", "conflict": None, "duplicate": False}
        except (*store.transient, OSError):
            raise  # a full disk or a broken file is the server's trouble: the whole push fails
        except Exception:  # a value no rule foresaw must cost this change, not the page (and never a 500)
            log.exception("change %s could not be applied", change_id)
            result = {"change_id": change_id, "status": p.REJECTED, "code": 422,
                      "reason": "服务器拒绝：该修改的内容无法处理，请把这条记录的情况告诉管理员。",
                      "conflict": None, "duplicate": False}
        if result["status"] in (p.APPLIED, p.CONFLICT):
            authors.record_push(store, change_id, user, device, ch.get("user"), store.clock())
        store.add_receipt((change_id, device, kind_name, record, result["status"], result["code"],
                           result["reason"], result["conflict"]))
    target = store.alias_of(record)
    result["duplicate_of"] = target
    town = store.scope_of(target or record)
    readable = result["status"] != p.FORBIDDEN and town is not None and user.can_read(town)
    state = record_state(store, KINDS[kind_name], record) if readable and not target else None
    result["state"] = state
    result["rev"] = state["rev"] if state else None
    return result


def _shape_problem(ch: Any) -> str | None:
    """What is wrong with a pushed change's shape, in Chinese (None: well formed)."""
    if not isinstance(ch, dict):
        return "不是对象。"
    if not isinstance(ch.get("change_id"), str) or not is_uuid(ch["change_id"]):
        return "变更编号不是 UUID。"
    if ch.get("kind") not in KINDS:
        return f"未知的记录类型“{ch.get('kind')}”。"
    if not isinstance(ch.get("record"), str) or not is_uuid(ch["record"]):
        return "记录编号不是 UUID。"
    if ch.get("op") not in OPS:
        return f"未知的操作“{ch.get('op')}”。"
    fields = ch.get("fields")
    if not isinstance(fields, dict):
        return "缺少字段。"
    unknown = [n for n in fields if n != "deleted" and n not in KINDS[ch["kind"]].field_names]
    if unknown:
        return f"{KINDS[ch['kind']].label}没有字段：{'、'.join(map(str, unknown))}。"
    base = ch.get("base_rev", 0)
    if not isinstance(base, int) or isinstance(base, bool) or base < 0:
        return "基准版本不是非负整数。"
    return None


def _redirect(store: Session, k: Kind, ch: dict[str, Any]) -> dict[str, Any]:
    """The change with every UUID that names a refused duplicate replaced by the held record."""
    fields = dict(ch["fields"])
    for name, _ in scope.uuid_fields(k.name):
        if isinstance(fields.get(name), str):
            fields[name] = store.alias_of(fields[name]) or fields[name]
    return {**ch, "record": store.alias_of(ch["record"]) or ch["record"], "fields": fields}


def record_state(store: Session, k: Kind, record: str) -> dict[str, Any] | None:
    """The record as the server holds it: every field in wire form, `deleted`, and `rev`."""
    row = store.raw(k, record)
    if row is None:
        return None
    state = {f.name: to_wire(f, row[f.name]) for f in k.fields}
    state.update(deleted=row["deleted"], rev=row["rev"], updated_by=row["updated_by"],
                 updated_at=row["updated_at"])
    return state


def _decide(store: Session, user: User, device: str, ch: dict[str, Any]) -> tuple[str, str | None]:
    k = KINDS[ch["kind"]]
    ch = _redirect(store, k, ch)
    record, op = ch["record"], ch["op"]
    fields = {n: v for n, v in ch["fields"].items() if n != "deleted"}
    if not user.can_write:
        raise Forbidden("您的账号只能查看数据，不能上传修改。")
    authors.check(store, user, ch.get("user"))
    old = store.raw(k, record)
    if old is not None and store.scope_of(record) != user.township:
        raise Forbidden(f"该{k.label}属于其他乡镇，您无权修改。")
    if k.name == "township" and old is None:
        raise Forbidden("乡镇只能由管理员在服务器上创建。")
    if k.name == "supervision":
        _check_answer(op, old, fields)
    current = {f.name: to_wire(f, old[f.name]) for f in k.fields} if old else {}
    town = scope.township_of_state(store, k.name, record, {**current, **fields})
    if town is None:
        raise ValidationError(
            f"该{k.label}所属的上级记录在服务器上不存在（可能其上传被拒绝），请先处理上级记录。")
    if town != user.township:
        raise Forbidden(f"该{k.label}属于其他乡镇，您无权修改。")
    for f in k.fields:
        target = fields.get(f.name)
        if f.ref and target:
            target_town = store.scope_of(target)
            if target_town is not None and target_town != user.township:
                raise Forbidden(f"“{f.label}”引用了其他乡镇的记录，已拒绝。")
    author = {"user": user.name, "device": device, "at": ch.get("at") or store.clock()}
    base = int(ch.get("base_rev") or 0)

    if op == RecordOp.CREATE:
        if old is not None:
            raise ValidationError(f"{k.label}记录已存在（{record}）。")
        try:
            rev, changes = store.apply_change(k.name, record, "create", fields, **author)
        except DuplicateError as dup:  # validation writes nothing before it refuses
            return _duplicate(store, k, record, dup.existing, town, fields, author)
        store.add_scope(k.name, record, town)
        _log(store, ch["change_id"], device, user.name, k.name, record, town, "create", rev, changes,
             author["at"])
        return p.APPLIED, None
    if old is None:
        raise NotFoundError(f"服务器上没有该{k.label}记录（可能其新增被拒绝）。")

    others = _changes_by_others(store, record, base, device)
    derived = {f.name for f in k.fields if f.derived}
    if op == "delete":
        if old["deleted"]:
            return p.APPLIED, None  # already gone: deleting twice is deleting once
        if others and k.name != "conflict":
            theirs = {n: {"mine": None, "theirs": current.get(n)}
                      for n in _fields_of(others) if n not in derived and n in current}
            theirs["deleted"] = {"mine": 1, "theirs": 0}
            return p.CONFLICT, _open_conflict(store, k, record, town, theirs, "delete", "update",
                                              author, others)
        blocking = store.dependents(k.name, record)
        if blocking:
            dep_kind = KINDS[blocking[0][0]].label
            raise ValidationError(f"服务器上仍有{dep_kind}记录引用该{k.label}（其他设备新增），未删除。")
        rev, changes = store.apply_change(k.name, record, "delete", {}, **author)
        _log(store, ch["change_id"], device, user.name, k.name, record, town, "delete", rev, changes,
             author["at"])
        return p.APPLIED, None
    if op == "restore" and not old["deleted"]:
        op = "update"  # someone else restored it already: what remains is this change's fields
    if op == "update" and old["deleted"]:
        if k.name == "conflict":
            return p.APPLIED, None
        mine = {n: {"mine": v, "theirs": current.get(n)} for n, v in fields.items() if n not in derived}
        mine["deleted"] = {"mine": 0, "theirs": 1}
        return p.CONFLICT, _open_conflict(store, k, record, town, mine, "update", "delete", author,
                                          others)
    disputed: dict[str, dict[str, Any]] = {}
    if others and k.name != "conflict":  # conflict records themselves take the last word
        touched = _fields_of(others)
        disputed = {n: {"mine": v, "theirs": current.get(n)} for n, v in fields.items()
                    if n in touched and n not in derived and v != current.get(n)}
    merged = {n: v for n, v in fields.items() if n not in disputed}
    if merged or op == "restore":
        rev, changes = store.apply_change(k.name, record, op, merged, **author)
        if changes:
            _log(store, ch["change_id"], device, user.name, k.name, record, town, op, rev, changes,
                 author["at"])
    if disputed:
        return p.CONFLICT, _open_conflict(store, k, record, town, disputed, "update", "update",
                                          author, others)
    return p.APPLIED, None


def _duplicate(store: Session, k: Kind, record: str, existing: str, town: str,
               fields: dict[str, Any], author: dict[str, str]) -> tuple[str, str | None]:
    """A create refused because the server holds the same record under another UUID (two
    laptops created the 退减 measure of one parcel and year, say): nothing is counted twice.
    The refused UUID becomes an alias of the held record, and the values that differ are kept
    as a conflict on the held record (choosing this side merges them in); identical values
    need no decision."""
    store.add_alias(record, k.name, existing)
    store.add_scope(k.name, record, town)
    held = store.raw(k, existing)
    current = {f.name: to_wire(f, held[f.name]) for f in k.fields}
    disputed = {n: {"mine": v, "theirs": current.get(n)} for n, v in fields.items()
                if n in current and not k.field(n).derived and v != current.get(n)}
    if not disputed:
        return p.APPLIED, None
    creator = store.execute('SELECT fields, "user", at, device FROM srv_change WHERE record=?'
                           " ORDER BY seq DESC LIMIT 1", (existing,)).fetchall()
    others = [(json.loads(f), u, a, d) for f, u, a, d in creator]
    return p.CONFLICT, _open_conflict(store, k, existing, town, disputed, "create", "update",
                                      author, others, duplicate=record)


Others = list[tuple[dict, str, str, str]]  # (fields, user, at, device) of each change


def _changes_by_others(store: Session, record: str, base: int, device: str) -> Others:
    rows = store.execute(
        'SELECT fields, "user", at, device FROM srv_change WHERE record=? AND rev>? AND device<>?'
        " ORDER BY seq", (record, base, device)).fetchall()
    return [(json.loads(f), u, a, d) for f, u, a, d in rows]


def _fields_of(others: Others) -> set[str]:
    return {n for fields, *_ in others for n in fields if n != "deleted"}


def _open_conflict(store: Session, k: Kind, record: str, town: str, disputed: dict[str, Any],
                   mine_op: str, theirs_op: str, author: dict[str, str],
                   others: Others, duplicate: str | None = None) -> str:
    theirs_user, theirs_at, theirs_device = others[-1][1:] if others else (None, None, None)
    conflict = new_uuid()
    values = {"record_kind": k.name, "record": record, "fields": disputed, "mine_op": mine_op,
              "theirs_op": theirs_op, "mine_user": author["user"], "mine_device": author["device"],
              "mine_at": author["at"], "theirs_user": theirs_user, "theirs_at": theirs_at,
              "theirs_device": theirs_device, "status": p.OPEN, "duplicate": duplicate}
    at = store.clock()
    rev, changes = store.apply_change("conflict", conflict, "create", values, user=SERVER_USER,
                                      device=SERVER_DEVICE, at=at)
    store.add_scope("conflict", conflict, town)
    _log(store, None, SERVER_DEVICE, SERVER_USER, "conflict", conflict, town, "create", rev,
         changes, at)
    return conflict


def _log(store: Session, change_id: str | None, device: str, user: str, kind_name: str,
         record: str, town: str, op: str, rev: int, changes: dict[str, list[Any]], at: str) -> None:
    store.log_change(change_id, device, user, kind_name, record, town, op, rev,
                     json.dumps({n: c[1] for n, c in changes.items()}, ensure_ascii=False), at)


def _check_answer(op: str, old: Any, fields: dict[str, Any]) -> None:
    """A township answers a 督办 (回复, 已整改); issuing, rewording or removing one is the office's."""
    from wq_desktop.supervision import REPLY_FIELDS

    if op == RecordOp.CREATE or old is None:
        raise Forbidden("督办由市级办公室下发，乡镇不能新增督办。")
    if op != RecordOp.UPDATE or set(fields) - REPLY_FIELDS:
        raise Forbidden("乡镇只能回复督办（回复内容、办理状态），不能修改或删除督办事项和期限。")


def write_as_server(store: Session, kind_name: str, record: str, op: str, fields: dict[str, Any], *,
                    user: str, town: str) -> int:
    """A record the server itself writes (a township by the admin, a 督办 by the city office):
    validated and in the history like a pushed change, scoped, and in the pull feed, so it
    reaches the township's laptops by the ordinary sync. Inside the caller's
    `db.writing(town)`."""
    at = store.clock()
    rev, changes = store.apply_change(kind_name, record, op, fields, user=user, device=SERVER_DEVICE,
                                      at=at)
    if op == RecordOp.CREATE:
        store.add_scope(kind_name, record, town)
    if changes:
        _log(store, None, SERVER_DEVICE, user, kind_name, record, town, op, rev, changes, at)
    return rev


def create_township(db: ServerDB, code: str, name: str) -> str:
    """Admin: add a township (the root every other record's scope hangs from)."""
    record = new_uuid()
    with db.writing(record) as store:
        write_as_server(store, "township", record, "create", {"code": code, "name": name},
                        user=SERVER_USER, town=record)
    return record


def pull(db: ServerDB, user: User, device: str, after: int | str, limit: int) -> dict[str, Any]:
    """Other devices' changes after the cursor, in the user's scope, one page; the cursor to ask
    from next (the store reads it in one snapshot, so the cursor never passes a row this page
    did not see)."""
    if user.role == STAFF:
        return db.pull(user.township, device, _plain_cursor(after), limit)
    if user.role == OFFICE:
        return db.pull(None, device, after if db.backend == "postgresql" else _plain_cursor(after),
                       limit)
    return {"changes": [], "cursor": _plain_cursor(after), "more": False}


def _plain_cursor(after: int | str) -> int:
    if isinstance(after, int) or (isinstance(after, str) and after.isdigit()):
        return int(after)
    raise ValidationError("下载位置格式不正确，请重新同步。")


def feed_head(db: ServerDB) -> int:
    """The latest change's sequence number on an SQLite server (one counter for every township):
    anything derived from its records (the web view's figures and map) is current while this has
    not moved. On PostgreSQL each township counts on its own: `PgServerDB.feed_position`."""
    with db.reading() as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM srv_change").fetchone()[0]


def read_record(db: ServerDB, user: User, kind_name: str, record: str) -> dict[str, Any]:
    if kind_name not in KINDS:
        raise NotFoundError(f"未知的记录类型：{kind_name}")
    with db.reading() as session:
        town = session.scope_of(record)
        if town is None:
            raise NotFoundError("服务器上没有该记录。")
        if not user.can_read(town):
            raise Forbidden("该记录属于其他乡镇，您无权查看。")
        state = record_state(session, KINDS[kind_name], record)
    if state is None:
        raise NotFoundError("服务器上没有该记录。")
    return state
