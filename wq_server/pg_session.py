"""One transaction on the PostgreSQL server store (`PgSession`), in few round trips: what a push
page will ask is read at once, the writes nothing reads back are held and sent together, and a
change's savepoint travels with its first statement (see the class doc). The same interface as
the SQLite `db.Session`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import psycopg

from wq_desktop import history
from wq_desktop.model import RecordOp
from wq_desktop.record_queries import NoBatch, SqlQueries
from wq_desktop.schema import KINDS, SYSTEM_COLUMNS, Kind, kind
from wq_desktop.store import Changes, plan_write, utc_now, wire_values

from .db import (
    ADD_ALIAS,
    ADD_RECEIPT,
    ADD_SCOPE,
    ALIAS_OF,
    KNOWN_AUTHOR,
    RECEIPT_OF,
    SCOPE_OF,
    first_row,
    first_value,
)

Row = dict[str, Any]


@cache
def pg_sql(sql: str) -> str:
    """The server's portable SQL (`?` placeholders) in psycopg's form."""
    return sql.replace("%", "%%").replace("?", "%s")


@cache
def _columns(kind_name: str) -> tuple[str, ...]:
    """A record table's columns, in the order every statement here names them (a row is zipped
    with these: psycopg builds a description object per column each time it is asked)."""
    return (*SYSTEM_COLUMNS, *KINDS[kind_name].field_names)


@cache
def _column_list(kind_name: str) -> str:
    return ", ".join(f'"{c}"' for c in _columns(kind_name))


def _row(kind_name: str, row: Any) -> Row | None:
    return dict(zip(_columns(kind_name), row, strict=True)) if row is not None else None


@cache
def _select_sql(kind_name: str, many: bool = False) -> str:
    return (f'SELECT {_column_list(kind_name)} FROM "{kind_name}"'
            f' WHERE uuid {"= ANY(%s)" if many else "= %s"}')


@cache
def _insert_sql(kind_name: str) -> str:
    return (f'INSERT INTO "{kind_name}" ({_column_list(kind_name)})'
            f' VALUES ({", ".join(["%s"] * len(_columns(kind_name)))}) RETURNING {_column_list(kind_name)}')


@cache
def _update_sql(kind_name: str) -> str:
    return (f'UPDATE "{kind_name}" SET {", ".join(f"{chr(34)}{c}{chr(34)}=%s" for c in _columns(kind_name))}'
            f" WHERE uuid=%s RETURNING {_column_list(kind_name)}")


@cache
def _dependents_sql(kind_name: str) -> tuple[str, int]:
    """One statement for every live record that refers to a record of this kind, and how many
    times it takes the record's UUID."""
    parts = [f"SELECT '{other.name}', uuid FROM \"{other.name}\" WHERE \"{f.name}\"=%s AND deleted=0"
             for other in KINDS.values() for f in other.fields if f.ref == kind_name]
    if kind_name in ("patrol", "notice"):
        parts.append("SELECT 'photo', uuid FROM photo WHERE owner=%s AND deleted=0")
    return " UNION ALL ".join(parts), len(parts)


_HISTORY = ('INSERT INTO srv_history (township, seq, at, "user", device, kind, record, op, rev,'
            " changes, prev_hash, hash) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)")
_CHANGE = ('INSERT INTO srv_change (township, seq, change_id, device, "user", kind, record, op, rev,'
           " fields, at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)")
_MISSING = object()


@cache
def _names_server_table(sql: str) -> bool:
    """Whether a statement may read what the session holds back (the server's own tables)."""
    return "srv_" in sql


class _LiveRows(dict):
    """The rules' view of the rows a session holds (SqlQueries' batch cache): a live row, or None
    for a deleted or absent one. It learns rows from the session only, never from the rules."""

    def __init__(self, rows: dict[tuple[str, str], Row | None]) -> None:
        super().__init__()
        self.rows = rows

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __getitem__(self, key: tuple[str, str]) -> Row | None:
        row = self.rows[key]
        return dict(row) if row is not None and not row["deleted"] else None

    def __setitem__(self, key: tuple[str, str], value: Any) -> None:
        pass


