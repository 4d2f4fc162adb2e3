"""The server's store: the core's record store (so every pushed change passes the same validation
and lands in the same hash-chained history) plus the server's own tables in the same file, so a
record write and its change-log row commit together.

One writer at a time: every request takes `ServerDB.lock` and writes inside one SQLite
transaction, so the change sequence number is stamped at commit order and a pull cursor can
never step over a row still being written.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wq_desktop.store import Store

SERVER_USER = "同步服务"
SERVER_DEVICE = "server"

SERVER_DDL = (
    # Every accepted change, in commit order: the pull feed. `township` is the scope it belongs to.
    """CREATE TABLE IF NOT EXISTS srv_change (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT,
    device TEXT NOT NULL,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    township TEXT NOT NULL,
    op TEXT NOT NULL,
    rev INTEGER NOT NULL,
    fields TEXT NOT NULL,
    at TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS srv_change_record ON srv_change(record, rev)",
    "CREATE INDEX IF NOT EXISTS srv_change_township ON srv_change(township, seq)",
    # One row per pushed change id, whatever became of it: a change sent twice is applied once.
    """CREATE TABLE IF NOT EXISTS srv_receipt (
    change_id TEXT PRIMARY KEY,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    code INTEGER NOT NULL,
    reason TEXT,
    conflict TEXT
)""",
    # The township each record belongs to, found through its references when it was created.
    """CREATE TABLE IF NOT EXISTS srv_scope (
    record TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    township TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS srv_scope_township ON srv_scope(township)",
    # A create refused as a duplicate of a record the server holds (a uniqueness rule): changes
    # that still name the refused UUID (its own later edits, references from its dependents, in
    # this push or later ones) are taken as meant for the held record.
    """CREATE TABLE IF NOT EXISTS srv_alias (
    record TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS srv_user (
    name TEXT PRIMARY KEY,
    pw_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    township TEXT,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
)""",
    """CREATE TABLE IF NOT EXISTS srv_token (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    expires_at TEXT NOT NULL
)""",
)

# The server store's own versions (meta key `server_schema`), each step run once in order.
SERVER_STEPS: dict[int, tuple[str, ...]] = {
    # Logins (ok, failed, refused while locked, disabled) with the client's address: the audit
    # log, and where the failures counted for a lockout are read from, so they survive a restart.
    2: ("""CREATE TABLE IF NOT EXISTS srv_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    event TEXT NOT NULL,
    user TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT
)""",
        "CREATE INDEX IF NOT EXISTS srv_audit_user ON srv_audit(user, event, at)",
        "CREATE INDEX IF NOT EXISTS srv_audit_address ON srv_audit(address, event, at)",
        # Who uploaded which photo file (and for which township): a file belongs to its uploaders
        # until a photo record in their township refers to it. `done` 0 while the pieces arrive.
        """CREATE TABLE IF NOT EXISTS srv_upload (
    sha256 TEXT NOT NULL,
    user TEXT NOT NULL,
    township TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL,
    PRIMARY KEY (sha256, user)
)""",
        "CREATE INDEX IF NOT EXISTS srv_upload_township ON srv_upload(township, sha256)"),
}
SERVER_SCHEMA = max(SERVER_STEPS)


class ServerDB:
    """The open server database, shared by request threads under one lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.store = Store.open(self.path, SERVER_USER, create=True)
        self.lock = threading.RLock()
        for statement in SERVER_DDL:
            self.store.conn.execute(statement)
        self._migrate()

    def _migrate(self) -> None:
        have = int(self.store.meta("server_schema") or 1)
        for version in sorted(v for v in SERVER_STEPS if v > have):
            with self.store.transaction():
                for statement in SERVER_STEPS[version]:
                    self.conn.execute(statement)
                if version == 2:
                    self._adopt_existing_photos()
                self.store.set_meta("server_schema", str(version))

    def _adopt_existing_photos(self) -> None:
        """Files stored before uploads had owners go to the township (and author) of the first
        photo record that referred to them, the one whose device must have sent them."""
        if not self.blob_dir.is_dir():
            return
        for part in self.blob_dir.glob("??/*"):
            row = self.conn.execute(
                "SELECT p.created_by, s.township, p.created_at FROM photo p"
                " JOIN srv_scope s ON s.record = p.uuid WHERE p.sha256=?"
                " ORDER BY p.created_at LIMIT 1", (part.name,)).fetchone()
            if row:
                self.conn.execute(
                    "INSERT OR IGNORE INTO srv_upload (sha256, user, township, total, done, at)"
                    " VALUES (?,?,?,?,1,?)", (part.name, row[0], row[1], part.stat().st_size, row[2]))

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    @property
    def blob_dir(self) -> Path:
        return self.path.parent / f"{self.path.stem}_photos"

    @contextmanager
    def writing(self) -> Iterator[Store]:
        with self.lock, self.store.transaction():
            yield self.store

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.store.conn

    def close(self) -> None:
        self.store.close()
