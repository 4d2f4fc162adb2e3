"""The local store: one SQLite file, and the one write path every change goes through.

`Store.create / update / delete / restore` validate, write the record with a new revision, append
the hash-chained history entry and queue the sync change, all in one transaction. Changes pulled
from the server go in through `apply_pulled_many` (the same validation and history, the server's
values and revision, no outbox row), a page in one transaction. Nothing else writes record
tables, so history and validation hold for every change, whether typed in the window, imported
from a file, or pulled.
`recording()` tells an operation (wq_desktop.operations) which records it wrote.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import operator
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import collector, history, migrations, sqldriver
from .errors import ConflictError, NotFoundError, Stopped, ValidationError, WqError
from .model import DEFAULT_CRS, RecordOp
from .outbox import NAMES_TEXT, WITH_ENTRY, queued_names
from .record_queries import HeldKeys, RecordQueries, SqlQueries
from .schema import KINDS, SYSTEM_COLUMNS, Field, Kind, kind

if TYPE_CHECKING:
    from .geo import polygons  # imported where used: shapely is heavy for a window's start

log = logging.getLogger(__name__)

ANALYZE_AFTER_ROWS = 1000  # records written before the planner's statistics are first refreshed
UNIQUE_KEYS_FROM = 200  # a batch of at least this many creates reads the unique keys once
INSERT_CHUNK = 5000  # a batch's new rows are inserted this many to a statement

Record = dict[str, Any]
# The history entry of an event (log_event) keeps its description under this name.
EVENT_FIELD = "_event"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# Random (version 4, RFC 4122 variant) UUIDs: the 13th hex digit is the version (4), the 17th
# keeps two random bits under the variant's 10 (8, 9, a or b).
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_uuids(n: int) -> list[str]:
    """n random UUIDs as text (what str(uuid.uuid4()) gives), from one read of the system's
    random source: uuid4 reads it once per UUID, and a bulk write draws one or two per record."""
    h = os.urandom(16 * n).hex()
    variant = _VARIANT
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{variant[h[i + 16]]}{h[i + 17:i + 20]}"
            f"-{h[i + 20:i + 32]}" for i in range(0, 32 * n, 32)]


def new_change_ids(n: int) -> list[str]:
    """The ids of n queued sync changes (UUIDs, drawn apart from record UUIDs)."""
    return new_uuids(n)


def new_uuid() -> str:
    return new_uuids(1)[0]


def new_change_id() -> str:
    return new_change_ids(1)[0]


def to_wire(f: Field, value: Any) -> Any:
    """A field's stored value as plain JSON (history entries and sync changes carry this form)."""
    if value is None:
        return None
    if f.type == "geom":
        return bytes(value).hex()
    if f.type == "json":
        return json.loads(value) if isinstance(value, str) else value
    return value


def from_wire(f: Field, value: Any) -> Any:
    """The inverse of to_wire: a JSON value back to the column's stored form."""
    if value is None:
        return None
    if f.type == "geom":
        return bytes.fromhex(value)
    if f.type == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


