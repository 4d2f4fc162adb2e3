"""The office replica of a PostgreSQL server (what the web view reads there), as ratios to a bare
transfer of the same feed rows in the same run:

- first build with N parcels on the server (default 13,300, a township; WQ_BENCH_PARCELS to
  change), against pulling the same pages from the same database and inserting them into a bare
  SQLite table (what the laptop's validation and history add);
- the check before every page when nothing moved (100 pages), against one bare round trip to
  the database each;
- a catch-up of 100 changed parcels, against the bare pull of the same 100 rows.

PostgreSQL: WQ_TEST_POSTGRES_URL's cluster, else a throwaway durable one (tests/pg_cluster.py).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchmarks.bench_sync import CODE, seed
from benchmarks.harness import Ratio, best_of, compare
from wq_desktop.store import new_uuid
from wq_desktop.sync import protocol as p
from wq_server import auth
from wq_server.apply import push
from wq_server.authors import Account
from wq_server.office_replica import OfficeReplica

PARCELS = int(os.environ.get("WQ_BENCH_PARCELS", "13300"))
CHANGED = 100


def _bare_pull(db, after: int | str, target: Path) -> int | str:
    """The office's feed pages after `after`, each row stored as JSON in a plain table."""
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE IF NOT EXISTS rows (record TEXT, rev INTEGER, fields TEXT)")
    while True:
        page = db.pull(None, "bare", after, p.PULL_PAGE)
        with conn:
            conn.executemany("INSERT INTO rows VALUES (?,?,?)",
                             [(c["record"], c["rev"], json.dumps(c["fields"])) for c in page["changes"]])
        after = page["cursor"]
        if not page["more"]:
            break
    conn.close()
    return after


def _change_parcels(db, n: int) -> None:
    """n parcels get a new crop, pushed as the township's laptop would."""
    with db.reading() as session:
        township = session.township_by_code(CODE)
        rows = session.execute("SELECT record, rev FROM srv_change WHERE kind='parcel' ORDER BY seq"
                               " DESC LIMIT ?", (n,)).fetchall()
    user = auth.User("bench", auth.STAFF, township)
    push(db, user, "seeder", [
        {"change_id": new_uuid(), "kind": "parcel", "record": record, "op": "update", "base_rev": rev,
         "at": "2026-06-01T00:00:00Z", "user": "bench", "fields": {"crop": f"玉米{time.time_ns()}"}}
        for record, rev in rows], [Account(name="bench", signed_in=True)])


def main() -> list[Ratio]:
    import pg_cluster

    from wq_server.pg_store import PgServerDB

    tmp = Path(tempfile.mkdtemp(prefix="wq-bench-replica-"))
    cluster = os.environ.get(pg_cluster.URL_ENV) or pg_cluster.start_cluster(durable=True)
    db = PgServerDB(pg_cluster.new_database(cluster=cluster), pool_size=2, photos=tmp / "photos")
    try:
        start = time.perf_counter()
        seed(db, PARCELS)
        print(f"(seeded {PARCELS} parcels on PostgreSQL in {time.perf_counter() - start:.1f} s)",
              flush=True)
        path = tmp / "replica.sqlite"

        def build() -> None:
            for f in tmp.glob("replica.sqlite*"):
                f.unlink()
            OfficeReplica(db, path).build(say=lambda line: None)

        def bare() -> None:
            (tmp / "bare.sqlite").unlink(missing_ok=True)
            _bare_pull(db, 0, tmp / "bare.sqlite")

        results = [compare(f"replica first build, {PARCELS} parcels", build, bare, repeat=1)]
        replica = OfficeReplica(db, path)
        replica.catch_up()
        product = best_of(lambda: [replica.catch_up() for _ in range(100)], 3)

        def one_round_trip() -> None:
            with db.reading() as session:
                session.execute("SELECT 1").fetchall()

        baseline = best_of(lambda: [one_round_trip() for _ in range(100)], 3)
        results.append(Ratio("check before a page, nothing moved (100 pages)", product, baseline))
        print(results[-1].line(), flush=True)

        bare_cursor = _bare_pull(db, 0, tmp / "bare.sqlite")
        _change_parcels(db, CHANGED)
        t0, c0 = time.perf_counter(), time.process_time()
        replica.catch_up()
        product_s, product_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        _bare_pull(db, bare_cursor, tmp / "bare.sqlite")
        results.append(Ratio(f"catch-up of {CHANGED} changed parcels", product_s,
                             time.perf_counter() - t0, product_cpu, time.process_time() - c0))
        print(results[-1].line(), flush=True)
        return results
    finally:
        db.close()


if __name__ == "__main__":
    main()
