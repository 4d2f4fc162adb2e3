"""Photo files both ways, separately from records: up once by SHA-256 (only what the server lacks,
in resumable pieces, the size limit checked before anything is sent), down for photo records
whose file this device does not have yet. A local file is never removed by sync."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..errors import WqError
from ..photos import file_sha256, has_photo, photo_bytes, photo_path, photo_size, store_photo_bytes
from ..store import Store
from . import checks
from . import protocol as p
from .errors import AuthError, OfflineError, SyncError
from .transport import Connection, body_of, error_detail

Progress = Callable[[str, int, int | None], None]


class PhotoRefused(SyncError):
    """The server takes no more photos now (over the user's quota, a full disk): they wait for
    a later sync, and the records still go up."""


_WAITING = "FROM photo WHERE deleted=0 AND sha256 NOT IN (SELECT sha256 FROM sync_photo)"


def waiting_uploads(store: Store) -> list[tuple[str, str | None]]:
    """(sha256, file name) of photos the server has not confirmed yet, oldest first: what a sync uploads."""
    return store.conn.execute(
        f"SELECT sha256, min(file_name) {_WAITING} GROUP BY sha256 ORDER BY min(rowid)").fetchall()


def waiting_upload_count(store: Store) -> int:
    """How many photo files wait for the server (what the status bar shows), counted, not listed."""
    return store.conn.execute(f"SELECT count(DISTINCT sha256) {_WAITING}").fetchone()[0]


def confirm(store: Store, sha256: str) -> None:
    store.conn.execute("INSERT OR IGNORE INTO sync_photo (sha256, confirmed_at) VALUES (?, ?)",
                       (sha256, store.clock()))


def upload(store: Store, conn: Connection, max_bytes: int, progress: Progress,
           cancelled: Callable[[], bool]) -> tuple[int, list[str]]:
    """Returns (photos uploaded, messages about photos still waiting)."""
    waiting = waiting_uploads(store)
    if not waiting:
        return 0, []
    names = dict(waiting)
    missing: set[str] = set()
    hashes = list(names)
    for i in range(0, len(hashes), 500):
        asked = hashes[i:i + 500]
        missing |= checks.missing_photos(conn.json("POST", "/photos/missing", json={"hashes": asked}),
                                         asked)
    with store.transaction():
        for sha in hashes:
            if sha not in missing:
                confirm(store, sha)
    messages: list[str] = []
    sent = 0
    todo = [sha for sha in hashes if sha in missing]
    for n, sha in enumerate(todo):
        if cancelled():
            break
        progress("上传照片", n, len(todo))
        label = names[sha] or sha[:12]
        if not has_photo(store, sha):
            messages.append(f"照片 {label} 的文件在本机找不到，未能上传。")
            continue
        size = photo_size(store, sha)
        if size > max_bytes:
            messages.append(f"照片 {label} 有 {size / 1048576:.1f} MB，超过服务器上限 "
                            f"{max_bytes // 1048576} MB，未上传。请压缩后重新添加。")
            continue
        try:
            data = photo_bytes(store, sha)  # the plain photo: the server checks its hash
        except WqError as err:
            messages.append(f"照片 {label} 未能上传（{err}）。")
            continue
        try:
            _upload_one(conn, data, sha)
        except (OfflineError, AuthError):
            raise  # the line is down: the other photos would fail the same way
        except PhotoRefused as err:  # over the quota or a full disk: the others would be too
            messages.append(f"照片 {label} 未能上传（{err}），下次同步重试。")
            break
        except SyncError as err:  # this photo only: the next ones still go
            messages.append(f"照片 {label} 未能上传（{err}），下次同步重试。")
            continue
        with store.transaction():
            confirm(store, sha)
        sent += 1
    if todo:
        progress("上传照片", sent, len(todo))
    return sent, messages


def _upload_one(conn: Connection, data: bytes, sha: str) -> None:
    size = len(data)
    offset = checks.received(conn.json("GET", f"/photos/{sha}/received"), size)
    while offset < size:
        piece = data[offset:offset + p.PHOTO_CHUNK]
        response = conn.request("PUT", f"/photos/{sha}", params={"offset": offset, "total": size},
                                data=piece, headers={"Content-Type": "application/octet-stream"})
        if response.status_code == 409:  # the server holds a different amount: go on from there
            offset = checks.received(body_of(response), size)
            continue
        if response.status_code >= 400:
            detail = error_detail(response) or f"服务器返回错误（{response.status_code}）"
            if response.status_code in (413, 507):  # over the quota, a full disk
                raise PhotoRefused(detail)
            raise SyncError(detail)
        body = body_of(response)
        offset = checks.received(body, size)
        if body.get("done"):
            return


def download(store: Store, conn: Connection, progress: Progress,
             cancelled: Callable[[], bool]) -> tuple[int, list[str]]:
    """Fetch files of photo records this device lacks; returns (downloaded, still missing)."""
    hashes = [r[0] for r in store.conn.execute("SELECT DISTINCT sha256 FROM photo WHERE deleted=0")]
    todo = [sha for sha in hashes if not has_photo(store, sha)]
    got, messages = 0, []
    for n, sha in enumerate(todo):
        if cancelled():
            break
        progress("下载照片", n, len(todo))
        target = photo_path(store, sha)
        # A plain store resumes a cut download from its partial file; an encrypted one keeps no
        # plain partial photo on its disk and asks for the whole file again.
        part = target.with_suffix(".part")
        have = part.stat().st_size if part.is_file() and store.key is None else 0
        response = conn.request("GET", f"/photos/{sha}",
                                headers={"Range": f"bytes={have}-"} if have else None)
        if response.status_code in (403, 404):
            messages.append(f"照片 {sha[:12]} 服务器上还没有（拍摄设备尚未上传）。")
            continue
        if response.status_code >= 400 and response.status_code != 416:
            raise SyncError(f"照片下载失败（{response.status_code}）。")
        target.parent.mkdir(parents=True, exist_ok=True)
        if store.key is not None:
            data = response.content
            if hashlib.sha256(data).hexdigest() != sha:
                messages.append(f"照片 {sha[:12]} 下载后摘要不符，下次同步重试。")
                continue
            store_photo_bytes(store, sha, data)
        else:
            with part.open("ab" if response.status_code == 206 else "wb") as fh:
                fh.write(response.content)
            if file_sha256(part) != sha:
                part.unlink()
                messages.append(f"照片 {sha[:12]} 下载后摘要不符，下次同步重试。")
                continue
            part.replace(target)
        with store.transaction():
            confirm(store, sha)
        got += 1
    if todo:
        progress("下载照片", got, len(todo))
    return got, messages
