"""The keys USB packages are sealed with, as this laptop knows them.

- The laptop's own X25519 key pair, made the first time it is needed (a new store makes it at
  creation); the private key lives in the store's meta table, so it is inside the encrypted file
  and in its (encrypted) backups. Its public key travels in every package: replies are sealed to it.
- The central server's public key, learnt at the first online sync (`GET /package-key`) or
  from the key file the city office hands out (`python -m wq_server package-key --out F`), and
  pinned after first use, as SSH does: a server that later shows another key is refused, and
  only an explicit import of the office's file replaces it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import audit, sealed
from .errors import WqError
from .store import Store

DEVICE_KEY = "package_device_key"  # hex X25519 private key
SERVER_KEY = "package_server_key"  # hex X25519 public key, pinned
SERVER_KEY_FROM = "package_server_key_from"  # where it was learnt: a server address or a file name
KEY_FILE_FORMAT = "wq-server-package-key"


class ServerKeyChanged(WqError):
    """The server shows a package key other than the one pinned here."""


def device_private_key(store: Store) -> bytes:
    held = store.meta(DEVICE_KEY)
    if held:
        return bytes.fromhex(held)
    key = sealed.new_private_key()
    with store.transaction():
        store.set_meta(DEVICE_KEY, key.hex())
    return key


def device_public_key(store: Store) -> bytes:
    return sealed.public_of(device_private_key(store))


def server_key(store: Store) -> bytes | None:
    held = store.meta(SERVER_KEY)
    return bytes.fromhex(held) if held else None


def require_server_key(store: Store) -> bytes:
    key = server_key(store)
    if key is None:
        raise WqError("本机还不知道服务器的同步包密钥，同步包无法加密：请先联网同步一次，"
                      "或导入市办公室提供的服务器密钥文件（同步 → 导入服务器密钥…；命令行 "
                      "main.py sync-key --file 文件）。")
    return key


def _changed_message(held: bytes, shown: bytes, from_file: bool) -> str:
    fingerprints = (f"的同步包密钥（指纹 {sealed.shown_fingerprint(shown)}）与本机记住的"
                    f"（指纹 {sealed.shown_fingerprint(held)}）不同")
    if from_file:
        return f"该密钥文件中{fingerprints}。请先向市办公室核对新指纹。"
    return (f"服务器{fingerprints}，已拒绝同步。可能连接到了冒充的服务器。请向市办公室核对指纹；"
            "若服务器确已更换密钥，请导入市办公室提供的新密钥文件（同步 → 导入服务器密钥…）。")


def pin_server_key(store: Store, public_key: bytes, source: str) -> bool:
    """Remember the server's key at first sight; True when it was new. A different key than the
    pinned one raises ServerKeyChanged and changes nothing."""
    held = server_key(store)
    if held == public_key:
        return False
    if held is not None:
        raise ServerKeyChanged(_changed_message(held, public_key, from_file=False))
    _set(store, public_key, source)
    return True


def _set(store: Store, public_key: bytes, source: str) -> None:
    with store.transaction():
        store.set_meta(SERVER_KEY, public_key.hex())
        store.set_meta(SERVER_KEY_FROM, source)
        audit.record(store, audit.SERVER_KEY_SET,
                     {"fingerprint": sealed.shown_fingerprint(public_key), "from": source})


def key_file_content(public_key: bytes, server_name: str = "") -> dict[str, Any]:
    return {"format": KEY_FILE_FORMAT, "version": 1, "server": server_name,
            "public_key": public_key.hex(), "fingerprint": sealed.shown_fingerprint(public_key)}


def read_key_file(path: Path) -> bytes:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != KEY_FILE_FORMAT:
            raise ValueError
        return sealed.public_key_from_hex(data.get("public_key"))
    except FileNotFoundError:
        raise WqError(f"密钥文件不存在：{path}") from None
    except (OSError, ValueError, AttributeError, sealed.SealError):
        raise WqError(f"{Path(path).name} 不是服务器同步包密钥文件（应由 python -m wq_server "
                      "package-key 生成）。") from None


def import_key_file(store: Store, path: Path, *, replace: bool = False) -> bytes:
    """Pin the key in the city office's file. A key different from the pinned one is taken only
    with `replace` (the user confirmed it after checking the fingerprint with the office)."""
    key = read_key_file(path)
    held = server_key(store)
    if held == key:
        return key
    if held is not None and not replace:
        raise ServerKeyChanged(_changed_message(held, key, from_file=True))
    _set(store, key, f"file:{Path(path).name}")
    return key
