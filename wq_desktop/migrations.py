"""Open a store file and move its schema forward.

The schema version lives in SQLite's user_version. A file from a newer program is refused before
anything touches it. An older file is copied aside (SQLite online backup) and then migrated in one
transaction, so a failed migration leaves the original as it was and the copy as well.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import audit, history, json_text, keyfile, sqldriver
from .errors import EncryptedStoreError, StoreVersionError, WqError
from .figures_migration import round_figures_of_record
from .model import RecordOp
from .outbox import queued_fields
from .schema import KINDS, SCHEMA_VERSION, Field, Kind

if TYPE_CHECKING:
    from .store import Store

MIGRATION_USER = "数据结构升级"

# Makes the store that writes inside the migration's transaction, as MIGRATION_USER.
StoreFor = Callable[[sqlite3.Connection], "Store"]

_SQL_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL", "date": "TEXT", "json": "TEXT",
              "geom": "BLOB"}

BASE_DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
    # Local changes waiting for the server, kept until it acknowledges them.
    """CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    change_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    op TEXT NOT NULL,
    base_rev INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    fields TEXT NOT NULL,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT
)""",
    "CREATE INDEX outbox_state ON outbox(state, seq)",
)


def _column_sql(f: Field) -> str:
    sql = f'"{f.name}" {_SQL_TYPES[f.type]}'
    if f.ref:
        sql += f' REFERENCES "{f.ref}"(uuid)'
    return sql


def _create_kind(conn: sqlite3.Connection, kind: Kind, version: int) -> None:
    cols = [
        "uuid TEXT PRIMARY KEY",
        "rev INTEGER NOT NULL",
        "created_at TEXT NOT NULL",
        "created_by TEXT NOT NULL",
        "updated_at TEXT NOT NULL",
        "updated_by TEXT NOT NULL",
        "deleted INTEGER NOT NULL DEFAULT 0",
    ]
    cols += [_column_sql(f) for f in kind.fields if f.since <= version]
    conn.execute(f'CREATE TABLE "{kind.name}" ({", ".join(cols)})')
    for f in kind.fields:
        if f.ref and f.since <= version:
            conn.execute(f'CREATE INDEX "{kind.name}_{f.name}" ON "{kind.name}"("{f.name}")')
    if any(f.name == "year" for f in kind.fields):
        conn.execute(f'CREATE INDEX "{kind.name}_year" ON "{kind.name}"(year)')


def _backfill_parcel_bbox(conn: sqlite3.Connection) -> None:
    # Schema 2 keeps each parcel's bounding box for map and overlap queries; compute it for old rows.
    import shapely

    rows = conn.execute("SELECT uuid, rev, geometry FROM parcel WHERE geometry IS NOT NULL").fetchall()
    if not rows:
        return
    bounds = shapely.bounds(shapely.from_wkb([r[2] for r in rows]))
    device = conn.execute("SELECT value FROM meta WHERE key='device_id'").fetchone()
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    for (uuid, rev, _), box in zip(rows, bounds, strict=True):
        values = dict(zip(("minx", "miny", "maxx", "maxy"), map(float, box), strict=True))
        conn.execute("UPDATE parcel SET minx=?, miny=?, maxx=?, maxy=? WHERE uuid=?",
                     (*values.values(), uuid))
        # Logged like any change (same revision: derived data, nothing for sync to carry).
        history.append(conn, at=at, user=MIGRATION_USER, device=device[0] if device else "",
                       kind="parcel", record=uuid, op=RecordOp.MIGRATE, rev=rev,
                       changes={k: [None, v] for k, v in values.items()})


def _outbox_bases_from_sync_base(conn: sqlite3.Connection) -> None:
    # Schema 5 keeps each waiting change's server base in the outbox (fixed at edit time); older
    # files stored the local revision there and sent the record's current server revision instead.
    # Waiting rows take what the older program would have sent: the best base known for them.
    conn.execute("UPDATE outbox SET base_rev = coalesce((SELECT server_rev FROM sync_base b"
                 " WHERE b.record = outbox.record), 0) WHERE state <> 'sent'")


# Schema 14: a waiting change names the history entry that holds its fields (`entry`, the
# entry's seq) instead of repeating them: the fields sent are that entry's new values, in the
# kind's field order (outbox.queued_fields). `fields` keeps the text only for a row from before
# schema 14 whose entry could not be found or would not give back exactly that text.
OUTBOX_DDL = (
    """CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    change_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    op TEXT NOT NULL,
    base_rev INTEGER NOT NULL,
    rev INTEGER NOT NULL,
    entry INTEGER,
    fields TEXT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    reason TEXT,
    CHECK ((entry IS NULL) <> (fields IS NULL))
)""",
    "CREATE INDEX outbox_state ON outbox(state, seq)",
    "CREATE INDEX outbox_record ON outbox(record, state)",
)


def _outbox_refers_to_history(conn: sqlite3.Connection) -> None:
    # Before schema 14 each outbox row repeated its record's fields as text (an imported
    # parcel's outline twice in hex, beside its history entry's copy). A row takes its entry
    # (same kind, record, op, revision, author and time) where that entry's fields give back
    # the row's text to the byte; any other row keeps its text. What is sent does not change.
    conn.execute("ALTER TABLE outbox RENAME TO outbox_13")
    conn.execute("DROP INDEX outbox_state")
    conn.execute("DROP INDEX outbox_record")
    for statement in OUTBOX_DDL:
        conn.execute(statement)
    rows = conn.execute(
        "SELECT o.seq, o.kind, o.fields, h.seq, h.changes FROM outbox_13 o LEFT JOIN history h"
        " ON h.record = o.record AND h.kind = o.kind AND h.op = o.op AND h.rev = o.rev"
        " AND h.at = o.at AND h.user = o.user ORDER BY o.seq, h.seq")
    entries: dict[int, int] = {}
    for seq, kind_name, text, entry, changes in rows:
        if seq not in entries and entry is not None and kind_name in KINDS and \
                json_text.plain(queued_fields(kind_name, None, changes)) == text:
            entries[seq] = entry
    conn.execute("CREATE TEMP TABLE outbox_entry (seq INTEGER PRIMARY KEY, entry INTEGER NOT NULL)")
    conn.executemany("INSERT INTO outbox_entry VALUES (?, ?)", entries.items())
    conn.execute(
        "INSERT INTO outbox (seq, change_id, kind, record, op, base_rev, rev, entry, fields, at,"
        " user, state, reason) SELECT o.seq, change_id, kind, record, op, base_rev, rev, e.entry,"
        " CASE WHEN e.entry IS NULL THEN fields END, at, user, state, reason"
        " FROM outbox_13 o LEFT JOIN outbox_entry e ON e.seq = o.seq ORDER BY o.seq")
    conn.execute("DROP TABLE outbox_13")
    conn.execute("DROP TABLE temp.outbox_entry")


# Data changes that go with a version beyond adding its columns.
_DATA_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _backfill_parcel_bbox, 5: _outbox_bases_from_sync_base, 14: _outbox_refers_to_history}

# Data changes made through the store's own write path (validation, history, sync). The store
# writes today's columns, so these run once every version's tables and columns exist; it is
# handed in by the caller (Store.open), which owns the store class: migrations never imports it.
_STORE_STEPS: dict[int, Callable[[Store], None]] = {6: round_figures_of_record}

# Tables and indexes that are not record kinds, by the version that added them.
_TABLE_STEPS: dict[int, tuple[str, ...]] = {
    3: (
        # The server's revision of each record as this device last saw it: the base a local
        # change is sent against, and what tells a pulled change already applied from a new one.
        """CREATE TABLE sync_base (
    record TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    server_rev INTEGER NOT NULL
)""",
        # Photo files the server has confirmed holding (by SHA-256): never to be sent again.
        "CREATE TABLE sync_photo (sha256 TEXT PRIMARY KEY, confirmed_at TEXT NOT NULL)",
        "CREATE INDEX outbox_record ON outbox(record, state)",
        # Uniqueness of parcel codes is checked on every write; a synced city holds 100,000 parcels.
        'CREATE INDEX parcel_village_code ON parcel(village, code)',
    ),
    5: (
        # Records created here that the server refused as duplicates of a record it holds
        # (`target`): tombstoned here, their dependents moved over, once `target` has arrived.
        """CREATE TABLE sync_duplicate (
    record TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL
)""",
    ),
    10: (
        # Local accounts of an encrypted store. Their passwords are nowhere: each one wraps the
        # data key in the key file (keyfile.py). Disabled, never deleted: the history names them.
        """CREATE TABLE account (
    name TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    password_changed_at TEXT,
    disabled_at TEXT,
    disabled_by TEXT
)""",
        """CREATE TRIGGER account_no_delete BEFORE DELETE ON account
