"""The change feed never skips a row: many writers of several townships push at once, each
holding its transaction open for a random while after its changes were numbered (so commits
arrive in random order), while readers pull over and over, one per township and one for the city
office. Afterwards every reader has seen every row of its scope exactly once: the union of its
pages is the final feed.

On PostgreSQL a number given at insert and committed later is exactly what a reader steps over
(ODK Central's lesson); the store numbers each township's changes inside the township's lock,
so numbers are committed in order."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import new_server_db

from wq_desktop.store import new_uuid
from wq_server import apply, auth, authors
from wq_server.db import Session
from wq_server.pg_store import PgSession
from wq_server.stores import open_server_db

TOWNS = ("652301101", "652301102", "652301103")
WRITERS_PER_TOWN = 4
PUSHES = 12
PAGE = 3


@pytest.fixture
def db(tmp_path: Path, backend: str) -> Any:
    store = open_server_db(new_server_db(tmp_path, backend), pool_size=2 * len(TOWNS) * WRITERS_PER_TOWN)
    yield store
    store.close()


def _hold_open_after_numbering(monkeypatch: pytest.MonkeyPatch, db: Any, seed: int) -> None:
    """Every logged change keeps its transaction open a little longer, a random while."""
    rng = random.Random(seed)
    lock = threading.Lock()
    session_cls = Session if db.backend == "sqlite" else PgSession
    real = session_cls.log_change

    def log_then_wait(self: Any, *args: Any) -> None:
        real(self, *args)
        with lock:
            pause = rng.random() * 0.004
        threading.Event().wait(pause)

    monkeypatch.setattr(session_cls, "log_change", log_then_wait)


def _village(town_uuid: str, code: str, author: str) -> dict[str, Any]:
    return {"change_id": new_uuid(), "kind": "village", "record": new_uuid(), "op": "create",
            "base_rev": 0, "user": author,
            "fields": {"township": town_uuid, "code": code, "name": f"村{code[-3:]}"}}


@pytest.mark.timeout(600)
def test_readers_pulling_during_random_commits_miss_no_row(db: Any, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    towns = {code: apply.create_township(db, code, f"镇{code[-2:]}") for code in TOWNS}
    users = {code: auth.User(f"员{code[-2:]}", auth.STAFF, towns[code]) for code in TOWNS}
    office = auth.User("市办", auth.OFFICE, None)
    _hold_open_after_numbering(monkeypatch, db, seed=19)
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(code: str, w: int) -> None:
        try:
            for i in range(PUSHES):
                user = users[code]
                page = [_village(towns[code], f"{code}{(w * PUSHES + i) * PAGE + j + 100:03d}",
                                 user.name) for j in range(PAGE)]
                results = apply.push(db, user, f"laptop-{code}-{w}", page,
                                     [authors.Account(name=user.name)])
                assert [r["status"] for r in results] == ["applied"] * PAGE, results
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    seen: dict[str, list[tuple[str, int]]] = {}

    def reader(name: str, user: auth.User) -> None:
        cursor: Any = 0
        got = seen.setdefault(name, [])
        try:
            while True:
                finished = done.is_set()  # read before pulling: the last round sees everything
                while True:
                    page = apply.pull(db, user, "reader", cursor, 7)
                    got += [(ch["record"], ch["seq"]) for ch in page["changes"]]
                    cursor = page["cursor"]
                    if not page["more"]:
                        break
                if finished:
                    return
        except BaseException as err:
            errors.append(err)

    writers = [threading.Thread(target=writer, args=(code, w)) for code in TOWNS
               for w in range(WRITERS_PER_TOWN)]
    readers = [threading.Thread(target=reader, args=(code, users[code])) for code in TOWNS]
    readers.append(threading.Thread(target=reader, args=("office", office)))
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert not errors, errors

    with db.reading() as session:
        feed = session.execute("SELECT township, record FROM srv_change").fetchall()
    by_town: dict[str, set[str]] = {}
    for town, record in feed:
        by_town.setdefault(town, set()).add(record)
    villages = len(TOWNS) * WRITERS_PER_TOWN * PUSHES * PAGE
    assert sum(len(r) for r in by_town.values()) == villages + len(TOWNS)
    for code in TOWNS:
        pulled = [record for record, _ in seen[code]]
        assert len(pulled) == len(set(pulled)), "a row was pulled twice"
        assert set(pulled) == by_town[towns[code]], "a row was skipped"
    office_pulled = [record for record, _ in seen["office"]]
    assert len(office_pulled) == len(set(office_pulled))
    assert set(office_pulled) == set().union(*by_town.values())
