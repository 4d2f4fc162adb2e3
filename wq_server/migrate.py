"""`python -m wq_server migrate --from server.sqlite --to postgresql://…`: move a running city's
server from its SQLite file onto an empty PostgreSQL database, so that no laptop notices.

* records, users, tokens (devices stay signed in), the login audit, scope, aliases of refused
  duplicates and receipts (a change sent again is still applied once) are copied as they are;
* the change feed keeps every row's number: the SQLite server numbered one feed for the whole
  city, PostgreSQL numbers each township's feed, and every township's counter starts above the
  highest number given so far, so the cursor every laptop holds still means "seen up to here";
* the history is checked first (one hash chain in the file; a broken chain is refused), then
  re-chained per township in its original order with the same entry hash, and the new chains are
  verified after the copy; the old chain's length and last hash are kept in `srv_meta`;
* photo files are copied (each checked against its SHA-256) into the new server's photo folder,
  unless it is the old one, and the USB package key with them (laptops have pinned it).

A target that already holds tables or rows is refused: nothing is ever merged into a live server.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from wq_desktop import history
from wq_desktop.errors import WqError
from wq_desktop.schema import KINDS, SYSTEM_COLUMNS

from .db import ServerDB

# The server's own tables copied row for row: (table, columns).
PLAIN_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("srv_scope", ("record", "kind", "township")),
    ("srv_alias", ("record", "kind", "target")),
    ("srv_receipt", ("change_id", "device", "kind", "record", "status", "code", "reason", "conflict")),
    ("srv_user", ("name", "pw_hash", "role", "township", "created_at", "disabled")),
    ("srv_token", ("token_hash", "user", "expires_at")),
    ("srv_audit", ("id", "at", "event", "user", "address", "detail")),
    ("srv_upload", ("sha256", "user", "township", "total", "done", "at")),
    ("srv_author", ("township", "account", "signed_in", "created_at", "disabled_at",
                    "registered_by", "device", "registered_at")),
    ("srv_change_author", ("change_id", "township", "account", "pushed_by", "device", "at")),
)
CHANGE_COLUMNS = ("township", "seq", "change_id", "device", "user", "kind", "record", "op", "rev",
                  "fields", "at")


def _quoted(columns: Iterable[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _refuse_unless_empty(url: str) -> None:
    with psycopg.connect(url) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        ours = {k for k in KINDS} | {"srv_meta", "srv_feed", "srv_change", "srv_history"} | {
            t for t, _ in PLAIN_TABLES}
        foreign = sorted(set(tables) - ours)
        if foreign:
            raise WqError(f"目标数据库不是空的（已有表 {'、'.join(foreign[:5])}），未迁移。"
                          "请使用新建的空数据库。")
        for table in tables:
            if table != "srv_meta" and conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
                raise WqError(f"目标数据库不是空的（{table} 中已有数据），未迁移。请使用新建的空数据库。")


def _copy(conn: psycopg.Connection, table: str, columns: Sequence[str],
          rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    with conn.cursor().copy(f'COPY "{table}" ({_quoted(columns)}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


class Rechained:
    """The file's history as per-township chains, in the original order; `heads` holds each
    township's last (seq, hash) once `rows` has run."""

    def __init__(self, source: ServerDB, townships: dict[str, str]) -> None:
        self.source, self.townships = source, townships
        self.heads: dict[str, tuple[int, str]] = {}

    def rows(self) -> Iterable[tuple[Any, ...]]:
        for entry, _, _ in history.iter_entries(self.source.conn):
            town = self.townships.get(entry.record)
            if town is None:
                raise WqError(f"变更历史第 {entry.seq} 条的记录不属于任何乡镇，未迁移。请联系开发人员。")
            seq, prev = self.heads.get(town, (0, history.GENESIS))
            seq += 1
            changes = history._canonical(entry.changes)
            digest = history.entry_hash(prev, seq, entry.at, entry.user, entry.device, entry.kind,
                                        entry.record, entry.op, entry.rev, changes)
            self.heads[town] = (seq, digest)
            yield (town, seq, entry.at, entry.user, entry.device, entry.kind, entry.record,
                   entry.op, entry.rev, changes, prev, digest)


