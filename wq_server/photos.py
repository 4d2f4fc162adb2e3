"""Photo files on the server, stored once by SHA-256 and uploaded in acknowledged pieces; each file
belongs to the people who sent it and to the records that refer to it.

An upload is a `.part` file of its uploader's own that grows piece by piece; a piece is accepted
only at the offset already held, so a client that lost its connection asks how far it got and goes
on from there, and nobody else can append to it. The file takes its final name only after its
SHA-256 is checked; an upload of a file the server already holds is checked the same way and then
dropped, so sending all of a file's bytes is how a user proves they have it.

Who may read a file: the city office; whoever uploaded it; staff of a township in which both a
photo record refers to the file and a user of that township uploaded it. Knowing a hash is not
enough, and the hash questions (`missing`, `received`) answer only for such files, so they tell
nobody whether another township holds a photo.

Uploads no photo record of the uploader's township refers to yet count against a per-user quota.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

from wq_desktop.errors import NotFoundError, ValidationError, WqError
from wq_desktop.store import utc_now
from wq_desktop.sync import protocol as p

from . import limits
from .auth import OFFICE, User
from .db import ServerDB, photo_referred_in, readable_photo_hashes, unreferenced_upload_bytes

_SHA = re.compile(r"[0-9a-f]{64}")
MiB = 1 << 20


def quota_bytes() -> int:
    """Bytes of unreferenced uploads one user may hold (WQ_UPLOAD_QUOTA_MB, default 2048): a
    laptop sends its photos before the records that refer to them, so a week offline must fit."""
    return int(os.environ.get("WQ_UPLOAD_QUOTA_MB", "2048")) * MiB


class UploadOffsetError(WqError):
    """A piece sent for the wrong offset; the answer says where to go on from."""

    def __init__(self, received: int) -> None:
        super().__init__(f"上传位置不符，服务器已收到 {received} 字节。")
        self.received = received


class QuotaExceeded(WqError):
    """Too many bytes uploaded that no record refers to yet (HTTP 413)."""


class NotReadable(WqError):
    """A photo file outside the user's records (HTTP 403)."""


def _check_sha(sha256: str) -> str:
    if not _SHA.fullmatch(sha256):
        raise ValidationError("照片摘要应为64位十六进制SHA-256。")
    return sha256


def blob_path(db: ServerDB, sha256: str) -> Path:
    return db.blob_dir / sha256[:2] / _check_sha(sha256)


def _part_path(db: ServerDB, user: str, sha256: str) -> Path:
    owner = hashlib.sha256(user.encode()).hexdigest()[:16]  # a folder per uploader, no name on disk
    return db.blob_dir / "uploads" / owner / f"{_check_sha(sha256)}.part"


def too_large_message(size: int) -> str:
    return (f"照片有 {size / 1048576:.1f} MB，超过服务器上限 {p.MAX_PHOTO_BYTES // 1048576} MB，"
            "未上传。请压缩后重新添加。")


# ------------------------------------------------------------------------------ who may know
def _known(db: ServerDB, user: User, hashes: list[str]) -> set[str]:
    """The hashes among these whose file this user may read and the server holds."""
    if not hashes:
        return set()
    found = readable_photo_hashes(db, user.name, user.township, user.role == OFFICE, hashes)
    return {h for h in found if blob_path(db, h).is_file()}


def missing(db: ServerDB, user: User, hashes: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(_check_sha(h) for h in hashes))
    known: set[str] = set()
    for i in range(0, len(wanted), 500):  # SQLite's limit on bound values
        known |= _known(db, user, wanted[i:i + 500])
    return [h for h in wanted if h not in known]


def received(db: ServerDB, user: User, sha256: str) -> int:
    """How much of this file the user has sent: all of it once they may read it, else their own
    unfinished upload's size (0 for a file of someone else's)."""
    if _known(db, user, [_check_sha(sha256)]):
        return blob_path(db, sha256).stat().st_size
    part = _part_path(db, user.name, sha256)
    return part.stat().st_size if part.is_file() else 0


