"""Backups of the store file: a daily copy in the data folder, kept for a set number of days.

Copies are made with SQLite's online backup API (``Connection.backup``), which reads a consistent
snapshot through SQLite itself, including changes still in the WAL file, even while the window
has the store open. A plain file copy could catch a half-written page.

A backup is named ``<store name>_<YYYY-MM-DD>_<HHMMSS>.sqlite`` in ``backups_dir()``. Restoring
never deletes anything: the current file is renamed aside with a timestamp first.

An encrypted store's backup is encrypted with the same data key (SQLCipher's backup API copies
only between connections keyed alike, so it cannot come out in clear) and carries a copy of the
key file as ``<backup>.keys``; opening or restoring it needs a sign-in.

Photo files live beside the store in ``<store name>_photos/<sha[:2]>/<sha256>`` (see photos.py).
They are named by their SHA-256, so one shared folder ``backups_dir()/<store name>_photos`` serves
every backup: a backup copies only the photos not there yet, and a restore copies back only the
photos missing from the store's folder, never overwriting or deleting one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from . import keyfile, sqldriver
from .errors import EncryptedStoreError, WqError
from .paths import backups_dir
from .schema import SCHEMA_VERSION

log = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 30
_NAME = re.compile(r"^(?P<stem>.+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<time>\d{6})\.sqlite$")
_PARTIAL_SUFFIX = ".partial"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# Injected so tests can fix the clock.
now: Callable[[], datetime] = datetime.now


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    store_name: str  # the stem of the store file it was taken from, e.g. "wq"
    taken_at: datetime
    size: int

    @property
    def day(self) -> date:
        return self.taken_at.date()


def _parse(path: Path) -> BackupInfo | None:
    match = _NAME.match(path.name)
    if not match or not path.is_file():
        return None
    try:
        taken = datetime.strptime(f"{match['date']} {match['time']}", "%Y-%m-%d %H%M%S")
    except ValueError:
        return None
    return BackupInfo(path, match["stem"], taken, path.stat().st_size)


def list_backups(store_path: str | Path | None = None, *, folder: Path | None = None) -> list[BackupInfo]:
    """Backups in the backup folder, newest first; only those of ``store_path`` if given."""
    folder = folder or backups_dir()
    found = [info for p in folder.glob("*.sqlite") if (info := _parse(p)) is not None]
    if store_path is not None:
        found = [b for b in found if b.store_name == Path(store_path).stem]
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def _connect_readonly(path: Path, key: bytes | None = None) -> sqldriver.Connection:
    return sqldriver.connect_readonly(path, key=key)


def is_encrypted(path: Path) -> bool:
    return keyfile.is_encrypted_store(Path(path))


def verify_database(path: Path, key: bytes | None = None) -> None:
    """Raise WqError unless ``path`` is an intact store file this program can open (an
    encrypted one with ``key``)."""
    if not path.is_file():
        raise WqError(f"备份文件不存在：{path}")
    if key is None and keyfile.is_encrypted_store(path):
        raise EncryptedStoreError(f"该备份已加密，需要登录后才能打开：{path.name}")
    try:
        conn = _connect_readonly(path, key)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqldriver.DatabaseError as err:
        if key is not None:
            raise WqError("备份文件无法用当前数据库的密钥打开（不是同一数据库，或已损坏）："
                          f"{path.name}") from None
        raise WqError(f"备份文件无法打开，可能已损坏：{path}（{err}）") from None
    if result != [("ok",)]:
        problems = "；".join(str(r[0]) for r in result[:3])
        raise WqError(f"备份文件已损坏（完整性检查未通过：{problems}）：{path}")
    if "meta" not in tables or version == 0:
        raise WqError(f"该文件不是退地减水核查数据库：{path}")
    if version > SCHEMA_VERSION:
        raise WqError(f"备份由更新版本的程序创建（数据结构版本 {version}），请先升级程序：{path}")


def _copy(source: Path, target: Path, key: bytes | None = None) -> None:
    """Online-backup ``source`` into a new file ``target`` (written under a temporary name);
    encrypted with ``key`` when given, with the source's key file beside it."""
    partial = target.with_name(target.name + _PARTIAL_SUFFIX)
    partial.unlink(missing_ok=True)
    try:
        src = _connect_readonly(source, key)
        try:
            dst = sqldriver.connect(partial, key=key)
            try:
                src.backup(dst)
                # The copy takes the source's WAL mode; a backup is one self-contained file.
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        verify_database(partial, key)
        if key is not None:
            keyfile.copy(source, target)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        if key is not None and not target.exists():
            keyfile.path_for(target).unlink(missing_ok=True)  # no key file without its copy
        raise


