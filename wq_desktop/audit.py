"""The security log: an append-only, hash-chained record of security events beside the history.

Sign-in success and failure, lock and unlock, accounts added or disabled, passwords changed or
reset with the 恢复码, exports of unmasked personal data, backups, restores, USB packages made and
imported. Like the history, triggers refuse updates and deletes, each entry's hash covers the
previous one, and `verify` (run by `main.py check`) reports an entry rewritten, removed or
inserted behind the program's back. Details hold counts, file names and account names, never
personal data of operators.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

GENESIS = "0" * 64

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
LOCK = "lock"
UNLOCK = "unlock"
UNLOCK_FAILED = "unlock_failed"
ACCOUNT_ADDED = "account_added"
ACCOUNT_DISABLED = "account_disabled"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"  # with the 恢复码
RECOVERY_FAILED = "recovery_failed"
STORE_ENCRYPTED = "store_encrypted"
EXPORT_UNMASKED = "export_unmasked"
BACKUP = "backup"
RESTORE = "restore"
USB_EXPORT = "usb_export"
USB_IMPORT = "usb_import"
SERVER_KEY_SET = "server_key_set"  # the server's package key learnt, or replaced from a file

EVENT_LABELS = {
    SIGN_IN: "登录",
    SIGN_IN_FAILED: "登录失败",
    LOCK: "锁定",
    UNLOCK: "解锁",
    UNLOCK_FAILED: "解锁失败",
    ACCOUNT_ADDED: "新增账户",
    ACCOUNT_DISABLED: "停用账户",
    PASSWORD_CHANGED: "修改密码",
    PASSWORD_RESET: "用恢复码重设密码",
    RECOVERY_FAILED: "恢复码错误",
    STORE_ENCRYPTED: "数据库加密",
    EXPORT_UNMASKED: "导出未遮盖的个人信息",
    BACKUP: "备份",
    RESTORE: "从备份恢复",
    USB_EXPORT: "制作U盘同步包",
    USB_IMPORT: "导入U盘同步包",
    SERVER_KEY_SET: "记住服务器同步包密钥",
}

SECURITY_LOG_DDL = (
    """CREATE TABLE security_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    account TEXT NOT NULL,
    device TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)""",
    """CREATE TRIGGER security_log_no_update BEFORE UPDATE ON security_log
BEGIN SELECT RAISE(ABORT, '安全日志只能追加，不能修改'); END""",
    """CREATE TRIGGER security_log_no_delete BEFORE DELETE ON security_log
BEGIN SELECT RAISE(ABORT, '安全日志只能追加，不能删除'); END""",
)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    account: str
    device: str
    event: str
    detail: dict[str, Any]

    @property
    def label(self) -> str:
        return EVENT_LABELS.get(self.event, self.event)


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev_hash: str, seq: int, at: str, account: str, device: str, event: str,
               detail_json: str) -> str:
    payload = _canonical([prev_hash, seq, at, account, device, event, detail_json])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(store: Store, event: str, detail: dict[str, Any] | None = None, *,
           account: str | None = None, at: str | None = None) -> int:
    """Append one event (in the store's transaction); `account` defaults to the signed-in one."""
    if event not in EVENT_LABELS:
        raise ValueError(f"unknown security event {event}")
    with store.transaction():
        conn = store.conn
        last = conn.execute("SELECT seq, hash FROM security_log ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        at = at or store.clock()
        who = store.user if account is None else account
        detail_json = _canonical(detail or {})
        digest = entry_hash(prev, seq, at, who, store.device, event, detail_json)
        conn.execute(
            "INSERT INTO security_log (seq, at, account, device, event, detail, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?)", (seq, at, who, store.device, event, detail_json, prev, digest))
    return seq


def entries(conn: sqlite3.Connection, *, newest_first: bool = True, limit: int | None = None
            ) -> list[AuditEntry]:
    sql = ("SELECT seq, at, account, device, event, detail FROM security_log ORDER BY seq"
           + (" DESC" if newest_first else "") + (f" LIMIT {int(limit)}" if limit else ""))
    return [AuditEntry(seq, at, account, device, event, json.loads(detail))
            for seq, at, account, device, event, detail in conn.execute(sql)]


def verify(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(seq, Chinese message) for every break in the chain; empty when intact."""
    problems: list[tuple[int, str]] = []
    prev, expected = GENESIS, 1
    cur = conn.execute("SELECT seq, at, account, device, event, detail, prev_hash, hash"
                       " FROM security_log ORDER BY seq")
    for seq, at, account, device, event, detail, prev_hash, digest in cur:
        if seq != expected:
            problems.append((seq, f"安全日志缺少第 {expected} 条至第 {seq - 1} 条"))
        if prev_hash != prev:
            problems.append((seq, f"安全日志第 {seq} 条与前一条的链接不符（前一条被改写或删除）"))
        if entry_hash(prev_hash, seq, at, account, device, event, detail) != digest:
            problems.append((seq, f"安全日志第 {seq} 条的内容被改写（哈希不符）"))
        prev, expected = digest, seq + 1
    return problems