class Store:
    """An open store file. Not shared between threads: open one per worker thread."""

    # Injected so tests can fix the clock; returns ISO 8601 UTC text.
    clock: Callable[[], str] = staticmethod(utc_now)

    def __init__(self, conn: sqlite3.Connection, path: Path, user: str,
                 key: bytes | None = None) -> None:
        if not user or not user.strip():
            raise WqError("请先在设置中填写用户名：每条记录都要记下由谁录入。")
        self.conn = conn
        self.path = path
        self.user = user.strip()
        # The data key of an encrypted store (None: a plain file); accounts.py signs in with it.
        self.key = key
        self._depth = 0
        self._snapshots = 0  # snapshot() blocks open: an inner one joins the outer
        self._lock = threading.RLock()
        # Open `recording()` blocks: each hears of every record written while it is open.
        self._recorders: list[list[Written]] = []
        # Rows written since the planner's statistics were last refreshed, and how many more
        # trigger the next refresh (doubling, so a first pull of 100,000 records analyzes ~7 times).
        self._since_analyze = 0
        self._analyze_after = ANALYZE_AFTER_ROWS
        self._wrote = False
        self._closed = False
        # While a batch runs: id(outline given) -> its GeometryFacts, for outlines check_polygon
        # is sure to accept (see _apply_many).
        self._prechecked: dict[int, polygons.GeometryFacts] = {}
        # (rows by (kind, uuid), the kind being written) while a batch write runs; see _apply_many.
        self._row_cache: tuple[dict[tuple[str, str], Any], str] | None = None
        # The unique keys of the kind a large batch of creates writes; see _apply_many.
        self._unique_keys: HeldKeys | None = None
        # While a batch runs: id(WKB written) -> its GeometryFacts, so validation need not decode
        # what was just encoded (see SqlQueries.outline_facts).
        self._batch_shapes: dict[int, polygons.GeometryFacts] | None = None
        # While a batch runs: its new rows not yet inserted (see _apply_many).
        self._inserts: _Inserts | None = None
        self.queries: RecordQueries = SqlQueries(conn, self)
        self.device = self.meta("device_id") or self._init_device()
        if not self._has_statistics():
            self.analyze()  # a file from before the store kept statistics, or a new one

    # ---------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | Path, user: str, *, create: bool = False,
             key: bytes | None = None) -> Store:
        """Open a store file. An encrypted one needs its data key, given here or remembered from
        a sign-in in this process (accounts.sign_in); the user is then the signed-in account."""
        from . import keyfile

        path = Path(path)
        existed = path.exists()
        key = key or keyfile.unlocked_key(path)
        conn = migrations.connect(path, create=create, key=key,
                                  store_for=lambda c: _JoinedStore(c, path, migrations.MIGRATION_USER))
        if key is not None:  # worker threads and copies (backups) of this store use it too
            keyfile.remember(path, key)
        store = cls(conn, path, user, key)
        # File name only: paths and user names stay out of the log.
        log.info("store %s: %s", "opened" if existed else "created", path.name)
        return store

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def write_count(self) -> int:
        """Rows this connection has changed since it opened (tells a worker's read went stale)."""
        return self.conn.total_changes

    def close(self) -> None:
        self._closed = True
        if self._wrote:  # a reading worker's store leaves the statistics to the writers
            try:
                self.conn.execute("PRAGMA optimize")  # SQLite's advice for closing connections
            except sqldriver.DatabaseError:
                pass  # busy: statistics are a speed matter, never a reason to fail
        self.conn.close()

    # ---------------------------------------------------------------- planner statistics
    def _has_statistics(self) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name='sqlite_stat1'").fetchone() is not None

    def analyze(self) -> None:
        """Refresh the statistics SQLite's planner chooses indexes by. Without them it plans
        `EXISTS (… measure m WHERE m.parcel = p.uuid AND m.year = ?)` on measure_year (every
        measure of the year, per parcel) instead of measure_parcel: minutes instead of
        milliseconds at township size. Sampled (analysis_limit), so it stays fast at city size."""
        with self._lock:
            self._flush_inserts()  # a batch's rows held back are counted too
            self.conn.execute("PRAGMA analysis_limit=2000")
            self.conn.execute("ANALYZE")
            self._since_analyze = 0
            self._analyze_after = max(ANALYZE_AFTER_ROWS, self._analyze_after * 2)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _init_device(self) -> str:
        device = new_uuid()
        with self.transaction():
            self.set_meta("device_id", device)
            self.set_meta("created_at", self.clock())
            if self.meta("crs") is None:
                self.set_meta("crs", DEFAULT_CRS)
        return device

    # ---------------------------------------------------------------- meta
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str | None) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def crs(self) -> str:
        return self.meta("crs") or DEFAULT_CRS

    @property
    def is_demo(self) -> bool:
        return self.meta("demo") == "1"

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    # ---------------------------------------------------------------- transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Reentrant: nested blocks join the outer transaction, so a service can group writes."""
        with self._lock:
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")

    @contextmanager
    def stopping_when(self, stop: Callable[[], bool]) -> Iterator[None]:
        """Reads inside give up once `stop()` says so, in the middle of a query too: a check
        that reads for minutes at city size ends soon after 取消 (or the window closing), not
        after its last row. The statement in progress raises Stopped; nothing is written."""
        self.conn.set_progress_handler(lambda: 1 if stop() else 0, 20_000)
        try:
            yield
        except sqldriver.OperationalError as err:
            if stop() and "interrupt" in str(err):
                raise Stopped() from err
            raise
        finally:
            self.conn.set_progress_handler(None, 0)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the file as it was when the block began (one read
        transaction), whatever other connections commit meanwhile: a page or a report of many
        queries never mixes two states. For reading only: a write inside is refused. Nested in a
        transaction or another snapshot, it is that one's state."""
        with self._lock:
            if self._depth or self._snapshots:
                yield  # inside a transaction or a snapshot already: it is the snapshot
                return
            self.conn.execute("BEGIN")
            self._snapshots += 1
            try:
                self.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # the snapshot starts here
                yield
            finally:
                self._snapshots -= 1
                self.conn.execute("ROLLBACK")

    @contextmanager
    def recording(self) -> Iterator[list[Written]]:
        """Collect (kind, uuid, fields changed) of every record written inside the block, cascades
        and batch rows included: an operation describes what it touched from this, not by guess."""
        written: list[Written] = []
        self._recorders.append(written)
        try:
            yield written
        finally:
            # By identity: nested blocks (a sync and each page it pulls) hold equal lists, and
            # list.remove would take the outer one, leaving later pages unrecorded.
            self._recorders[:] = [r for r in self._recorders if r is not written]

    # ---------------------------------------------------------------- reading
    def _decode(self, k: Kind, row: sqlite3.Row | tuple, names: list[str]) -> Record:
        rec = dict(zip(names, row, strict=True))
        for f in k.fields:
            value = rec.get(f.name)
            if value is None:
                continue
            if f.type == "json":
                rec[f.name] = json.loads(value)
            elif f.type == "geom":
                import shapely  # here, not at the top: opening a window need not load GEOS

                rec[f.name] = shapely.from_wkb(value)
        rec["deleted"] = bool(rec["deleted"])
        return rec

    def get(self, kind_name: str, record_uuid: str, *, include_deleted: bool = False) -> Record:
        k = kind(kind_name)
        cur = self.conn.execute(f'SELECT * FROM "{k.name}" WHERE uuid=?', (record_uuid,))
        row = cur.fetchone()
        if row is None or (row[6] and not include_deleted):
            raise NotFoundError(f"找不到{k.label}记录（{record_uuid}），可能已被删除。")
        return self._decode(k, row, [d[0] for d in cur.description])

    def find(self, kind_name: str, where: str = "", params: Iterable[Any] = (), *,
             include_deleted: bool = False, order_by: str = "rowid") -> list[Record]:
        """Records of one kind; `where` is an SQL condition over its columns (core use only: ui and
        wq_server pass none, tests/core/test_layers.py checks)."""
        k = kind(kind_name)
        clauses = [] if include_deleted else ["deleted = 0"]
        if where:
            clauses.append(f"({where})")
        sql = f'SELECT * FROM "{k.name}"'
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        cur = self.conn.execute(sql + f" ORDER BY {order_by}", tuple(params))
        names = [d[0] for d in cur.description]
        return [self._decode(k, row, names) for row in cur.fetchall()]

    def find_one(self, kind_name: str, where: str, params: Iterable[Any] = ()) -> Record | None:
        rows = self.find(kind_name, where, params)
        return rows[0] if rows else None

    def count(self, kind_name: str, where: str = "", params: Iterable[Any] = ()) -> int:
        k = kind(kind_name)
        sql = f'SELECT count(*) FROM "{k.name}" WHERE deleted = 0'
        if where:
            sql += f" AND ({where})"
        return self.conn.execute(sql, tuple(params)).fetchone()[0]

    def stored_row(self, kind_name: str, record_uuid: str) -> dict[str, Any] | None:
        """The row as stored (columns in storage form, tombstoned ones too), None when absent: for
        the server, which compares and forwards records as they are kept."""
        return self._raw(kind(kind_name), record_uuid)

    def live_dependents(self, kind_name: str, record_uuid: str) -> list[tuple[str, str]]:
        """(kind, uuid) of the live records that refer to this one (what blocks its deletion)."""
        return [(dep_kind, dep) for dep_kind, _f, dep in self._dependents(kind_name, record_uuid)]

    def history(self, record_uuid: str) -> list[history.HistoryEntry]:
        return history.for_record(self.conn, record_uuid)

    def log_event(self, kind_name: str, record_uuid: str, op: str, what: str) -> None:
        """Record in the change history something done with a record that changes none of its
        fields (an unmasked export): who, when, and `what`, at the record's current revision."""
        with self.transaction():
            row = self.conn.execute(f'SELECT rev FROM "{kind(kind_name).name}" WHERE uuid=?',
                                    (record_uuid,)).fetchone()
            if row is None:
                raise NotFoundError(f"找不到{kind(kind_name).label}记录（{record_uuid}）。")
            history.append(self.conn, at=self.clock(), user=self.user, device=self.device,
                           kind=kind_name, record=record_uuid, op=op, rev=row[0],
                           changes={EVENT_FIELD: [None, what]})

    def pending_changes(self, up_to: int | None = None) -> int:
        """Changes waiting to be pushed; with `up_to`, counted no further than that (the status
        bar's count walks the outbox index: a second at a million waiting changes)."""
        if up_to is None:
            return self.conn.execute("SELECT count(*) FROM outbox WHERE state='pending'").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM (SELECT 1 FROM outbox WHERE state='pending'"
                                 " LIMIT ?)", (up_to,)).fetchone()[0]

    # ---------------------------------------------------------------- writing
    def create(self, kind_name: str, values: dict[str, Any], *, record_uuid: str | None = None) -> str:
        record_uuid = record_uuid or new_uuid()
        self._write(kind(kind_name), record_uuid, "create", values)
        return record_uuid

    def update(self, kind_name: str, record_uuid: str, values: dict[str, Any], *,
               base_rev: int | None = None) -> int:
        """Change some fields; returns the new revision (unchanged when nothing differed)."""
        return self._write(kind(kind_name), record_uuid, "update", values, base_rev=base_rev)

    def delete(self, kind_name: str, record_uuid: str, *, cascade: bool = False,
               base_rev: int | None = None) -> list[tuple[str, str]]:
        """Tombstone a record. Live records that depend on it block the delete unless `cascade`:
        then records that cannot exist without it are tombstoned too and optional links cleared.
        Returns every (kind, uuid) tombstoned."""
        k = kind(kind_name)
        with self.transaction():
            deleted: list[tuple[str, str]] = []
            for dep_kind, f, dep in self._dependents(k.name, record_uuid):
                if not cascade:
                    raise ValidationError(
                        f"该{k.label}仍有{KINDS[dep_kind].label}记录引用，不能直接删除。"
                        "请先处理这些记录，或选择连同删除。")
                if f.required:
                    deleted += self.delete(dep_kind, dep, cascade=True)
                else:
                    self._write(KINDS[dep_kind], dep, "update", {f.name: None})
            self._write(k, record_uuid, "delete", {}, base_rev=base_rev)
            deleted.append((k.name, record_uuid))
            return deleted

    def restore(self, kind_name: str, record_uuid: str) -> int:
        return self._write(kind(kind_name), record_uuid, "restore", {})

    def _dependents(self, kind_name: str, record_uuid: str) -> Iterator[tuple[str, Field, str]]:
        for other in KINDS.values():
            for f in other.fields:
                if f.ref == kind_name:
                    rows = self.conn.execute(
                        f'SELECT uuid FROM "{other.name}" WHERE "{f.name}"=? AND deleted=0',
                        (record_uuid,)).fetchall()
                    for (dep,) in rows:
                        yield other.name, f, dep
        if kind_name in ("patrol", "notice"):
            for (dep,) in self.conn.execute(
                    "SELECT uuid FROM photo WHERE owner=? AND deleted=0", (record_uuid,)).fetchall():
                yield "photo", kind("photo").field("owner"), dep

    def _normalize(self, k: Kind, values: dict[str, Any]) -> dict[str, Any]:
        return normalize(k, values, self._prechecked, self._batch_shapes)

    def _raw(self, k: Kind, record_uuid: str) -> dict[str, Any] | None:
        self._flush_inserts()
        cur = self.conn.execute(f'SELECT * FROM "{k.name}" WHERE uuid=?', (record_uuid,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None

    def _write(self, k: Kind, record_uuid: str, op: str, values: dict[str, Any], *,
               base_rev: int | None = None) -> int:
        return self._apply(k, record_uuid, op, values, base_rev=base_rev)[0]

    def _plan(self, k: Kind, record_uuid: str, op: str, values: dict[str, Any], *,
              base_rev: int | None = None, fresh: bool = False
              ) -> tuple[dict[str, Any] | None, dict[str, Any], Changes | None]:
        """`plan_write` against this file's stored row. `fresh`: the UUID was just made here, so
        no stored row can have it."""
        old = None if fresh else self._raw(k, record_uuid)
        return plan_write(self.queries, k, record_uuid, op, values, old, base_rev=base_rev,
                          prechecked=self._prechecked, shapes=self._batch_shapes)

    def _outbox_row(self, k: Kind, record_uuid: str, op: str, rev: int, changes: Changes,
                    at: str, entry: int, change_id: str | None = None) -> tuple[Any, ...]:
        """The sync change of a write whose history entry is `entry`: the entry holds its
        fields (outbox.queued_fields); the row holds only what the entry does not."""
        base = self._edit_base(record_uuid, op, changes.keys())
        return (change_id or new_change_id(), k.name, record_uuid, op, base, rev, entry, at,
                self.user)

    _OUTBOX_INSERT = ("INSERT INTO outbox (change_id, kind, record, op, base_rev, rev, entry, at, user)"
                      " VALUES (?,?,?,?,?,?,?,?,?)")

    def _apply(self, k: Kind, record_uuid: str, op: str, values: dict[str, Any], *,
               base_rev: int | None = None, author: Author | None = None,
               outbox: bool = True) -> tuple[int, Changes]:
        """The write path: validate, write the row with a new revision, append history and (for
        changes made here) queue the sync change. Returns (rev, {field: [old, new]} in wire form)."""
        with self.transaction():
            old, new, changes = self._plan(k, record_uuid, op, values, base_rev=base_rev)
            if changes is None:
                return (old["rev"] if old else 0), {}
            user, device, now = author or (self.user, self.device, self.clock())
            rev = old["rev"] + 1 if old else 1
            entry = self._persist(k, record_uuid, op, old, new, changes, rev=rev, user=user,
                                  device=device, at=now)
            if outbox:
                self.conn.execute(self._OUTBOX_INSERT,
                                  self._outbox_row(k, record_uuid, op, rev, changes, now, entry))
        self._notify(k.name, record_uuid, changes)
        return rev, changes

    # ---------------------------------------------------------------- batch writes
    def create_many(self, kind_name: str, rows: Iterable[dict[str, Any]], *,
                    record_uuids: Iterable[str] | None = None) -> list[str]:
        """Create many records in one transaction: for each exactly what `create` does (the same
        validation, history entry and outbox row), at batch speed. A refused row rolls back the
        whole batch; its 0-based position is the error's `batch_index`."""
        rows = list(rows)
        # Drawn in ascending order: the tables' indexes on the record (its primary key, history
        # and outbox by record) then take the batch in key order, page after page, instead of one
        # random leaf per row (a third of an import's SQL time at 100,000 parcels).
        uuids = list(record_uuids) if record_uuids is not None else sorted(new_uuids(len(rows)))
        return self._apply_many(kind(kind_name), [
            (uuid, "create", values) for uuid, values in zip(uuids, rows, strict=True)])

    def update_many(self, kind_name: str, changes: Iterable[tuple[str, dict[str, Any]]]) -> list[str]:
        """`update` for many records in one transaction; returns the UUIDs that changed."""
        return self._apply_many(kind(kind_name),
                                [(uuid, "update", values) for uuid, values in changes])

    @collector.paused()
    def _apply_many(self, k: Kind, items: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
        from .geo import polygons

        written: list[str] = []
        fields: list[Changes] = []
        shapes = [values[f.name] for f in k.fields if f.type == "geom"
                  for _, _, values in items if values.get(f.name) is not None]
        # Outlines check_polygon is sure to accept, found for the whole batch in one numpy pass;
        # the rest are checked one by one as in `create` (for the reason). Held by `items`, so
        # their ids stay theirs while the batch runs.
        sure = [g for g, ok in zip(shapes, polygons.clearly_valid(shapes), strict=True) if ok]
        self._prechecked = {id(g): facts for g, facts in zip(sure, polygons.facts_many(sure), strict=True)}
        with self.transaction():
            chain = history.Appender(self.conn)
            outbox: list[tuple[Any, ...]] = []
            # Rows of other kinds cannot change while this batch runs: validation may look each
            # referenced one up once (a village for every parcel, a parcel for every measure).
            self._row_cache = ({}, k.name)
            self._batch_shapes = {}
            if len(items) >= UNIQUE_KEYS_FROM and all(op == "create" for _, op, _ in items):
                # One read of the kind's unique keys instead of one query per new row.
                self._unique_keys = HeldKeys(k.name)
            # New rows are inserted in large statements; anything that reads the store first
            # writes those still waiting (_flush_inserts), so every check sees every earlier row.
            self._inserts = _Inserts(k)
            now = self.clock()  # one transaction: one time for all its records
            change_ids = iter(sorted(new_change_ids(len(items))))  # in key order, as the UUIDs
            try:
                for index, (record_uuid, op, values) in enumerate(items):
                    try:
                        # A create needs no look-up: the row's primary key refuses a taken UUID.
                        old, new, changes = self._plan(k, record_uuid, op, values,
                                                       fresh=op == "create")
                        if changes is None:
                            continue
                        rev = old["rev"] + 1 if old else 1
                        entry = self._persist(k, record_uuid, op, old, new, changes, rev=rev,
                                              user=self.user, device=self.device, at=now,
                                              chain=chain, index=index)
                    except sqldriver.IntegrityError:
                        err = ValidationError(f"{k.label}记录已存在（{record_uuid}）。")
                        err.batch_index = index
                        raise err from None
                    except WqError as err:
                        if err.batch_index is None:  # a held-back row's refusal names its own
                            err.batch_index = index
                        raise
                    row = self._outbox_row(k, record_uuid, op, rev, changes, now, entry,
                                           next(change_ids))
                    if op == "create":
                        outbox.append(row)  # nothing waits for a record made just now
                    else:  # the next change's base reads the waiting ones (and their entries)
                        chain.flush()
                        self.conn.execute(self._OUTBOX_INSERT, row)
                    written.append(record_uuid)
                    fields.append(changes)
                self._flush_inserts()
            finally:
                self._row_cache = None
                self._unique_keys = None
                self._batch_shapes = None
                self._prechecked = {}
                self._inserts = None
            chain.flush()
            self.conn.executemany(self._OUTBOX_INSERT, outbox)
        for record_uuid, changes in zip(written, fields, strict=True):
            self._notify(k.name, record_uuid, changes)
        return written

    def _flush_inserts(self) -> None:
        """Write the new rows a batch holds back (before anything reads the store)."""
        if self._inserts is not None:
            self._inserts.flush(self.conn)

    def _edit_base(self, record_uuid: str, op: str, fields: Iterable[str]) -> int:
        """The server revision this edit is made against, fixed now and kept with the outbox row:
        the revision this device holds of the record, unless an earlier change to the same fields
        (any field, for a delete) still waits; then that change's base, because the server's value
        of those fields has not been shown here since. Nothing moves it later (not a push answer,
        a pull or a second page), so the server can tell whether another device changed the record
        in between and keep both values as a conflict instead of replacing one."""
        if op == RecordOp.CREATE:
            return 0  # new here: the server has no revision of it
        self._flush_inserts()
        row = self.conn.execute("SELECT server_rev FROM sync_base WHERE record=?",
                                (record_uuid,)).fetchone()
        base = row[0] if row else 0
        for waiting_base, waiting_fields in self.conn.execute(
                f"SELECT o.base_rev, {NAMES_TEXT} FROM {WITH_ENTRY}"
                " WHERE o.record=? AND o.state='pending'", (record_uuid,)):
            if op == RecordOp.DELETE or not set(fields).isdisjoint(queued_names(waiting_fields)):
                base = min(base, waiting_base)
        return base

    def _persist(self, k: Kind, record_uuid: str, op: str, old: dict[str, Any] | None,
                 new: dict[str, Any], changes: Changes, *, rev: int, user: str, device: str,
                 at: str, chain: history.Appender | None = None, index: int = 0) -> int:
        """Write the row and its history entry; returns the entry's seq."""
        new.update(uuid=record_uuid, rev=rev, updated_at=at, updated_by=user)
        self._since_analyze += 1
        self._wrote = True
        if self._since_analyze >= self._analyze_after:
            # A bulk write (import, pull, generated data) changed the table sizes the planner
            # chose its indexes by; refresh now, even mid-transaction: the next rows' checks
            # depend on it (per-parcel look-ups planned on the year index grow quadratically).
            self.analyze()
        if old is None:
            new.update(created_at=at, created_by=user)
        if old is None and self._inserts is not None:
            self._inserts.add(self.conn, new, index)
        elif old is None:  # the row path: a batch of one
            inserts = _Inserts(k)
            inserts.add(self.conn, new, index)
            inserts.flush(self.conn)
        else:  # UPDATE, not REPLACE: a replace would delete the row under its dependents
            self._flush_inserts()
            self.conn.execute(_update_sql(k), [new[c] for c in _columns(k)] + [record_uuid])
        appender = chain if chain is not None else history.Appender(self.conn)
        entry = appender.add(at=at, user=user, device=device, kind=k.name, record=record_uuid,
                             op=op, rev=rev, changes=changes)
        if chain is None:
            appender.flush()
        return entry

    def _notify(self, kind_name: str, record_uuid: str, changes: Changes) -> None:
        for written in self._recorders:
            written.append((kind_name, record_uuid, frozenset(changes)))

    # ---------------------------------------------------------------- sync (remote) writes
    def apply_change(self, kind_name: str, record_uuid: str, op: str, fields: dict[str, Any], *,
                     user: str, device: str, at: str) -> tuple[int, Changes]:
        """Apply a change another device made (server side): full validation, the server's next
        revision, history under the change's author, no outbox row. `fields` are in wire form;
        derived fields are recomputed here rather than taken. Raises ValidationError/NotFoundError."""
        k = kind(kind_name)
        values = wire_values(k, fields)
        with self.transaction():
            if op == "restore":
                # One write, one revision, one history entry: the tombstone lifted and the fields
                # taken together (a restore of a record that is live here is an update of it).
                row = self._raw(k, record_uuid)
                if row is not None and not row["deleted"]:
                    op = "update"
            return self._apply(k, record_uuid, op, values if op != "delete" else {},
                               author=(user, device, at), outbox=False)

    def apply_pulled(self, kind_name: str, record_uuid: str, op: str, fields: dict[str, Any], *,
                     rev: int, user: str, device: str, at: str,
                     keep: Iterable[str] = ()) -> list[str]:
        """One change the server sent: `apply_pulled_many` with a batch of one."""
        return self.apply_pulled_many([Pulled(kind_name, record_uuid, op, fields, rev, user, device,
                                              at, frozenset(keep))])

    @collector.paused()
    def apply_pulled_many(self, pulled: Iterable[Pulled]) -> list[str]:
        """Take the server's state for the given fields (wire form, "deleted" included when it
        changed) at the server's revision (client side; the server's revision is kept in
        sync_base, the local one only grows), each change in order, in one transaction.
        Validation runs and history is written as for any change, but the server's values win:
        it validated them against the whole city's data, which this device may only partly hold.
        Fields in `keep` have local changes still waiting to be pushed and keep their local
        value. Returns rule warnings. Runs of one kind are written as a batch (see _apply_many):
        their stored rows read at once, referenced rows looked up once, new rows inserted in
        large statements, and for a run of new records the unique keys read once."""
        warnings: list[str] = []
        written: list[Written] = []
        with self.transaction():
            chain = history.Appender(self.conn)
            for _, run in itertools.groupby(pulled, key=operator.attrgetter("kind")):
                self._apply_pulled_run(list(run), chain, warnings, written)
            chain.flush()
        for kind_name, record_uuid, changes in written:
            self._notify(kind_name, record_uuid, changes)
        return warnings

    def _apply_pulled_run(self, run: list[Pulled], chain: history.Appender, warnings: list[str],
                          written: list[Written]) -> None:
        k = kind(run[0].kind)
        records = [ch.record for ch in run]
        stored = self._stored_rows(k, records)
        taken = [_taken_values(k, ch) for ch in run]
        self._row_cache = ({}, k.name)
        self._batch_shapes = _outline_facts(k, taken)
        if len(run) >= UNIQUE_KEYS_FROM and not stored and len(set(records)) == len(records):
            # New records only: the keys they carry read at once (a page into a city holding
            # ten thousand times as many read every key of the kind again at each page).
            self._unique_keys = HeldKeys(k.name, taken)
        self._inserts = _Inserts(k)
        try:
            for index, (ch, values) in enumerate(zip(run, taken, strict=True)):
                old = stored.get(ch.record)
                new: dict[str, Any] = dict(old) if old else dict.fromkeys(k.field_names, None)
                if old is None:
                    new["deleted"] = 0
                new.update(values)
                if not new["deleted"]:
                    try:
                        _validate(self.queries, k, dict(new), old, ch.record)
                    except WqError as err:
                        warnings.append(f"{k.label}（{ch.record}）：{err}")
                changes = _diff(k, old, new)
                if old is not None and not changes:
                    continue
                # The local revision only ever grows, whatever the server's number: a form
                # opened before this pull then refuses to save over what it brought
                # (ConflictError), even when a local edit had already taken the server's next
                # number here.
                local_rev = ch.rev if old is None else max(ch.rev, old["rev"] + 1)
                self._persist(k, ch.record, ch.op, old, new, changes, rev=local_rev, user=ch.user,
                              device=ch.device, at=ch.at, chain=chain, index=index)
                if not new["deleted"]:
                    self._hold_keys(k, ch.record, new)
                stored[ch.record] = new  # a later change to it in this run starts from here
                written.append((k.name, ch.record, frozenset(changes)))
            self._flush_inserts()
        finally:
            self._row_cache = None
            self._unique_keys = None
            self._batch_shapes = None
            self._inserts = None

    def _hold_keys(self, k: Kind, record_uuid: str, row: dict[str, Any]) -> None:
        """While the unique keys are held in memory: a live record written whose rules stopped
        before its keys were reached (the server's values win) still holds them, as its stored
        row does for the query (see SqlQueries.unique_clash)."""
        if self._unique_keys is not None and self._unique_keys.kind == k.name:
            self._unique_keys.hold(self.queries, row, record_uuid)

    def _stored_rows(self, k: Kind, records: list[str]) -> dict[str, dict[str, Any]]:
        """The stored rows (tombstoned ones too) of these records, by UUID: _raw for many."""
        self._flush_inserts()
        out: dict[str, dict[str, Any]] = {}
        for marks, chunk in sqldriver.in_lists(list(dict.fromkeys(records))):
            cur = self.conn.execute(f'SELECT * FROM "{k.name}" WHERE uuid IN ({marks})', chunk)
            columns = [d[0] for d in cur.description]
            for row in cur:
                stored = dict(zip(columns, row, strict=True))
                out[stored["uuid"]] = stored
        return out


def _taken_values(k: Kind, ch: Pulled) -> dict[str, Any]:
    """The pulled fields this device takes, in stored form: those with local changes still
    waiting (`keep`) and names from a newer server (not guessed) are left out."""
    out: dict[str, Any] = {}
    forms = _stored_forms(k)
    keep = ch.keep
    for name, value in ch.fields.items():
        if name in keep:
            continue
        if name == "deleted":
            out["deleted"] = 1 if value else 0
        elif name in forms:
            form = forms[name]
            out[name] = value if form is None or value is None else form(value)
    return out


_STORED_FORMS: dict[int, tuple[Kind, dict[str, Callable[[Any], Any] | None]]] = {}  # by id(Kind)


def _stored_forms(k: Kind) -> dict[str, Callable[[Any], Any] | None]:
    """(wire form -> stored form, None where they are the same) of each field (from_wire)."""
    known = _STORED_FORMS.get(id(k))
    if known is None:
        known = _STORED_FORMS[id(k)] = (k, {
            f.name: (lambda v, f=f: from_wire(f, v)) if f.type in ("geom", "json") else None
            for f in k.fields})
    return known[1]


def _outline_facts(k: Kind, taken: list[dict[str, Any]]) -> dict[int, polygons.GeometryFacts]:
    """GeometryFacts by id of the outlines a run of pulled changes brings, decoded at once."""
    wkbs = [values[f.name] for f in k.fields if f.type == "geom"
            for values in taken if values.get(f.name) is not None]
    if not wkbs:
        return {}
    from .geo import polygons

    return polygons.facts_of_wkbs(wkbs)


@dataclass(frozen=True, slots=True)
class Pulled:
    """One change the server sent, as this device takes it (Store.apply_pulled_many)."""

    kind: str
    record: str
    op: str
    fields: dict[str, Any]  # wire form
    rev: int  # the server's revision
    user: str
    device: str
    at: str
    keep: frozenset[str] = frozenset()  # fields with local changes still waiting to be pushed


class _Inserts:
    """A batch's new rows of one kind, inserted INSERT_CHUNK to a statement instead of one each.
    A row the table refuses (a taken UUID) is named by its position in the batch."""

    def __init__(self, k: Kind) -> None:
        self.kind = k
        self.names = _columns(k)
        self.values_of = _getter(self.names)
        self.columns: tuple[str, ...] = ()  # the columns the rows held give a value
        self.given: list[bool] = []  # which of `names` those are
        self.rows: list[list[Any]] = []
        self.positions: list[int] = []

    def add(self, conn: sqlite3.Connection, new: dict[str, Any], position: int) -> None:
        # Only the columns that hold a value: the driver's cost is per bound parameter (a parcel
        # has 32 columns, an imported one half of them filled), and a column left out is NULL
        # (no record column has another default but `deleted`, which is always given).
        values = self.values_of(new)
        given = list(map(operator.is_not, values, itertools.repeat(None)))
        if given != self.given:
            self.flush(conn)
            self.columns, self.given = tuple(itertools.compress(self.names, given)), given
        self.rows.append(list(itertools.compress(values, given)))
        self.positions.append(position)
        if len(self.rows) >= INSERT_CHUNK:
            self.flush(conn)

    def flush(self, conn: sqlite3.Connection) -> None:
        if not self.rows:
            return
        rows, positions = self.rows, self.positions
        self.rows, self.positions = [], []
        before = conn.total_changes
        try:
            conn.executemany(_insert_for(self.kind.name, self.columns), rows)
        except sqldriver.IntegrityError as refusal:
            if "UNIQUE" not in str(refusal):
                raise  # not a taken UUID (validation checks references before this)
            # The rows before the refused one went in (record tables have no insert triggers).
            done = min(max(conn.total_changes - before, 0), len(rows) - 1)
            err = ValidationError(f"{self.kind.label}记录已存在（{rows[done][0]}）。")
            err.batch_index = positions[done]
            raise err from None


Author = tuple[str, str, str]  # user, device, time
Written = tuple[str, str, frozenset[str]]  # kind, uuid, names of the fields that changed


# Statements built once per kind and column list (tests open files at older schema versions).
@cache
def _column_names(field_names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(SYSTEM_COLUMNS) + field_names


def _columns(k: Kind) -> tuple[str, ...]:
    return _column_names(k.field_names)


@cache
def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return operator.itemgetter(*names)


@cache
def _insert_for(kind_name: str, columns: tuple[str, ...]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{kind_name}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'


@cache
def _update_for(kind_name: str, field_names: tuple[str, ...]) -> str:
    assignments = ", ".join(f'"{c}"=?' for c in _column_names(field_names))
    return f'UPDATE "{kind_name}" SET {assignments} WHERE uuid=?'


@cache
def _blank(field_names: tuple[str, ...]) -> dict[str, None]:
    """A new record before its values: every field None (copied for each one)."""
    return dict.fromkeys(field_names)


def _update_sql(k: Kind) -> str:
    return _update_for(k.name, k.field_names)


Changes = dict[str, list[Any]]


def plan_write(queries: RecordQueries, k: Kind, record_uuid: str, op: str, values: dict[str, Any],
               old: dict[str, Any] | None, *, base_rev: int | None = None,
               prechecked: dict[int, Any] | None = None, shapes: dict[int, Any] | None = None
               ) -> tuple[dict[str, Any] | None, dict[str, Any], Changes | None]:
    """Validate one change against the stored row `old`: (old, new, changes), changes None when
    the write would change nothing. Raises before anything is written. The laptop's store and the
    server's PostgreSQL store both write through this."""
    if op == "create" and old is not None:
        raise ValidationError(f"{k.label}记录已存在（{record_uuid}）。")
    if op != "create":
        if old is None or (old["deleted"] and op != "restore"):
            raise NotFoundError(f"找不到{k.label}记录（{record_uuid}），可能已被删除。")
        if op == "restore" and not old["deleted"]:
            return old, old, None
        if base_rev is not None and base_rev != old["rev"]:
            raise ConflictError(
                f"该{k.label}在您编辑期间已被修改（版本 {base_rev} → {old['rev']}），请刷新后重试。")
    new = dict(old) if op != "create" else _blank(k.field_names).copy()
    new.update(normalize(k, values, prechecked, shapes))
    if op in ("create", "update", "restore"):
        new["deleted"] = 0
        _validate(queries, k, new, old if op != "create" else None, record_uuid)
    else:
        new["deleted"] = 1
    changes = _diff(k, old, new)
    if op == "update" and not changes:
        return old, new, None
    return old, new, changes


def wire_values(k: Kind, fields: dict[str, Any]) -> dict[str, Any]:
    """A pushed change's fields (wire form) as a caller gives them to create/update: unknown
    names (a newer laptop's) and derived fields left out, the latter recomputed by the rules."""
    return {name: _user_form(k.field(name), value) for name, value in fields.items()
            if name in k.field_names and not k.field(name).derived}


def normalize(k: Kind, values: dict[str, Any], prechecked: dict[int, Any] | None = None,
              shapes: dict[int, Any] | None = None) -> dict[str, Any]:
    """Plain type checks; domain rules come after, in validation.py. The batch path's
    `prechecked`: GeometryFacts (WKB, area, bbox) by id of the outlines it checked at once;
    `shapes`: filled with the facts of each WKB written (see SqlQueries.outline_facts)."""
    prechecked = prechecked or {}
    specs = _field_specs(k)
    out: dict[str, Any] = {}
    for name, value in values.items():  # runs for every value a bulk write takes: no imports here
        spec = specs.get(name)
        if spec is None:
            if name in SYSTEM_COLUMNS:
                raise ValidationError(f"字段“{name}”由系统维护，不能直接修改。", name)
            raise ValidationError(f"{k.label}没有字段“{name}”。", name)
        f, kind_of, limit, choices = spec
        if f.derived:
            raise ValidationError(f"“{f.label}”由系统计算，不能直接填写。", name)
        if type(value) is str:  # most values a bulk write takes: text, already text
            value = value.strip()
            if not value:
                out[name] = None
                continue
            if kind_of != "text":
                value = _typed(f, kind_of, value, prechecked, shapes)
        else:
            if isinstance(value, str):
                value = value.strip()
            # Not `value == ""`: an outline's == costs a microsecond, twice for each parcel imported.
            if value is None or (isinstance(value, (str, list)) and not value):
                out[name] = None
                continue
            value = str(value) if kind_of == "text" else _typed(f, kind_of, value, prechecked, shapes)
        if limit is not None and len(value) > limit:
            _too_long(f, value, limit)
        if choices and value not in choices:
            raise ValidationError(
                f"“{f.label}”只能是：{'、'.join(choices)}；实为“{value}”。", name)
        out[name] = value
    return out


FieldSpec = tuple[Field, str, "int | None", "tuple[str, ...] | None"]
_FIELD_SPECS: dict[int, tuple[Kind, dict[str, FieldSpec]]] = {}  # by id of the Kind, kept alive


def _field_specs(k: Kind) -> dict[str, FieldSpec]:
    """(field, type, maximum length, choices) of each field by name, worked out once per kind
    instead of for every value a bulk write takes."""
    known = _FIELD_SPECS.get(id(k))
    if known is None:
        known = _FIELD_SPECS[id(k)] = (k, {f.name: (f, f.type, f.max_length, f.choices)
                                           for f in k.fields})
    return known[1]


def _typed(f: Field, kind_of: str, value: Any, prechecked: dict[int, Any],
           shapes: dict[int, Any] | None) -> Any:
    """A non-empty value of a field that is not text, in its stored form (or refused)."""
    name = f.name
    if kind_of == "int":
        if isinstance(value, bool):
            raise ValidationError(f"“{f.label}”应为整数。", name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"“{f.label}”应为整数，实为“{value}”。", name) from None
    if kind_of == "real":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"“{f.label}”应为数字，实为“{value}”。", name) from None
        if not math.isfinite(value):
            raise ValidationError(f"“{f.label}”不是有效数字。", name)
        return value
    if kind_of == "date":
        from .rules import dates

        return dates.parse_date(value, name).isoformat()
    if kind_of == "json":
        if not isinstance(value, (list, dict)):
            raise ValidationError(f"“{f.label}”应为列表。", name)
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if kind_of == "geom":
        facts = prechecked.get(id(value))
        if facts is not None:
            if shapes is not None:
                shapes[id(facts[0])] = facts
            return facts[0]
        from .geo import polygons

        return polygons.to_wkb(polygons.check_polygon(value))
    return value


def _diff(k: Kind, old: dict[str, Any] | None, new: dict[str, Any]) -> Changes:
    # Runs for every record a batch writes: one pass, no look-ups by name, wire form only where
    # it differs from the stored one.
    if old is None:
        changes = {name: [None, value if wire is None else wire(value)]
                   for name, wire in _wire_forms(k) if (value := new[name]) is not None}
        changes["deleted"] = [None, new["deleted"]]
        return changes
    changes = {}
    for name, wire in _wire_forms(k):
        was, now = old.get(name), new[name]
        if was != now:
            changes[name] = ([was, now] if wire is None else
                             [None if was is None else wire(was), None if now is None else wire(now)])
    if old["deleted"] != new["deleted"]:
        changes["deleted"] = [old["deleted"], new["deleted"]]
    return changes


WireForms = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_WIRE_FORMS: dict[int, tuple[Kind, WireForms]] = {}  # by id of the Kind, which it keeps alive


def _wire_forms(k: Kind) -> WireForms:
    """(name, stored form -> wire form, None where they are the same) of each field (to_wire)."""
    known = _WIRE_FORMS.get(id(k))
    if known is None:
        known = _WIRE_FORMS[id(k)] = (k, tuple(
            (f.name, (lambda v, f=f: to_wire(f, v)) if f.type in ("geom", "json") else None)
            for f in k.fields))
    return known[1]


def _too_long(f: Field, value: Any, limit: int) -> None:
    """The schema's maximum length (schema.MAX_LENGTH), the same on the laptop and the server."""
    if f.type == "geom":
        raise ValidationError(f"“{f.label}”的顶点过多（{len(value) // 16} 个以上），"
                              f"超过 {limit // 16} 个的上限，请简化后再保存。", f.name)
    if f.type == "json":
        raise ValidationError(f"“{f.label}”内容过长（{len(value)} 字），最多 {limit} 字。", f.name)
    raise ValidationError(f"“{f.label}”最多 {limit} 字，实有 {len(value)} 字。", f.name)


def _user_form(f: Field, value: Any) -> Any:
    """A wire value as a caller would give it to create/update (geometry as WKB bytes)."""
    if value is not None and f.type == "geom":
        return bytes.fromhex(value)
    return value


def _validate(queries: RecordQueries, k: Kind, new: dict[str, Any], old: dict[str, Any] | None,
              record_uuid: str) -> None:
    _rules().validate(queries, k.name, new, old, record_uuid)


@cache
def _rules() -> Any:
    """validation, imported once it is first needed (it imports the store's neighbours; an
    import statement in _validate would cost a look-up for every record a batch writes)."""
    from . import validation

    return validation


class _JoinedStore(Store):
    """The ordinary store, writing inside a migration's transaction instead of its own."""

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            yield