def photo_backup_folder(store_path: Path) -> Path:
    """Where the backups of the store at `store_path` keep its photo files."""
    return _photo_folder(backups_dir(), Path(store_path).stem)


def _photo_folder(parent: Path, store_name: str) -> Path:
    """The photo folder for store ``store_name`` in ``parent`` (same layout as photos.photo_dir)."""
    return parent / f"{store_name}_photos"


def _copy_missing_photos(source: Path, target: Path) -> int:
    """Copy photo files of ``source`` absent from ``target``; returns how many were copied.

    Only files named like a SHA-256 in a two-letter subfolder are taken, and an existing file is
    never overwritten: the same name means the same content.
    """
    if not source.is_dir():
        return 0
    copied = 0
    for sub in sorted(source.iterdir()):
        if not (sub.is_dir() and len(sub.name) == 2):
            continue
        for photo in sorted(sub.iterdir()):
            if not (photo.is_file() and _SHA256.match(photo.name) and photo.name[:2] == sub.name):
                continue
            dest = target / sub.name / photo.name
            if dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            partial = dest.with_name(dest.name + _PARTIAL_SUFFIX)
            try:
                shutil.copyfile(photo, partial)
                os.replace(partial, dest)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            copied += 1
    return copied


def backup_now(store_path: str | Path, *, folder: Path | None = None,
               key: bytes | None = None) -> Path:
    """Copy the store into the backup folder now; returns the backup's path. An encrypted store
    needs its key (given, or remembered from this process's sign-in)."""
    store_path = Path(store_path)
    key = key or keyfile.unlocked_key(store_path)
    if key is None and keyfile.is_encrypted_store(store_path):
        raise EncryptedStoreError("该数据库已加密，需要登录后才能备份。")
    if not store_path.is_file():
        raise WqError(f"数据库文件不存在，无法备份：{store_path}")
    folder = folder or backups_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now()
    target = folder / f"{store_path.stem}_{stamp:%Y-%m-%d_%H%M%S}.sqlite"
    while target.exists():  # several backups within one second: keep them all
        stamp += timedelta(seconds=1)
        target = folder / f"{store_path.stem}_{stamp:%Y-%m-%d_%H%M%S}.sqlite"
    try:
        _copy(store_path, target, key)
        photos = _copy_missing_photos(_photo_folder(store_path.parent, store_path.stem),
                                      _photo_folder(folder, store_path.stem))
    except sqldriver.DatabaseError as err:
        raise WqError(f"数据库文件无法读取，未能备份：{store_path}（{err}）") from None
    except OSError as err:
        raise WqError(f"备份文件无法写入 {folder}：{err.strerror or err}") from None
    log.info("backup made: %s (%d bytes) from %s; %d new photo files",
             target.name, target.stat().st_size, store_path.name, photos)
    return target


def prune_backups(keep_days: int = DEFAULT_KEEP_DAYS, *, folder: Path | None = None) -> list[Path]:
    """Delete backups older than ``keep_days`` days; returns the removed files.

    Only files named like our backups are touched, and the newest backup of each store is kept
    whatever its age, so a laptop left off for two months still has one copy to go back to.
    """
    if keep_days < 1:
        raise WqError("备份保留天数至少为1天")
    cutoff = now().date() - timedelta(days=keep_days - 1)
    newest: dict[str, BackupInfo] = {}
    backups = list_backups(folder=folder)
    for info in backups:  # newest first, so the first seen per store is its newest
        newest.setdefault(info.store_name, info)
    removed: list[Path] = []
    for info in backups:
        if info.day < cutoff and newest[info.store_name] is not info:
            info.path.unlink(missing_ok=True)
            keyfile.path_for(info.path).unlink(missing_ok=True)
            removed.append(info.path)
    if removed:
        log.info("backups pruned: %d older than %d days", len(removed), keep_days)
    return removed


def ensure_daily_backup(store_path: str | Path, *, keep_days: int = DEFAULT_KEEP_DAYS,
                        folder: Path | None = None, key: bytes | None = None) -> Path | None:
    """Make today's backup of the store unless one exists, then prune old ones.

    Returns the new backup, or None when today's already existed. Meant for program start.
    """
    today = now().date()
    if any(b.day == today for b in list_backups(store_path, folder=folder)):
        return None
    made = backup_now(store_path, folder=folder, key=key)
    prune_backups(keep_days, folder=folder)
    return made


def _store_id(path: Path, key: bytes | None) -> str | None:
    try:
        conn = _connect_readonly(path, key if keyfile.is_encrypted_store(path) else None)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='device_id'").fetchone()
        finally:
            conn.close()
    except sqldriver.DatabaseError:
        return None  # a damaged current file is exactly what one restores over
    return row[0] if row else None


