"""A pulled page stored as a batch (Store.apply_pulled_many) writes exactly what taking its
changes one at a time writes, for every record kind of the schema: the same rows, the same
hash-chained history (replayable, chain valid), the same server revisions and cursor, the same
rule warnings and the same records described to the window."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from wq_desktop import checks, history
from wq_desktop import store as store_mod
from wq_desktop.schema import KINDS
from wq_desktop.store import Store
from wq_desktop.sync import apply

CLOCK = "2026-03-01T08:00:00Z"
PAGE = 900  # several pages: later ones update records the earlier ones stored


def _server_feed(demo: Store) -> list[dict[str, Any]]:
    """The demo township as a server's feed would send it: every change of its history in order,
    then what the demo lacks so that every kind of the schema is in it (a 督办, a conflict), a
    delete and a restore, and two parcels the rules warn about (the server's values still win)."""
    feed = [{"seq": seq, "kind": kind, "record": record, "op": op, "rev": rev,
             "fields": {name: new for name, (_, new) in changes.items()},
             "user": user, "device": device, "at": at}
            for seq, at, user, device, kind, record, op, rev, changes in (
                (e.seq, e.at, e.user, e.device, e.kind, e.record, e.op, e.rev, e.changes)
                for e, _prev, _hash in history.iter_entries(demo.conn))]
    township = demo.find("township")[0]["uuid"]
    village = demo.find("village")[0]["uuid"]
    measure = demo.find("measure")[0]
    operator = demo.find("operator")[0]
    author = {"user": "乡镇干部", "device": "device-9", "at": "2026-02-01T00:00:00Z"}

    def change(kind: str, uuid: str, op: str, rev: int, **fields: Any) -> None:
        feed.append({"seq": len(feed) + 1, "kind": kind, "record": uuid, "op": op, "rev": rev,
                     "fields": fields, **author})

    change("supervision", "5e000000-0000-4000-8000-000000000001", "create", 1,
           township=township, target_kind="village", target=village, note="核实退减面积",
           due_on="2026-04-01", status="待办理", deleted=0)
    change("conflict", "c0000000-0000-4000-8000-0000000000f1", "create", 1,
           record_kind="parcel", record=measure["parcel"], fields={"crop": ["棉花", "玉米"]},
           mine_op="update", theirs_op="update", status="未解决", deleted=0)
    change("measure", measure["uuid"], "delete", measure["rev"] + 1, deleted=1)
    change("measure", measure["uuid"], "restore", measure["rev"] + 2, deleted=0)
    # The laptop edits this phone after the first page: the server's value waits behind it.
    change("operator", operator["uuid"], "update", operator["rev"] + 1, phone="13900000000")
    # Into the first page, right after the village: the second parcel has no outline and no
    # area, so it is refused before its code's uniqueness is reached, yet stored; the third, with
    # its code, is then told it clashes, as a query of the stored rows tells it (the first makes a
    # batch read the codes before the second comes).
    after_village = next(i for i, ch in enumerate(feed) if ch["record"] == village) + 1
    for i, code, area in ((0, "重号-0", 2.0), (1, "重号-1", None), (2, "重号-1", 3.5)):
        change("parcel", f"9a000000-0000-4000-8000-00000000000{i}", "create", 1, area_mu=area,
               village=village, code=code, land_attribute="承包地", deleted=0)
        feed.insert(after_village + i, feed.pop())
    for seq, ch in enumerate(feed, 1):
        ch["seq"] = seq
    return feed


def _laptop(path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """An empty laptop store, the same every time: UUIDs from a counter, a fixed clock."""
    counter = itertools.count()
    monkeypatch.setattr(store_mod, "new_uuids", lambda n: [
        f"00000000-0000-4000-8000-{next(counter):012d}" for _ in range(n)])
    monkeypatch.setattr(Store, "clock", staticmethod(lambda: CLOCK))
    return Store.open(path, "测试员", create=True)


def _one_at_a_time(store: Store, page: list[dict[str, Any]], cursor: int) -> list[str]:
    """The row path: each change taken on its own (Store.apply_pulled, a batch of one)."""
    warnings: list[str] = []
    with store.transaction():
        for ch in page:
            if ch["rev"] <= apply.server_rev(store, ch["record"]):
                continue
            warnings += store.apply_pulled(
                ch["kind"], ch["record"], ch["op"], ch["fields"], rev=ch["rev"], user=ch["user"],
                device=ch["device"], at=ch["at"], keep=apply.waiting_fields(store, ch["record"]))
            apply.set_server_rev(store, ch["kind"], ch["record"], ch["rev"])
        apply.retire_duplicates(store)
        store.set_meta("sync_cursor", str(cursor))
    return warnings


def _pull(store: Store, feed: list[dict[str, Any]], store_page: Any, operator: str
          ) -> tuple[list, list]:
    """Every page of the feed, with a local edit of the operator's phone waiting from the first
    page on (the feed's later phone must not replace it); (warnings, records described)."""
    warnings: list[str] = []
    with store.recording() as written:
        for start in range(0, len(feed), PAGE):
            page = feed[start:start + PAGE]
            warnings += store_page(store, page, page[-1]["seq"])
            if start == 0:
                store.update("operator", operator, {"phone": "13800000000"})
    return warnings, written


def _tables(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        names = [*KINDS, "history", "sync_base", "outbox"]
        out = {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in names}
        out["cursor"] = conn.execute("SELECT value FROM meta WHERE key='sync_cursor'").fetchall()
        return out
    finally:
        conn.close()


@pytest.mark.parametrize("unique_keys_from", [10**9, 1], ids=["unique-by-query", "unique-keys-read-once"])
def test_a_pulled_page_as_a_batch_writes_what_one_change_at_a_time_writes(
        demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        unique_keys_from: int) -> None:
    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", unique_keys_from)
    feed = _server_feed(demo_store)
    operator = demo_store.find("operator")[0]["uuid"]
    assert {ch["kind"] for ch in feed} == set(KINDS)  # every kind of the schema, none left out
    assert {ch["op"] for ch in feed} >= {"create", "update", "delete", "restore"}

    results = {}
    for name, store_page in (("batch", apply.store_pulled), ("one at a time", _one_at_a_time)):
        path = tmp_path / f"{name}.sqlite"
        with _laptop(path, monkeypatch) as laptop:
            warnings, written = _pull(laptop, feed, store_page, operator)
            assert history.verify_chain(laptop.conn) == []
            assert checks.check_history(laptop) == []  # every record equals its replayed history
            results[name] = (warnings, written, _tables(path))

    batch, single = results["batch"], results["one at a time"]
    assert batch[2] == single[2]  # rows, history entry by entry, server revisions, cursor
    assert batch[0] == single[0]  # the same rule warnings, in the same order
    assert any("已有地块编号 重号-1" in w for w in batch[0])
    assert batch[1] == single[1]  # the window is told of the same records and fields
    tables = batch[2]
    assert all(tables[k] for k in KINDS)
    phones = [r for r in tables["operator"] if operator in r and "13800000000" in r]
    assert len(phones) == 1  # the local edit still waiting kept its value through later pages


def _parcels_page(village: str, first: int, n: int) -> list[dict[str, Any]]:
    """n new parcels of the village as a server's feed sends them (codes from `first` on)."""
    from shapely.geometry import box

    from wq_desktop.geo.polygons import to_wkb

    return [{"seq": i + 1, "kind": "parcel", "record": f"9b000000-0000-4000-8000-{first + i:012d}",
             "op": "create", "rev": 1, "user": "乡镇干部", "device": "device-9", "at": CLOCK,
             "fields": {"village": village, "code": f"P{first + i}", "land_attribute": "集体机动地",
                        "geometry": to_wkb(box(500000 + i * 200, 4870000, 500100 + i * 200,
                                               4870100)).hex(), "deleted": 0}}
            for i in range(n)]


def test_a_pulled_page_costs_the_same_into_a_store_holding_ten_times_the_parcels(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of new parcels looks up the keys it carries, not every parcel's (at city size each
    page read all the parcels' (village, code) again: 14 s of a 100,000-parcel first pull), and
    the waiting changes of its own records, not the whole outbox (which keeps the rows sent). The
    work is counted in SQLite's steps (its progress handler), not timed."""
    from shapely.geometry import box

    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", 1)  # the page's keys read at once
    steps = {}
    for held in (300, 3000):
        path = tmp_path / f"held{held}.sqlite"
        with Store.open(path, "测试员", create=True) as laptop:
            township = laptop.create("township", {"code": "652301105", "name": "六工镇"})
            village = laptop.create("village", {"township": township, "code": "652301105201",
                                                "name": "甲村"})
            laptop.create_many("parcel", [
                {"village": village, "code": f"H{i}", "land_attribute": "集体机动地",
                 "geometry": box(600000 + i * 200, 4870000, 600100 + i * 200, 4870100)}
                for i in range(held)])
            laptop.conn.execute("UPDATE outbox SET state='sent'")  # pushed before this pull
        with Store.open(path, "测试员") as laptop:  # statistics taken, none due during the page
            page = _parcels_page(village, 0, 40)
            page[-1]["fields"]["code"] = "H7"  # the page's last parcel takes a held parcel's code
            count = itertools.count()
            laptop.conn.set_progress_handler(lambda count=count: next(count) and 0, 100)
            warnings = apply.store_pulled(laptop, page, 40)
            laptop.conn.set_progress_handler(None, 0)
            steps[held] = next(count)
            assert laptop.count("parcel") == held + 40
            assert warnings == [f"地块（{page[-1]['record']}）：本村已有地块编号 H7。"]
    assert steps[3000] < 1.3 * steps[300], steps
