"""One sync run: local changes up, other devices' changes down, then photos up and down.

Every step can be interrupted anywhere and run again: a pushed page is marked sent only from the
server's answer (given after it committed), a pulled page is stored together with the cursor that
follows it, and the store is backed up before the first pulled page is applied.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import migrations, package_keys, sealed
from ..accounts import accounts_for_sync
from ..errors import WqError
from ..store import Store
from . import apply, checks, photo_sync
from . import protocol as p
from .errors import AuthError, SyncError, VersionError
from .transport import Connection, body_of, error_detail

ProgressCb = Callable[[str, int, int | None], None]
CancelFlag = threading.Event | Callable[[], bool] | None
# Stores one pulled page (changes, cursor) and returns the rule warnings of the server's values.
ApplyPage = Callable[[Store, list[p.PulledChange], int | str], list[str]]
KEEP_BACKUPS = 3

# Tokens live in memory only, per (server, user, password digest), so a no-change sync is one
# cheap question and a wrong password is never covered by an earlier login.
_tokens: dict[tuple[str, str, str], tuple[str, float, str | None]] = {}


@dataclass
class SyncReport:
    pushed: int = 0  # local changes the server accepted (merged ones included)
    conflicts: int = 0  # local changes kept as a conflict on the server
    rejected: list[str] = field(default_factory=list)  # reasons, one per refused change
    pulled: int = 0  # other devices' changes stored here
    photos_uploaded: int = 0
    photos_downloaded: int = 0
    photo_messages: list[str] = field(default_factory=list)  # photos still waiting, and why
    warnings: list[str] = field(default_factory=list)
    pending: int = 0  # local changes still waiting after this run
    open_conflicts: int = 0
    last_sync_at: str | None = None
    backup: Path | None = None
    cancelled: bool = False

    def lines(self) -> list[str]:
        out = [f"上传修改 {self.pushed} 条，下载更新 {self.pulled} 条；"
               f"上传照片 {self.photos_uploaded} 张，下载照片 {self.photos_downloaded} 张。"]
        if self.conflicts or self.open_conflicts:
            out.append(f"新增冲突 {self.conflicts} 处，待处理冲突共 {self.open_conflicts} 处"
                       "（双方内容均已保留，请在“同步冲突”中逐项选择）。")
        out += [f"被拒绝：{r}" for r in self.rejected]
        out += self.photo_messages
        out += [f"提示：{w}" for w in self.warnings]
        if self.cancelled:
            out.append("同步已取消：已完成的部分已保存，下次同步从中断处继续。")
        out.append(f"待上传修改：{self.pending} 条。上次完成同步：{self.last_sync_at or '从未'}。")
        return out


def _cancel_check(flag: CancelFlag) -> Callable[[], bool]:
    if flag is None:
        return lambda: False
    if isinstance(flag, threading.Event):
        return flag.is_set
    return flag


def _login(conn: Connection, server: str, user: str, password: str, *, fresh: bool = False) -> None:
    key = (server, user, hashlib.sha256(f"{server}\0{user}\0{password}".encode()).hexdigest())
    cached = _tokens.get(key)
    if cached and not fresh and cached[1] > time.time() + 60:
        conn.token = cached[0]
        return
    response = conn.request("POST", "/auth/login", json={"user": user, "password": password},
                            auth=False)
    if response.status_code == 401:
        _tokens.pop(key, None)
        raise AuthError("用户名或密码错误，请重新输入。")
    if response.status_code >= 400:  # 429 (too many wrong passwords) says how long to wait
        raise SyncError(error_detail(response) or f"登录失败（{response.status_code}）。")
    body = checks.login(body_of(response))
    conn.token = body["token"]
    # Trust the server's expiry only as far as our own clock allows: re-login an hour early.
    _tokens[key] = (conn.token, time.time() + 11 * 3600, body.get("township"))


def _check_version(conn: Connection) -> dict[str, Any]:
    info = checks.version(conn.json("GET", "/version", auth=False))
    if info.get("protocol") != p.PROTOCOL_VERSION:
        raise VersionError(f"服务器同步协议版本为 {info.get('protocol')}，本程序为 {p.PROTOCOL_VERSION}，"
                           "不兼容。请升级程序（或请管理员升级服务器）后再同步。")
    return info


def _same_server(store: Store, server: str, user: str) -> None:
    """A cursor and base revisions belong to one server and one account's scope."""
    scope = f"{server}|{user}"
    if store.meta("sync_scope") not in (None, scope):
        with store.transaction():
            store.conn.execute("DELETE FROM sync_base")
            store.set_meta("sync_cursor", "0")
    store.set_meta("sync_scope", scope)


