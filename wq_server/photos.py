"""Photo files on the server, stored once by SHA-256 and uploaded in acknowledged pieces.

An upload is a `.part` file that grows piece by piece; a piece is accepted only at the offset the
server already holds, so a client that lost its connection asks how far it got and goes on from
there. The file takes its final name only after its SHA-256 is checked.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from wq_desktop.errors import ValidationError, WqError
from wq_desktop.sync import protocol as p

from .auth import OFFICE, User
from .db import ServerDB

_SHA = re.compile(r"[0-9a-f]{64}")


class UploadOffsetError(WqError):
    """A piece sent for the wrong offset; the answer says where to go on from."""

    def __init__(self, received: int) -> None:
        super().__init__(f"上传位置不符，服务器已收到 {received} 字节。")
        self.received = received


def _check_sha(sha256: str) -> str:
    if not _SHA.fullmatch(sha256):
        raise ValidationError("照片摘要应为64位十六进制SHA-256。")
    return sha256


def blob_path(db: ServerDB, sha256: str) -> Path:
    return db.blob_dir / sha256[:2] / _check_sha(sha256)


def _part_path(db: ServerDB, sha256: str) -> Path:
    return db.blob_dir / "uploads" / f"{_check_sha(sha256)}.part"


def missing(db: ServerDB, hashes: list[str]) -> list[str]:
    return [h for h in dict.fromkeys(hashes) if not blob_path(db, h).is_file()]


def received(db: ServerDB, sha256: str) -> int:
    if blob_path(db, sha256).is_file():
        return blob_path(db, sha256).stat().st_size
    part = _part_path(db, sha256)
    return part.stat().st_size if part.is_file() else 0


def too_large_message(size: int) -> str:
    return (f"照片有 {size / 1048576:.1f} MB，超过服务器上限 {p.MAX_PHOTO_BYTES // 1048576} MB，"
            "未上传。请压缩后重新添加。")


def put_piece(db: ServerDB, sha256: str, offset: int, total: int, data: bytes) -> tuple[int, bool]:
    """Append one piece; returns (bytes held, finished)."""
    if total > p.MAX_PHOTO_BYTES:
        raise ValidationError(too_large_message(total))
    final = blob_path(db, sha256)
    if final.is_file():
        return final.stat().st_size, True
    part = _part_path(db, sha256)
    with db.lock:  # two devices may upload the same photo; one of them appends at a time
        part.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.is_file() else 0
        if offset != have:
            raise UploadOffsetError(have)
        if have + len(data) > total:
            raise ValidationError("上传的内容超出声明的文件大小。")
        with part.open("ab") as fh:
            fh.write(data)
            fh.flush()
        have += len(data)
        if have < total:
            return have, False
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            part.unlink()
            raise ValidationError("照片传输后摘要不符（文件损坏），请重新同步。")
        final.parent.mkdir(parents=True, exist_ok=True)
        part.replace(final)
        return have, True


def readable_by(db: ServerDB, user: User, sha256: str) -> bool:
    """A photo file is readable by whoever can read a photo record that points at it."""
    if user.role == OFFICE:
        return True
    with db.reading() as conn:
        return conn.execute(
            "SELECT 1 FROM photo p JOIN srv_scope s ON s.record = p.uuid"
            " WHERE p.sha256=? AND s.township=? LIMIT 1", (sha256, user.township)).fetchone() is not None
