"""The server's store on PostgreSQL (psycopg 3 with a connection pool): the same interface as the
SQLite `db.ServerDB`, for a prefecture's townships and several worker processes on one database.

The change feed never skips a row: a write block of a township first takes that township's
advisory lock (`pg_advisory_xact_lock`, held to commit), and every change it logs takes the next
number of the township's counter (`srv_feed.seq`) inside the lock. So within a township numbers
are given in commit order: when a reader sees number n, every number below n is committed and
visible too, and a cursor (one per township) never passes a row still being written. Writers of
different townships take different locks and do not wait for each other; logins, tokens, the
audit log and photo uploads take no township lock at all. There is no process-wide lock.

Every record write goes through the core's `plan_write` (normalisation and the domain rules of
`wq_desktop.validation`, asked through the core's `SqlQueries`), then the row, then the township's history
chain (the core's `entry_hash`), as the laptop's store does. A write block's session
(`pg_session.PgSession`) reads the counter and the chain's head once, inside the lock, and
writes them back with the block's held rows at COMMIT.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from wq_desktop import history
from wq_desktop.store import utc_now

from . import pg_schema
from .db import AUTHOR_DDL, FEED_COLUMNS, SERVER_SCHEMA, feed_rows
from .pg_session import PgSession


class PgServerDB:
    """The open PostgreSQL server database: a pool of connections shared by request threads."""

    backend = "postgresql"
    errors: tuple[type[BaseException], ...] = (psycopg.Error,)

    def __init__(self, url: str, *, pool_size: int = 10, photos: Path | None = None) -> None:
        self.url = url
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=60,
                                   kwargs={"autocommit": False})
        self._ensure_schema()
        if photos is not None:
            self._set_photo_folder(Path(photos).resolve())
        self._blob_dir: Path | None = None

    def _ensure_schema(self) -> None:
        """Tables and columns the schema declares and the database lacks, on every start: a
        kind or field added to wq_desktop/schema.py reaches the server as it reaches laptops."""
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(0)")  # workers starting together
            new = conn.execute("SELECT to_regclass('srv_meta')").fetchone()[0] is None
            for statement in (*pg_schema.all_ddl(), *AUTHOR_DDL):
                conn.execute(statement)
            existing = set(conn.execute("SELECT table_name, column_name FROM information_schema.columns"
                                        " WHERE table_schema = current_schema()").fetchall())
            for statement in pg_schema.added_columns(existing):
                conn.execute(statement)
            if new:
                for statement in pg_schema.foreign_keys():
                    conn.execute(statement)
                conn.execute("INSERT INTO srv_meta (key, value) VALUES ('server_schema', %s),"
                             " ('created_at', %s)", (str(SERVER_SCHEMA), utc_now()))

    def _set_photo_folder(self, folder: Path) -> None:
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO srv_meta (key, value) VALUES ('photo_dir', %s)"
                         " ON CONFLICT (key) DO UPDATE SET value=excluded.value", (str(folder),))

    @property
    def blob_dir(self) -> Path:
        """Photos stay files (stored once by SHA-256): the folder is kept in the database, so
        every worker and every admin command finds the same one (`--photos` sets it)."""
        if self._blob_dir is None:
            folder = self.meta("photo_dir")
            if folder is None:
                from wq_desktop.errors import WqError

                raise WqError("PostgreSQL 服务器尚未指定照片文件夹，请用 --photos 指定。")
            self._blob_dir = Path(folder)
        return self._blob_dir

    def meta(self, key: str) -> str | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT value FROM srv_meta WHERE key=%s", (key,)).fetchone()
        return row[0] if row else None

    @property
    def disk_folder(self) -> Path:
        return self.blob_dir

    @property
    def key_base(self) -> Path:
        """What `server_key` keeps the package key beside: in the photo folder, which is backed
        up with the database (docs/server.md), never served (photos are named by SHA-256)."""
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        return self.blob_dir / "server"

    def feed_position(self) -> dict[str, int]:
        """Each township's feed counter: the change feed's head, in one small read (the office
        replica compares it with its cursor before every page of the web view)."""
        with self.pool.connection() as conn:
            return dict(conn.execute("SELECT township, seq FROM srv_feed").fetchall())

    def durable(self) -> None:
        pass  # synchronous_commit is on by default: a commit is on disk when it returns

    @contextmanager
    def writing(self, township: str | None = None) -> Iterator[PgSession]:
        """One write transaction; with a township, under that township's lock (see module doc)."""
        with self.pool.connection() as conn:
            if township is not None:
                with conn.pipeline():  # BEGIN, the lock and the counter's row: one round trip
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (township,))
                    conn.execute("INSERT INTO srv_feed (township, hist_hash) VALUES (%s, %s)"
                                 " ON CONFLICT (township) DO NOTHING", (township, history.GENESIS))
            session = PgSession(conn, township)
            yield session
            session.commit()

    @contextmanager
    def reading(self) -> Iterator[PgSession]:
        """Reads, each statement on its own (READ COMMITTED gives a transaction of them no more
        than that): no BEGIN and no COMMIT to wait for."""
        with self.pool.connection() as conn:
            conn.autocommit = True
            try:
                yield PgSession(conn, None)
            finally:
                if not conn.closed:
                    conn.autocommit = False

    def verify_history(self) -> list[history.ChainProblem]:
        """Every break of a township's history chain (the checks of `history.verify_chain`), and
        every chain whose end is not the head its township's counter holds."""
        problems: list[history.ChainProblem] = []
        with self.pool.connection() as conn:
            heads = dict((t, (s, h)) for t, s, h in conn.execute(
                "SELECT township, hist_seq, hist_hash FROM srv_feed"))
            cur = conn.execute(
                'SELECT township, seq, at, "user", device, kind, record, op, rev, changes, prev_hash,'
                " hash FROM srv_history ORDER BY township, seq")
            town, prev, expected = None, history.GENESIS, 1
            for t, seq, at, user, device, kind_, record, op, rev, changes, prev_hash, digest in cur:
                if t != town:
                    town, prev, expected = t, history.GENESIS, 1
                if seq != expected:
                    problems.append(history.ChainProblem(seq, record, f"乡镇 {t} 的变更历史缺少第"
                                                         f" {expected} 条至第 {seq - 1} 条"))
                if prev_hash != prev:
                    problems.append(history.ChainProblem(seq, record, f"乡镇 {t} 的变更历史第 {seq}"
                                                         " 条与前一条的链接不符"))
                if history.entry_hash(prev_hash, seq, at, user, device, kind_, record, op, rev,
                                      changes) != digest:
                    problems.append(history.ChainProblem(seq, record, f"乡镇 {t} 的变更历史第 {seq}"
                                                         " 条的内容被改写（哈希不符）"))
                prev, expected = digest, seq + 1
                if heads.get(t) == (seq, digest):
                    heads.pop(t)
            for t, (seq, _) in heads.items():
                if seq:
                    problems.append(history.ChainProblem(seq, t, f"乡镇 {t} 的变更历史末尾被删除"))
        return problems

    def pull(self, township: str | None, device: str, after: Any, limit: int) -> dict[str, Any]:
        """One township's changes after its cursor, or (township None: the city office) every
        township's after a cursor per township ({township: seq} as JSON text)."""
        with self.pool.connection() as conn:
            if township is not None:
                after = int(after)
                with conn.pipeline():  # BEGIN, the snapshot and both reads: one round trip
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    page = conn.execute(
                        f"SELECT {FEED_COLUMNS} FROM srv_change WHERE township=%s AND seq>%s"
                        " AND device<>%s ORDER BY seq LIMIT %s", (township, after, device, limit))
                    head = conn.execute("SELECT seq FROM srv_feed WHERE township=%s", (township,))
                rows, top = page.fetchall(), head.fetchone()
                more = len(rows) == limit
                cursor = rows[-1][0] if more else max(top[0] if top else 0, after)
                return {"changes": feed_rows(rows), "cursor": cursor, "more": more}
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return self._pull_every_township(conn, device, after, limit)

    def _pull_every_township(self, conn: psycopg.Connection, device: str, after: Any,
                             limit: int) -> dict[str, Any]:
        cursors = office_cursor(after)
        # Township by township along each one's (township, seq) key: a range read per township.
        rows = conn.execute(
            f"SELECT f.township, c.* FROM srv_feed f CROSS JOIN LATERAL (SELECT {FEED_COLUMNS}"
            " FROM srv_change c WHERE c.township = f.township AND c.device<>%s AND c.seq > coalesce("
            " (%s::jsonb ->> f.township)::bigint, %s) ORDER BY c.seq LIMIT %s) c"
            " ORDER BY f.township, c.seq LIMIT %s",
            (device, json.dumps(cursors["by_township"]), cursors["rest"], limit, limit)).fetchall()
        more = len(rows) == limit
        by_township = dict(cursors["by_township"])
        if more:
            for r in rows:
                by_township[r[0]] = r[1]
            rest = cursors["rest"]
        else:
            tops = conn.execute("SELECT township, seq FROM srv_feed").fetchall()
            by_township.update({t: max(s, cursors["rest"]) for t, s in tops})
            rest = cursors["rest"]
        return {"changes": feed_rows([r[1:] for r in rows]),
                "cursor": json.dumps({"by_township": by_township, "rest": rest}, sort_keys=True),
                "more": more}

    def close(self) -> None:
        self.pool.close()


def office_cursor(after: Any) -> dict[str, Any]:
    """The city office's cursor: a seq per township; a plain number (a laptop that synced with
    the SQLite server before the move) stands for that number in every township."""
    if isinstance(after, int) or (isinstance(after, str) and after.isdigit()):
        return {"by_township": {}, "rest": int(after)}
    try:
        value = json.loads(after)
        return {"by_township": {str(k): int(v) for k, v in value["by_township"].items()},
                "rest": int(value.get("rest", 0))}
    except (ValueError, KeyError, TypeError, AttributeError):
        from wq_desktop.errors import ValidationError

        raise ValidationError("下载位置格式不正确，请重新同步。") from None
