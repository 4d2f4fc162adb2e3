"""Photos belong to records, against a real server process on loopback: a township's photo is not
readable by another township that learned its hash (not by download, not through a photo record
of its own, not through the hash questions), nobody appends to another user's upload, and uploads
no record refers to count against a per-user quota that the laptop reports without holding its
records back. The module's server and townships are the shared ones of conftest.py."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image
from serverproc import ServerProcess, Township, next_code

from wq_desktop.photos import attach_photo, photo_path
from wq_desktop.sync import protocol as p

SERVER_ENV = {"WQ_UPLOAD_QUOTA_MB": "3"}  # what a user's uploads no record refers to may hold


def _photo(path: Path, seed: int, side: int = 600) -> Path:
    """A real image of about side² × 3 bytes that does not compress."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path)
    return path


@pytest.fixture
def west(server: ServerProcess, tmp_path: Path) -> Iterator[Township]:
    """A second township of the module's server, with one laptop."""
    code = next_code()
    t = Township(server, tmp_path, code, f"西镇{code[-2:]}", laptops=1)  # its users: named after it
    yield t
    t.close()


def _notice(town: Township, i: int) -> str:
    """A village notice on laptop i (photos belong to notices and patrols), in the township's
    village (made the first time)."""
    store = town.stores[i]
    village = store.find_one("village", "code=?", (town.code + "901",))
    village_id = village["uuid"] if village else store.create(
        "village", {"township": town.uuid, "code": town.code + "901", "name": "测试村"})
    year = 2026 - store.count("notice")  # one notice a year per village
    return store.create("notice", {"village": village_id, "year": year, "start_on": f"{year}-03-01",
                                   "end_on": f"{year}-03-08"})


def test_another_township_cannot_read_a_photo_by_its_hash(server, town, west, tmp_path) -> None:
    east, colleague = town.stores
    east_op = _notice(town, 0)
    attach_photo(east, "notice", east_op, _photo(tmp_path / "east.png", 1))
    report = town.sync(0)
    assert report.photos_uploaded == 1
    sha = east.find_one("photo", "owner=?", (east_op,))["sha256"]

    # A colleague in the same township gets it.
    assert town.sync(1).photos_downloaded == 1
    assert hashlib.sha256(photo_path(colleague, sha).read_bytes()).hexdigest() == sha

    # West learned the hash and attaches it to a record of its own.
    west_op = _notice(west, 0)
    headers = server.headers(west.users[0])
    assert requests.get(f"{server.url}/photos/{sha}", headers=headers).status_code == 403
    west.stores[0].create("photo", {"owner_kind": "notice", "owner": west_op, "sha256": sha,
                                    "file_name": "偷看.png"})
    report = west.sync(0)
    assert report.rejected == [] and report.photos_downloaded == 0
    assert any("服务器上还没有" in m for m in report.photo_messages)
    assert not photo_path(west.stores[0], sha).exists()
    answer = requests.get(f"{server.url}/photos/{sha}", headers=headers)
    assert answer.status_code == 404 and answer.content != photo_path(east, sha).read_bytes()
    # The hash questions say nothing about the other township's file.
    missing = requests.post(f"{server.url}/photos/missing", json={"hashes": [sha]}, headers=headers)
    assert missing.json()["missing"] == [sha]
    received = requests.get(f"{server.url}/photos/{sha}/received", headers=headers)
    assert received.json()["received"] == 0
    # For its own township the server answers truthfully.
    east_headers = server.headers(town.users[1])
    assert requests.post(f"{server.url}/photos/missing", json={"hashes": [sha]},
                         headers=east_headers).json()["missing"] == []


def test_nobody_appends_to_another_users_upload(server, town, west) -> None:
    data = os.urandom(2 * p.PHOTO_CHUNK + 99)
    sha = hashlib.sha256(data).hexdigest()
    east, west = server.headers(town.users[0]), server.headers(west.users[0])
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


def test_uploads_no_record_refers_to_are_bounded_per_user(server, town, tmp_path) -> None:
    store, op = town.stores[0], _notice(town, 0)
    first = attach_photo(store, "notice", op, _photo(tmp_path / "one.png", 2, side=800))  # ~1.9 MB
    second = attach_photo(store, "notice", op, _photo(tmp_path / "two.png", 3, side=800))
    # Records go up before their photos, so photos of records count for nothing: 3.8 MB pass.
    report = town.sync(0)
    assert report.photos_uploaded == 2 and report.photo_messages == [] and store.pending_changes() == 0
    headers = server.headers(town.users[0])
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
