"""The person behind every pushed change, against a real server process on loopback: a change
whose author is not an account of the township is refused with its reason (422) while the
others in the page are applied, and every accepted change records its author account and the
server user who pushed it."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from serverproc import PASSWORD, ServerDb, ServerProcess, add_staff, add_township, query

from tests.conftest import TEST_PASSWORD
from wq_desktop import accounts, keyfile
from wq_desktop.store import new_uuid
from wq_desktop.sync import protocol as p
from wq_desktop.sync import sync_now

CODE, OTHER = "652301105", "652301106"


@pytest.fixture(scope="module")
def server(server: ServerProcess) -> ServerProcess:
    """The module's server (tests/server/conftest.py) with two townships, a staff account each."""
    server.township = add_township(server.db, CODE, "六工镇")
    add_township(server.db, OTHER, "大西渠镇")
    add_staff(server.db, "王芳", CODE)
    add_staff(server.db, "赵军", OTHER)
    return server


def _village(township: str, author: str, code: str) -> dict:
    return {"change_id": new_uuid(), "kind": "village", "record": new_uuid(), "op": "create",
            "base_rev": 0, "fields": {"township": township, "code": code, "name": "测试村"},
            "at": "2026-06-01T00:00:00Z", "user": author}


def _authors(db: ServerDb) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in query(db, "SELECT change_id, account, pushed_by"
                                                  " FROM srv_change_author")}


def test_a_forged_author_is_refused_with_a_reason_and_the_rest_applied(server: ServerProcess) -> None:
    headers = server.headers("王芳")
    page = [_village(server.township, "张三", CODE + "801"),
            _village(server.township, "冒名者", CODE + "802"),
            _village(server.township, "", CODE + "803"),
            _village(server.township, "张三", CODE + "804")]
    answer = requests.post(server.url + "/sync/push", headers=headers, timeout=120, json={
        "device": "laptop-1", "changes": page,
        "accounts": [{"name": "张三", "signed_in": True, "created_at": "2026-05-01T00:00:00Z"}]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [p.APPLIED, p.REJECTED, p.REJECTED, p.APPLIED]
    assert [r["code"] for r in results] == [200, 422, 422, 200]
    assert "录入人“冒名者”不是本乡镇在服务器上登记的本机账户" in results[1]["reason"]
    assert "没有记录由哪个账户录入" in results[2]["reason"]
    recorded = _authors(server.db)
    assert recorded[page[0]["change_id"]] == ("张三", "王芳")
    assert page[1]["change_id"] not in recorded
    # An account registered for one township is no author in another.
    other = requests.post(server.url + "/sync/push", headers=server.headers("赵军"), timeout=120,
                          json={"device": "laptop-2", "accounts": [],
                                "changes": [_village(server.township, "张三", CODE + "805")]})
    assert other.json()["results"][0]["status"] in (p.REJECTED, p.FORBIDDEN)
    assert "张三" in other.json()["results"][0]["reason"] or other.json()["results"][0]["code"] == 403


def test_a_signed_in_laptop_account_is_the_recorded_author(server: ServerProcess, tmp_path: Path) -> None:
    path = tmp_path / "laptop.sqlite"
    store, _ = accounts.create_encrypted_store(path, "李娜", TEST_PASSWORD)
    try:
        sync_now(store, server.url, "王芳", PASSWORD)  # pulls the township
        village = store.create("village", {"township": server.township, "code": CODE + "811",
                                           "name": "二村"})
        report = sync_now(store, server.url, "王芳", PASSWORD)
        assert report.pushed == 1 and report.rejected == []
        change_id = store.conn.execute("SELECT change_id FROM outbox WHERE record=?",
                                       (village,)).fetchone()[0]
    finally:
        store.close()
        keyfile.forget(path)
    assert _authors(server.db)[change_id] == ("李娜", "王芳")
    assert query(server.db, "SELECT signed_in, registered_by FROM srv_author WHERE account='李娜'"
                 ) == [(1, "王芳")]


def test_changes_waiting_from_before_encryption_go_up_as_not_signed_in(
        server: ServerProcess, tmp_path: Path) -> None:
    from wq_desktop import encrypt_store
    from wq_desktop.store import Store

    path = tmp_path / "old.sqlite"
    with Store.open(path, "王芳", create=True) as plain:  # the name typed in 设置
        sync_now(plain, server.url, "王芳", PASSWORD)
        plain.create("village", {"township": server.township, "code": CODE + "821", "name": "三村"})
    done = encrypt_store.encrypt(path, "周敏", TEST_PASSWORD)
    try:
        report = sync_now(done.store, server.url, "王芳", PASSWORD)
        assert report.pushed == 1 and report.rejected == []
    finally:
        done.store.close()
        keyfile.forget(path)
    rows = dict(query(server.db, "SELECT account, signed_in FROM srv_author WHERE account IN"
                                 " ('王芳', '周敏')"))
    assert rows == {"王芳": 0, "周敏": 1}