class PgSession:
    """One transaction on PostgreSQL; `township` is the township whose lock it holds (None:
    a write that touches no record and no feed, such as a login).

    A push costs few round trips. Under the township's lock nothing else writes the township's
    rows, its feed counter or its history head, so the session reads at once what a page's
    changes will ask (`read_ahead`: receipts, aliases, scopes, rows, the feed's head) and keeps
    what the page writes; rows of other townships it holds as they were when the page began,
    which is all a change needs to be refused as another township's. The writes nothing in the
    push reads back (history, feed, scope, receipts, authors) are held and sent together with
    the next statement, in one pipeline, and the last of them with COMMIT. A change's savepoint
    goes out with its first statement; a change that needs no statement needs none."""

    transient: tuple[type[BaseException], ...] = (psycopg.OperationalError,)  # as db.Session's

    def __init__(self, conn: psycopg.Connection, township: str | None) -> None:
        self.pg = conn
        self.township = township
        self._rows: dict[tuple[str, str], Row | None] = {}
        self._receipts: dict[str, tuple | None] = {}
        self._aliases: dict[str, str | None] = {}
        self._scopes: dict[str, str | None] = {}
        self._authors: dict[tuple[str | None, str], bool] = {}
        self._head: list[Any] | None = None  # [seq, hist_seq, hist_hash], once read
        self._head_moved = False
        self._held: list[tuple[str, Any]] = []
        self._release = False  # a savepoint to release with the next statement
        self._change: int | None = None  # where the current change's held writes begin
        self._savepoint = False  # the current change's savepoint has been sent
        self._undo: list[tuple[Any, Any, Any]] = []
        # The rules' questions: the core's own SQL, through this session's placeholders, with
        # the rows it holds (record rows are written at once: nothing is held back from them).
        self.queries = SqlQueries(self, batch=NoBatch(row_cache=(_LiveRows(self._rows), None)),
                                  null_safe=("IS NOT DISTINCT FROM", "IS DISTINCT FROM"))

    # ------------------------------------------------------------------ statements
    def _send(self, sql: str, params: Any = None) -> Any:
        """One statement, in the same round trip as BEGIN, the savepoints owed and, when it reads
        a server table, every write held; its cursor."""
        flush = bool(self._held) and _names_server_table(sql)
        savepoint = self._change is not None and not self._savepoint
        idle = (not self.pg.autocommit  # BEGIN goes first
                and self.pg.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
        if not (self._release or flush or savepoint or idle):
            return self.pg.execute(sql, params)
        with self.pg.pipeline():
            self._write_held(savepoint, flush)
            cur = self.pg.execute(sql, params)
        return cur

    def _write_held(self, savepoint: bool, flush: bool) -> None:
        """Inside a pipeline: the owed RELEASE, the earlier changes' held writes, the current
        change's savepoint, then its own held writes. The earlier changes' go out before the
        savepoint even when this statement reads none of them: sent later, inside it, a
        rollback of this change would undo them too."""
        if self._release:
            self.pg.execute("RELEASE SAVEPOINT one_change")
            self._release = False
        start = len(self._held) if self._change is None else self._change
        if (flush or savepoint) and start:
            self._write(self._held[:start])
            del self._held[:start]
            if self._change is not None:
                self._change = 0
        if savepoint:
            self.pg.execute("SAVEPOINT one_change")
            self._savepoint = True
        if flush and self._held:
            self._write(self._held)
            self._held = []

    def _write(self, held: list[tuple[str, Any]]) -> None:
        by_sql: dict[str, list[Any]] = {}
        for sql, params in held:
            by_sql.setdefault(sql, []).append(params)
        with self.pg.cursor() as cur:
            for sql, rows in by_sql.items():
                cur.executemany(sql, rows)

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self._send(pg_sql(sql), params)

    def hold(self, sql: str, params: Any) -> None:
        """A write nothing in this push reads back through a cache: sent with the next statement
        (which sees it, as every statement after it in the transaction does)."""
        self._held.append((pg_sql(sql), params))

    def commit(self) -> None:
        """What is still held, the feed's new head and COMMIT, in one round trip."""
        if self._head_moved:
            seq, hist_seq, hist_hash = self._head
            self._held.append(("UPDATE srv_feed SET seq=%s, hist_seq=%s, hist_hash=%s WHERE township=%s",
                               (seq, hist_seq, hist_hash, self.township)))
        if self._held or self._release:
            with self.pg.pipeline():
                self._write_held(False, True)
                self.pg.commit()
        else:
            self.pg.commit()

    @contextmanager
    def one_change(self) -> Iterator[None]:
        """One change applied whole or not at all: its savepoint, its held writes and what the
        session learnt from it are undone together."""
        self._change, self._savepoint, self._undo = len(self._held), False, []
        try:
            yield
        except (*self.transient, OSError):
            raise  # the connection is gone: the whole push fails
        except Exception:
            del self._held[self._change:]
            for table, key, old in reversed(self._undo):
                if old is _MISSING:
                    table.pop(key, None)
                else:
                    table[key] = old
            if self._savepoint:
                self.pg.execute("ROLLBACK TO SAVEPOINT one_change")
                self._release = True
            raise
        else:
            self._release = self._release or self._savepoint
        finally:
            self._change, self._savepoint, self._undo = None, False, []

    def _learn(self, table: dict, key: Any, value: Any) -> None:
        if self._change is not None:
            self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    # ------------------------------------------------------------------ read ahead
    def read_ahead(self, change_ids: list[str], records: dict[str | None, set[str]]) -> None:
        """Read at once what a page's changes will ask one by one (see the class doc)."""
        uuids = sorted(set().union(*records.values())) if records else []
        with self.pg.pipeline():
            self._write_held(False, True)
            receipts = self.pg.execute("SELECT change_id, status, code, reason, conflict FROM srv_receipt"
                                       " WHERE change_id = ANY(%s)", (change_ids,))
            aliases = self.pg.execute("SELECT record, target FROM srv_alias WHERE record = ANY(%s)",
                                      (uuids,))
            scopes = self.pg.execute("SELECT record, township FROM srv_scope WHERE record = ANY(%s)",
                                     (uuids,))
            rows = {name: self.pg.execute(_select_sql(name, many=True), (sorted(ids),))
                    for name, ids in records.items() if name is not None}
            head = self.pg.execute("SELECT seq, hist_seq, hist_hash FROM srv_feed WHERE township=%s",
                                   (self.township,)) if self.township and self._head is None else None
        found = {r[0]: tuple(r[1:]) for r in receipts}
        self._receipts.update({c: found.get(c) for c in change_ids})
        found = dict(aliases.fetchall())
        self._aliases.update({u: found.get(u) for u in uuids})
        found = dict(scopes.fetchall())
        self._scopes.update({u: found.get(u) for u in uuids})
        for name, cur in rows.items():
            found = {r[0]: _row(name, r) for r in cur}
            self._rows.update({(name, u): found.get(u) for u in records[name]})
        if head is not None:
            self._head = list(head.fetchone())

    def _cached(self, table: dict, key: Any, sql: str, read: Callable[[Any], Any]) -> Any:
        if key not in table:
            table[key] = read(self._send(pg_sql(sql), (key,)))
        return table[key]

    def receipt(self, change_id: str) -> tuple | None:
        return self._cached(self._receipts, change_id, RECEIPT_OF, first_row)

    def add_receipt(self, values: tuple) -> None:
        self.hold(ADD_RECEIPT, values)
        self._learn(self._receipts, values[0], values[4:])

    def alias_of(self, record: str) -> str | None:
        return self._cached(self._aliases, record, ALIAS_OF, first_value)

    def add_alias(self, record: str, kind_name: str, target: str) -> None:
        self.hold(ADD_ALIAS, (record, kind_name, target))
        self._learn(self._aliases, record, target)

    def scope_of(self, record: str) -> str | None:
        return self._cached(self._scopes, record, SCOPE_OF, first_value)

    def add_scope(self, kind_name: str, record: str, town: str) -> None:
        self.hold(ADD_SCOPE, (record, kind_name, town))
        if self._scopes.get(record) is None:  # a record's township, once given, stays
            self._learn(self._scopes, record, town)

    def known_author(self, township: str | None, account: str) -> bool:
        key = (township, account)
        if key not in self._authors:
            self._authors[key] = self.execute(KNOWN_AUTHOR, key).fetchone() is not None
        return self._authors[key]

    @property
    def conn(self) -> PgSession:
        """The session itself: like `db.Session.conn`, it runs the core's `?` SQL."""
        return self

    def clock(self) -> str:
        return utc_now()

    def raw(self, k: Kind, record: str) -> Row | None:
        key = (k.name, record)
        if key not in self._rows:
            self._rows[key] = _row(k.name, self._send(_select_sql(k.name), (record,)).fetchone())
        row = self._rows[key]
        return dict(row) if row is not None else None

    def dependents(self, kind_name: str, record: str) -> list[tuple[str, str]]:
        """(kind, uuid) of the live records that refer to this one (as Store.live_dependents)."""
        sql, uses = _dependents_sql(kind_name)
        return [(r[0], r[1]) for r in self._send(sql, (record,) * uses)] if uses else []

    def township_by_code(self, code: str) -> str | None:
        row = self._send("SELECT uuid FROM township WHERE code=%s AND deleted=0", (code,)).fetchone()
        return row[0] if row else None

    def township_names(self) -> dict[str, str]:
        return {u: f"{c} {n}" for u, c, n in self._send("SELECT uuid, code, name FROM township")}

    def _own(self, town: str) -> None:
        if town != self.township:
            # The feed's commit-order guarantee holds only under the township's own lock.
            raise RuntimeError(f"write for township {town} under the lock of {self.township}")

    # ------------------------------------------------------------------ writes
    def apply_change(self, kind_name: str, record: str, op: str, fields: dict[str, Any], *,
                     user: str, device: str, at: str) -> tuple[int, Changes]:
        """As `Store.apply_change`: full validation, the next revision, history under the
        change's author."""
        k = kind(kind_name)
        values = wire_values(k, fields)
        if op == "restore":
            # One write, one revision, one history entry (as Store.apply_change): the tombstone
            # lifted and the fields taken together; a restore of a live record is an update.
            row = self.raw(k, record)
            if row is not None and not row["deleted"]:
                op = "update"
        return self._apply(k, record, op, values if op != "delete" else {}, (user, device, at))

    def _apply(self, k: Kind, record: str, op: str, values: dict[str, Any],
               author: tuple[str, str, str]) -> tuple[int, Changes]:
        if self.township is None:
            raise RuntimeError("a record write needs its township's lock")
        old, new, changes = plan_write(self.queries, k, record, op, values, self.raw(k, record))
        if changes is None:
            return (old["rev"] if old else 0), {}
        user, device, at = author
        rev = old["rev"] + 1 if old else 1
        new.update(uuid=record, rev=rev, updated_at=at, updated_by=user)
        cols = _columns(k.name)
        if old is None:
            new.update(created_at=at, created_by=user)
            cur = self._send(_insert_sql(k.name), [new[c] for c in cols])
        else:
            cur = self._send(_update_sql(k.name), [*(new[c] for c in cols), record])
        self._learn(self._rows, (k.name, record), _row(k.name, cur.fetchone()))
        self._history(at=at, user=user, device=device, kind=k.name, record=record, op=op, rev=rev,
                      changes=changes)
        return rev, changes

    def _feed_head(self) -> list[Any]:
        if self._head is None:
            self._head = list(self._send("SELECT seq, hist_seq, hist_hash FROM srv_feed WHERE township=%s",
                                         (self.township,)).fetchone())
        return self._head

    def _move_head(self, seq: int | None = None, hist: tuple[int, str] | None = None) -> None:
        head = self._feed_head()
        if self._change is not None:
            self._undo.append((head, slice(0, 3), list(head)))
        if seq is not None:
            head[0] = seq
        if hist is not None:
            head[1], head[2] = hist
        self._head_moved = True

    def _history(self, *, at: str, user: str, device: str, kind: str, record: str, op: str,
                 rev: int, changes: Changes) -> None:
        """Append to the township's hash chain (same entry hash as the laptop's history)."""
        op = RecordOp(op).value
        _, seq, prev = self._feed_head()
        seq += 1
        changes_json = history._canonical(changes)
        digest = history.entry_hash(prev, seq, at, user, device, kind, record, op, rev, changes_json)
        self._held.append((_HISTORY, (self.township, seq, at, user, device, kind, record, op, rev,
                                      changes_json, prev, digest)))
        self._move_head(hist=(seq, digest))

    def log_change(self, change_id: str | None, device: str, user: str, kind_name: str, record: str,
                   town: str, op: str, rev: int, fields_json: str, at: str) -> None:
        self._own(town)
        seq = self._feed_head()[0] + 1
        self._held.append((_CHANGE, (town, seq, change_id, device, user, kind_name, record, op, rev,
                                     fields_json, at)))
        self._move_head(seq=seq)
