"""Sync that never loses an edit, against a real server process on loopback: the base revision is
fixed when the edit is made (a record split over two push pages, an edit made while a sync runs),
every record kind syncs, a refused duplicate create becomes a conflict instead of a double count,
and records go up before photos."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from every_kind import created_records, photo_file
from serverproc import (
    Township,
    admin,
    is_postgres,
    open_db,
    server_content,
)

from wq_desktop import services
from wq_desktop.errors import ConflictError
from wq_desktop.model import MeasureKind, RecordOp
from wq_desktop.photos import attach_photo
from wq_desktop.schema import KINDS
from wq_desktop.store import Store
from wq_desktop.sync import conflict_detail, list_conflicts, resolve_conflict
from wq_desktop.sync import protocol as p
from wq_desktop.sync.content import content_rows
from wq_desktop.sync.photo_sync import waiting_uploads

LAPTOPS = 3


def _shared_household(town: Township) -> str:
    _, op = town.household(0)
    for i in range(len(town.stores)):
        town.sync(i)
    return op


def _both_values_kept(town: Township, op: str, field: str, first: str, second: str) -> None:
    """The record holds the value that reached the server first; a conflict on every device
    holds the other; nothing is gone."""
    town.sync(1)
    town.sync(0)
    for store in town.stores[:2]:
        assert store.get("operator", op)[field] == first
        [c] = list_conflicts(store)
        [choice] = conflict_detail(store, c.uuid).fields
        assert {choice.mine, choice.theirs} == {first, second}


def test_a_record_split_over_two_push_pages_keeps_the_other_devices_value(
        town: Township, monkeypatch: pytest.MonkeyPatch) -> None:
    op = _shared_household(town)
    a, b = town.stores[:2]
    b.update("operator", op, {"note": "乙核实：在外务工"})
    town.sync(1)
    monkeypatch.setattr(p, "PUSH_PAGE", 2)
    village = a.get("operator", op)["village"]
    a.update("operator", op, {"address": "二组"})  # page 1
    a.create("village_group", {"village": village, "name": "一组"})  # page 1
    a.update("operator", op, {"note": "甲核实：本人耕种"})  # page 2: same record, same base
    report = town.sync(0)
    assert report.conflicts == 1 and report.pending == 0
    assert server_content(town.server.db, town.uuid)[op][2][10] == ("note", "乙核实：在外务工")
    _both_values_kept(town, op, "note", "乙核实：在外务工", "甲核实：本人耕种")
    assert a.get("operator", op)["address"] == "二组"  # the other field merged as usual


def test_an_edit_made_while_a_sync_runs_keeps_its_base_and_the_other_devices_value(
        town: Township) -> None:
    op = _shared_household(town)
    a, b = town.stores[:2]
    b.update("operator", op, {"note": "乙核实"})
    town.sync(1)
    bases: list[int] = []

    def edit_in_the_window(stage: str, done: int, total: int | None) -> None:
        if stage == "上传修改" and not bases:  # after the push, before the pull
            with Store.open(a.path, a.user) as window_store:  # the window's own connection
                window_store.update("operator", op, {"note": "甲核实"})
                bases.append(window_store.conn.execute(
                    "SELECT base_rev FROM outbox WHERE record=? AND state='pending'", (op,)).fetchone()[0])

    town.sync(0, progress_cb=edit_in_the_window)
    assert a.get("operator", op)["note"] == "甲核实"  # the pull kept the waiting edit
    # ... and did not move its base: it is still the revision the edit was made against.
    assert a.conn.execute("SELECT base_rev FROM outbox WHERE record=? AND state='pending'",
                          (op,)).fetchone()[0] == bases[0]
    assert town.sync(0).conflicts == 1
    _both_values_kept(town, op, "note", "乙核实", "甲核实")


def test_a_form_opened_before_a_pull_cannot_save_over_what_the_pull_brought(town: Township) -> None:
    op = _shared_household(town)
    a, b = town.stores[:2]
    b.update("operator", op, {"address": "乙改的三组"})
    town.sync(1)
    form: dict = {}

    def edit_in_the_window(stage: str, done: int, total: int | None) -> None:
        if stage == "上传修改" and not form:  # an edit after the push, then the form stays open
            with Store.open(a.path, a.user) as window_store:
                window_store.update("operator", op, {"note": "甲核实"})
                form.update(window_store.get("operator", op))

    town.sync(0, progress_cb=edit_in_the_window)
    assert a.get("operator", op)["address"] == "乙改的三组"
    with pytest.raises(ConflictError):  # the form still shows the old address
        a.update("operator", op, {"address": form["address"], "phone": "13900003333"},
                 base_rev=form["rev"])
    assert a.get("operator", op)["address"] == "乙改的三组"


def test_a_later_edit_on_top_of_a_seen_value_is_applied_without_conflict(town: Township) -> None:
    op = _shared_household(town)
    a, b = town.stores[:2]
    b.update("operator", op, {"note": "乙核实"})
    town.sync(1)
    town.sync(0)  # a sees 乙's value, then edits on top of it: knowingly, no conflict
    a.update("operator", op, {"note": "甲在乙基础上补充"})
    assert town.sync(0).conflicts == 0
    town.sync(1)
    assert b.get("operator", op)["note"] == "甲在乙基础上补充"
    assert list_conflicts(a) == list_conflicts(b) == []


def _every_kind(town: Township, tmp: Path) -> dict[str, str]:
    """One live record of every kind the laptop can create, on the township's first laptop."""
    return created_records(town.stores[0], town.uuid, town.code, tmp)


