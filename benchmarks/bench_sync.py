"""Sync speed as ratios to a bare transfer of the same rows over the same server:

- first pull of N parcels (default 100,000; WQ_BENCH_PARCELS to change) into an empty laptop store,
  against fetching the same pages and inserting them into a bare SQLite table; beside it the
  same-work floor: the same pages written bare into a laptop store's own tables (each record's
  row under the schema's indexes, a hash-chained history entry, its server revision, the
  cursor), one transaction a page, against the same bare pull, so the product's own overhead
  (checks of the answer, validation, the diff) is what lies between the two;
- a no-change sync, against one bare pull request that returns nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # pg_cluster, for serverproc

from benchmarks.harness import Ratio, best_of, compare
from wq_desktop.rules import identity
from wq_desktop.store import Store, new_uuid
from wq_desktop.sync import protocol as p
from wq_desktop.sync import sync_now
from wq_server import auth
from wq_server.apply import create_township, push
from wq_server.authors import Account
from wq_server.db import ServerDB

PARCELS = int(os.environ.get("WQ_BENCH_PARCELS", "100000"))
# A server file seed() made before for the same PARCELS (copied, never changed): seeding 100,000
# parcels takes minutes, longer than the pulls measured.
SEEDED = os.environ.get("WQ_BENCH_SEEDED")
PASSWORD = "swift-river-72"
CODE = "652301105"


def seed(db: ServerDB, n: int) -> None:
    """The server (either store, open) holds one township with n parcels, pushed through the
    server's own apply path."""
    from shapely.geometry import box

    from wq_desktop.geo.polygons import to_wkb

    # Every change names the laptop account "bench", registered with each push (protocol 3's
    # author check refuses changes by accounts the device never announced).
    accounts = [Account(name="bench", signed_in=True)]
    township = create_township(db, CODE, "六工镇")
    auth.add_user(db, "bench", PASSWORD, auth.STAFF, CODE)
    user = auth.User("bench", auth.STAFF, township)
    villages = [new_uuid() for _ in range(20)]
    changes = [{"change_id": new_uuid(), "kind": "village", "record": v, "op": "create", "base_rev": 0,
                "at": "2026-01-01T00:00:00Z", "user": "bench",
                "fields": {"township": township, "code": f"{CODE}{i + 1:03d}", "name": f"村{i}"}}
               for i, v in enumerate(villages)]
    first17 = "65239919800101001"
    op = new_uuid()
    changes.append({"change_id": new_uuid(), "kind": "operator", "record": op, "op": "create",
                    "base_rev": 0, "at": "2026-01-01T00:00:00Z", "user": "bench",
                    "fields": {"village": villages[0], "name": "户", "kind": "农户",
                               "id_code": first17 + identity.id_check_char(first17)}})
    push(db, user, "seeder", changes, accounts)
    batch = []
    for i in range(n):
        x, y = 500000 + (i % 300) * 120, 4870000 + (i // 300) * 120
        batch.append({"change_id": new_uuid(), "kind": "parcel", "record": new_uuid(), "op": "create",
                      "base_rev": 0, "at": "2026-01-01T00:00:00Z", "user": "bench",
                      "fields": {"village": villages[i % 20], "code": f"{i:06d}", "crop": "棉花",
                                 "land_attribute": "集体机动地", "place_name": "东大渠",
                                 "geometry": to_wkb(box(x, y, x + 100, y + 100)).hex()}})
        if len(batch) == 2000:
            push(db, user, "seeder", batch, accounts)
            batch = []
    if batch:
        push(db, user, "seeder", batch, accounts)


def _pages(url: str, token: str, device: str) -> Iterator[dict[str, Any]]:
    """Every page of the feed, asked for one after the other as the bare client would."""
    headers = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION), "Authorization": f"Bearer {token}"}
    after = 0
    while True:
        page = requests.get(url + "/sync/pull", params={"after": after, "device": device,
                                                        "limit": p.PULL_PAGE}, headers=headers).json()
        yield page
        after = page["cursor"]
        if not page["more"]:
            return


def _bare_pull(url: str, token: str, target: Path) -> int:
    """Fetch the same pages and store each row as JSON in a plain table: transfer plus storage."""
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE IF NOT EXISTS rows (seq INTEGER PRIMARY KEY, record TEXT, fields TEXT)")
    total = 0
    for page in _pages(url, token, "bare"):
        with conn:
            conn.executemany("INSERT OR REPLACE INTO rows VALUES (?,?,?)",
                             [(c["seq"], c["record"], json.dumps(c["fields"])) for c in page["changes"]])
        total += len(page["changes"])
    conn.close()
    return total


