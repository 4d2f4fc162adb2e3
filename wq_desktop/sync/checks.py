"""Every answer from the server is untrusted input: checked here, whole, before anything is written.

A cut or garbled body, an unknown kind or field, a value of the wrong type, a UUID that is not
one: each raises BadAnswer (a SyncError with a Chinese message), so a damaged response can never
leave a wrong value or a phantom record on the laptop. The body's SHA-256 travels in a header
(protocol.DIGEST_HEADER) and is compared first: a flipped byte on a plain-HTTP line is found even
where the JSON still parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from ..model import SYNCED_OPS
from ..schema import KINDS
from . import protocol as p
from .errors import SyncError

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX = re.compile(r"[0-9a-f]*")
_OPS = {op.value for op in SYNCED_OPS}
_STATUSES = {p.APPLIED, p.CONFLICT, p.REJECTED, p.FORBIDDEN}
_STATE_EXTRA = {"deleted", "rev", "updated_by", "updated_at"}


class BadAnswer(SyncError):
    """The server's answer was damaged or not what the protocol allows; nothing was written."""

    def __init__(self, what: str) -> None:
        super().__init__(f"服务器的回答不完整或已损坏（{what}），本机没有写入任何内容。"
                         "请检查网络后重试；多次出现请联系管理员。")


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise BadAnswer(what)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_real(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and value == value


def _is_json(value: Any) -> bool:
    return isinstance(value, (list, dict))


def _is_hex(value: Any) -> bool:  # geom: hex WKB
    return isinstance(value, str) and len(value) % 2 == 0 and _HEX.fullmatch(value) is not None


_TYPE_OK: dict[str, Callable[[Any], bool]] = {
    "text": _is_text, "date": _is_text, "int": _is_int, "real": _is_real, "json": _is_json,
    "geom": _is_hex}


# The exact types (bool is not int) each wire type takes without a closer look; a float
# (NaN is refused) or an outline (hex) goes through the type's check.
_PLAIN_TYPES: dict[str, frozenset[type]] = {
    "text": frozenset({str}), "date": frozenset({str}), "int": frozenset({int}),
    "real": frozenset({int}), "json": frozenset({list, dict}), "geom": frozenset()}


@cache
def _field_checks(kind_name: str) -> dict[str, tuple[frozenset[type], Callable[[Any], bool], str]]:
    """(the types taken as they are, the wire type's check, the label) of each field of a kind,
    by name (this runs for every value of every record a pull brings)."""
    return {f.name: (_PLAIN_TYPES[f.type], _TYPE_OK[f.type], f.label) for f in KINDS[kind_name].fields}


def _fields(kind_name: str, fields: Any, extra: set[str], where: str) -> None:
    # Each sentence is made only when it is raised: this runs for every record a pull brings.
    if not isinstance(fields, dict):
        raise BadAnswer(f"{where}缺少字段")
    known = _field_checks(kind_name)
    for name, value in fields.items():
        check = known.get(name)
        if check is None:
            # A field from a newer server is left out when stored, but its name must still be text.
            if not isinstance(name, str):
                raise BadAnswer(f"{where}的字段名无效")
        elif value is not None and type(value) not in check[0] and name not in extra \
                and not check[1](value):
            raise BadAnswer(f"{where}的“{check[2]}”类型不符")
    if "deleted" in fields and fields["deleted"] not in (0, 1, True, False, None):
        raise BadAnswer(f"{where}的删除状态无效")
    if kind_name == "conflict" and fields.get("record_kind") not in (None, *KINDS):
        raise BadAnswer(f"{where}的冲突记录类型未知")


def version(body: Any) -> dict[str, Any]:
    _need(isinstance(body, dict) and _is_int(body.get("protocol")), "版本信息")
    if "max_photo_bytes" in body:
        _need(_is_int(body["max_photo_bytes"]) and body["max_photo_bytes"] > 0, "照片上限")
    return body


def login(body: Any) -> dict[str, Any]:
    _need(isinstance(body, dict) and isinstance(body.get("token"), str) and body["token"],
          "登录回答")
    return body


def push_answer(body: Any, sent: list[p.Change]) -> list[p.Result]:
    _need(isinstance(body, dict) and isinstance(body.get("results"), list), "上传回答")
    kinds = {c["change_id"]: c["kind"] for c in sent}
    seen: set[str] = set()
    for r in body["results"]:
        _need(isinstance(r, dict) and r.get("change_id") in kinds, "上传回答中的变更编号")
        _need(r["change_id"] not in seen, "上传回答中重复的变更编号")
        seen.add(r["change_id"])
        _need(r.get("status") in _STATUSES, "上传回答中的状态")
        _need(r.get("reason") is None or isinstance(r["reason"], str), "上传回答中的原因")
        _need(r.get("rev") is None or (_is_int(r["rev"]) and r["rev"] >= 1), "上传回答中的版本")
        for key in ("conflict", "duplicate_of"):
            _need(r.get(key) is None or is_uuid(r[key]), "上传回答中的记录编号")
        state = r.get("state")
        if state is not None:
            _fields(kinds[r["change_id"]], state, _STATE_EXTRA, "服务器记录")
            _need(_is_int(state.get("rev")) and state["rev"] >= 1, "服务器记录的版本")
            for key in ("updated_by", "updated_at"):
                _need(state.get(key) is None or isinstance(state[key], str), "服务器记录的修改人")
    return body["results"]


MAX_CURSOR = 100_000  # characters of a per-township cursor (a city office on PostgreSQL)


def pull_page(body: Any, after: int | str) -> dict[str, Any]:
    _need(isinstance(body, dict) and isinstance(body.get("changes"), list), "下载内容")
    # Text: a position per township (the city office's on a PostgreSQL server), read back by the
    # server as it is; numbers then rise within each township, not across the page.
    by_township = isinstance(body.get("cursor"), str)
    if by_township:
        _need(0 < len(body["cursor"]) <= MAX_CURSOR, "下载位置")
    else:
        _need(_is_int(body.get("cursor")) and isinstance(after, int) and body["cursor"] >= after,
              "下载位置")
    _need(isinstance(body.get("more"), bool), "下载内容的分页")
    last = after if isinstance(after, int) else 0
    for ch in body["changes"]:
        _need(isinstance(ch, dict) and ch.get("kind") in KINDS, "下载的记录类型")
        _need(_is_int(ch.get("seq")) and ch["seq"] >= 1 and (by_township or ch["seq"] > last),
              "下载的顺序号")
        last = ch["seq"]
        _need(is_uuid(ch.get("record")), "下载的记录编号")
        _need(ch.get("op") in _OPS, "下载的操作")
        _need(_is_int(ch.get("rev")) and ch["rev"] >= 1, "下载的版本")
        for key in ("user", "device", "at"):
            _need(isinstance(ch.get(key), str), "下载的修改人、设备或时间")
        _fields(ch["kind"], ch.get("fields"), set(), "下载的修改")
    _need(by_township or body["cursor"] >= last, "下载位置")
    return body


def missing_photos(body: Any, asked: list[str]) -> set[str]:
    _need(isinstance(body, dict) and isinstance(body.get("missing"), list), "照片清单")
    missing = set(body["missing"])
    _need(missing <= set(asked), "照片清单")
    return missing


def received(body: Any, total: int | None = None) -> int:
    _need(isinstance(body, dict) and _is_int(body.get("received")) and body["received"] >= 0,
          "照片已收字节数")
    _need(total is None or body["received"] <= total, "照片已收字节数")
    if "done" in body:
        _need(isinstance(body["done"], bool), "照片上传状态")
    return body["received"]
