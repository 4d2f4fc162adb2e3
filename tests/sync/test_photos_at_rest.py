"""Photos of an encrypted store are encrypted on its disk, and plain wherever they are used: the
patrol view, the printed sheet, the server (bytes and hash), USB packages. Encrypting an older
plain store encrypts its photos too. Sync's copies of the store leave no key file behind."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from inproc import InProcessServer, seed_village
from PIL import Image

from tests.conftest import TEST_PASSWORD
from wq_desktop import accounts, encrypt_store, keyfile, photos
from wq_desktop.store import Store
from wq_desktop.sync import client


def _jpeg(path: Path, colour: tuple[int, int, int] = (120, 90, 60)) -> bytes:
    Image.new("RGB", (80, 60), colour).save(path, "JPEG")
    return path.read_bytes()


def _notice(store: Store, township: str) -> str:
    village = seed_village(store, township)
    return store.create("notice", {"village": village, "year": 2025, "start_on": "2025-06-01",
                                   "end_on": "2025-06-07"})


def test_photo_file_on_disk_is_not_the_jpeg_and_the_server_gets_the_jpeg(
        tmp_path: Path, server: InProcessServer) -> None:
    path = tmp_path / "laptop.sqlite"
    store, _ = accounts.create_encrypted_store(path, "测试员", TEST_PASSWORD)
    try:
        server.sync(store, "甲")
        jpeg = _jpeg(tmp_path / "公示现场.jpg")
        sha = hashlib.sha256(jpeg).hexdigest()
        photos.attach_photo(store, "notice", _notice(store, server.township), tmp_path / "公示现场.jpg")
        on_disk = photos.photo_path(store, sha).read_bytes()
        assert not on_disk.startswith(b"\xff\xd8") and jpeg[100:140] not in on_disk
        assert photos.photo_bytes(store, sha) == jpeg
        with Image.open(io.BytesIO(photos.photo_bytes(store, sha))) as im:
            assert im.size == (80, 60)
        report = server.sync(store, "甲")
        assert report.photos_uploaded == 1
        from wq_server.photos import blob_path

        assert blob_path(server.db, sha).read_bytes() == jpeg  # plain on the server, same hash
        # Renamed onto another photo's name, the file does not open.
        other = photos.photo_path(store, "0" * 64)
        other.parent.mkdir(parents=True, exist_ok=True)
        other.write_bytes(on_disk)
        with pytest.raises(Exception, match="已损坏或不属于本数据库"):
            photos.photo_bytes(store, "0" * 64)
    finally:
        store.close()
        keyfile.forget(path)


def test_a_downloaded_photo_is_stored_encrypted(tmp_path: Path, server: InProcessServer) -> None:
    plain = Store.open(tmp_path / "plain.sqlite", "甲", create=True)
    server.sync(plain, "甲")
    jpeg = _jpeg(tmp_path / "p.jpg", (10, 200, 30))
    photos.attach_photo(plain, "notice", _notice(plain, server.township), tmp_path / "p.jpg")
    server.sync(plain, "甲")
    path = tmp_path / "enc.sqlite"
    store, _ = accounts.create_encrypted_store(path, "测试员", TEST_PASSWORD)
    try:
        report = server.sync(store, "甲")
        sha = hashlib.sha256(jpeg).hexdigest()
        assert report.photos_downloaded == 1
        assert photos.photo_path(store, sha).read_bytes()[:8] == b"WQPHOTO1"
        assert photos.photo_bytes(store, sha) == jpeg
    finally:
        store.close()
        keyfile.forget(path)
        plain.close()


def test_encrypting_a_plain_store_encrypts_its_photos(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from wq_desktop import backup, package_keys

    monkeypatch.setenv("WQ_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "old.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        township = store.create("township", {"code": "652301105", "name": "六工镇"})
        jpeg = _jpeg(tmp_path / "a.jpg")
        photos.attach_photo(store, "notice", _notice(store, township), tmp_path / "a.jpg")
        sha = hashlib.sha256(jpeg).hexdigest()
        assert photos.photo_path(store, sha).read_bytes() == jpeg  # plain before
        backup.backup_now(store.path)
        backed_up = backup.photo_backup_folder(path) / sha[:2] / sha
        assert backed_up.read_bytes() == jpeg
        plain_device_key = package_keys.device_private_key(store)  # a package made while plain
    done = encrypt_store.encrypt(path, "测试员", TEST_PASSWORD)
    try:
        assert not photos.photo_path(done.store, sha).read_bytes().startswith(b"\xff\xd8")
        assert photos.photo_bytes(done.store, sha) == jpeg
        assert backed_up.read_bytes()[:8] == b"WQPHOTO1"  # the backups' photo copies too
        assert package_keys.device_private_key(done.store) != plain_device_key
    finally:
        done.store.close()
        keyfile.forget(path)


def test_sync_copies_of_an_encrypted_store_leave_no_key_file_behind(
        tmp_path: Path, server: InProcessServer, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "laptop.sqlite"
    store, _ = accounts.create_encrypted_store(path, "测试员", TEST_PASSWORD)
    stamps = iter(f"20260601-1200{i:02d}" for i in range(60))
    monkeypatch.setattr(client.migrations, "datetime", _Clock(stamps))
    try:
        for _ in range(client.KEEP_BACKUPS + 3):
            client._backup(store)
    finally:
        store.close()
        keyfile.forget(path)
    copies = sorted(tmp_path.glob("laptop.sync-*.sqlite.bak"))
    keys = sorted(tmp_path.glob("laptop.sync-*.sqlite.bak.keys"))
    assert len(copies) == client.KEEP_BACKUPS
    assert [k.name for k in keys] == [c.name + ".keys" for c in copies]


class _Clock:
    """datetime.now() giving one distinct stamp per copy (copies are named by the second)."""

    def __init__(self, stamps) -> None:
        self.stamps = stamps

    def now(self) -> _Clock:
        return self

    def strftime(self, _fmt: str) -> str:
        return next(self.stamps)


def test_the_patrol_sheet_of_an_encrypted_store_prints_its_photo(demo_store: Store,
                                                                   tmp_path: Path) -> None:
    import subprocess

    from wq_desktop.demo import demo_year
    from wq_desktop.printing.catalog import render_document

    path, patrol = demo_store.path, demo_store.find("photo")[0]["owner"]
    sha = demo_store.find("photo")[0]["sha256"]
    demo_store.close()
    done = encrypt_store.encrypt(path, "测试员", TEST_PASSWORD)
    try:
        assert photos.photo_path(done.store, sha).read_bytes()[:8] == b"WQPHOTO1"
        out = tmp_path / "patrol.pdf"
        assert render_document(done.store, "patrol", year=demo_year(), patrol=patrol, out=out) == 1
        listed = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True,
                                check=True).stdout.splitlines()[2:]
        assert any(" 320 " in line and " 240 " in line for line in listed)  # the demo photo
    finally:
        done.store.close()
        keyfile.forget(path)
