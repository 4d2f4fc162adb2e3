"""Inputs bounded and typed, against a real server process on loopback: every malformed change is
refused on its own with a reason (422) while the rest of its page is applied; bodies over an
endpoint's limit are refused (413) whether their length is declared or not; a zip bomb is refused
before it inflates; text longer than the schema allows is refused on the laptop and the server."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from serverproc import server_content

from wq_desktop import sealed
from wq_desktop.errors import ValidationError
from wq_desktop.geo.polygons import to_wkb
from wq_desktop.store import Store, new_uuid
from wq_desktop.sync import protocol as p
from wq_desktop.sync.package import FORMAT, TO_SERVER

CODE = "652301105"
GOOD_ID = "11010519491231002X"
PROTOCOL = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}  # the header every request carries


def _change(kind: str, fields: dict, user: str, op: str = "create", record: str | None = None,
            **extra) -> dict:
    return {"change_id": new_uuid(), "kind": kind, "record": record or new_uuid(), "op": op,
            "base_rev": 0, "fields": fields, "at": "2026-06-01T00:00:00Z", "user": user, **extra}


def test_each_malformed_change_is_refused_with_its_reason_and_the_rest_applied(server, town) -> None:
    from shapely.geometry import box

    user = town.users[0]

    def change(kind: str, fields: dict, op: str = "create", **extra) -> dict:
        return _change(kind, fields, user, op, **extra)

    village = change("village", {"township": town.uuid, "code": town.code + "901", "name": "测试村"})
    v = village["record"]
    household = change("operator", {"village": v, "name": "张三", "kind": "农户", "id_code": GOOD_ID})
    parcel = change("parcel", {"village": v, "code": "001", "land_attribute": "集体机动地",
                                "geometry": to_wkb(box(500000, 4870000, 500100, 4870100)).hex()})
    bad = {
        "a number": 5,
        "text as base_rev": change("operator", {"village": v, "name": "李四", "kind": "农户",
                                                 "id_code": GOOD_ID}, base_rev="3"),
        "a list as base_rev": change("operator", {"village": v, "name": "李四", "kind": "农户",
                                                   "id_code": GOOD_ID}, base_rev=[1]),
        "geometry not hex": change("parcel", {"village": v, "code": "002", "land_attribute": "集体机动地",
                                               "geometry": "zz"}),
        "geometry hex of nothing": change("parcel", {"village": v, "code": "003",
                                                      "land_attribute": "集体机动地",
                                                      "geometry": "0103000000"}),
        "a 6 MB note": change("operator", {"village": v, "name": "王五", "kind": "农户",
                                            "id_code": GOOD_ID, "note": "很" * 6_000_000}),
        "an unknown kind": change("spaceship", {}),
        "a list as kind": change("operator", {}) | {"kind": ["operator"]},
        "an unknown op": change("operator", {}, op="drop"),
        "fields a list": change("operator", [1, 2]),
        "area as text": change("parcel", {"village": v, "code": "004", "land_attribute": "集体机动地",
                                           "area_mu": "三亩"}),
    }
    page = [village, *bad.values(), household, parcel]
    headers = server.headers(user)
    answer = requests.post(server.url + "/sync/push", json={"device": "d1", "changes": page,
                                                            "accounts": [{"name": user}]},
                           headers=headers, timeout=120)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * len(bad) + ["applied"] * 2
    reasons = dict(zip(bad, (r["reason"] for r in results[1:-2]), strict=True))
    assert all(r["code"] == 422 for r in results[1:-2])
    assert reasons["a number"] == "变更格式不正确：每条变更应为一个对象。"
    assert reasons["text as base_rev"] == reasons["a list as base_rev"]
    assert reasons["text as base_rev"] == "变更格式不正确：“基础版本”应为整数。"
    assert reasons["geometry not hex"] == "变更格式不正确：地块图形不是有效的十六进制 WKB。"
    assert reasons["geometry hex of nothing"].startswith("服务器拒绝：")
    assert reasons["a 6 MB note"] == "变更格式不正确：“备注”最多 2000 字。"
    assert reasons["an unknown kind"] == "变更格式不正确：“记录类型”不是可用的值。"
    assert reasons["a list as kind"].startswith("变更格式不正确：")  # refused alone, not a 500
    assert reasons["an unknown op"] == "变更格式不正确：“操作”不是可用的值。"
    assert reasons["fields a list"] == "变更格式不正确：“字段”应为对象。"
    assert reasons["area as text"] == "变更格式不正确：“面积（亩）”应为数字。"

    # Nothing of the refused changes is on the server; a laptop pulls exactly the three records.
    held = server_content(server.db, town.uuid)
    assert {village["record"], household["record"], parcel["record"]} <= set(held)
    assert not {c["record"] for c in bad.values() if isinstance(c, dict)} & set(held)
    town.sync(1)
    assert town.stores[1].count("operator") == 1 and town.stores[1].count("parcel") == 1


def test_pages_of_the_wrong_shape_are_422_and_too_many_changes_413(server, town) -> None:
    headers = server.headers(town.users[0])
    push = server.url + "/sync/push"
    for body in (b"not json", b'{"device": "d1", "changes": 5}', b'{"changes": []}', b"[1, 2]"):
        answer = requests.post(push, data=body, headers=headers, timeout=60)
        assert answer.status_code == 422 and answer.json()["detail"].startswith("上传内容格式不正确")
    many = [_change("operator", {}, town.users[0]) for _ in range(5 * p.PUSH_PAGE + 1)]
    answer = requests.post(push, json={"device": "d1", "changes": many}, headers=headers, timeout=60)
    assert answer.status_code == 413 and answer.json()["detail"] == f"一次最多上传 {5 * p.PUSH_PAGE} 条修改。"
    answer = requests.post(server.url + "/photos/missing", json={"hashes": ["../../etc/passwd"]},
                           headers=headers, timeout=60)
    assert answer.status_code == 422 and answer.json()["detail"].startswith("请求内容格式不正确")


def test_bodies_over_the_endpoint_limit_are_refused_declared_or_streamed(server, town) -> None:
    login = server.url + "/auth/login"
    big = json.dumps({"user": town.users[0], "password": "x" * 10_000}).encode()
    declared = requests.post(login, data=big, headers=dict(PROTOCOL), timeout=60)

    def pieces() -> Iterator[bytes]:  # chunked: no length said in advance
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000]

    streamed = requests.post(login, data=pieces(), headers=dict(PROTOCOL), timeout=60)
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json()["detail"] == "请求内容超过服务器上限（4 KB），未处理。"
    headers = server.headers(town.users[0])
    piece = b"x" * (2 * p.PHOTO_CHUNK)
    answer = requests.put(f"{server.url}/photos/{'a' * 64}", params={"offset": 0, "total": len(piece)},
                          data=iter([piece[i:i + 65536] for i in range(0, len(piece), 65536)]),
                          headers=headers, timeout=60)
    assert answer.status_code == 413


def _bomb(path: Path, entry: str, inflated: int, manifest: dict) -> None:
    """A zip whose one entry inflates from a few hundred KB to `inflated` bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        if entry != "changes.json":
            zf.writestr("changes.json", "[]")
        with zf.open(entry, "w", force_zip64=True) as fh:
            block = b" " * (1 << 20)
            for _ in range(inflated >> 20):
                fh.write(block)


