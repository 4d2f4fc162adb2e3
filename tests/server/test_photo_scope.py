"""Photos belong to records, against a real server process on loopback: a township's photo is not
readable by another township that learned its hash (not by download, not through a photo record
of its own, not through the hash questions), nobody appends to another user's upload, and uploads
no record refers to count against a per-user quota that the laptop reports without holding its
records back."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image
from serverproc import PASSWORD, ServerProcess, add_staff, add_township, new_server_db

from wq_desktop.photos import attach_photo, photo_path
from wq_desktop.store import Store
from wq_desktop.sync import protocol as p
from wq_desktop.sync import sync_now

EAST, WEST = "652301101", "652301102"


def _photo(path: Path, seed: int, side: int = 600) -> Path:
    """A real image of about side² × 3 bytes that does not compress."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[ServerProcess]:
    db = new_server_db(tmp_path_factory.mktemp("photos"), backend)
    towns = {EAST: add_township(db, EAST, "东镇"), WEST: add_township(db, WEST, "西镇")}
    for user, code in (("东甲", EAST), ("东乙", EAST), ("西甲", WEST), ("配额", EAST)):
        add_staff(db, user, code)
    proc = ServerProcess(db, WQ_UPLOAD_QUOTA_MB="3").start()
    proc.towns = towns
    yield proc
    proc.stop()


def _laptop(server: ServerProcess, tmp: Path, user: str, code: str) -> tuple[Store, str]:
    """A synced laptop with a village notice of its own (photos belong to notices and patrols);
    returns (store, notice)."""
    store = Store.open(tmp / f"{user}.sqlite", user, create=True)
    sync_now(store, server.url, user, PASSWORD)
    village = store.find_one("village", "code=?", (code + "901",))
    if village is None:
        village_id = store.create("village", {"township": server.towns[code], "code": code + "901",
                                              "name": "测试村"})
    else:
        village_id = village["uuid"]
    year = 2026 - store.count("notice")  # one notice a year per village
    notice = store.create("notice", {"village": village_id, "year": year, "start_on": f"{year}-03-01",
                                     "end_on": f"{year}-03-08"})
    return store, notice


def test_another_township_cannot_read_a_photo_by_its_hash(server, tmp_path) -> None:
    east, east_op = _laptop(server, tmp_path, "东甲", EAST)
    attach_photo(east, "notice", east_op, _photo(tmp_path / "east.png", 1))
    report = sync_now(east, server.url, "东甲", PASSWORD)
    assert report.photos_uploaded == 1
    sha = east.find_one("photo", "owner=?", (east_op,))["sha256"]

    # A colleague in the same township gets it.
    colleague = Store.open(tmp_path / "东乙.sqlite", "东乙", create=True)
    assert sync_now(colleague, server.url, "东乙", PASSWORD).photos_downloaded == 1
    assert hashlib.sha256(photo_path(colleague, sha).read_bytes()).hexdigest() == sha

    # West learned the hash and attaches it to a record of its own.
    west, west_op = _laptop(server, tmp_path, "西甲", WEST)
    headers = server.headers("西甲")
    assert requests.get(f"{server.url}/photos/{sha}", headers=headers).status_code == 403
    west.create("photo", {"owner_kind": "notice", "owner": west_op, "sha256": sha,
                          "file_name": "偷看.png"})
    report = sync_now(west, server.url, "西甲", PASSWORD)
    assert report.rejected == [] and report.photos_downloaded == 0
    assert any("服务器上还没有" in m for m in report.photo_messages)
    assert not photo_path(west, sha).exists()
    answer = requests.get(f"{server.url}/photos/{sha}", headers=headers)
    assert answer.status_code == 404 and answer.content != photo_path(east, sha).read_bytes()
    # The hash questions say nothing about the other township's file.
    missing = requests.post(f"{server.url}/photos/missing", json={"hashes": [sha]}, headers=headers)
    assert missing.json()["missing"] == [sha]
    received = requests.get(f"{server.url}/photos/{sha}/received", headers=headers)
    assert received.json()["received"] == 0
    # For its own township the server answers truthfully.
    east_headers = server.headers("东乙")
    assert requests.post(f"{server.url}/photos/missing", json={"hashes": [sha]},
                         headers=east_headers).json()["missing"] == []
    for store in (east, colleague, west):
        store.close()


def test_nobody_appends_to_another_users_upload(server) -> None:
    data = os.urandom(2 * p.PHOTO_CHUNK + 99)
    sha = hashlib.sha256(data).hexdigest()
    east, west = server.headers("东甲"), server.headers("西甲")
    url = f"{server.url}/photos/{sha}"

    def put(headers: dict, offset: int, piece: bytes) -> requests.Response:
        return requests.put(url, params={"offset": offset, "total": len(data)}, data=piece,
                            headers=headers, timeout=60)

    first = put(east, 0, data[:p.PHOTO_CHUNK])
    assert first.json() == {"received": p.PHOTO_CHUNK, "done": False}
    # West sees no upload in progress and cannot go on from East's offset.
    assert requests.get(url + "/received", headers=west).json()["received"] == 0
    spoil = put(west, p.PHOTO_CHUNK, b"\0" * p.PHOTO_CHUNK)
    assert spoil.status_code == 409 and spoil.json()["received"] == 0
    assert put(west, 0, b"\0" * p.PHOTO_CHUNK).json()["done"] is False  # West's own, separate upload
    # East goes on where it stopped and the file is whole.
    assert requests.get(url + "/received", headers=east).json()["received"] == p.PHOTO_CHUNK
    assert put(east, p.PHOTO_CHUNK, data[p.PHOTO_CHUNK:2 * p.PHOTO_CHUNK]).json()["done"] is False
    assert put(east, 2 * p.PHOTO_CHUNK, data[2 * p.PHOTO_CHUNK:]).json() == {"received": len(data),
                                                                                "done": True}
    assert hashlib.sha256(requests.get(url, headers=east).content).hexdigest() == sha
    assert requests.get(url, headers=west).status_code == 403


def test_uploads_no_record_refers_to_are_bounded_per_user(server, tmp_path) -> None:
    store, op = _laptop(server, tmp_path, "配额", EAST)
    first = attach_photo(store, "notice", op, _photo(tmp_path / "one.png", 2, side=800))  # ~1.9 MB
    second = attach_photo(store, "notice", op, _photo(tmp_path / "two.png", 3, side=800))
    # Records go up before their photos, so photos of records count for nothing: 3.8 MB pass.
    report = sync_now(store, server.url, "配额", PASSWORD)
    assert report.photos_uploaded == 2 and report.photo_messages == [] and store.pending_changes() == 0
    headers = server.headers("配额")
    hashes = [store.get("photo", uuid)["sha256"] for uuid in (first, second)]
    assert requests.post(f"{server.url}/photos/missing", json={"hashes": hashes},
                         headers=headers).json()["missing"] == []
    # A blob no record will ever refer to is refused beyond the quota, with the same sentence.
    blob = os.urandom(p.PHOTO_CHUNK)
    ok = requests.put(f"{server.url}/photos/{hashlib.sha256(blob).hexdigest()}", data=blob,
                      params={"offset": 0, "total": len(blob)}, headers=headers)
    assert ok.status_code == 200
    more = os.urandom(2 * p.PHOTO_CHUNK + 10)
    refused = requests.put(f"{server.url}/photos/{hashlib.sha256(more).hexdigest()}",
                           data=more[:p.PHOTO_CHUNK], params={"offset": 0, "total": len(more)},
                           headers=headers)
    assert refused.status_code == 413 and "将超过每人 3 MB 的上限" in refused.json()["detail"]
    store.close()
