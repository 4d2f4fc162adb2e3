"""Import a device's USB package and build the reply package that goes back on the stick.

The changes go through the same `apply.push` as an online push (idempotent by change id, scope
checked for the package's user, conflicts kept), so importing a package twice, or importing it
after the device already synced online, applies nothing twice.

A package is sealed to this server's package key (server_key.py) and checked whole before
anything in it is read; the reply is sealed to the laptop key named in the package.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from wq_desktop import sealed
from wq_desktop.errors import WqError
from wq_desktop.sync import protocol as p
from wq_desktop.sync.package import FORMAT, TO_DEVICE, TO_SERVER, open_sealed, read_manifest

from . import apply, bodies, limits, photos, server_key
from .auth import User
from .db import ServerDB

# Declared (uncompressed) sizes a package's entries may have; checked before anything inflates.
MAX_MANIFEST = 1 << 20
MAX_CHANGES_JSON = 128 << 20
MAX_ENTRIES = 200_000


def _package_user(db: ServerDB, name: str) -> User:
    with db.reading() as conn:
        row = conn.execute("SELECT name, role, township FROM srv_user WHERE name=? AND disabled=0",
                           (name,)).fetchone()
    if row is None:
        raise WqError(f"同步包的用户 {name} 在服务器上不存在或已停用。")
    return User(*row)


def _entry(zf: zipfile.ZipFile, name: str, limit: int) -> zipfile.ZipInfo:
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise WqError(f"同步包不完整（缺少 {name}），请重新导出。") from None
    if info.file_size > limit:
        raise WqError(f"同步包中的 {name} 解压后有 {info.file_size / 1048576:.0f} MB，超过服务器上限"
                      f" {limit / 1048576:.0f} MB，未导入。请分几次导出，或联网同步。")
    return info


def _read_bounded(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, never more than it declared (zipfile stops there and checks the CRC)."""
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        if limits.is_disk_full(err):
            raise
        raise WqError("同步包已损坏或不完整，请重新导出。") from None


def _store_photo(db: ServerDB, user: User, zf: zipfile.ZipFile, sha: str) -> None:
    """Stream one photo from the package to disk, hashing as it goes; it becomes the package user's
    upload (the records it belongs to come in the same package)."""
    info = _entry(zf, f"photos/{sha}", p.MAX_PHOTO_BYTES)
    if photos.blob_path(db, sha).is_file() and photos.missing(db, user, [sha]) == []:
        return
    incoming = db.blob_dir / "uploads" / "packages"
    limits.ensure_room(incoming, info.file_size)
    part = incoming / f"{sha}.{secrets.token_hex(4)}.part"
    digest = hashlib.sha256()
    try:
        with zf.open(info) as src, part.open("wb") as out:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha:
            raise WqError("同步包中的照片已损坏（摘要不符），请重新导出。")
        photos.adopt(db, user, sha, part, info.file_size)
    except (zipfile.BadZipFile, EOFError):
        raise WqError("同步包已损坏或不完整，请重新导出。") from None
    finally:
        part.unlink(missing_ok=True)


def import_package(db: ServerDB, source: Path | bytes, out: BinaryIO,
                   user: User | None = None) -> tuple[list[p.Result], int]:
    """Apply a device's package and write the reply package to `out`: (results, changes pulled)."""
    private_key = server_key.load_or_create(db.key_base)
    mine = sealed.shown_fingerprint(sealed.public_of(private_key))
    with open_sealed(source, private_key, "此同步包不是发给本服务器的（设备上记住的是另一台服务器的密钥），"
                     f"未导入。本服务器的密钥指纹为 {mine}：请在设备上导入本服务器的密钥文件"
                     "（或联网同步一次）后重新导出。") as zf:
        if len(zf.infolist()) > MAX_ENTRIES:
            raise WqError("同步包中的文件过多，不是本程序导出的同步包。")
        _entry(zf, "manifest.json", MAX_MANIFEST)
        raw = read_manifest(zf, TO_SERVER)
        try:
            manifest = bodies.Manifest.model_validate(raw)
        except ValidationError as err:
            raise WqError(f"同步包清单格式不正确（{err.errors()[0]['loc'][0]}），请重新导出。") from None
        if user is None:
            user = _package_user(db, str(manifest.user))
        elif manifest.user not in (None, user.name):
            raise WqError("同步包的用户与登录用户不符。")
        changes_info = _entry(zf, "changes.json", MAX_CHANGES_JSON)
        for sha in manifest.photos:
            _store_photo(db, user, zf, sha)
        try:
            changes = json.loads(_read_bounded(zf, changes_info))
        except ValueError:
            raise WqError("同步包中的修改记录已损坏，请重新导出。") from None
    if not isinstance(changes, list):
        raise WqError("同步包中的修改记录格式不正确，请重新导出。")
    device = manifest.device
    results = apply.push(db, user, device, changes, list(manifest.accounts))
    cursor, pulled = manifest.cursor or 0, []
    while True:
        page = apply.pull(db, user, device, cursor, p.PULL_PAGE)
        pulled += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    wanted = [ch["fields"]["sha256"] for ch in pulled
              if ch["kind"] == "photo" and ch["fields"].get("sha256")]
    back = [sha for sha in dict.fromkeys(wanted) if sha not in photos.missing(db, user, [sha])]
    confirmed = [sha for sha in manifest.photos if sha not in photos.missing(db, user, [sha])]
    reply = {"format": FORMAT, "direction": TO_DEVICE, "protocol": p.PROTOCOL_VERSION,
             "device": device, "user": user.name, "cursor": cursor, "photos": back,
             "confirmed": confirmed}
    with sealed.SealingWriter(out, bytes.fromhex(manifest.device_key), TO_DEVICE) as sealing, \
            zipfile.ZipFile(sealing, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(reply, ensure_ascii=False))
        zf.writestr("results.json", json.dumps(results, ensure_ascii=False))
        zf.writestr("changes.json", json.dumps(pulled, ensure_ascii=False))
        for sha in back:
            zf.write(photos.blob_path(db, sha), f"photos/{sha}", compress_type=zipfile.ZIP_STORED)
    return results, len(pulled)


def import_package_bytes(db: ServerDB, data: bytes, user: User | None = None) -> bytes:
    buffer = io.BytesIO()
    import_package(db, data, buffer, user)
    return buffer.getvalue()


def import_package_file(db: ServerDB, path: Path, reply_path: Path | None) -> tuple[Path, str]:
    if not Path(path).is_file():
        raise WqError(f"同步包不存在：{path}")
    reply_path = Path(reply_path or Path(path).with_name(Path(path).stem + ".reply.zip"))
    tmp = reply_path.with_name(reply_path.name + ".part")
    try:
        with tmp.open("wb") as out:
            results, pulled = import_package(db, Path(path), out)
        tmp.replace(reply_path)
    finally:
        tmp.unlink(missing_ok=True)
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    summary = (f"已导入 {len(results)} 条修改：接受 {by_status.get(p.APPLIED, 0)}，"
               f"冲突 {by_status.get(p.CONFLICT, 0)}，"
               f"拒绝 {by_status.get(p.REJECTED, 0) + by_status.get(p.FORBIDDEN, 0)}；"
               f"回传 {pulled} 条其他设备的修改。")
    return reply_path, summary
