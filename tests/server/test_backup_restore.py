"""The backup of docs/server.md, done as written: `pg_dump -Fc` of the server's database and a
copy of its photo folder, restored with `pg_restore` into a new database on another day; the
server runs on the restored copy and a laptop syncs against it: what it held is there, its cursor
is still good, and new work goes through."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests
from pg_cluster import _bin, new_database, new_server_db
from PIL import Image
from serverproc import ServerProcess, Township, server_content

from wq_desktop.photos import attach_photo
from wq_server.pg_store import PgServerDB


def test_a_restored_dump_serves_the_laptops_on(tmp_path: Path) -> None:
    url = new_server_db(tmp_path / "live", "postgresql")
    server = ServerProcess(url, workers=2).start()
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
    held = server_content(url, town.uuid)

    # Backup: the database and the photo folder.
    dump = tmp_path / "wq.dump"
    subprocess.run([_bin("pg_dump"), "-Fc", "-f", str(dump), url], check=True, capture_output=True)
    shutil.copytree(tmp_path / "live" / "photos", tmp_path / "photos-backup",
                    ignore=shutil.ignore_patterns("web-replica"))  # a cache, rebuilt (docs/server.md)
    server.stop()

    # Restore on a new database; the photo folder goes back where the new server keeps it.
    restored = new_database("restored")
    subprocess.run([_bin("pg_restore"), "--no-owner", "-d", restored, str(dump)], check=True,
                   capture_output=True)
    shutil.copytree(tmp_path / "photos-backup", tmp_path / "restored-photos")
    PgServerDB(restored, pool_size=1, photos=tmp_path / "restored-photos").close()
    assert server_content(restored, town.uuid) == held

    again = ServerProcess(restored, workers=2)
    again.port = server.port  # the same address for the laptops
    again.start()
    town.server = again
    try:
        assert town.sync(1).pulled == 0  # nothing new: the cursor still points where it did
        town.stores[1].update("operator", op, {"note": "恢复后核实"})
        town.sync(1)
        town.sync(0)
        assert town.stores[0].get("operator", op)["note"] == "恢复后核实"
        town.assert_converged()
        sha = town.stores[0].get("photo", photo)["sha256"]
        got = requests.get(f"{again.url}/photos/{sha}", headers=again.headers(town.users[1]),
                           timeout=60)
        assert got.status_code == 200 and got.content == jpeg.read_bytes()
    finally:
        again.stop()
        town.close()
    check = PgServerDB(restored, pool_size=1)
    try:
        assert check.verify_history() == []
    finally:
        check.close()
