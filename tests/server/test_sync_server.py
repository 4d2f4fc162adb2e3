"""Sync against real server processes on loopback: merges, conflicts kept and resolved on every
device, township scope on reads and writes, and interruption of the server mid-push/mid-pull."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from serverproc import (
    PASSWORD,
    ServerProcess,
    Township,
    add_staff,
    add_township,
    admin,
    new_server_db,
    next_code,
    query,
    server_content,
)

from wq_desktop.store import Store
from wq_desktop.sync import (
    AuthError,
    OfflineError,
    SyncError,
    conflict_detail,
    list_conflicts,
    resolve_conflict,
    sync_now,
)
from wq_desktop.sync import protocol as p
from wq_desktop.sync.content import content_rows


def _setup(town: Township) -> str:
    _, op = town.household(0)
    report = town.sync(0)
    assert (report.pushed, report.rejected) == (2, []), report
    town.sync(1)
    return op


def test_edits_of_different_fields_of_one_household_merge(town: Township) -> None:
    op = _setup(town)
    a, b = town.stores
    a.update("operator", op, {"address": "二组"})
    b.update("operator", op, {"phone": "13912345678"})
    town.sync(0)
    report = town.sync(1)
    town.sync(0)
    assert report.conflicts == 0
    for store in town.stores:
        rec = store.get("operator", op)
        assert (rec["address"], rec["phone"]) == ("二组", "13912345678")
    assert list_conflicts(a) == []
    town.assert_converged()


def test_same_field_conflict_is_kept_on_every_device_and_resolved(town: Township) -> None:
    op = _setup(town)
    a, b = town.stores
    a.update("operator", op, {"name": "张甲"})
    b.update("operator", op, {"name": "张乙"})
    town.sync(0)
    report = town.sync(1)
    town.sync(0)
    assert report.conflicts == 1 and report.open_conflicts == 1
    # Both sides kept: the record holds the first arrival, the conflict the other, on both devices.
    for store, mine, theirs in ((a, "张甲", "张乙"), (b, "张乙", "张甲")):
        [c] = list_conflicts(store)
        assert c.field_labels == ["姓名/名称"]
        [field] = conflict_detail(store, c.uuid).fields
        assert (field.mine, field.theirs) == (mine, theirs)
        assert store.get("operator", op)["name"] == "张甲"
    resolve_conflict(b, list_conflicts(b)[0].uuid, {"name": "mine"})
    town.sync(1)
    town.sync(0)
    for store in town.stores:
        assert store.get("operator", op)["name"] == "张乙"
        assert list_conflicts(store) == []  # resolved everywhere, not forgotten by a later sync
    town.sync(0)
    town.sync(1)
    assert list_conflicts(a) == [] and a.get("operator", op)["name"] == "张乙"
    town.assert_converged()


def test_edit_against_delete_conflicts_and_either_side_can_win(town: Township) -> None:
    op = _setup(town)
    a, b = town.stores
    a.delete("operator", op)
    b.update("operator", op, {"address": "三组"})
    town.sync(0)
    report = town.sync(1)
    town.sync(0)
    assert report.conflicts == 1
    [c] = list_conflicts(a)
    detail = {f.name: f for f in conflict_detail(b, c.uuid).fields}
    assert detail["address"].mine == "三组" and detail["deleted"].theirs_text == "已删除"
    assert a.get("operator", op, include_deleted=True)["deleted"]  # the delete holds until decided
    # The editor keeps the household: it comes back on every device with the edit.
    resolve_conflict(b, c.uuid, {"address": "mine", "deleted": "mine"})
    town.sync(1)
    town.sync(0)
    for store in town.stores:
        assert store.get("operator", op)["address"] == "三组"
    town.assert_converged()

    # The other way round: delete arrives after an edit.
    b.update("operator", op, {"note": "核实"})
    a.delete("operator", op)
    town.sync(1)
    assert town.sync(0).conflicts == 1
    town.sync(1)
    [c] = list_conflicts(a)
    assert a.get("operator", op)["note"] == "核实"  # the edit is kept live until someone decides
    resolve_conflict(a, c.uuid, {"note": "mine", "deleted": "mine"})
    town.sync(0)
    town.sync(1)
    assert b.count("operator") == 0
    town.assert_converged()


def test_township_cannot_read_or_write_another_township(server: ServerProcess, tmp_path: Path) -> None:
    east = Township(server, tmp_path, "652301191", "东镇")
    west = Township(server, tmp_path, "652301192", "西镇")
    try:
        _, op = east.household(0)
        east.sync(0)
        west.sync(0)
        # Pull: nothing of the other township arrives.
        assert west.stores[0].count("operator") == 0 and west.stores[0].count("township") == 1
        # Read: refused with 403 through the record endpoint.
        token = requests.post(server.url + "/auth/login", json={"user": west.users[0], "password": PASSWORD},
                              headers={p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}).json()["token"]
        headers = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION), "Authorization": f"Bearer {token}"}
        answer = requests.get(f"{server.url}/records/operator/{op}", headers=headers)
        assert answer.status_code == 403 and "其他乡镇" in answer.json()["detail"]
        # Write: a laptop holding the east township's data, signed in as a west user.
        stolen = east.stores[1]
        east.sync(1)
        stolen.update("operator", op, {"name": "王五"})
        report = sync_now(stolen, server.url, west.users[0], PASSWORD)
        assert len(report.rejected) == 1 and "无权" in report.rejected[0]
        reason = stolen.conn.execute("SELECT state, reason FROM outbox WHERE record=? ORDER BY seq DESC",
                                     (op,)).fetchone()
        assert reason[0] == "rejected" and "其他乡镇" in reason[1]  # kept, flagged, visible
        assert stolen.get("operator", op)["name"] == "王五"
        east.sync(0)
        assert east.stores[0].get("operator", op)["name"] == "张三"
        assert server_content(server.db, east.uuid)[op][2][2] == ("name", "张三")
    finally:
        east.close()
        west.close()


def test_the_city_office_pulls_every_township_and_then_only_what_is_new(
        server: ServerProcess, tmp_path: Path) -> None:
    east = Township(server, tmp_path, next_code(), "东城镇", laptops=1)
    west = Township(server, tmp_path, next_code(), "西城镇", laptops=1)
    admin(server.db, "adduser", "--name", "市办核查", "--role", "office")
    office = Store.open(tmp_path / "office.sqlite", "市办核查", create=True)
    try:
        _, east_op = east.household(0)
        _, west_op = west.household(0)
        east.sync(0)
        west.sync(0)
        report = sync_now(office, server.url, "市办核查", PASSWORD)
        assert {east_op, west_op} <= {o["uuid"] for o in office.find("operator")}
        assert report.pulled >= 6  # two townships, villages, households
        # Both townships go on working; the office then gets exactly the new edits.
        east.stores[0].update("operator", east_op, {"note": "东镇复核"})
        west.stores[0].update("operator", west_op, {"note": "西镇复核"})
        west.sync(0)
        east.sync(0)
        report = sync_now(office, server.url, "市办核查", PASSWORD)
        assert report.pulled == 2
        assert office.get("operator", east_op)["note"] == "东镇复核"
        assert office.get("operator", west_op)["note"] == "西镇复核"
        assert sync_now(office, server.url, "市办核查", PASSWORD).pulled == 0
    finally:
        office.close()
        east.close()
        west.close()


def test_wrong_password_offline_and_incompatible_version_give_clear_messages(
        town: Township, monkeypatch: pytest.MonkeyPatch) -> None:
    store = town.stores[0]
    with pytest.raises(AuthError, match="密码错误"):
        sync_now(store, town.server.url, town.users[0], "wrong-password")
    with pytest.raises(OfflineError, match=r"无法连接.*离线"):
        sync_now(store, "http://127.0.0.1:9", town.users[0], PASSWORD)
    monkeypatch.setattr(p, "PROTOCOL_VERSION", 99)
    with pytest.raises(SyncError, match="不兼容"):
        sync_now(store, town.server.url, town.users[0], PASSWORD)
    answer = requests.get(town.server.url + "/sync/pull", params={"device": "x"})
    assert answer.status_code == 426 and "升级" in answer.json()["detail"]


def _many_households(store: Store, township: str, code: str, n: int) -> None:
    from wq_desktop.rules import identity

    with store.transaction():
        village = store.create("village", {"township": township, "code": code + "901", "name": "大村"})
        for i in range(n):
            first17 = f"65239919800101{i:03d}"
            store.create("operator", {"village": village, "name": f"户{i}", "kind": "农户",
                                      "id_code": first17 + identity.id_check_char(first17)})


@pytest.mark.timeout(600)  # on PostgreSQL four restarts of four worker processes each
def test_server_killed_mid_push_and_mid_pull_loses_and_doubles_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setattr(p, "PUSH_PAGE", 40)
    monkeypatch.setattr(p, "PULL_PAGE", 30)
    db = new_server_db(tmp_path, backend)
    code = "652301199"
    township = add_township(db, code, "断电镇")
    add_staff(db, "甲", code)
    add_staff(db, "乙", code)
    a = Store.open(tmp_path / "a.sqlite", "甲", create=True)
    b = Store.open(tmp_path / "b.sqlite", "乙", create=True)
    workers = 4 if backend == "postgresql" else 1
    server = ServerProcess(db, workers=workers).start()
    served: list[set[int]] = []

    def start(after: str) -> None:
        server.start(WQ_SERVER_EXIT_AFTER_REQUESTS=after)
        served.append(server.worker_pids)  # every one of the workers answered before the sync

    served.append(server.worker_pids)
    sync_now(a, server.url, "甲", PASSWORD)
    server.stop()
    _many_households(a, township, code, 150)  # 151 changes: 4 push pages
    # Mid-push: the server commits the 2nd page and dies before answering it.
    start("2")
    with pytest.raises(OfflineError):
        sync_now(a, server.url, "甲", PASSWORD)
    assert server.exited()
    assert 0 < a.pending_changes() < 151
    start("")
    sync_now(a, server.url, "甲", PASSWORD)
    assert a.pending_changes() == 0
    server.stop()
    # Mid-pull: the 3rd page's answer never arrives.
    start("3")
    with pytest.raises(OfflineError):
        sync_now(b, server.url, "乙", PASSWORD)
    assert 0 < b.count("operator") < 150
    start("")
    sync_now(b, server.url, "乙", PASSWORD)
    sync_now(a, server.url, "甲", PASSWORD)
    server.stop()
    # Each start ran `workers` processes of its own: the kill took every worker down, not one.
    assert [len(pids) for pids in served] == [workers] * 5
    assert len(set().union(*served)) == 5 * workers
    expected = server_content(db, township)
    assert len(expected) == 152  # township, village, 150 households
    assert content_rows(a) == expected == content_rows(b)
    assert query(db, "SELECT count(*), count(DISTINCT change_id) FROM srv_change"
                     " WHERE change_id IS NOT NULL") == [(151, 151)]
    assert query(db, "SELECT count(*) FROM operator") == [(150,)]
    a.close()
    b.close()
