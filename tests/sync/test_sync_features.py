"""Photos up once and down again, the size limit said before upload, USB packages, cancel and
resume, history and checks after sync, and the schema-3 migration of a version-2 file."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from inproc import PASSWORD, SERVER, InProcessServer, household, seed_village
from pg_cluster import store_content
from PIL import Image

from wq_desktop import checks, migrations
from wq_desktop.photos import attach_photo, photo_path
from wq_desktop.schema import SCHEMA_VERSION
from wq_desktop.store import Store
from wq_desktop.sync import protocol as p
from wq_desktop.sync.content import content_rows
from wq_desktop.sync.package import export_package, import_reply
from wq_desktop.sync.photo_sync import waiting_uploads
from wq_server.package import import_package_bytes


def _stores(tmp_path: Path, server: InProcessServer) -> tuple[Store, Store]:
    a = Store.open(tmp_path / "a.sqlite", "甲", create=True)
    b = Store.open(tmp_path / "b.sqlite", "乙", create=True)
    server.sync(a, "甲")
    server.sync(b, "乙")
    return a, b


def _notice_with_photo(store: Store, township: str, tmp_path: Path, size: int = 64) -> str:
    village = seed_village(store, township)
    notice = store.create("notice", {"village": village, "year": 2025, "start_on": "2025-06-01",
                                     "end_on": "2025-06-07"})
    image = tmp_path / "公示现场.jpg"
    Image.new("RGB", (size, size), (120, 90, 60)).save(image, "JPEG")
    attach_photo(store, "notice", notice, image)
    return store.find_one("photo", "owner=?", (notice,))["sha256"]


def test_photo_goes_up_once_and_reaches_the_other_device(server: InProcessServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(p, "PHOTO_CHUNK", 100)  # several pieces even for a small photo
    a, b = _stores(tmp_path, server)
    sha = _notice_with_photo(a, server.township, tmp_path)
    assert [s for s, _ in waiting_uploads(a)] == [sha]
    report = server.sync(a, "甲")
    assert report.photos_uploaded == 1 and waiting_uploads(a) == []
    assert server.sync(a, "甲").photos_uploaded == 0  # never sent twice
    report = server.sync(b, "乙")
    assert report.photos_downloaded == 1
    assert photo_path(b, sha).read_bytes() == photo_path(a, sha).read_bytes()
    assert photo_path(a, sha).is_file()  # sync never removes a local photo


def test_photo_over_the_limit_is_named_before_upload(server: InProcessServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = _stores(tmp_path, server)
    _notice_with_photo(a, server.township, tmp_path, size=400)
    monkeypatch.setattr(p, "MAX_PHOTO_BYTES", 200)
    report = server.sync(a, "甲")
    assert report.photos_uploaded == 0
    assert any("超过服务器上限" in m and "公示现场.jpg" in m for m in report.photo_messages)
    assert len(waiting_uploads(a)) == 1  # still shown as waiting
    assert list(server.db.blob_dir.rglob("*.part")) == []  # not a byte was sent


def test_usb_package_round_trip_is_idempotent_and_brings_back_others_changes(
        server: InProcessServer, tmp_path: Path) -> None:
    a, b = _stores(tmp_path, server)
    village = seed_village(a, server.township)
    op = household(a, village)
    server.sync(a, "甲")
    server.sync(b, "乙")
    b.update("operator", op, {"address": "二组"})
    server.sync(b, "乙")
    a.update("operator", op, {"note": "离线修改"})
    package = tmp_path / "u盘.zip"
    assert export_package(a, package, "甲").changes == 1
    assert a.pending_changes() == 1  # exporting marks nothing as sent
    reply = tmp_path / "reply.zip"
    reply.write_bytes(import_package_bytes(server.db, package.read_bytes()))
    import_package_bytes(server.db, package.read_bytes())  # the same stick imported twice
    summary = import_reply(a, reply)
    assert (summary.changes, summary.pulled) == (1, 1)
    import_reply(a, reply)  # and its reply twice
    rec = a.get("operator", op)
    assert (rec["note"], rec["address"]) == ("离线修改", "二组") and a.pending_changes() == 0
    with server.db.reading() as session:
        assert session.execute("SELECT count(*) FROM srv_change WHERE record=?",
                               (op,)).fetchone()[0] == 3
    server.sync(b, "乙")
    assert content_rows(a) == content_rows(b) == store_content(server.db)


def _five_households_for_b(server: InProcessServer, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Store]:
    """A village and five households on the server from `a`, for `b` to pull in pages of two."""
    monkeypatch.setattr(p, "PULL_PAGE", 2)
    a, b = _stores(tmp_path, server)
    village = seed_village(a, server.township)
    for i in range(5):
        household(a, village, f"户{i}")
    server.sync(a, "甲")
    return a, b


def test_cancel_keeps_what_was_stored_and_the_next_sync_resumes(
        server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _five_households_for_b(server, tmp_path, monkeypatch)
    stop = threading.Event()
    stages = []

    def progress(stage: str, done: int, total: int | None) -> None:
        stages.append(stage)
        if stage == "下载更新" and done >= 2:
            stop.set()

    report = server.sync(b, "乙", progress_cb=progress, cancel_flag=stop)
    assert report.cancelled and 0 < b.count("operator") < 5
    assert report.backup is not None and report.backup.is_file()  # copied aside before pulling
    report = server.sync(b, "乙")
    assert b.count("operator") == 5 and not report.cancelled and report.last_sync_at
    assert content_rows(a) == content_rows(b)
    assert checks.check_history(b) == [] and server.db.verify_history() == []


def test_a_line_lost_while_a_page_is_stored_keeps_the_pages_stored(
        server: InProcessServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next page is asked for while one is stored: when that question fails, the sync says
    so once the page in hand is stored, and the next sync goes on from there."""
    import requests

    from wq_desktop.sync import OfflineError

    a, b = _five_households_for_b(server, tmp_path, monkeypatch)
    asked = []
    answer = server.session.request

    def third_page_cut(method: str, url: str, **kw):
        if url.endswith("/sync/pull"):
            asked.append(kw["params"]["after"])
            if len(asked) == 3:
                raise requests.ConnectionError("line lost")
        return answer(method, url, **kw)

    monkeypatch.setattr(server.session, "request", third_page_cut)
    with pytest.raises(OfflineError):
        server.sync(b, "乙")
    # Pages one and two (the village and three households) are stored, with the cursor after them.
    assert b.count("village") == 1 and b.count("operator") == 3
    assert b.meta("sync_cursor") == str(asked[2])
    monkeypatch.setattr(server.session, "request", answer)
    server.sync(b, "乙")
    assert content_rows(a) == content_rows(b)
    assert checks.check_history(b) == []


