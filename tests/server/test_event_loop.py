"""The event loop never waits for work: /health answers quickly while a 2,500-change USB package
is imported and while photos are uploaded, all against a real server process on loopback."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from serverproc import HealthWatch, ServerProcess, add_staff, add_township

from wq_desktop import package_keys
from wq_desktop.rules import identity
from wq_desktop.store import Store
from wq_desktop.sync import protocol as p
from wq_desktop.sync.package import export_package, open_sealed

CODE = "652301105"


@pytest.fixture(scope="module")
def server(server: ServerProcess) -> ServerProcess:
    """The module's server (tests/server/conftest.py) with a township and three of its staff; the
    tests write villages of their own."""
    server.township = add_township(server.db, CODE, "六工镇")
    for user in ("王芳", "李明", "张伟"):
        add_staff(server.db, user, CODE)
    return server


def _quick(health: HealthWatch, idle: HealthWatch) -> None:
    print(f"/health idle p90 {idle.percentile(0.9):.1f} ms; under load p50 {health.percentile(0.5):.1f},"
          f" p90 {health.percentile(0.9):.1f}, max {max(health.latencies_ms):.1f} ms,"
          f" {len(health.latencies_ms)} answers")
    assert health.failures == 0 and len(health.latencies_ms) >= 10
    assert health.percentile(0.5) < 100 and health.percentile(0.9) < 100 + idle.percentile(0.9)


def test_health_answers_while_a_2500_change_package_imports(server: ServerProcess, tmp_path) -> None:
    with Store.open(tmp_path / "laptop.sqlite", "王芳", create=True) as store, store.transaction():
        store.apply_pulled("township", server.township, "create", {"code": CODE, "name": "六工镇"},
                           rev=1, user="同步服务", device="server", at="2026-01-01T00:00:00Z")
        village = store.create("village", {"township": server.township, "code": CODE + "901",
                                           "name": "大村"})
        for i in range(2499):
            first17 = f"652399{1950 + i // 1000}0101{i % 1000:03d}"
            store.create("operator", {"village": village, "name": f"户{i}", "kind": "农户",
                                      "id_code": first17 + identity.id_check_char(first17)})
    with Store.open(tmp_path / "laptop.sqlite", "王芳") as store:
        package_keys.pin_server_key(store, server.package_key(), server.url)
        summary = export_package(store, tmp_path / "stick.zip", "王芳")
        device_key = package_keys.device_private_key(store)
    assert summary.changes == 2500
    headers = server.headers("王芳")
    idle = HealthWatch.idle(server.url)
    with HealthWatch(server.url) as health:
        answer = requests.post(server.url + "/packages", data=(tmp_path / "stick.zip").read_bytes(),
                               headers=headers, timeout=600)
    assert answer.status_code == 200, answer.text
    with open_sealed(answer.content, device_key, "not for this laptop") as reply:
        results = json.loads(reply.read("results.json"))
    assert [r["status"] for r in results] == [p.APPLIED] * 2500
    _quick(health, idle)


def _households(township: str, n: int) -> list[dict]:
    """A village and n households as raw pushed changes."""
    from wq_desktop.store import new_uuid

    village = new_uuid()
    changes = [{"change_id": new_uuid(), "kind": "village", "record": village, "op": "create",
                "base_rev": 0, "user": "王芳",
                "fields": {"township": township, "code": CODE + "902", "name": "二村"}}]
    for i in range(n):
        first17 = f"652399{1960 + i // 1000}0202{i % 1000:03d}"
        changes.append({"change_id": new_uuid(), "kind": "operator", "record": new_uuid(), "op": "create",
                        "base_rev": 0, "user": "王芳",
                        "fields": {"village": village, "name": f"户{i}", "kind": "农户",
                                   "id_code": first17 + identity.id_check_char(first17)}})
    return changes


def test_health_answers_while_photos_upload_beside_a_long_push(server: ServerProcess) -> None:
    """Photo pieces go to disk and are hashed off the loop, and wait for no database lock there:
    a long push holding the database does not stop /health (or the uploads)."""
    import hashlib

    blobs = [os.urandom(12 * p.PHOTO_CHUNK + 1234) for _ in range(6)]
    users = ["王芳", "李明", "张伟"]
    headers = {u: server.headers(u) for u in users}
    page = _households(server.township, 5 * p.PUSH_PAGE - 1)

    def upload(i: int) -> bool:
        data, sha = blobs[i], hashlib.sha256(blobs[i]).hexdigest()
        session = requests.Session()
        for offset in range(0, len(data), p.PHOTO_CHUNK):
            answer = session.put(f"{server.url}/photos/{sha}", data=data[offset:offset + p.PHOTO_CHUNK],
                                 params={"offset": offset, "total": len(data)},
                                 headers=headers[users[i % 3]], timeout=300)
            assert answer.status_code == 200, answer.text
        return answer.json()["done"]

    def push() -> bool:
        answer = requests.post(server.url + "/sync/push", json={"device": "big", "changes": page,
                                                                "accounts": [{"name": "王芳"}]},
                               headers=headers["王芳"], timeout=600)
        return [r["status"] for r in answer.json()["results"]] == [p.APPLIED] * len(page)

    idle = HealthWatch.idle(server.url)
    with HealthWatch(server.url) as health, ThreadPoolExecutor(4) as pool:
        pushed = pool.submit(push)
        assert all(pool.map(upload, range(6)))
        assert pushed.result()
    _quick(health, idle)
