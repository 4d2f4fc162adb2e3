"""Append-only, hash-chained change history.

Every write appends one entry (who, when, which record, each field old → new) in the same
transaction as the write. Each entry's hash covers the previous entry's hash, so rewriting or
deleting any entry breaks the chain from there on; `verify` finds it, and also finds records whose
current values no longer match what their history says (a change made behind the core's back).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import json_text
from .model import RecordOp

GENESIS = "0" * 64

# One statement per item: they run inside the migration transaction (executescript would commit).
HISTORY_DDL = (
    """CREATE TABLE history (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    record TEXT NOT NULL,
    op TEXT NOT NULL,
    rev INTEGER NOT NULL,
    changes TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
)""",
    "CREATE INDEX history_record ON history(record, seq)",
    """CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, '变更历史只能追加，不能修改'); END""",
    """CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, '变更历史只能追加，不能删除'); END""",
)


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: str
    user: str
    device: str
    kind: str
    record: str
    op: str  # a RecordOp value
    rev: int
    changes: dict[str, list[Any]]  # field -> [old, new]


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    record: str
    message: str


_canonical = json_text.canonical
_OPS = {op.value: op.value for op in RecordOp}


def entry_hash(prev_hash: str, seq: int, at: str, user: str, device: str, kind: str, record: str,
               op: str, rev: int, changes_json: str) -> str:
    parts = (prev_hash, seq, at, user, device, kind, record, op, rev, changes_json)
    if (type(seq) is int and type(rev) is int and type(prev_hash) is str and type(at) is str
            and type(user) is str and type(device) is str and type(kind) is str
            and type(record) is str and type(op) is str and type(changes_json) is str):
        # The same text _canonical writes for this list, without json.dumps's per-call set-up
        # (it runs for every record a bulk path writes; tests compare both forms).
        text = _encode_str
        payload = (f"[{text(prev_hash)},{seq},{text(at)},{text(user)},{text(device)},{text(kind)},"
                   f"{text(record)},{text(op)},{rev},{text(changes_json)}]")
    else:
        payload = _canonical(list(parts))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_encode_str = json.encoder.encode_basestring  # what json.dumps uses for str with ensure_ascii=False


class Appender:
    """Appends entries while the caller holds one write transaction, keeping the chain's head in
    memory and writing the rows in one statement at `flush` (the batch path's history)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        last = conn.execute("SELECT seq, hash FROM history ORDER BY seq DESC LIMIT 1").fetchone()
        self.seq, self.prev = (last[0], last[1]) if last else (0, GENESIS)
        self.rows: list[tuple[Any, ...]] = []

    def add(self, *, at: str, user: str, device: str, kind: str, record: str, op: str, rev: int,
            changes: dict[str, list[Any]]) -> int:
        """`op` must be a RecordOp: an operation the views do not know would make the record's
        history unreadable."""
        # ValueError for anything outside the one vocabulary; plain text for its members
        op = _OPS.get(op) or RecordOp(op).value
        self.seq += 1
        changes_json = _canonical(changes)
        digest = entry_hash(self.prev, self.seq, at, user, device, kind, record, op, rev,
                            changes_json)
        self.rows.append((self.seq, at, user, device, kind, record, op, rev, changes_json,
                          self.prev, digest))
        self.prev = digest
        return self.seq

    def flush(self) -> None:
        self.conn.executemany(
            "INSERT INTO history (seq, at, user, device, kind, record, op, rev, changes, prev_hash, hash)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)", self.rows)
        self.rows = []


def append(conn: sqlite3.Connection, *, at: str, user: str, device: str, kind: str, record: str,
           op: str, rev: int, changes: dict[str, list[Any]]) -> int:
    """Append one entry; the caller holds the write transaction."""
    appender = Appender(conn)
    seq = appender.add(at=at, user=user, device=device, kind=kind, record=record, op=op, rev=rev,
                       changes=changes)
    appender.flush()
    return seq


def _row_to_entry(row: sqlite3.Row | tuple) -> HistoryEntry:
    seq, at, user, device, kind, record, op, rev, changes = row[:9]
    return HistoryEntry(seq, at, user, device, kind, record, op, rev, json.loads(changes))


def for_record(conn: sqlite3.Connection, record: str) -> list[HistoryEntry]:
    rows = conn.execute(
        "SELECT seq, at, user, device, kind, record, op, rev, changes FROM history"
        " WHERE record = ? ORDER BY seq", (record,)).fetchall()
    return [_row_to_entry(r) for r in rows]


def iter_entries(conn: sqlite3.Connection) -> Iterator[tuple[HistoryEntry, str, str]]:
    cur = conn.execute(
        "SELECT seq, at, user, device, kind, record, op, rev, changes, prev_hash, hash"
        " FROM history ORDER BY seq")
    for row in cur:
        yield _row_to_entry(row), row[9], row[10]


def verify_chain(conn: sqlite3.Connection) -> list[ChainProblem]:
    """Recompute every hash; report the first break and every entry whose own hash is wrong."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected_seq = 1
    cur = conn.execute(
        "SELECT seq, at, user, device, kind, record, op, rev, changes, prev_hash, hash"
        " FROM history ORDER BY seq")
    for seq, at, user, device, kind, record, op, rev, changes, prev_hash, digest in cur:
        if seq != expected_seq:
            problems.append(ChainProblem(seq, record, f"变更历史缺少第 {expected_seq} 条至第 {seq - 1} 条"))
        if prev_hash != prev:
            problems.append(ChainProblem(
                seq, record, f"变更历史第 {seq} 条与前一条的链接不符（前一条被改写或删除）"))
        if entry_hash(prev_hash, seq, at, user, device, kind, record, op, rev, changes) != digest:
            problems.append(ChainProblem(seq, record, f"变更历史第 {seq} 条的内容被改写（哈希不符）"))
        prev = digest
        expected_seq = seq + 1
    return problems


def replay_by_record(conn: sqlite3.Connection) -> Iterator[tuple[str, str, int, dict[str, Any]]]:
    """(record, kind, rev, fields) of every record as its history tells them, in record order,
    one record in memory at a time (the city's whole history replayed at once took 1.8 GiB)."""
    current: str | None = None
    kind, rev, fields = "", 0, {}
    for record, entry_kind, entry_rev, changes in conn.execute(
            "SELECT record, kind, rev, changes FROM history ORDER BY record, seq"):
        if record != current:
            if current is not None:
                yield current, kind, rev, fields
            current, kind, fields = record, entry_kind, {}
        for name, (_, new) in json.loads(changes).items():
            fields[name] = new
        rev = entry_rev
    if current is not None:
        yield current, kind, rev, fields
