"""Encrypting a plain store from before encryption existed (or the demo, on request).

The file is exported page by page into a new encrypted file (SQLCipher's `sqlcipher_export`,
the documented way: `PRAGMA rekey` cannot encrypt a plain file), the copy is checked, its key
file written, and only then does it take the plain file's place. A plain copy of the original
is kept aside until all of that succeeded; then it is removed, since a plain copy left on the
disk is exactly what encryption is meant to prevent. Older plain copies (migration copies,
backups) are listed so the user can decide about them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import accounts, audit, keyfile, package_keys, photos, sqldriver
from .backup import list_backups, photo_backup_folder
from .errors import WqError
from .schema import SCHEMA_VERSION
from .store import Store


@dataclass
class Encrypted:
    store: Store
    recovery_code: str
    plain_copies: list[Path]  # older unencrypted copies of this store still on the disk


def plain_copies(path: Path) -> list[Path]:
    """Unencrypted copies of the store: migration copies beside it and its backups."""
    found = sorted(path.parent.glob(f"{path.stem}.*{path.suffix}.bak"))
    found += [b.path for b in list_backups(path)]
    return [p for p in found if p.is_file() and not sqldriver.is_encrypted_file(p)]


def _export(source: Path, target: Path, key: bytes) -> None:
    conn = sqldriver.connect(source, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS enc KEY ?", (str(target), f"x'{key.hex()}'"))
        conn.execute("SELECT sqlcipher_export('enc')")
        # sqlcipher_export copies schema and rows but not the header's user_version.
        version = conn.execute("PRAGMA main.user_version").fetchone()[0]
        conn.execute(f"PRAGMA enc.user_version = {int(version)}")
        conn.execute("DETACH DATABASE enc")
    finally:
        conn.close()


def _counts(conn: sqldriver.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _check_copy(source: Path, target: Path, key: bytes) -> None:
    plain = sqldriver.connect_readonly(source)
    enc = sqldriver.connect_readonly(target, key=key)
    try:
        ok = enc.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        same = (_counts(plain) == _counts(enc) and enc.execute("PRAGMA user_version").fetchone()[0]
                == SCHEMA_VERSION)
    finally:
        plain.close()
        enc.close()
    if not (ok and same):
        raise WqError("加密后的副本校验未通过，原数据库未做任何改动。")


def encrypt(path: Path, account: str, password: str, repeat: str | None = None) -> Encrypted:
    """Encrypt the plain store at `path` and give it its first account; returns the 恢复码 too."""
    path = Path(path)
    account = accounts.check_name(account)
    accounts.check_password(password, account, repeat)
    if sqldriver.is_encrypted_file(path):
        raise WqError("该数据库已经加密。")
    if keyfile.exists(path):
        raise WqError(f"{keyfile.path_for(path).name} 已存在：请先移开这个旧的密钥文件。")
    # Bring the file to the current schema (the account table) and fold its WAL in.
    Store.open(path, account).close()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}.before-encrypt-{stamp}{path.suffix}")
    partial = path.with_name(path.name + ".encrypting")
    partial.unlink(missing_ok=True)
    source = sqldriver.connect(path)
    dest = sqldriver.connect(aside)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one file: nothing in clear left in a -wal
    finally:
        dest.close()
        source.close()
    data_key = os.urandom(sqldriver.KEY_BYTES)
    keys, recovery = accounts.new_keys(data_key, account, password, Store.clock())
    try:
        _export(aside, partial, data_key)
        _check_copy(aside, partial, data_key)
        keyfile.save(path, keys)
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        if not sqldriver.is_encrypted_file(path):
            keyfile.path_for(path).unlink(missing_ok=True)
            aside.unlink(missing_ok=True)  # the original is untouched
        raise
    store = Store.open(path, account, key=data_key)
    try:
        # Changes made before the encryption name the user typed in 设置: they still go to the
        # server, as authors who were not signed in.
        store.set_meta(accounts.AUTHORS_BEFORE_ENCRYPTION,
                       json.dumps(accounts.pending_authors(store), ensure_ascii=False))
        accounts.insert_account(store, account, account)
        photos.encrypt_photo_files(store)  # the photos of the households as well,
        photos.encrypt_photo_files(store, photo_backup_folder(path))  # also those of its backups
        # A USB reply key made while the store was plain has been on the disk in clear: a new one.
        store.set_meta(package_keys.DEVICE_KEY, None)
        package_keys.device_private_key(store)
        audit.record(store, audit.STORE_ENCRYPTED)
    except BaseException:
        store.close()
        raise
    keyfile.remember(path, data_key)
    aside.unlink()
    return Encrypted(store, recovery, plain_copies(path))
