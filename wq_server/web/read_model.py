"""Where the web view reads the records, whatever the server's store: every page asks `web_store`
(or, for work in a thread of its own, the request's `read_model`), never the database.

* SQLite server: the server's own file, opened as a core `Store` (the desktop's queries run on it
  as they are); its position is the feed's head (`apply.feed_head`).
* PostgreSQL server: the office replica (`wq_server.office_replica`), a local SQLite store of
  every township, brought up to the feed's head before each page (one small query when nothing
  moved); its position is the replica's cursor.

Either way a page shows every change committed before it was asked for, and its reads run in one
read transaction, so one page never mixes two states of the records.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request

from wq_desktop.store import Store

from .. import apply


class ReadModel(Protocol):
    def position(self) -> Hashable:
        """Bring the records up to date; what they were read at (caches key by it)."""

    def open(self, user: str) -> Store:
        """A Store of the caller's own on the records (after `position()`)."""


class ServerFile:
    """An SQLite server: its own file, read directly."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def position(self) -> Hashable:
        return apply.feed_head(self.db)

    def open(self, user: str) -> Store:
        return Store.open(self.db.path, user)


class Replica:
    """A PostgreSQL server: the office replica of this machine."""

    def __init__(self, db: Any, path: Path | None = None) -> None:
        from ..office_replica import OfficeReplica

        self.replica = OfficeReplica(db, path)

    def position(self) -> Hashable:
        return self.replica.catch_up()

    def open(self, user: str) -> Store:
        return Store.open(self.replica.path, user)


def for_db(db: Any) -> ReadModel:
    return Replica(db) if db.backend == "postgresql" else ServerFile(db)


def read_model(request: Request) -> ReadModel:
    return request.app.state.read_model


@contextmanager
def snapshot(model: ReadModel, user: str) -> Iterator[Store]:
    """A Store on the records as they are now, every read inside seeing that one state."""
    model.position()
    store = model.open(user)
    try:
        with store.snapshot():
            yield store
    finally:
        store.close()