def test_a_zip_bomb_package_is_refused_before_it_inflates(server, town, tmp_path) -> None:
    manifest = {"format": FORMAT, "direction": TO_SERVER, "protocol": p.PROTOCOL_VERSION,
                "device": "d1", "user": town.users[0], "cursor": 0, "photos": [],
                "device_key": "0" * 64}
    headers = server.headers(town.users[0])
    server_key = server.package_key()
    cases = {"changes.json": "超过服务器上限 128 MB", "manifest.json": "超过服务器上限 1 MB"}
    sha = "b" * 64
    cases[f"photos/{sha}"] = "超过服务器上限 40 MB"
    before = server.peak_rss_mib()
    for entry, said in cases.items():
        bomb = tmp_path / "bomb.zip"
        if entry == "manifest.json":
            with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, \
                    zf.open(entry, "w", force_zip64=True) as fh:
                for _ in range(300):
                    fh.write(b" " * (1 << 20))
        else:
            _bomb(bomb, entry, 300 << 20, {**manifest, "photos": [sha] if "photos" in entry else []})
        assert bomb.stat().st_size < 1 << 20  # 300 MB of inflated bytes in under 1 MB
        package = sealed.seal_bytes(bomb.read_bytes(), server_key, TO_SERVER)
        answer = requests.post(server.url + "/packages", data=package, headers=headers,
                               timeout=120)
        assert answer.status_code == 422, answer.text
        assert said in answer.json()["detail"] and "未导入" in answer.json()["detail"]
    assert server.peak_rss_mib() - before < 50  # nothing inflated in memory
    assert requests.get(server.url + "/health", timeout=30).ok


def test_the_laptop_refuses_text_longer_than_the_schema_allows(tmp_path) -> None:
    with Store.open(tmp_path / "laptop.sqlite", "王芳", create=True) as store:
        town = store.create("township", {"code": CODE, "name": "六工镇"})
        village = store.create("village", {"township": town, "code": CODE + "901", "name": "测试村"})
        op = store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                       "id_code": GOOD_ID, "note": "很" * 2000})
        with pytest.raises(ValidationError, match="“备注”最多 2000 字，实有 2001 字。"):
            store.update("operator", op, {"note": "很" * 2001})
        with pytest.raises(ValidationError, match="“住址”最多 200 字"):
            store.update("operator", op, {"address": "一" * 201})
        assert store.get("operator", op)["note"] == "很" * 2000 and store.pending_changes() == 3