def sync_now(store: Store, server: str, user: str, password: str,
             progress_cb: ProgressCb | None = None, cancel_flag: CancelFlag = None, *,
             verify: bool | str = True, session: Any = None,
             apply_page: ApplyPage = apply.store_pulled) -> SyncReport:
    """Sync this store with the server. Raises SyncError (offline, wrong password, incompatible
    version, ...) with a message for the user; whatever finished before it is kept. Each pulled
    page is stored by `apply_page` (the caller's operation; the plain write by default), so
    the client does not know the operations that drive it."""
    if store.is_demo:
        raise SyncError("演示数据库不能与服务器同步。请新建或打开正式数据库。")
    progress = progress_cb or (lambda stage, done, total: None)
    cancelled = _cancel_check(cancel_flag)
    report = SyncReport()
    server = server.rstrip("/")
    conn = Connection(server, session=session, verify=verify)
    info = _check_version(conn)
    _login(conn, server, user, password)
    conn.relogin = lambda: _login(conn, server, user, password, fresh=True)
    _same_server(store, server, user)
    _pin_package_key(store, conn, server)

    # Records first, both ways: a photo that fails (a poor line, a file too large) must not hold
    # back the records, which are small and what every figure is made of.
    _push(store, conn, report, progress, cancelled)
    if not cancelled():
        _pull(store, conn, report, progress, cancelled, apply_page)
    if not cancelled():
        _photos(store, conn, info, report, progress, cancelled)
    report.cancelled = cancelled()
    if not report.cancelled:
        store.set_meta("sync_last_at", store.clock())
    report.last_sync_at = store.meta("sync_last_at")
    report.pending = store.pending_changes()
    report.open_conflicts = store.count("conflict", "status=?", (p.OPEN,))
    return report


def _pin_package_key(store: Store, conn: Connection, server: str) -> None:
    """Learn the server's USB package key at the first sync; a server showing another key than
    the pinned one is refused before anything is sent (it may not be our server)."""
    body = conn.json("GET", "/package-key")
    try:
        key = sealed.public_key_from_hex(body.get("public_key") if isinstance(body, dict) else None)
    except sealed.SealError:
        raise SyncError("服务器返回的同步包密钥格式不正确，同步未进行。") from None
    try:
        package_keys.pin_server_key(store, key, server)
    except WqError as err:
        raise SyncError(str(err)) from None


def _photos(store: Store, conn: Connection, info: dict[str, Any], report: SyncReport,
            progress: ProgressCb, cancelled: Callable[[], bool]) -> None:
    """Photos up, then down. A failure here is reported with what still waits; the records
    are already synced and the photos go again next time."""
    try:
        report.photos_uploaded, messages = photo_sync.upload(
            store, conn, int(info.get("max_photo_bytes", p.MAX_PHOTO_BYTES)), progress, cancelled)
        report.photo_messages += messages
        if not cancelled():
            report.photos_downloaded, messages = photo_sync.download(store, conn, progress,
                                                                     cancelled)
            report.photo_messages += messages
    except AuthError:
        raise
    except SyncError as err:
        waiting = len(photo_sync.waiting_uploads(store))
        report.photo_messages.append(f"照片同步未完成：{err} 修改记录已同步；待上传照片 {waiting} 张，"
                                     "下次同步继续。")


def _push(store: Store, conn: Connection, report: SyncReport, progress: ProgressCb,
          cancelled: Callable[[], bool]) -> None:
    total = store.pending_changes()
    done = 0
    accounts = accounts_for_sync(store)
    while not cancelled():
        page = apply.outbox_page(store, p.PUSH_PAGE)
        if not page:
            break
        progress("上传修改", done, total)
        results = checks.push_answer(
            conn.json("POST", "/sync/push", json={"device": store.device, "changes": page,
                                                  "accounts": accounts}), page)
        counts, warnings = apply.store_results(store, page, results)
        report.pushed += counts[p.APPLIED]
        report.conflicts += counts[p.CONFLICT]
        report.warnings += warnings
        refused = {r["change_id"]: r for r in results if r["status"] in (p.REJECTED, p.FORBIDDEN)}
        for change in page:
            if change["change_id"] in refused:
                report.rejected.append(_describe(change, refused[change["change_id"]]))
        done += len(page)
        if not any(counts.values()):
            raise SyncError("服务器没有确认任何上传的修改，请稍后重试。")
    progress("上传修改", done, total)


def _describe(change: p.Change, result: p.Result) -> str:
    from ..schema import KINDS

    label = KINDS[change["kind"]].label if change["kind"] in KINDS else change["kind"]
    return f"{label}（{change['record'][:8]}）：{result.get('reason')}"


def _pull(store: Store, conn: Connection, report: SyncReport, progress: ProgressCb,
          cancelled: Callable[[], bool], apply_page: ApplyPage) -> None:
    """Pages are stored one after the other, each with the cursor after it; the next is asked
    for while one is stored (one page ahead, in a thread that touches only the connection), so
    the server's and the line's time overlaps the writing. A fetch's error is raised when its
    page is due; a cut-off pull keeps the pages stored and waits for the page in flight."""
    device = store.device

    def fetch(after: int | str) -> dict[str, Any]:
        return checks.pull_page(conn.json("GET", "/sync/pull", params={
            "after": after, "device": device, "limit": p.PULL_PAGE}), after)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="wq-pull") as ahead:
        coming = ahead.submit(fetch, apply.cursor(store))
        while not cancelled():
            page = coming.result()
            if page["more"]:
                coming = ahead.submit(fetch, page["cursor"])
            if page["changes"] and report.backup is None:
                report.backup = _backup(store)
            report.warnings += apply_page(store, page["changes"], page["cursor"])
            report.pulled += len(page["changes"])
            progress("下载更新", report.pulled, None)
            if not page["more"]:
                break


def _backup(store: Store) -> Path:
    """Copy the store aside before the server's changes go in; keep the last few copies."""
    path = migrations.backup_copy(store.conn, store.path, "sync")
    copies = sorted(store.path.parent.glob(f"{store.path.stem}.sync-*{store.path.suffix}.bak"))
    for old in copies[:-KEEP_BACKUPS]:
        migrations.remove_copy(old)  # the copy and its `.bak.keys` key file
    return path