def _copy_photos(source: Path, target: Path) -> int:
    if source.resolve() == target.resolve() or not source.is_dir():
        return 0
    n = 0
    for part in sorted(source.glob("??/*")):
        digest = hashlib.sha256()
        with part.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != part.name:
            raise WqError(f"照片文件 {part.name[:12]}… 已损坏（摘要不符），未迁移。请先从备份恢复该照片。")
        dest = target / part.parent.name / part.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.is_file():
            shutil.copy2(part, dest)
        n += 1
    return n


def _copy_package_key(source: ServerDB, target: Any) -> None:
    """The server's USB package key moves with it: laptops have pinned its fingerprint."""
    from .server_key import key_path

    old, new = key_path(source.key_base), key_path(target.key_base)
    if old.is_file() and not new.exists():
        new.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(old, new)
        new.chmod(0o600)


def migrate(source_path: Path, url: str, photos: Path | None = None) -> str:
    """Copy the SQLite server at `source_path` into the empty database at `url`; returns the
    summary the admin sees."""
    from .pg_store import PgServerDB

    if not Path(source_path).is_file():
        raise WqError(f"服务器数据库不存在：{source_path}")
    _refuse_unless_empty(url)
    source = ServerDB(Path(source_path))
    try:
        broken = history.verify_chain(source.conn)
        if broken:
            raise WqError(f"原数据库的变更历史不完整：{broken[0].message}。未迁移。")
        folder = (photos or source.blob_dir).resolve()
        target = PgServerDB(url, pool_size=2, photos=folder)
        try:
            counts = _copy_all(source, target)
            counts["照片"] = _copy_photos(source.blob_dir, folder)
            _copy_package_key(source, target)
            problems = target.verify_history()
            if problems:
                raise WqError(f"迁移后变更历史校验失败：{problems[0].message}。请删除目标数据库后重试。")
        finally:
            target.close()
    finally:
        source.close()
    shown = "，".join(f"{name} {n}" for name, n in counts.items())
    return f"已迁移到 PostgreSQL：{shown}。变更历史已按乡镇校验无误，各设备的同步位置继续有效。"


def _copy_all(source: ServerDB, target: Any) -> dict[str, int]:
    conn_src = source.conn
    townships = dict(conn_src.execute("SELECT record, township FROM srv_scope"))
    counts: dict[str, int] = {}
    with target.pool.connection() as conn:
        records = 0
        for k in KINDS.values():
            cols = (*SYSTEM_COLUMNS, *k.field_names)
            records += _copy(conn, k.name, cols, conn_src.execute(
                f'SELECT {_quoted(cols)} FROM "{k.name}" ORDER BY rowid'))
        counts["记录"] = records
        present = {t for (t,) in conn_src.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table, cols in PLAIN_TABLES:
            if table in present:  # srv_author*: made at the first start of a server with them
                counts[table] = _copy(conn, table, cols,
                                      conn_src.execute(f"SELECT {_quoted(cols)} FROM {table}"))
        conn.execute("SELECT setval(pg_get_serial_sequence('srv_audit', 'id'),"
                     " greatest((SELECT max(id) FROM srv_audit), 1))")
        counts["同步变更"] = _copy(conn, "srv_change", CHANGE_COLUMNS, conn_src.execute(
            f"SELECT {_quoted(CHANGE_COLUMNS)} FROM srv_change ORDER BY seq"))
        chains = Rechained(source, townships)
        counts["变更历史"] = _copy(conn, "srv_history", (
            "township", "seq", "at", "user", "device", "kind", "record", "op", "rev", "changes",
            "prev_hash", "hash"), chains.rows())
        heads = chains.heads
        top = conn_src.execute("SELECT coalesce(max(seq), 0) FROM srv_change").fetchone()[0]
        towns = [t for (t,) in conn_src.execute("SELECT uuid FROM township")]
        _copy(conn, "srv_feed", ("township", "seq", "hist_seq", "hist_hash"),
              ((t, top, *heads.get(t, (0, history.GENESIS))) for t in towns))
        length, last = conn_src.execute(
            "SELECT count(*), coalesce((SELECT hash FROM history ORDER BY seq DESC LIMIT 1), '')"
            " FROM history").fetchone()
        conn.execute("INSERT INTO srv_meta (key, value) VALUES ('migrated_from_sqlite', %s)",
                     (f"{length} entries, last hash {last}",))
    return counts
