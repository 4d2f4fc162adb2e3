"""The server's store, behind one interface with two implementations: this module's SQLite file
(the embedded default for one city and for development) and PostgreSQL (`pg_store.py`, for a
prefecture and several worker processes). `stores.open_server_db` picks one from `--db`.

Both give the server's modules the same few things: `writing(township)` and `reading()` blocks
yielding a `Session` (portable SQL with `?` placeholders, the record write path of the core with
its validation and history, the change feed), `pull`, the photo folder and `close`.

SQLite: the core's record store (so every pushed change passes the same validation and lands in
the same hash-chained history) plus the server's own tables in the same file, so a record write
and its change-log row commit together. One writer at a time: every request takes
`ServerDB.lock` and writes inside one SQLite transaction, so the change sequence number is stamped
at commit order and a pull cursor can never step over a row still being written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wq_desktop import history, sqldriver
from wq_desktop.queries import navigation
from wq_desktop.schema import Kind
from wq_desktop.store import Changes, Store

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

# The laptop accounts of each township and who pushed each accepted change (authors.py).
AUTHOR_DDL = (
    """CREATE TABLE IF NOT EXISTS srv_author (
    township TEXT NOT NULL,
    account TEXT NOT NULL,
    signed_in INTEGER NOT NULL,
    created_at TEXT,
    disabled_at TEXT,
    registered_by TEXT NOT NULL,
    device TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (township, account)
)""",
    # One row per accepted change: its author account and the server user whose push carried it.
    """CREATE TABLE IF NOT EXISTS srv_change_author (
    change_id TEXT PRIMARY KEY,
    township TEXT NOT NULL,
    account TEXT NOT NULL,
    pushed_by TEXT NOT NULL,
    device TEXT NOT NULL,
    at TEXT NOT NULL
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


FEED_COLUMNS = "seq, kind, record, op, rev, fields, \"user\", device, at"


def feed_rows(rows: list[tuple]) -> list[dict[str, Any]]:
    return [{"seq": r[0], "kind": r[1], "record": r[2], "op": r[3], "rev": r[4],
             "fields": json.loads(r[5]), "user": r[6], "device": r[7], "at": r[8]} for r in rows]


# What a push reads and writes for each change, once for both stores (`?` placeholders; the
# PostgreSQL session reads them ahead for a whole page and holds the writes back, pg_store.py).
RECEIPT_OF = "SELECT status, code, reason, conflict FROM srv_receipt WHERE change_id=?"
ADD_RECEIPT = ("INSERT INTO srv_receipt (change_id, device, kind, record, status, code, reason,"
               " conflict) VALUES (?,?,?,?,?,?,?,?)")
ALIAS_OF = "SELECT target FROM srv_alias WHERE record=?"
ADD_ALIAS = ("INSERT INTO srv_alias (record, kind, target) VALUES (?,?,?) ON CONFLICT (record)"
             " DO UPDATE SET kind=excluded.kind, target=excluded.target")
SCOPE_OF = "SELECT township FROM srv_scope WHERE record=?"
ADD_SCOPE = ("INSERT INTO srv_scope (record, kind, township) VALUES (?,?,?)"
             " ON CONFLICT (record) DO NOTHING")
KNOWN_AUTHOR = "SELECT 1 FROM srv_author WHERE township=? AND account=?"
def first_row(cur: Any) -> tuple | None:
    """A query's first row as a tuple (None: it found none)."""
    row = cur.fetchone()
    return tuple(row) if row else None


def first_value(cur: Any) -> Any:
    """The first column of a query's first row (None: it found none)."""
    row = cur.fetchone()
    return row[0] if row else None


LOG_CHANGE = ('INSERT INTO srv_change (change_id, device, "user", kind, record, township, op, rev,'
              " fields, at) VALUES (?,?,?,?,?,?,?,?,?,?)")


class Session:
    """One transaction's view of the SQLite server store (see the module doc)."""

    # A driver error that is the server's trouble (the file locked or gone, a full disk), not
    # the change's: the whole push fails instead of this change alone.
    transient: tuple[type[BaseException], ...] = (sqlite3.OperationalError, sqldriver.OperationalError)

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self.queries = store.queries

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql, params)

    def hold(self, sql: str, params: Any) -> None:
        """A write nothing in this push reads back before it commits (PostgreSQL sends these
        together); here it is written at once."""
        self.conn.execute(sql, params)

    def read_ahead(self, change_ids: list[str], records: dict[str | None, set[str]]) -> None:
        """What a page's changes will ask (PostgreSQL reads it at once); nothing to do here."""

    @contextmanager
    def one_change(self) -> Iterator[None]:
        """One change applied whole or not at all, inside the push's transaction."""
        self.conn.execute("SAVEPOINT one_change")
        try:
            yield
        except (*self.transient, OSError):
            raise  # a full disk or a broken file: the whole push fails
        except Exception:
            self.conn.execute("ROLLBACK TO one_change")
            self.conn.execute("RELEASE one_change")
            raise
        self.conn.execute("RELEASE one_change")

    def receipt(self, change_id: str) -> tuple | None:
        """(status, code, reason, conflict) of a change already pushed."""
        return first_row(self.conn.execute(RECEIPT_OF, (change_id,)))

    def add_receipt(self, values: tuple) -> None:
        self.conn.execute(ADD_RECEIPT, values)

    def alias_of(self, record: str) -> str | None:
        return first_value(self.conn.execute(ALIAS_OF, (record,)))

    def add_alias(self, record: str, kind_name: str, target: str) -> None:
        self.conn.execute(ADD_ALIAS, (record, kind_name, target))

    def scope_of(self, record: str) -> str | None:
        return first_value(self.conn.execute(SCOPE_OF, (record,)))

    def add_scope(self, kind_name: str, record: str, town: str) -> None:
        self.conn.execute(ADD_SCOPE, (record, kind_name, town))

    def known_author(self, township: str | None, account: str) -> bool:
        return self.conn.execute(KNOWN_AUTHOR, (township, account)).fetchone() is not None

    def clock(self) -> str:
        return self.store.clock()

    def raw(self, k: Kind, record: str) -> dict[str, Any] | None:
        return self.store.stored_row(k.name, record)

    def dependents(self, kind_name: str, record: str) -> list[tuple[str, str]]:
        return self.store.live_dependents(kind_name, record)

    def township_by_code(self, code: str) -> str | None:
        """The UUID of the live township with this code (the core's read function)."""
        found = navigation.township_by_code(self.store, code)
        return found["uuid"] if found else None

    def township_names(self) -> dict[str, str]:
        """"code name" of every township (deleted ones too), by UUID."""
        return {t["uuid"]: f"{t['code']} {t['name']}"
                for t in self.store.find("township", include_deleted=True)}

    def apply_change(self, kind_name: str, record: str, op: str, fields: dict[str, Any], *,
                     user: str, device: str, at: str) -> tuple[int, Changes]:
        return self.store.apply_change(kind_name, record, op, fields, user=user, device=device, at=at)

    def log_change(self, change_id: str | None, device: str, user: str, kind_name: str, record: str,
                   town: str, op: str, rev: int, fields_json: str, at: str) -> None:
        self.conn.execute(LOG_CHANGE,
                          (change_id, device, user, kind_name, record, town, op, rev, fields_json, at))