def test_a_store_with_every_kind_syncs_and_a_new_laptop_pulls_it_whole(town: Township,
                                                                        tmp_path: Path) -> None:
    from web_seed import OFFICE, issue_supervision

    made = _every_kind(town, tmp_path)
    a, b, c = town.stores
    report = town.sync(0)
    assert report.rejected == [] and report.pending == 0 and report.photos_uploaded == 2
    # 督办 are issued by the city office on the server (web view), not created on a laptop.
    if OFFICE not in admin(town.server.db, "list-users"):
        admin(town.server.db, "adduser", "--name", OFFICE, "--role", "office")
    if is_postgres(town.server.db):
        # The web view reads an SQLite file only (docs/server.md); its issuing function is the
        # server's write path all the same.
        from wq_server import auth
        from wq_server.web.supervision_pages import issue

        db = open_db(town.server.db)
        try:
            issue(db, auth.User(OFFICE, auth.OFFICE, None), "parcel", made["parcel"], "请补拍巡查照片",
                  "2099-12-31")
        finally:
            db.close()
    else:
        issue_supervision(town.server.url, "parcel", made["parcel"], "请补拍巡查照片", "2099-12-31")
    town.sync(1)  # a conflict is a record like the others: make one
    b.update("water_quota", made["water_quota"], {"m3_per_mu": 430})
    a.update("water_quota", made["water_quota"], {"m3_per_mu": 410})
    town.sync(1)
    assert town.sync(0).conflicts == 1
    report = town.sync(2)  # the laptop that had nothing
    assert report.photos_downloaded == 2 and report.warnings == []
    kinds = {row[0] for row in content_rows(c).values()}
    assert kinds == set(KINDS), f"not synced: {set(KINDS) - kinds}"
    town.sync(1)
    server = server_content(town.server.db, town.uuid)
    for store in town.stores:
        assert content_rows(store) == server
    assert c.get("water_quota", made["water_quota"])["m3_per_mu"] == 430
    assert [x.field_labels for x in list_conflicts(c)] == [["亩均需水量（立方米/亩）"]]


