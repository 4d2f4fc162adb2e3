"""Sync by USB stick for offices without a network.

`export_package` writes the waiting changes (and the photo files the server has not confirmed)
into one zip file; the office imports it on the server (`python -m wq_server import-package`),
which applies it with the same idempotency, scope and conflict rules as an online push and writes
a reply package; `import_reply` stores the server's answers and the other devices' changes here.
Exporting marks nothing as sent: only the reply does, so a lost stick loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WqError
from ..photos import photo_path
from ..store import Store
from . import apply, photo_sync
from . import protocol as p

FORMAT = "wq-sync-package"
TO_SERVER, TO_DEVICE = "to-server", "to-device"


@dataclass(frozen=True)
class PackageSummary:
    changes: int
    photos: int
    pulled: int = 0
    rejected: int = 0
    conflicts: int = 0


def read_manifest(zf: zipfile.ZipFile, direction: str) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError):
        raise WqError("该文件不是同步包（缺少清单）。") from None
    if manifest.get("format") != FORMAT:
        raise WqError("该文件不是退地减水核查的同步包。")
    if manifest.get("protocol") != p.PROTOCOL_VERSION:
        raise WqError(f"同步包的协议版本（{manifest.get('protocol')}）"
                      f"与本程序（{p.PROTOCOL_VERSION}）不兼容。")
    if manifest.get("direction") != direction:
        wanted = "设备导出的同步包" if direction == TO_SERVER else "服务器生成的回传包"
        raise WqError(f"这里需要{wanted}。")
    return manifest


def open_zip(path_or_bytes: Path | bytes) -> zipfile.ZipFile:
    import io

    try:
        source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        raise WqError("同步包已损坏或不完整，请重新导出。") from None


def export_package(store: Store, out: Path, user: str) -> PackageSummary:
    """Write every waiting change (and unconfirmed photo files) to `out`."""
    if store.is_demo:
        raise WqError("演示数据库不能导出同步包。")
    changes = apply.outbox_page(store, 10**9)
    photos = [(sha, photo_path(store, sha)) for sha, _ in photo_sync.waiting_uploads(store)]
    photos = [(sha, path) for sha, path in photos
              if path.is_file() and path.stat().st_size <= p.MAX_PHOTO_BYTES]
    manifest = {"format": FORMAT, "direction": TO_SERVER, "protocol": p.PROTOCOL_VERSION,
                "device": store.device, "user": user, "cursor": apply.cursor(store),
                "created_at": store.clock(), "changes": len(changes),
                "photos": [sha for sha, _ in photos]}
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        zf.writestr("changes.json", json.dumps(changes, ensure_ascii=False))
        for sha, path in photos:
            zf.write(path, f"photos/{sha}", compress_type=zipfile.ZIP_STORED)
    tmp.replace(out)  # a half-written package never carries the final name
    from .. import audit

    audit.record(store, audit.USB_EXPORT, {"file": out.name, "changes": len(changes),
                                           "photos": len(photos)})
    return PackageSummary(len(changes), len(photos))


def import_reply(store: Store, path: Path) -> PackageSummary:
    """Store the server's reply package: answers to the exported changes, others' changes, photos."""
    with open_zip(Path(path)) as zf:
        manifest = read_manifest(zf, TO_DEVICE)
        if manifest.get("device") != store.device:
            raise WqError("该回传包不是为本机生成的（设备不符），未导入。")
        results: list[p.Result] = json.loads(zf.read("results.json"))
        pulled: list[p.PulledChange] = json.loads(zf.read("changes.json"))
        names = set(zf.namelist())
        for sha in manifest.get("photos", []):
            target = photo_path(store, sha)
            data = zf.read(f"photos/{sha}") if f"photos/{sha}" in names else None
            if data is not None and not target.is_file() and hashlib.sha256(data).hexdigest() == sha:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".part")
                tmp.write_bytes(data)
                tmp.replace(target)
    sent = []
    for r in results:
        row = store.conn.execute("SELECT kind, record FROM outbox WHERE change_id=?",
                                 (r["change_id"],)).fetchone()
        if row:
            sent.append({"change_id": r["change_id"], "kind": row[0], "record": row[1]})
    counts, _ = apply.store_results(store, sent, results)  # type: ignore[arg-type]
    if pulled:
        from .client import _backup

        _backup(store)
    final = max(apply.cursor(store), int(manifest["cursor"]))
    for i in range(0, max(len(pulled), 1), p.PULL_PAGE):
        page = pulled[i:i + p.PULL_PAGE]
        last = i + p.PULL_PAGE >= len(pulled)
        apply.store_pulled(store, page, final if last else apply.cursor(store))
    with store.transaction():
        for sha in manifest.get("confirmed", []):
            photo_sync.confirm(store, sha)
        store.set_meta("sync_last_at", store.clock())
        from .. import audit

        audit.record(store, audit.USB_IMPORT, {"file": Path(path).name, "changes": len(pulled)})
    return PackageSummary(len(results), len(manifest.get("photos", [])), len(pulled),
                          counts[p.REJECTED] + counts[p.FORBIDDEN], counts[p.CONFLICT])