class ServerDB:
    """The open SQLite server database, shared by request threads under one lock."""

    backend = "sqlite"
    errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError, sqldriver.DatabaseError)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.store = Store.open(self.path, SERVER_USER, create=True)
        self.lock = threading.RLock()
        for statement in (*SERVER_DDL, *AUTHOR_DDL):
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

    @property
    def key_base(self) -> Path:
        """What `server_key` keeps the package key beside (the database file)."""
        return self.path

    @property
    def disk_folder(self) -> Path:
        """Where the database's own writes land (checked for room before a push)."""
        return self.path.parent

    def durable(self) -> None:
        self.conn.execute("PRAGMA synchronous=FULL")  # an acknowledged push survives a power cut

    @contextmanager
    def writing(self, township: str | None = None) -> Iterator[Session]:
        """One write transaction. SQLite has one writer at a time whatever the township."""
        with self.lock, self.store.transaction():
            yield Session(self.store)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self.lock:
            yield Session(self.store)

    def verify_history(self) -> list[history.ChainProblem]:
        """Every break of the history's hash chain (one chain in an SQLite server)."""
        with self.lock:
            return history.verify_chain(self.conn)

    def pull(self, township: str | None, device: str, after: Any, limit: int) -> dict[str, Any]:
        """Other devices' changes after the cursor (one township's, or every township's for
        None), one page, and the cursor to ask from next. Read in one snapshot, so the cursor
        never passes a row this page did not see."""
        after = int(after)
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                if township is None:
                    rows = self.conn.execute(f"SELECT {FEED_COLUMNS} FROM srv_change WHERE seq>?"
                                             " AND device<>? ORDER BY seq LIMIT ?",
                                             (after, device, limit)).fetchall()
                else:
                    rows = self.conn.execute(f"SELECT {FEED_COLUMNS} FROM srv_change WHERE township=?"
                                             " AND seq>? AND device<>? ORDER BY seq LIMIT ?",
                                             (township, after, device, limit)).fetchall()
                top = self.conn.execute("SELECT coalesce(max(seq), 0) FROM srv_change").fetchone()[0]
            finally:
                self.conn.execute("COMMIT")
        more = len(rows) == limit
        return {"changes": feed_rows(rows), "cursor": rows[-1][0] if more else max(top, after),
                "more": more}

    def close(self) -> None:
        self.store.close()


