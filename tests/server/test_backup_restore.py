"""The backup of docs/server.md, done as written, on each store: on PostgreSQL `pg_dump -Fc` of the
database and a copy of its photo folder, restored with `pg_restore` into a new database; on
SQLite `sqlite3 .backup` while the server runs, its photo folder and its package key, put back on
another machine. The server runs on the restored copy and the laptops sync against it: what it
held is there, their cursors are still good, new work goes through, and a USB package sealed to
the key the laptops pinned before the backup is still opened (a restored server that made itself
a new key is refused by every laptop)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests
from pg_cluster import _bin, new_database, new_server_db
from PIL import Image
from serverproc import ServerDb, ServerProcess, Township, open_db, server_content

from wq_desktop.photos import attach_photo
from wq_desktop.sync.package import export_package, import_reply


def _backup_postgres(url: str, live: Path, backup: Path) -> None:
    backup.mkdir()
    subprocess.run([_bin("pg_dump"), "-Fc", "-f", str(backup / "wq.dump"), url], check=True,
                   capture_output=True)
    shutil.copytree(live / "photos", backup / "photos",
                    ignore=shutil.ignore_patterns("web-replica"))  # a cache, rebuilt (docs/server.md)


def _restore_postgres(backup: Path, target: Path) -> str:
    from wq_server.pg_store import PgServerDB

    restored = new_database("restored")
    subprocess.run([_bin("pg_restore"), "--no-owner", "-d", restored, str(backup / "wq.dump")],
                   check=True, capture_output=True)
    shutil.copytree(backup / "photos", target / "photos")  # not where the dumped server kept it
    PgServerDB(restored, pool_size=1, photos=target / "photos").close()  # what --photos does
    return restored


def _backup_sqlite(db: Path, backup: Path) -> None:
    """docs/server.md's three lines, while the server runs."""
    backup.mkdir()
    subprocess.run(["sqlite3", str(db), f".backup {backup / 'server.sqlite'}"], check=True,
                   capture_output=True)
    subprocess.run(["cp", "-rp", str(db.parent / "server_photos"), str(backup)], check=True)
    subprocess.run(["cp", "-p", str(db.parent / "server.sqlite.package-key"), str(backup)], check=True)


def _restore_sqlite(backup: Path, target: Path) -> Path:
    shutil.copytree(backup, target)  # all three back beside each other, on the new machine
    return target / "server.sqlite"


def test_a_restored_backup_serves_the_laptops_on(tmp_path: Path, backend: str) -> None:
    live = tmp_path / "live"
    live.mkdir()
    db: ServerDb = new_server_db(live, backend)
    server = ServerProcess(db).start()
    town = Township(server, tmp_path, "652301141", "备份镇")
    _, op = town.household(0)
    village = town.stores[0].find("village")[0]["uuid"]
    notice = town.stores[0].create("notice", {"village": village, "year": 2025,
                                              "start_on": "2025-07-21", "end_on": "2025-07-27"})
    jpeg = tmp_path / "公示.jpg"
    Image.new("RGB", (40, 30), "red").save(jpeg)
    photo = attach_photo(town.stores[0], "notice", notice, jpeg)
    town.sync(0)
    town.sync(1)
    held = server_content(db, town.uuid)

    backup = tmp_path / "backup"
    if backend == "postgresql":
        _backup_postgres(str(db), live, backup)
    else:
        _backup_sqlite(Path(db), backup)
    server.stop()
    restored = (_restore_postgres(backup, tmp_path / "restored") if backend == "postgresql"
                else _restore_sqlite(backup, tmp_path / "restored"))
    assert server_content(restored, town.uuid) == held

    again = ServerProcess(restored, workers=server.workers)
    again.port = server.port  # the same address for the laptops
    again.start()
    town.server = again
    try:
        assert town.sync(1).pulled == 0  # the same server key, and the cursor points where it did
        town.stores[1].update("operator", op, {"note": "恢复后核实"})
        town.sync(1)
        town.sync(0)
        assert town.stores[0].get("operator", op)["note"] == "恢复后核实"
        town.assert_converged()
        sha = town.stores[0].get("photo", photo)["sha256"]
        got = requests.get(f"{again.url}/photos/{sha}", headers=again.headers(town.users[1]),
                           timeout=60)
        assert got.status_code == 200 and got.content == jpeg.read_bytes()
        # No network at the township: a USB package, sealed to the key pinned before the backup.
        town.stores[0].update("operator", op, {"address": "二组"})
        export_package(town.stores[0], tmp_path / "u盘.zip", town.users[0])
        answer = requests.post(again.url + "/packages", data=(tmp_path / "u盘.zip").read_bytes(),
                               headers=again.headers(town.users[0]), timeout=120)
        assert answer.status_code == 200, answer.text
        (tmp_path / "回传.zip").write_bytes(answer.content)
        import_reply(town.stores[0], tmp_path / "回传.zip")
        assert town.stores[0].pending_changes() == 0
        town.sync(1)
        assert town.stores[1].get("operator", op)["address"] == "二组"
    finally:
        again.stop()
        town.close()
    check = open_db(restored)
    try:
        assert check.verify_history() == []
    finally:
        check.close()
