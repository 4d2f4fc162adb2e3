"""Which of the server's two stores `--db` names: an SQLite file (db.ServerDB) or a PostgreSQL URL
(pg_store.PgServerDB). Both give the same interface (see db.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .db import ServerDB


def is_postgres_url(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def open_server_db(target: str | Path, *, pool_size: int = 10) -> Any:
    """The server database `--db` names: a PostgreSQL URL or an SQLite file (created if new)."""
    if is_postgres_url(target):
        from .pg_store import PgServerDB

        return PgServerDB(str(target), pool_size=pool_size)
    return ServerDB(Path(target))