BEGIN SELECT RAISE(ABORT, '账户只能停用，不能删除'); END""",
        *audit.SECURITY_LOG_DDL,
    ),
    13: (
        # The 查找农户 box matches any part of a parcel code (LIKE '%…%', no index can seek it):
        # scanning this covering index, in code order, replaces scanning the parcel rows with
        # their outlines, and the first 50 matches end the scan.
        "CREATE INDEX parcel_code_search ON parcel(code, deleted, operator, village)",
    ),
    14: (
        # parcel_village_code (village, code) answers every look-up by village as well: one
        # index less for each parcel written.
        "DROP INDEX parcel_village",
    ),
}


def _migrate_to(conn: sqlite3.Connection, version: int) -> None:
    if version == 1:
        for statement in BASE_DDL + history.HISTORY_DDL:
            conn.execute(statement)
    for kind in KINDS.values():
        if kind.since == version:
            _create_kind(conn, kind, version)
        elif kind.since < version:
            for f in kind.fields:
                if f.since == version:
                    conn.execute(f'ALTER TABLE "{kind.name}" ADD COLUMN {_column_sql(f)}')
    for statement in _TABLE_STEPS.get(version, ()):
        conn.execute(statement)
    step = _DATA_STEPS.get(version)
    if step:
        step(conn)
    conn.execute(f"PRAGMA user_version = {version}")


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION, *,
            store_for: StoreFor | None = None) -> None:
    """Run every migration from the file's version to `target` in one transaction. `store_for`
    may be left out only for a new file, which has no records for the store's steps to rewrite."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current >= target:
        return
    if store_for is None and current > 0 and any(current < v <= target for v in _STORE_STEPS):
        raise WqError("升级这个数据库需要经由数据存储改写记录，请用程序打开它。")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for version in range(current + 1, target + 1):
            _migrate_to(conn, version)
        for version in range(current + 1, target + 1):
            if version in _STORE_STEPS and store_for is not None:
                _STORE_STEPS[version](store_for(conn))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    # New columns and indexes need fresh planner statistics (sampled: fast on any size).
    conn.execute("PRAGMA analysis_limit=2000")
    conn.execute("ANALYZE")