def _set_aside(store_path: Path, key: bytes | None) -> Path:
    """Rename the current store (and any WAL/SHM files) to ``<name>.before-restore-<time>``."""
    try:
        # Leaving WAL mode needs sole access: it fails while another program (the window) has
        # the store open, and it folds the WAL into the main file, so the renamed file is
        # complete on its own. The program switches WAL back on when it next opens the file.
        keyed = key if keyfile.is_encrypted_store(store_path) else None
        conn = sqldriver.connect(store_path, key=keyed, timeout=2)
        try:
            busy = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0].lower() != "delete"
        finally:
            conn.close()
    except sqldriver.OperationalError:
        busy = True
    except sqldriver.DatabaseError:
        busy = False  # not readable as a database: nothing to fold in, keep it aside as it is
    if busy:
        raise WqError("数据库正被其他程序使用（请先关闭退地减水核查窗口），未做任何更改。")
    stamp = now()
    aside = store_path.with_name(f"{store_path.stem}.before-restore-{stamp:%Y%m%d-%H%M%S}{store_path.suffix}")
    if aside.exists():
        aside = aside.with_name(f"{aside.stem}-{os.getpid()}{aside.suffix}")
    os.replace(store_path, aside)
    if keyfile.exists(store_path):
        shutil.copyfile(keyfile.path_for(store_path), keyfile.path_for(aside))
    for extra in ("-wal", "-shm"):
        leftover = store_path.with_name(store_path.name + extra)
        if leftover.exists():
            os.replace(leftover, aside.with_name(aside.name + extra))
    return aside


def _same_keys(a: Path, b: Path) -> bool:
    try:
        return keyfile.load(a).store_id == keyfile.load(b).store_id
    except WqError:
        return False


def restore_backup(backup_path: str | Path, store_path: str | Path, *,
                   allow_other_store: bool = False, key: bytes | None = None) -> Path | None:
    """Replace the store with a backup; returns where the previous file was kept (None if none).

    The backup is checked (PRAGMA integrity_check) and copied next to the store before anything
    is touched; then the current file is renamed aside with a timestamp, never deleted, and the
    copy takes its place. A backup of a different store is refused unless ``allow_other_store``.
    An encrypted backup needs its data key (from a sign-in); it stays encrypted, and the store's
    current key file is kept (newer passwords and accounts), else the backup's is put beside it.
    An unencrypted backup never replaces an encrypted store.
    """
    backup_path, store_path = Path(backup_path), Path(store_path)
    encrypted = keyfile.is_encrypted_store(backup_path)
    verify_database(backup_path, key if encrypted else None)
    if store_path.exists() and store_path.resolve() == backup_path.resolve():
        raise WqError("备份文件和数据库是同一个文件，无需恢复。")
    if not encrypted and keyfile.is_encrypted_store(store_path):
        raise WqError("该备份未加密，而当前数据库已加密：恢复它会让个人信息重新以明文保存，未做任何更改。"
                      "（如确需使用，请先另存为新文件并加密。）")
    if store_path.is_file() and not allow_other_store:
        current_id, backup_id = _store_id(store_path, key), _store_id(backup_path, key)
        if current_id and backup_id and current_id != backup_id:
            raise WqError(f"该备份来自另一个数据库，不是 {store_path.name} 的备份，未做任何更改。")
    incoming = store_path.with_name(store_path.name + ".restoring")
    keep_keys = keyfile.exists(store_path) and _same_keys(store_path, backup_path)
    try:
        _copy(backup_path, incoming, key if encrypted else None)
        aside = _set_aside(store_path, key) if store_path.exists() else None
        try:
            os.replace(incoming, store_path)
            if encrypted and not keep_keys:
                keyfile.copy(incoming, store_path)
        except OSError:
            if aside is not None:  # put the previous file back rather than leave no store at all
                os.replace(aside, store_path)
            raise
    except OSError as err:
        raise WqError(f"恢复失败，文件无法写入：{err.strerror or err}") from None
    finally:
        incoming.unlink(missing_ok=True)
        keyfile.path_for(incoming).unlink(missing_ok=True)
    parsed = _parse(backup_path)
    backup_photos = _photo_folder(backup_path.parent, parsed.store_name if parsed else store_path.stem)
    try:
        photos = _copy_missing_photos(backup_photos, _photo_folder(store_path.parent, store_path.stem))
    except OSError as err:
        raise WqError(f"数据库已恢复，但部分照片文件未能写回：{err.strerror or err}") from None
    log.info("backup restored: %s -> %s; previous file kept as %s; %d photo files put back",
             backup_path.name, store_path.name, aside.name if aside else "(none)", photos)
    return aside
