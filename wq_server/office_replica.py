"""The city office's read model on a PostgreSQL server: a local SQLite store of every township,
fed from the server's own change feed by the laptop's pull code, for the web view.

The desktop's queries, checks, summaries and map read a core `Store`; a PostgreSQL server has no
such file. So the server keeps one, the way an office laptop keeps its copy of the city: it
pulls the office's feed (`db.pull(None, …)`, a cursor per township, `pg_store.office_cursor`),
checks each page as a laptop checks an answer (`sync.checks.pull_page`) and stores it with the
laptop's `sync.apply.store_pulled` (the same validation and history as on a laptop).

One file per machine, shared by every worker process: each change is applied once per machine,
not once per worker (a city's copy is ~1.7 GB), and SQLite's WAL lets every worker read while one
writes. Writers take a file lock (`flock` on `<replica>.lock`, so workers and threads queue),
and a catch-up is one SQLite transaction: a page is read either before or after it, never from
a half-applied replica. Before serving a page the web view asks for `catch_up()`: one small
query on the feed's counters (`srv_feed`); only when they moved does it pull, so a page shows
every change committed before it was asked for.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wq_desktop import sqldriver
from wq_desktop.errors import WqError
from wq_desktop.store import Store
from wq_desktop.sync import apply as laptop_pull
from wq_desktop.sync import checks
from wq_desktop.sync import protocol as p

from .pg_store import PgServerDB, office_cursor

REPLICA_ENV = "WQ_WEB_REPLICA"  # `--web-replica PATH`, handed to every worker process
REPLICA_FOLDER = "web-replica"  # in the photo folder unless `--web-replica` says otherwise
REPLICA_USER = "市级网页副本"  # the replica store's own user (it never pushes anything)
REPLICA_DEVICE = "office-replica"  # what it pulls as: no laptop's device (those are UUIDs) nor the server's
REPLICA_OF = "replica_of"  # meta key: the database the replica was built from
log = logging.getLogger(__name__)


def replica_path(db: PgServerDB) -> Path:
    """Where this machine keeps the replica: `--web-replica`, else a folder of the photo folder
    (left out of its backups: docs/server.md)."""
    given = os.environ.get(REPLICA_ENV)
    return Path(given) if given else db.blob_dir / REPLICA_FOLDER / "office.sqlite"


def _positions(cursor: int | str) -> tuple[dict[str, int], int]:
    parsed = office_cursor(cursor)
    return parsed["by_township"], parsed["rest"]


def _covers(cursor: int | str, head: dict[str, int]) -> bool:
    """Whether a replica at `cursor` holds every change the feed's counters `head` count."""
    seen, rest = _positions(cursor)
    return all(seen.get(town, rest) >= seq for town, seq in head.items())


def _ahead(cursor: int | str, head: dict[str, int]) -> list[str]:
    """Townships the replica has more of than the database: it was built from another one."""
    seen, _ = _positions(cursor)
    return [town for town, seq in seen.items() if seq > head.get(town, 0)]


class OfficeReplica:
    """The replica of one PostgreSQL server database on this machine (see the module doc)."""

    def __init__(self, db: PgServerDB, path: Path | None = None) -> None:
        self.db = db
        self._path = path
        self._known: int | str | None = None  # the cursor this process last brought it to
        self._lock = threading.Lock()  # this process's threads; the file lock is for processes

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = replica_path(self.db)
        return self._path

    def catch_up(self) -> int | str:
        """Bring the replica up to the feed's head if the feed moved; returns the replica's
        position (its cursor: it changes whenever what the replica holds changes)."""
        head = self.db.feed_position()
        known = self._known
        if known is not None and _covers(known, head):
            return known
        with self._lock, self._file_lock():
            head = self.db.feed_position()  # again: another worker may have moved the replica on
            with Store.open(self.path, REPLICA_USER, create=True) as store:
                if self._wrong_origin(store, head):
                    raise WqError("网页查看副本与服务器数据库不符（数据库可能已从备份恢复）。"
                                  "请重新启动服务器，启动时会重建副本。")
                if not _covers(laptop_pull.cursor(store), head):
                    with store.transaction():  # one transaction: read before or after, never half
                        self._pull(store)
                self._known = laptop_pull.cursor(store)
        return self._known

    def build(self, say: Callable[[str], Any] = print) -> None:
        """At start-up, before any worker serves: the replica up to the feed's head, page by page
        (a city's first build is long; an interrupted one goes on from its cursor), built anew
        when it came from another database (a restore from an older dump, say)."""
        with self._lock, self._file_lock():
            head = self.db.feed_position()
            if self.path.exists():
                try:
                    with Store.open(self.path, REPLICA_USER) as store:
                        wrong = self._wrong_origin(store, head)
                except (WqError, sqldriver.DatabaseError):  # a damaged copy: it is only a cache
                    wrong = True
                if wrong:  # no worker reads it yet: safe to remove
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                    say(f"网页查看副本与数据库不符，重新建立：{self.path}")
            with Store.open(self.path, REPLICA_USER, create=True) as store:
                os.chmod(self.path, 0o600)  # every township's records, ID numbers included
                self._wrong_origin(store, head)  # marks a new one
                pulled = self._pull(store, say)
                self._known = laptop_pull.cursor(store)
        if pulled:
            say(f"网页查看副本已更新：{pulled} 条修改（{self.path}）")

    def _pull(self, store: Store, say: Callable[[str], Any] | None = None) -> int:
        """Every page the feed has after the replica's cursor, stored as a laptop stores it."""
        pulled = warned = 0
        while True:
            after = laptop_pull.cursor(store)
            page = checks.pull_page(self.db.pull(None, REPLICA_DEVICE, after, p.PULL_PAGE), after)
            warned += len(laptop_pull.store_pulled(store, page["changes"], page["cursor"]))
            pulled += len(page["changes"])
            if not page["more"]:
                break
            if say:
                say(f"正在建立网页查看副本：已下载 {pulled} 条修改…")
        if warned:  # the server accepted them with the whole city in view; a count, no names
            log.info("office replica: %d pulled changes with rule warnings", warned)
        return pulled

    def _wrong_origin(self, store: Store, head: dict[str, int]) -> bool:
        """Whether the replica came from another database, or holds more than this one (a
        restore from an older dump); a new replica is marked as this database's."""
        origin = self.db.meta("created_at") or ""
        mark = store.meta(REPLICA_OF)
        if mark is None:
            store.set_meta(REPLICA_OF, origin)
        return (mark is not None and mark != origin) or bool(_ahead(laptop_pull.cursor(store), head))

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        import fcntl  # the server runs on Linux; SQLite servers never get here

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.path}.lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            yield