def check_readable(db: ServerDB, user: User, sha256: str) -> Path:
    """The file's path, or NotReadable (no record of the user's refers to it) / NotFoundError
    (a record does, but nobody of the township has uploaded the file yet)."""
    path = blob_path(db, sha256)
    if _known(db, user, [sha256]):
        return path
    if user.role != OFFICE:
        if not photo_referred_in(db, sha256, user.township):
            raise NotReadable("该照片不属于您所在乡镇的记录。")
    raise NotFoundError("服务器上还没有该照片（拍摄设备尚未上传）。")


# ------------------------------------------------------------------------------ uploads
_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _upload_lock(user: str, sha256: str) -> threading.Lock:
    """One lock per upload, not the database's: a 40 MB hash must not hold up every push."""
    with _locks_guard:
        return _locks.setdefault((user, sha256), threading.Lock())


def _begin(db: ServerDB, user: User, sha256: str, total: int) -> None:
    held = unreferenced_upload_bytes(db, user.name, but=sha256)
    if held + total > quota_bytes():
        raise QuotaExceeded(
            f"您已上传但尚无记录引用的照片共 {held / MiB:.0f} MB，再传这张（{total / MiB:.1f} MB）"
            f"将超过每人 {quota_bytes() // MiB} MB 的上限。请先完成一次同步，让照片所属的记录上传到"
            "服务器；仍不行请联系管理员。")
    with db.writing() as conn:  # no township: an upload takes no write lock on PostgreSQL
        conn.execute(
            'INSERT INTO srv_upload (sha256, "user", township, total, done, at) VALUES (?,?,?,?,0,?)'
            ' ON CONFLICT (sha256, "user") DO UPDATE SET total=excluded.total, at=excluded.at'
            " WHERE srv_upload.done=0", (sha256, user.name, user.township or "", total, utc_now()))


def put_piece(db: ServerDB, user: User, sha256: str, offset: int, total: int,
              data: bytes) -> tuple[int, bool]:
    """Append one piece to the user's own upload; returns (bytes held, finished)."""
    if total > p.MAX_PHOTO_BYTES:
        raise ValidationError(too_large_message(total))
    if _known(db, user, [_check_sha(sha256)]):
        return blob_path(db, sha256).stat().st_size, True
    part = _part_path(db, user.name, sha256)
    with _upload_lock(user.name, sha256):
        have = part.stat().st_size if part.is_file() else 0
        if offset != have:
            raise UploadOffsetError(have)
        if have + len(data) > total:
            raise ValidationError("上传的内容超出声明的文件大小。")
        if have == 0:
            _begin(db, user, sha256, total)
        limits.ensure_room(part.parent, len(data))
        with part.open("ab") as fh:
            fh.write(data)
            fh.flush()
        have += len(data)
        if have < total:
            return have, False
        _finish(db, user, sha256, part)
        return have, True


def _finish(db: ServerDB, user: User, sha256: str, part: Path) -> None:
    digest = hashlib.sha256()
    with part.open("rb") as fh:
        for chunk in iter(lambda: fh.read(MiB), b""):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        part.unlink()
        with db.writing() as conn:
            conn.execute('DELETE FROM srv_upload WHERE sha256=? AND "user"=? AND done=0',
                            (sha256, user.name))
        raise ValidationError("照片传输后摘要不符（文件损坏），请重新同步。")
    adopt(db, user, sha256, part, part.stat().st_size)


def adopt(db: ServerDB, user: User, sha256: str, checked: Path, size: int) -> None:
    """A file whose SHA-256 was just checked becomes this user's upload (and the stored copy)."""
    final = blob_path(db, sha256)
    if final.is_file():
        checked.unlink()  # the same bytes are already stored
    else:
        final.parent.mkdir(parents=True, exist_ok=True)
        checked.replace(final)
    with db.writing() as conn:
        conn.execute(
            'INSERT INTO srv_upload (sha256, "user", township, total, done, at) VALUES (?,?,?,?,1,?)'
            ' ON CONFLICT (sha256, "user") DO UPDATE SET done=1, total=excluded.total',
            (sha256, user.name, user.township or "", size, utc_now()))