def _floor_pull(url: str, token: str, target: Path) -> int:
    """The same pages, each record written bare where the product writes it: its row in the
    laptop store's table (wire form to stored form, the row's system columns), a history entry
    chained by SHA-256 over canonical JSON (the product's own history.Appender), its server
    revision in sync_base, the cursor."""
    from wq_desktop import history
    from wq_desktop.schema import KINDS
    from wq_desktop.store import from_wire

    total = 0
    with Store.open(target, "bench", create=True) as store:
        conn = store.conn
        chain = history.Appender(conn)
        for page in _pages(url, token, "floor"):
            rows: dict[tuple[str, tuple[str, ...]], list[list]] = {}
            revs = []
            for c in page["changes"]:
                k = KINDS[c["kind"]]
                fields = {n: from_wire(k.field(n), v) for n, v in c["fields"].items() if n != "deleted"}
                columns = ("uuid", "rev", "created_at", "created_by", "updated_at", "updated_by",
                           "deleted", *fields)
                rows.setdefault((k.name, columns), []).append(
                    [c["record"], c["rev"], c["at"], c["user"], c["at"], c["user"],
                     1 if c["fields"].get("deleted") else 0, *fields.values()])
                chain.add(at=c["at"], user=c["user"], device=c["device"], kind=k.name,
                          record=c["record"], op=c["op"], rev=c["rev"],
                          changes={n: [None, v] for n, v in c["fields"].items()})
                revs.append((c["record"], k.name, c["rev"]))
            conn.execute("BEGIN IMMEDIATE")
            for (name, columns), values in rows.items():
                quoted = ", ".join(f'"{c}"' for c in columns)
                conn.executemany(f'INSERT INTO "{name}" ({quoted})'
                                 f' VALUES ({", ".join("?" * len(columns))})', values)
            chain.flush()
            conn.executemany("INSERT INTO sync_base (record, kind, server_rev) VALUES (?,?,?)", revs)
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('sync_cursor', ?)",
                         (str(page["cursor"]),))
            conn.execute("COMMIT")
            total += len(page["changes"])
    return total


def main() -> list[Ratio]:
    from serverproc import ServerProcess

    tmp = Path(tempfile.mkdtemp(prefix="wq-bench-sync-"))
    start = time.perf_counter()
    if SEEDED:
        shutil.copyfile(SEEDED, tmp / "server.sqlite")
    else:
        db = ServerDB(tmp / "server.sqlite")
        seed(db, PARCELS)
        db.close()
        print(f"(seeded {PARCELS} parcels on the server in {time.perf_counter() - start:.1f} s)",
              flush=True)
    server = ServerProcess(tmp / "server.sqlite").start()
    try:
        token = requests.post(server.url + "/auth/login", json={"user": "bench", "password": PASSWORD},
                              headers={p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}).json()["token"]
        laptop = tmp / "laptop.sqlite"

        def first_pull() -> None:
            for f in tmp.glob("laptop*"):
                f.unlink()
            with Store.open(laptop, "bench", create=True) as store:
                report = sync_now(store, server.url, "bench", PASSWORD)
                assert store.count("parcel") == PARCELS, report.lines()

        def bare() -> None:
            (tmp / "bare.sqlite").unlink(missing_ok=True)
            assert _bare_pull(server.url, token, tmp / "bare.sqlite") >= PARCELS

        def floor() -> None:
            for f in tmp.glob("floor*"):
                f.unlink()
            assert _floor_pull(server.url, token, tmp / "floor.sqlite") >= PARCELS

        results = [compare(f"first pull of {PARCELS} parcels", first_pull, bare, repeat=1),
                   compare("same-work floor (bare writes into the laptop store)", floor, bare,
                           repeat=1)]
        with Store.open(laptop, "bench") as store:
            headers = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION), "Authorization": f"Bearer {token}"}
            cursor = store.meta("sync_cursor")

            def no_change() -> None:
                assert sync_now(store, server.url, "bench", PASSWORD).pulled == 0

            def one_question() -> None:
                assert requests.get(server.url + "/sync/pull", headers=headers,
                                    params={"after": cursor, "device": "bare"}).json()["changes"] == []

            no_change()  # log in once, as a running program would have
            product = best_of(lambda: [no_change() for _ in range(10)], 3)
            baseline = best_of(lambda: [one_question() for _ in range(10)], 3)
            r = Ratio("no-change sync (10 runs)", product, baseline)
            print(r.line(), flush=True)
            results.append(r)
        return results
    finally:
        server.stop()


if __name__ == "__main__":
    main()
