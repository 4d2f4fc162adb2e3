"""USB packages sealed to the server's key and replies to the laptop's: a lost stick shows no ID,
phone or name; a package for another server, a tampered or cut one, or an old unsealed zip is
refused and changes nothing; the server key is pinned at the first online sync and a changed
one is refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from inproc import InProcessServer, household, seed_village
from pg_cluster import store_content

from wq_desktop import package_keys, sealed
from wq_desktop.demo import build_demo
from wq_desktop.errors import WqError
from wq_desktop.store import Store
from wq_desktop.sync import SyncError
from wq_desktop.sync.package import export_package, import_reply, open_sealed
from wq_server import server_key
from wq_server.package import import_package_bytes


def _laptop(tmp_path: Path, server: InProcessServer, name: str = "甲") -> Store:
    store = Store.open(tmp_path / f"{name}.sqlite", name, create=True)
    server.sync(store, name)  # the first online sync pins the server's package key
    return store


def _server_changes(server: InProcessServer) -> tuple[int, int]:
    with server.db.reading() as session:
        return (session.execute("SELECT count(*) FROM srv_change").fetchone()[0],
                session.execute("SELECT count(*) FROM srv_receipt").fetchone()[0])


def test_a_lost_stick_shows_no_id_phone_or_name_of_the_demo(tmp_path: Path,
                                                             server: InProcessServer) -> None:
    store = Store.open(tmp_path / "demo-copy.sqlite", "演示用户", create=True)
    build_demo(store)
    store.set_meta("demo", "0")  # the demo's households, exported as a real township's would be
    package_keys.pin_server_key(store, server_key.public_key(server.db.key_base), "test")
    package = tmp_path / "u盘.zip"
    assert export_package(store, package, "甲").changes > 100
    people = store.conn.execute("SELECT name, id_code, phone FROM operator").fetchall()
    secrets = {v for row in people for v in row if v and len(v) >= 2}
    assert len(secrets) > 50
    raw = package.read_bytes()
    assert not zipfile.is_zipfile(package)
    found = [s for s in secrets if s.encode() in raw or s.encode("utf-16-le") in raw]
    assert found == []
    header, _ = sealed.read_header(package.open("rb"))
    assert set(header) == {"format", "version", "purpose", "to", "ephemeral", "nonce", "chunk"}
    # They are in it, for the server only.
    with open_sealed(package, server_key.load_or_create(server.db.key_base), "") as zf:
        changes = zf.read("changes.json").decode()
    assert all(s in changes for s in secrets)
    store.close()


def test_round_trip_is_sealed_both_ways(tmp_path: Path, server: InProcessServer) -> None:
    a = _laptop(tmp_path, server)
    op = household(a, seed_village(a, server.township))
    package = tmp_path / "u盘.zip"
    export_package(a, package, "甲")
    reply = tmp_path / "reply.zip"
    reply.write_bytes(import_package_bytes(server.db, package.read_bytes()))
    assert not zipfile.is_zipfile(reply)
    assert sealed.recipient_of(reply) == sealed.fingerprint(package_keys.device_public_key(a))
    assert import_reply(a, reply).changes == 2 and a.pending_changes() == 0
    assert dict(store_content(server.db)[op][2])["name"] == "张三"
    b = _laptop(tmp_path, server, "乙")
    with pytest.raises(WqError, match="此回传包不是发给本机的"):
        import_reply(b, reply)  # another laptop cannot open it
    a.close()
    b.close()


def test_a_package_for_another_server_is_refused_and_changes_nothing(
        tmp_path: Path, server: InProcessServer, backend: str) -> None:
    a = _laptop(tmp_path, server)
    household(a, seed_village(a, server.township))
    package = tmp_path / "u盘.zip"
    export_package(a, package, "甲")
    (tmp_path / "other").mkdir()
    other = InProcessServer(tmp_path / "other" / "server.sqlite", backend)
    other.add_staff("甲")
    before = _server_changes(other)
    with pytest.raises(WqError, match="此同步包不是发给本服务器的") as refused:
        import_package_bytes(other.db, package.read_bytes())
    mine = sealed.shown_fingerprint(server_key.public_key(other.db.key_base))
    assert mine in str(refused.value)
    assert _server_changes(other) == before
    other.close()
    a.close()


@pytest.mark.parametrize("damage", ["byte", "header", "cut", "plain zip"])
def test_a_tampered_package_is_refused_whole(tmp_path: Path, server: InProcessServer,
                                             damage: str) -> None:
    a = _laptop(tmp_path, server)
    village = seed_village(a, server.township)
    for i in range(30):
        household(a, village, f"户{i}")
    package = tmp_path / "u盘.zip"
    export_package(a, package, "甲")
    data = bytearray(package.read_bytes())
    if damage == "byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "header":
        data = bytearray(bytes(data).replace(b'"to-server"', b'"to-device"', 1))  # same length
    elif damage == "cut":
        data = data[:-20]
    else:  # what an older program wrote: the zip in clear
        with open_sealed(package, server_key.load_or_create(server.db.key_base), "") as zf, \
                zipfile.ZipFile(tmp_path / "plain.zip", "w") as out:
            for name in zf.namelist():
                out.writestr(name, zf.read(name))
        data = bytearray((tmp_path / "plain.zip").read_bytes())
    before = _server_changes(server)
    said = {"byte": "已被改动", "header": "已被改动", "cut": "已被改动", "plain zip": "未加密"}[damage]
    with pytest.raises(WqError, match=said):
        import_package_bytes(server.db, bytes(data))
    assert _server_changes(server) == before
    assert a.pending_changes() == 31
    a.close()


def test_a_changed_server_key_is_refused_until_the_office_file_replaces_it(
        tmp_path: Path, server: InProcessServer) -> None:
    a = _laptop(tmp_path, server)
    household(a, seed_village(a, server.township))
    # The laptop was given another server's key file (or the server's key changed).
    impostor = tmp_path / "impostor" / "x.sqlite"
    impostor.parent.mkdir()
    server_key.load_or_create(impostor)
    impostor.touch()
    office_file = tmp_path / "其他服务器密钥.json"
    server_key.write_public_file(impostor, office_file)
    with pytest.raises(package_keys.ServerKeyChanged, match="不同"):
        package_keys.import_key_file(a, office_file)
    package_keys.import_key_file(a, office_file, replace=True)
    with pytest.raises(SyncError, match=r"与本机记住的.*不同，已拒绝"):
        server.sync(a, "甲")
    assert a.pending_changes() == 2  # nothing was sent to a server showing another key
    genuine = tmp_path / "市办公室密钥.json"
    server_key.write_public_file(server.db.key_base, genuine)
    package_keys.import_key_file(a, genuine, replace=True)
    assert server.sync(a, "甲").pushed == 2
    a.close()


def test_export_without_a_known_server_key_says_how_to_get_one(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "new.sqlite", "甲", create=True)
    with pytest.raises(WqError, match="还不知道服务器的同步包密钥"):
        export_package(store, tmp_path / "u盘.zip", "甲")
    assert not (tmp_path / "u盘.zip").exists() and not list(tmp_path.glob("*.part"))
    store.close()


def test_server_private_key_is_private_and_kept(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    key = server_key.load_or_create(db)
    path = server_key.key_path(db)
    assert path.stat().st_mode & 0o777 == 0o600
    assert server_key.load_or_create(db) == key  # made once, never replaced
    path.chmod(0o644)
    with pytest.raises(WqError, match="权限过宽"):
        server_key.load_or_create(db)
    assert json.loads(path.read_text())["private_key"] == key.hex()
