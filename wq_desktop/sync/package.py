"""Sync by USB stick for offices without a network.

`export_package` writes the waiting changes (and the photo files the server has not confirmed)
into one zip file; the office imports it on the server (`python -m wq_server import-package`),
which applies it with the same idempotency, scope and conflict rules as an online push and writes
a reply package; `import_reply` stores the server's answers and the other devices' changes here.
Exporting marks nothing as sent: only the reply does, so a lost stick loses nothing.

Both files are sealed (sealed.py): a package to the central server's public key (pinned here,
package_keys.py), a reply to this laptop's own key, whose public half the package carries. A lost
stick leaks nothing; a package for another server or another laptop is refused with a sentence,
and a tampered one is refused whole before anything is stored. The zip is written straight into
the sealing stream and read back through it: its plain content never touches a disk.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .. import package_keys, sealed
from ..accounts import accounts_for_sync
from ..errors import WqError
from ..photos import has_photo, photo_bytes, photo_size, store_photo_bytes
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


def open_zip(source: Path | bytes | BinaryIO) -> zipfile.ZipFile:
    import io

    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise WqError("同步包已损坏或不完整，请重新导出。") from None


UNSEALED = ("该同步包未加密（旧版程序导出的，或不是同步包），为保护农户个人信息不再接受。"
            "请用新版程序重新导出。")


@contextmanager
def open_sealed(source: Path | bytes, private_key: bytes, wrong_recipient: str
                ) -> Iterator[zipfile.ZipFile]:
    """The zip inside a sealed package, checked whole first: every chunk must decrypt (else the
    package is refused before anything reads it); `wrong_recipient` is said when the package was
    sealed to another key."""
    import io

    fh: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb")
    try:
        try:
            header, _ = sealed.read_header(fh)
        except sealed.NotSealed:
            raise WqError(UNSEALED) from None
        if header["to"] != sealed.fingerprint(sealed.public_of(private_key)):
            raise WqError(wrong_recipient)
        reader = sealed.SealedReader(fh, private_key)
        reader.verify()
        with open_zip(reader) as zf:
            yield zf
    finally:
        fh.close()


def export_package(store: Store, out: Path, user: str) -> PackageSummary:
    """Write every waiting change (and unconfirmed photo files) to `out`."""
    if store.is_demo:
        raise WqError("演示数据库不能导出同步包。")
    server_key = package_keys.require_server_key(store)
    changes = apply.outbox_page(store, 10**9)
    photos = [sha for sha, _ in photo_sync.waiting_uploads(store)
              if has_photo(store, sha) and photo_size(store, sha) <= p.MAX_PHOTO_BYTES]
    manifest = {"format": FORMAT, "direction": TO_SERVER, "protocol": p.PROTOCOL_VERSION,
                "device": store.device, "user": user, "cursor": apply.cursor(store),
                "created_at": store.clock(), "changes": len(changes), "photos": photos,
                "device_key": package_keys.device_public_key(store).hex(),
                "accounts": accounts_for_sync(store)}
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("wb") as fh, sealed.SealingWriter(fh, server_key, TO_SERVER) as sealing, \
                zipfile.ZipFile(sealing, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
            zf.writestr("changes.json", json.dumps(changes, ensure_ascii=False))
            for sha in photos:
                zf.writestr(f"photos/{sha}", photo_bytes(store, sha), compress_type=zipfile.ZIP_STORED)
        tmp.replace(out)  # a half-written package never carries the final name
    finally:
        tmp.unlink(missing_ok=True)
    from .. import audit

    audit.record(store, audit.USB_EXPORT, {"file": out.name, "changes": len(changes),
                                           "photos": len(photos)})
    return PackageSummary(len(changes), len(photos))


def import_reply(store: Store, path: Path) -> PackageSummary:
    """Store the server's reply package: answers to the exported changes, others' changes, photos."""
    with open_sealed(Path(path), package_keys.device_private_key(store),
                     "此回传包不是发给本机的（它是为另一台设备加密的），未导入。") as zf:
        manifest = read_manifest(zf, TO_DEVICE)
        if manifest.get("device") != store.device:
            raise WqError("该回传包不是为本机生成的（设备不符），未导入。")
        try:
            results: list[p.Result] = json.loads(zf.read("results.json"))
            pulled: list[p.PulledChange] = json.loads(zf.read("changes.json"))
        except (KeyError, ValueError, zipfile.BadZipFile):
            raise WqError("回传包已损坏或不完整，未导入。") from None
        names = set(zf.namelist())
        for sha in manifest.get("photos", []):
            data = zf.read(f"photos/{sha}") if f"photos/{sha}" in names else None
            if data is not None and not has_photo(store, sha) and hashlib.sha256(data).hexdigest() == sha:
                store_photo_bytes(store, sha, data)
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