def test_a_version_two_store_moves_to_schema_three_with_sync_tables(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    migrations.create_at_version(path, 2).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO meta VALUES ('device_id', 'old-laptop')")
    conn.commit()
    conn.close()
    with Store.open(path, "测试员") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"sync_base", "sync_photo", "conflict"} <= tables
        assert store.device == "old-laptop"
    assert len(list(tmp_path.glob("v2.v2-*.sqlite.bak"))) == 1


def test_sync_url_must_be_http(tmp_path: Path) -> None:
    from wq_desktop.sync import SyncError, sync_now

    with Store.open(tmp_path / "x.sqlite", "甲", create=True) as store, \
            pytest.raises(SyncError, match="http"):
        sync_now(store, "wq.example.cn", "甲", "x")
    assert SERVER.startswith("http")


def _record_writes(store: Store, table: str) -> list[str]:
    """Every INSERT/UPDATE of `table` the store's connection runs from now on."""
    seen: list[str] = []
    store.conn.set_trace_callback(
        lambda sql: seen.append(sql) if sql.lstrip().startswith(
            (f'INSERT INTO "{table}"', f'UPDATE "{table}"')) else None)
    return seen


def _history_rows(store: Store, record: str) -> int:
    return store.conn.execute("SELECT count(*) FROM history WHERE record=?", (record,)).fetchone()[0]


def test_a_pulled_change_is_written_once_validated_and_in_history(server: InProcessServer,
                                                                   tmp_path: Path) -> None:
    from wq_desktop.operations import sync as sync_ops

    a, b = _stores(tmp_path, server)
    op = household(a, seed_village(a, server.township))
    server.sync(a, "甲")
    server.sync(b, "乙")
    a.update("operator", op, {"phone": "13800001111", "address": "二组"})
    server.sync(a, "甲")
    before = _history_rows(b, op)
    writes = _record_writes(b, "operator")
    partial: list = []
    changes = sync_ops.synchronize(b, SERVER, "乙", PASSWORD, session=server.session, partial=partial)
    b.conn.set_trace_callback(None)
    assert len(writes) == 1 and _history_rows(b, op) == before + 1  # one write, one entry
    [entry] = b.history(op)[before:]
    assert entry.user == "甲" and set(entry.changes) == {"phone", "address"}
    assert b.get("operator", op)["phone"] == "13800001111"
    # The description the window broadcasts names the pulled record and its fields.
    assert changes.ids("operator") == {op} and changes.changed_fields("operator") == {"phone", "address"}
    assert partial[0].records == changes.records



def test_a_sync_of_several_pulled_pages_describes_every_page(server: InProcessServer,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pulled page records inside the sync's own recording: the sync ends cleanly and names
    the records of every page, so the window redraws all that arrived, not the first page only."""
    from wq_desktop.operations import sync as sync_ops

    monkeypatch.setattr(p, "PULL_PAGE", 2)
    a, b = _stores(tmp_path, server)
    village = seed_village(a, server.township)
    made = {household(a, village, name) for name in ("张一", "张二", "张三")}
    server.sync(a, "甲")
    changes = sync_ops.synchronize(b, SERVER, "乙", PASSWORD, session=server.session)
    assert made <= changes.ids("operator")
    assert all(b.get("operator", op) is not None for op in made)
