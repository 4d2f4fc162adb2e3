"""The office replica of a PostgreSQL server (what the web view reads there): it holds exactly
what the server holds, a catch-up is seen whole or not at all, and a replica of another
database, or a damaged one, is never read (start-up builds it anew). PostgreSQL only: on SQLite
the web view reads the server's file itself, no replica."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverproc import ServerProcess, Township, new_server_db, next_code, open_db, server_content

from wq_desktop.demo import demo_id_number
from wq_desktop.errors import WqError
from wq_desktop.store import Store
from wq_desktop.sync import apply as laptop_pull
from wq_desktop.sync.content import content_rows
from wq_server import office_replica
from wq_server.office_replica import OfficeReplica


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(new_server_db(tmp_path_factory.mktemp("server"), "postgresql")).start()
    yield proc
    proc.stop()


@pytest.fixture
def db(server: ServerProcess) -> Iterator[object]:
    store = open_db(server.db)
    yield store
    store.close()


def _replica_content(path: Path) -> dict[str, tuple]:
    with Store.open(path, "读者") as store:
        return content_rows(store)


def _households(path: Path) -> int:
    """What another connection (another worker's page) reads from the file now."""
    with Store.open(path, "读者") as store:
        return store.count("operator")


def test_the_replica_holds_every_township_and_a_catch_up_is_seen_whole(
        server: ServerProcess, db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    towns = [Township(server, tmp_path, next_code(), name, laptops=1) for name in ("东镇", "西镇")]
    try:
        for town in towns:
            town.household(0)
            assert town.sync(0).rejected == []
        replica = OfficeReplica(db, tmp_path / "replica.sqlite")
        replica.build(say=lambda line: None)
        assert _replica_content(replica.path) == server_content(server.db, None)
        position = replica.catch_up()
        assert replica.catch_up() == position  # nothing moved: the same position, nothing pulled

        # Five more households in pages of two: the replica is read before or after, never between.
        village = towns[0].stores[0].find_one("village", "1=1")["uuid"]
        rng, taken = random.Random(5), set()
        for n in range(5):
            towns[0].stores[0].create("operator", {"village": village, "name": f"新户{n}",
                                                   "kind": "农户", "id_code": demo_id_number(rng, taken)})
        assert towns[0].sync(0).rejected == []
        before = _households(replica.path)
        seen_between: list[int] = []
        store_page = laptop_pull.store_pulled

        def page_then_look(store, changes, cursor):
            warnings = store_page(store, changes, cursor)
            seen_between.append(_households(replica.path))
            return warnings

        monkeypatch.setattr(office_replica.p, "PULL_PAGE", 2)
        monkeypatch.setattr(office_replica.laptop_pull, "store_pulled", page_then_look)
        assert replica.catch_up() != position
        assert len(seen_between) >= 3 and set(seen_between) == {before}
        assert _households(replica.path) == before + 5
        assert _replica_content(replica.path) == server_content(server.db, None)
    finally:
        for town in towns:
            town.close()


def test_a_replica_of_another_database_is_refused_and_a_wrong_one_built_anew_at_start(
        server: ServerProcess, db, tmp_path: Path) -> None:
    town = Township(server, tmp_path, next_code(), "南镇", laptops=1)
    try:
        town.household(0)
        assert town.sync(0).rejected == []
        path = tmp_path / "replica.sqlite"
        OfficeReplica(db, path).build(say=lambda line: None)
    finally:
        town.close()
    # The same file under a server on another database (a restore, a mistaken path).
    other = open_db(new_server_db(tmp_path / "other", "postgresql"))
    try:
        with pytest.raises(WqError, match="网页查看副本与服务器数据库不符"):
            OfficeReplica(other, path).catch_up()
        said: list[str] = []
        OfficeReplica(other, path).build(say=said.append)
        assert any("重新建立" in line for line in said)
        assert _replica_content(path) == server_content(other.url, None) == {}
        # A damaged file (a copy taken mid-write, say) is only a cache: built again at start.
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.write_bytes(b"not a database" * 100)
        OfficeReplica(other, path).build(say=said.append)
        assert _replica_content(path) == {}
    finally:
        other.close()

