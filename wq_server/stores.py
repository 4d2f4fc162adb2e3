"""Which of the server's two stores `--db` names: an SQLite file (db.ServerDB) or a PostgreSQL URL
(pg_store.PgServerDB). Both give the same interface (see db.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .db import ServerDB


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


# PostgreSQL connections of one serving process, one worker of `--workers N` or the only one.
# More let more of its request threads run at once, and they spend CPU taking turns at the
# interpreter lock: 4 workers of 10 each spent 1.23-1.63 ms of CPU a change, of 2 each 1.06
# (bench_server, 200 clients); a push or pull waits for a connection instead, without CPU.
SERVING_POOL = 2


def open_server_db(target: str | Path, *, pool_size: int = 10) -> Any:
    """The server database `--db` names: a PostgreSQL URL or an SQLite file (created if new)."""
    if is_postgres_url(target):
        from .pg_store import PgServerDB

        return PgServerDB(str(target), pool_size=pool_size)
    return ServerDB(Path(target))