# ------------------------------------------------------------------ photo files and their records
# Which photo records refer to a file decides who may read it (wq_server/photos.py). The SQL runs
# on either server store (the PostgreSQL session takes the same placeholders).

def readable_photo_hashes(db: Any, user: str, township: str, office: bool,
                          hashes: list[str]) -> set[str]:
    """The hashes among these of finished uploads this user may read: all for the city office;
    else their own, and those of their township that a photo record of the township refers to."""
    marks = ",".join("?" * len(hashes))
    with db.reading() as conn:
        if office:
            rows = conn.execute(f"SELECT DISTINCT sha256 FROM srv_upload WHERE done=1"
                                f" AND sha256 IN ({marks})", hashes)
        else:
            rows = conn.execute(
                f"SELECT DISTINCT u.sha256 FROM srv_upload u WHERE u.done=1 AND u.sha256 IN ({marks})"
                ' AND (u."user"=? OR (u.township=? AND EXISTS (SELECT 1 FROM photo r'
                "  JOIN srv_scope s ON s.record = r.uuid WHERE r.sha256 = u.sha256 AND s.township=?)))",
                (*hashes, user, township, township))
        return {r[0] for r in rows}


def photo_referred_in(db: Any, sha256: str, township: str) -> bool:
    """Whether a photo record of this township refers to the file."""
    with db.reading() as conn:
        return conn.execute(
            "SELECT 1 FROM photo r JOIN srv_scope s ON s.record = r.uuid"
            " WHERE r.sha256=? AND s.township=? LIMIT 1", (sha256, township)).fetchone() is not None


def unreferenced_upload_bytes(db: Any, user: str, but: str) -> int:
    """Bytes of this user's uploads (other than `but`) that no live photo record of the upload's
    township refers to yet: what counts against the upload quota."""
    with db.reading() as conn:
        return conn.execute(
            'SELECT coalesce(sum(u.total), 0) FROM srv_upload u WHERE u."user"=? AND u.sha256<>?'
            " AND NOT EXISTS (SELECT 1 FROM photo r JOIN srv_scope s ON s.record = r.uuid"
            "  WHERE r.sha256 = u.sha256 AND s.township = u.township AND r.deleted=0)",
            (user, but)).fetchone()[0]
