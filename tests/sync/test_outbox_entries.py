"""A waiting change names its history entry instead of repeating the record's fields (schema 14),
and the server receives exactly what it received when each outbox row held its own copy: for
every record kind, for creates, updates, deletes and restores, and for a store of schema 13
with changes still waiting, migrated and then pushed, on either server store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from every_kind import SERVER_MADE, laptop_records, server_made_records
from inproc import PASSWORD, TOWNSHIP_CODE, InProcessServer, seed_village
from legacy_outbox import v13_page, write_outbox_before_schema_14
from pg_cluster import store_content

from wq_desktop import history, json_text, migrations
from wq_desktop import store as store_mod
from wq_desktop.schema import KINDS, SCHEMA_VERSION
from wq_desktop.store import Store
from wq_desktop.sync.apply import outbox_page
from wq_desktop.sync.content import content_rows
from wq_desktop.sync.status import rejected_changes
from wq_server import apply, auth


def _text(changes: list[dict[str, Any]]) -> str:
    return json.dumps(changes, ensure_ascii=False)


def test_every_kinds_changes_are_sent_as_they_were_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    """What a write changed ({field: [old, new]} as the store made it, in its order) is what the
    push sends, to the byte, while the outbox row holds no copy of it."""
    written: list[dict[str, list[Any]]] = []
    diff = store_mod._diff

    def recording_diff(*args: Any) -> dict[str, list[Any]]:
        changes = diff(*args)
        if changes:
            written.append(changes)
        return changes
    monkeypatch.setattr(store_mod, "_diff", recording_diff)
    with Store.open(tmp_path / "t.sqlite", "甲", create=True) as store:
        township = store.create("township", {"code": TOWNSHIP_CODE, "name": "六工镇"})
        made = laptop_records(store, township, TOWNSHIP_CODE, tmp_path)
        server_made_records(store, made)
        page = outbox_page(store, 10**9)
        assert {c["kind"] for c in page} == set(KINDS)  # every kind, none left out
        assert {c["op"] for c in page} == {"create", "update", "delete", "restore"}
        assert [json_text.plain(c["fields"]) for c in page] == [
            json_text.plain({name: new for name, (_old, new) in changes.items()}) for changes in written]
        assert store.conn.execute("SELECT count(*) FROM outbox WHERE fields IS NOT NULL"
                                  " OR entry IS NULL").fetchone()[0] == 0
        # Each row's entry is its own write's: same record, revision and operation.
        entries = {e.seq: e for e, _prev, _hash in history.iter_entries(store.conn)}
        for record, rev, op, entry in store.conn.execute(
                "SELECT record, rev, op, entry FROM outbox ORDER BY seq"):
            assert (entries[entry].record, entries[entry].rev, entries[entry].op) == (record, rev, op)


V13_OUTBOX = (
    "DROP TABLE outbox",
    migrations.BASE_DDL[1],
    migrations.BASE_DDL[2],
    "CREATE INDEX outbox_record ON outbox(record, state)",
    'CREATE INDEX "parcel_village" ON "parcel"("village")',
    "PRAGMA user_version = 13",
)


def _schema(path: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(path)
    try:
        return set(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    finally:
        conn.close()


def _as_schema_13(path: Path, tmp_path: Path) -> None:
    """Put a store with an empty outbox back to schema 13 (its outbox table and parcel index):
    the file then has exactly the tables and indexes a schema-13 program made."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    for statement in V13_OUTBOX:
        conn.execute(statement)
    conn.close()
    migrations.create_at_version(tmp_path / "v13.sqlite", 13).close()
    assert _schema(path) == _schema(tmp_path / "v13.sqlite")


def _pushed(server: InProcessServer) -> list[dict[str, Any]]:
    """The changes of every push the server is sent from now on, as it received them."""
    bodies: list[dict[str, Any]] = []
    request = server.session.request

    def recording(method: str, url: str, **kw: Any) -> Any:
        if url.endswith("/sync/push"):
            bodies.append(json.loads(json.dumps(kw["json"], ensure_ascii=False)))
        return request(method, url, **kw)
    server.session.request = recording  # type: ignore[method-assign]
    return bodies


def test_a_schema_13_store_with_changes_waiting_migrates_and_pushes_the_same_changes(
        tmp_path: Path, server: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "laptop.sqlite"
    with Store.open(path, "甲", create=True) as store:
        server.sync(store, "甲")  # the township
    _as_schema_13(path, tmp_path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    with monkeypatch.context() as legacy:
        write_outbox_before_schema_14(legacy)
        old = Store(conn, path, "甲")
        made = laptop_records(old, server.township, TOWNSHIP_CODE, tmp_path)
        old.close()
    # An older program that wrote a row's fields in another order: no entry gives that text
    # back, so the row keeps it.
    conn = sqlite3.connect(path, isolation_level=None)
    seq, fields = conn.execute("SELECT seq, fields FROM outbox WHERE record=? AND op='update'",
                               (made["operator"],)).fetchone()
    reordered = json.dumps(dict(reversed(json.loads(fields).items())), ensure_ascii=False)
    assert reordered != fields
    conn.execute("UPDATE outbox SET fields=? WHERE seq=?", (reordered, seq))
    sent_by_13 = v13_page(conn)
    conn.close()
    assert {c["kind"] for c in sent_by_13} == set(KINDS) - set(SERVER_MADE)
    assert {c["op"] for c in sent_by_13} == {"create", "update", "delete", "restore"}

    with Store.open(path, "甲") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        kept = store.conn.execute("SELECT seq FROM outbox WHERE fields IS NOT NULL").fetchall()
        assert kept == [(seq,)]  # every other row now names its entry
        assert store.conn.execute("SELECT count(*) FROM outbox WHERE entry IS NULL").fetchone()[0] == 1
        assert _text(outbox_page(store, 10**9)) == _text(sent_by_13)
        assert store.pending_changes() == len(sent_by_13)
        pushed = _pushed(server)
        report = server.sync(store, "甲")
        assert report.rejected == [] and report.pushed == len(sent_by_13) and store.pending_changes() == 0
        assert _text([c for body in pushed for c in body["changes"]]) == _text(sent_by_13)
        assert content_rows(store) == store_content(server.db)


def test_a_refused_change_names_its_fields_in_the_order_they_were_written(tmp_path: Path,
                                                                        server: InProcessServer) -> None:
    """The sync dialog lists a refused change's fields from its history entry."""
    apply.create_township(server.db, "652301106", "西镇")
    auth.add_user(server.db, "西", PASSWORD, auth.STAFF, "652301106")
    with Store.open(tmp_path / "laptop.sqlite", "甲", create=True) as store:
        server.sync(store, "甲")
        village = seed_village(store, server.township)
        store.update("village", village, {"name": "新村", "code": "652301105902"})
        server.sync(store, "西")  # signed in with another township's account: both refused
        assert [c.field_labels for c in rejected_changes(store)] == [
            ["所属乡镇", "村代码", "村名称", "deleted"], ["村代码", "村名称"]]
