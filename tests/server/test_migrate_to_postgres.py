"""A city's running SQLite server moved onto PostgreSQL with `python -m wq_server migrate`: the
laptops go on syncing against the new server as if nothing happened (their cursors, tokens and
receipts still hold), the history chains verify, photos arrive, and a non-empty target is refused."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import requests
from pg_cluster import new_database
from serverproc import PROTOCOL, ROOT, ServerProcess, Township, query
from test_sync_never_loses import _every_kind

from wq_server.pg_store import PgServerDB


def _migrate(source: Path, url: str, photos: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wq_server", "migrate", "--from", str(source),
                           "--to", url, "--photos", str(photos)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_laptops_sync_on_after_the_server_moves_to_postgres(tmp_path: Path) -> None:
    old = ServerProcess(tmp_path / "city.sqlite").start()
    town = Township(old, tmp_path, "652301131", "迁移镇")
    made = _every_kind(town, tmp_path)  # every kind, an outline and two photos among them
    op, photo = made["operator"], made["photo"]
    report = town.sync(0)
    assert report.rejected == [] and report.photos_uploaded == 2
    town.sync(1)
    town.stores[1].update("water_quota", made["water_quota"], {"m3_per_mu": 430})
    town.stores[0].update("water_quota", made["water_quota"], {"m3_per_mu": 410})
    town.sync(1)
    assert town.sync(0).conflicts == 1  # a conflict moves too
    town.sync(1)
    town.stores[1].update("operator", op, {"note": "乙核实"})
    town.sync(1)  # laptop 0 has not pulled this yet: its cursor stands before it
    cursors = [s.meta("sync_cursor") for s in town.stores]
    sent = query(old.db, "SELECT change_id, kind, record, op, rev, fields FROM srv_change"
                 " WHERE change_id IS NOT NULL ORDER BY seq LIMIT 1")[0]
    token = old.headers(town.users[0])["Authorization"]
    unseen = query(old.db, "SELECT record, seq FROM srv_change WHERE seq>? AND device<>? ORDER BY seq",
                   (int(cursors[0]), town.stores[0].device))
    assert unseen  # laptop 0 has something to pull after the move
    old.stop()

    url = new_database()
    done = _migrate(old.db, url, tmp_path / "pg_photos")
    assert done.returncode == 0, done.stderr
    assert "变更历史已按乡镇校验无误" in done.stdout
    db = PgServerDB(url, pool_size=1)
    assert db.verify_history() == []
    db.close()

    new = ServerProcess(url, workers=2)
    new.port = old.port  # the city's server keeps its address: laptops see the same server
    new.start()
    town.server = new
    try:
        # A token given by the old server still signs in; a change sent again is applied once.
        change_id, kind, record, op_name, rev, fields = sent
        again = requests.post(new.url + "/sync/push", headers={**PROTOCOL, "Authorization": token},
                              json={"device": "重发", "changes": [{
                                  "change_id": change_id, "kind": kind, "record": record,
                                  "op": op_name, "base_rev": rev - 1, "fields": json.loads(fields)}]},
                              timeout=60)
        assert again.status_code == 200, again.text
        assert again.json()["results"][0]["duplicate"] is True
        # Laptop 0 pulls exactly what it had not seen; laptop 1 nothing.
        page = requests.get(new.url + "/sync/pull", headers={**PROTOCOL, "Authorization": token},
                            params={"device": town.stores[0].device, "after": cursors[0]}, timeout=60)
        assert [(c["record"], c["seq"]) for c in page.json()["changes"]] == [tuple(r) for r in unseen]
        town.sync(0)
        assert town.stores[0].get("operator", op)["note"] == "乙核实"
        assert town.sync(1).pulled == 0
        assert cursors[1] == town.stores[1].meta("sync_cursor")
        # Work goes on: an edit on laptop 0 reaches laptop 1 through PostgreSQL.
        town.stores[0].update("operator", op, {"phone": "13800138000"})
        town.sync(0)
        town.sync(1)
        town.assert_converged()
        # The photo moved with the server: laptop 1 gets it from the new one.
        sha = town.stores[0].get("photo", photo)["sha256"]
        got = requests.get(f"{new.url}/photos/{sha}", headers=new.headers(town.users[1]), timeout=60)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha
    finally:
        new.stop()
        town.close()
    assert query(url, "SELECT count(*) FROM srv_change WHERE change_id=?", (change_id,)) == [(1,)]

    refused = _migrate(old.db, url, tmp_path / "pg_photos")
    assert refused.returncode == 2
    assert "目标数据库不是空的" in refused.stderr