def backup_copy(conn: sqlite3.Connection, path: Path, label: str, *,
                key: bytes | None = None) -> Path:
    """Copy the open database aside with SQLite's online backup (safe while WAL is in use);
    an encrypted store's copy is encrypted with the same key (and gets its key file)."""
    key = key or keyfile.unlocked_key(path)  # the copy of an encrypted store is encrypted too
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}.bak")
    dest = sqldriver.connect(target, key=key)
    try:
        conn.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()
    if key is not None:
        keyfile.copy(path, target)
    return target


def remove_copy(copy: Path) -> None:
    """Delete a copy made by backup_copy together with its key file (`<copy>.keys`): a key file
    left behind keeps the data key's envelopes for a file that no longer exists."""
    copy.unlink(missing_ok=True)
    keyfile.path_for(copy).unlink(missing_ok=True)


def connect(path: Path, *, create: bool, store_for: StoreFor,
            key: bytes | None = None) -> sqlite3.Connection:
    """Open (or create) a store file, refusing newer or foreign files without modifying them.

    `key` is the data key of an encrypted store; without it, the key this process unlocked the
    file with (keyfile.remember) is used, and an encrypted file nobody signed in to is refused.
    """
    if not path.exists() and not create:
        raise WqError(f"数据库文件不存在：{path}")
    if path.exists() and path.is_dir():
        raise WqError(f"这是一个文件夹，不是数据库文件：{path}")
    key = key or keyfile.unlocked_key(path)
    if key is None and keyfile.is_encrypted_store(path):
        raise EncryptedStoreError(f"该数据库已加密，需要登录后才能打开：{path.name}")
    conn = sqldriver.connect(path, key=key, isolation_level=None, check_same_thread=False)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqldriver.DatabaseError:
        conn.close()
        if key is not None:
            raise WqError(f"密钥与数据库不符，无法打开：{path.name}") from None
        raise WqError(f"文件不是有效的数据库，可能已损坏或不是本程序的文件：{path}") from None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreVersionError(
            f"该数据库由更新版本的程序创建（数据结构版本 {version}，本程序支持到 {SCHEMA_VERSION}）。"
            "请升级程序后再打开，文件未做任何改动。")
    if version == 0 and tables:
        conn.close()
        raise WqError(f"该文件不是退地减水核查数据库：{path}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    if 0 < version < SCHEMA_VERSION:
        backup_copy(conn, path, f"v{version}", key=key)
    migrate(conn, store_for=store_for)
    return conn


def upgrade_pending(path: Path) -> bool:
    """Whether opening `path` will upgrade it (a copy aside, then the migration): a store an
    older program wrote. A read-only look at its schema version; False for a file it cannot read
    (an encrypted one nobody signed in to, a damaged one): opening it then says what is wrong."""
    if not path.is_file():
        return False
    key = keyfile.unlocked_key(path)
    if key is None and keyfile.is_encrypted_store(path):
        return False
    try:
        conn = sqldriver.connect_readonly(path, key=key)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqldriver.DatabaseError:
        return False
    return 0 < version < SCHEMA_VERSION


# Exposed for the migration test: build a file exactly as an older program would have.
def create_at_version(path: Path, version: int) -> sqlite3.Connection:
    conn = sqldriver.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn, version)
    return conn
