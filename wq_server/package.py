"""Import a device's USB package and build the reply package that goes back on the stick.

The changes go through the same `apply.push` as an online push (idempotent by change id, scope
checked for the package's user, conflicts kept), so importing a package twice, or importing it
after the device already synced online, applies nothing twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from wq_desktop.errors import WqError
from wq_desktop.sync import protocol as p
from wq_desktop.sync.package import FORMAT, TO_DEVICE, TO_SERVER, open_zip, read_manifest

from . import apply, photos
from .auth import User
from .db import ServerDB


def _package_user(db: ServerDB, name: str) -> User:
    row = db.conn.execute("SELECT name, role, township FROM srv_user WHERE name=? AND disabled=0",
                          (name,)).fetchone()
    if row is None:
        raise WqError(f"同步包的用户 {name} 在服务器上不存在或已停用。")
    return User(*row)


def import_package_bytes(db: ServerDB, data: bytes, user: User | None = None) -> bytes:
    with open_zip(data) as zf:
        manifest = read_manifest(zf, TO_SERVER)
        if user is None:
            user = _package_user(db, str(manifest.get("user")))
        elif manifest.get("user") not in (None, user.name):
            raise WqError("同步包的用户与登录用户不符。")
        device = str(manifest["device"])
        for sha in manifest.get("photos", []):
            body = zf.read(f"photos/{sha}")
            if len(body) > p.MAX_PHOTO_BYTES:
                raise WqError(photos.too_large_message(len(body)))
            if hashlib.sha256(body).hexdigest() != sha:
                raise WqError("同步包中的照片已损坏（摘要不符），请重新导出。")
            target = photos.blob_path(db, sha)
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".part")
                tmp.write_bytes(body)
                tmp.replace(target)
        changes = json.loads(zf.read("changes.json"))
    results = apply.push(db, user, device, changes) if changes else []
    cursor, pulled = int(manifest.get("cursor") or 0), []
    while True:
        page = apply.pull(db, user, device, cursor, p.PULL_PAGE)
        pulled += page["changes"]
        cursor = page["cursor"]
        if not page["more"]:
            break
    wanted = [ch["fields"]["sha256"] for ch in pulled
              if ch["kind"] == "photo" and ch["fields"].get("sha256")]
    back = [sha for sha in dict.fromkeys(wanted) if photos.blob_path(db, sha).is_file()]
    confirmed = [sha for sha in manifest.get("photos", []) if photos.blob_path(db, sha).is_file()]
    reply = {"format": FORMAT, "direction": TO_DEVICE, "protocol": p.PROTOCOL_VERSION,
             "device": device, "user": user.name, "cursor": cursor, "photos": back,
             "confirmed": confirmed}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(reply, ensure_ascii=False))
        zf.writestr("results.json", json.dumps(results, ensure_ascii=False))
        zf.writestr("changes.json", json.dumps(pulled, ensure_ascii=False))
        for sha in back:
            zf.write(photos.blob_path(db, sha), f"photos/{sha}", compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def import_package_file(db: ServerDB, path: Path, reply_path: Path | None) -> tuple[Path, str]:
    if not Path(path).is_file():
        raise WqError(f"同步包不存在：{path}")
    reply = import_package_bytes(db, Path(path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(reply)) as zf:
        results = json.loads(zf.read("results.json"))
        pulled = len(json.loads(zf.read("changes.json")))
    reply_path = Path(reply_path or Path(path).with_name(Path(path).stem + ".reply.zip"))
    tmp = reply_path.with_name(reply_path.name + ".part")
    tmp.write_bytes(reply)
    tmp.replace(reply_path)
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    summary = (f"已导入 {len(results)} 条修改：接受 {by_status.get(p.APPLIED, 0)}，"
               f"冲突 {by_status.get(p.CONFLICT, 0)}，"
               f"拒绝 {by_status.get(p.REJECTED, 0) + by_status.get(p.FORBIDDEN, 0)}；"
               f"回传 {pulled} 条其他设备的修改。")
    return reply_path, summary
