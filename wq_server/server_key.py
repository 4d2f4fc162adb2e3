"""The server's package key: the X25519 key pair laptops seal their USB packages to.

The private key is a file beside the database (`<db>.package-key`, permissions 0600), made at the
first start; it is not in the database, so a copy of the database handed to someone does not
open the packages. Its public key is served at `GET /package-key` (laptops pin it at their
first online sync) and written for the city office by `python -m wq_server package-key --out F`
(for laptops that never go online). `python -m wq_server` prints the fingerprint at start, so
the office can read it to a township over the phone.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from wq_desktop import sealed
from wq_desktop.errors import WqError
from wq_desktop.package_keys import key_file_content

SUFFIX = ".package-key"
_FORMAT = "wq-server-package-private-key"


def key_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + SUFFIX)


def load_or_create(db_path: Path) -> bytes:
    """The private key, made (0600, never overwritten) if the server has none yet."""
    path = key_path(db_path)
    if not path.exists():
        _create(path)
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise WqError(f"服务器同步包私钥 {path} 的权限过宽（其他用户可读）。"
                      f"请执行 chmod 600 {path} 后再启动。")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            raise ValueError
        key = bytes.fromhex(data["private_key"])
        if len(key) != 32:
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise WqError(f"服务器同步包私钥文件 {path} 已损坏，无法读取。请从备份中找回"
                      "（没有它，已导出的同步包都无法导入）。") from None
    return key


def _create(path: Path) -> None:
    content = json.dumps({"format": _FORMAT, "version": 1,
                          "private_key": sealed.new_private_key().hex()}).encode()
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made one meanwhile: keep that one
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def public_key(db_path: Path) -> bytes:
    return sealed.public_of(load_or_create(db_path))


def public_info(db_path: Path) -> dict[str, Any]:
    key = public_key(db_path)
    return {"public_key": key.hex(), "fingerprint": sealed.shown_fingerprint(key)}


def write_public_file(db_path: Path, out: Path, server_name: str = "") -> str:
    """The file the city office hands to townships; returns the fingerprint."""
    key = public_key(db_path)
    Path(out).write_text(json.dumps(key_file_content(key, server_name), ensure_ascii=False,
                                    indent=1), encoding="utf-8")
    return sealed.shown_fingerprint(key)