def test_a_refused_duplicate_create_becomes_a_conflict_and_is_never_counted_twice(town: Township) -> None:
    a, b = town.stores[:2]
    _, op = town.household(0)
    village = a.get("operator", op)["village"]
    parcel = a.create("parcel", {"village": village, "operator": op, "code": "D1",
                                 "land_attribute": "集体机动地", "area_mu": 20})
    town.sync(0)
    town.sync(1)
    mine = services.set_measure(a, parcel, 2025, MeasureKind.RETIRED, 12, 400)
    theirs = services.set_measure(b, parcel, 2025, MeasureKind.RETIRED, 15, 400)
    town.sync(0)
    report = town.sync(1)
    assert report.rejected == [] and report.conflicts == 1

    def retired(store: Store) -> list[float]:
        return [m["area_mu"] for m in store.find("measure", "parcel=? AND year=? AND kind=?",
                                                  (parcel, 2025, MeasureKind.RETIRED))]

    town.sync(0)
    for store in (a, b):
        assert retired(store) == [12]  # one measure, everywhere: the one the server held first
    assert b.get("measure", theirs, include_deleted=True)["deleted"]
    assert [h.op for h in b.history(theirs)] == [RecordOp.CREATE, RecordOp.DELETE]
    [conflict] = list_conflicts(b)
    [field] = conflict_detail(b, conflict.uuid).fields
    assert (field.name, field.mine, field.theirs) == ("area_mu", 15, 12)
    assert conflict.mine_op == "create" and conflict.record == mine
    resolve_conflict(b, conflict.uuid, {"area_mu": "mine"})  # 并入已有记录: b's area wins
    town.sync(1)
    town.sync(0)
    for store in (a, b):
        assert retired(store) == [15] and list_conflicts(store) == []


def test_a_duplicate_group_moves_its_households_to_the_held_one(town: Township) -> None:
    """Two laptops add 一组 to one village, each with a household in it: one group remains, holding
    both households, on the server and on both laptops; nothing is refused."""
    a, b = town.stores[:2]
    village = a.create("village", {"township": town.uuid, "code": town.code + "902", "name": "重复村"})
    town.sync(0)
    town.sync(1)
    held = a.create("village_group", {"village": village, "name": "一组"})
    a.create("operator", {"village": village, "group": held, "name": "钱七", "kind": "农户",
                          "id_code": "11010519491231002X"})
    dup = b.create("village_group", {"village": village, "name": "一组"})
    b.create("operator", {"village": village, "group": dup, "name": "孙八", "kind": "农户",
                          "id_code": "110105194912310038"})  # another person: one ID, one household
    town.sync(0)
    report = town.sync(1)
    assert report.rejected == [] and report.conflicts == 0  # same values: nothing to decide
    town.sync(0)
    server = server_content(town.server.db, town.uuid)
    for store in (a, b):
        assert [g["uuid"] for g in store.find("village_group", "village=?", (village,))] == [held]
        assert sorted(o["name"] for o in store.find("operator", '"group"=?', (held,))) == ["孙八", "钱七"]
        assert {u: r for u, r in content_rows(store).items() if u != dup} == server
    assert dup not in server


def test_a_failed_photo_leaves_the_records_synced_and_the_photo_waiting(
        town: Township, tmp_path: Path) -> None:
    a, b = town.stores[:2]
    village, _ = town.household(0)
    notice = a.create("notice", {"village": village, "year": 2025, "start_on": date(2025, 7, 21),
                                 "end_on": date(2025, 7, 27)})
    photo = photo_file(tmp_path, "现场.jpg", "blue")
    attach_photo(a, "notice", notice, photo)
    stored = a.path.parent / f"{a.path.stem}_photos"
    [held] = [f for f in stored.rglob("*") if f.is_file()]
    good = held.read_bytes()
    held.write_bytes(good[:-1] + bytes([good[-1] ^ 0xFF]))  # the file no longer matches its digest
    report = town.sync(0)
    assert report.pending == 0 and report.pushed >= 3  # the records went up
    assert report.photos_uploaded == 0 and len(waiting_uploads(a)) == 1
    assert any("现场.jpg" in m for m in report.photo_messages)
    town.sync(1)
    assert b.get("notice", notice)["year"] == 2025
    held.write_bytes(good)  # the file is put right: the next sync sends it
    assert town.sync(0).photos_uploaded == 1 and waiting_uploads(a) == []
