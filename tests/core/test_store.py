"""The store's one write path: validation, revisions, tombstones, history and its tamper check,
migrations, and refusal of files it must not touch."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from legacy_outbox import write_outbox_before_schema_14
from shapely.geometry import box

from wq_desktop import checks, migrations, services, sqldriver
from wq_desktop.errors import ConflictError, NotFoundError, StoreVersionError, ValidationError, WqError
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.rules import identity
from wq_desktop.schema import SCHEMA_VERSION
from wq_desktop.store import Store
from wq_desktop.sync.apply import outbox_page

GOOD_ID = "11010519491231002X"  # GB 11643's own example


def make_village(store: Store) -> str:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    return store.create("village", {"township": township, "code": "652301105901", "name": "测试村"})


def make_household(store: Store, village: str, id_code: str = GOOD_ID) -> str:
    return store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                     "id_code": id_code, "phone": "139-1234-5678"})


def make_parcel(store: Store, village: str, operator: str, code: str = "001-1",
                x: float = 500000.0) -> str:
    # 100 m × 100 m = 1 公顷 = 15 亩
    return store.create("parcel", {"village": village, "operator": operator, "code": code,
                                   "land_attribute": "集体机动地",
                                   "geometry": box(x, 4870000, x + 100, 4870100)})


def table_counts(store: Store) -> tuple[int, int, int]:
    q = store.conn.execute
    return (q("SELECT count(*) FROM operator").fetchone()[0],
            q("SELECT count(*) FROM history").fetchone()[0],
            q("SELECT count(*) FROM outbox").fetchone()[0])


def test_create_records_user_time_revision_history_and_outbox(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    rec = store.get("operator", op)
    assert rec["rev"] == 1 and rec["created_by"] == "测试员" and rec["updated_by"] == "测试员"
    assert rec["phone"] == "13912345678"  # stored as digits
    assert not rec["deleted"]
    [entry] = store.history(op)
    assert entry.op == "create" and entry.user == "测试员"
    assert entry.changes["name"] == [None, "张三"]
    assert store.pending_changes() == 3


def test_update_keeps_old_and_new_values_in_history(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    assert store.update("operator", op, {"name": "张四"}) == 2
    assert store.update("operator", op, {"name": "张四"}) == 2  # no change, no new revision
    entries = store.history(op)
    assert [e.op for e in entries] == ["create", "update"]
    assert entries[1].changes == {"name": ["张三", "张四"]}
    # the update waits to be sent; the write that changed nothing queues nothing
    queued = store.conn.execute("SELECT op, rev, state FROM outbox WHERE record=? ORDER BY rowid",
                                (op,)).fetchall()
    assert queued == [("create", 1, "pending"), ("update", 2, "pending")]
    sent = [c for c in outbox_page(store, 100) if c["record"] == op]
    assert sent[1]["fields"] == {"name": "张四"}


def _waiting(store: Store) -> list[tuple[str, str, int, dict]]:
    """What the next push sends, oldest first."""
    return [(c["op"], c["record"], c["base_rev"], c["fields"]) for c in outbox_page(store, 10**9)]


def test_every_update_and_delete_queues_its_sync_change(store: Store) -> None:
    """An edit that is not queued never reaches the server (and is lost with the laptop)."""
    village = make_village(store)
    op = make_household(store, village)
    before = len(_waiting(store))
    store.update("operator", op, {"phone": "13800001111"})
    store.update("operator", op, {"phone": "13800001111"})  # nothing differs: nothing to send
    store.delete("operator", op)
    store.restore("operator", op)
    assert _waiting(store)[before:] == [
        ("update", op, 0, {"phone": "13800001111"}), ("delete", op, 0, {"deleted": 1}),
        ("restore", op, 0, {"deleted": 0})]


def test_a_change_from_another_device_restoring_with_fields_is_one_write(store: Store) -> None:
    """apply_change (the server's path for pushed changes): a restore that brings fields along is
    one revision and one history entry, as the device made it, not a restore and then an update."""
    village = make_village(store)
    op = make_household(store, village)
    store.delete("operator", op)
    entries = len(store.history(op))
    rev, changes = store.apply_change("operator", op, "restore", {"address": "三组"}, user="甲",
                                      device="another", at="2025-07-01T00:00:00Z")
    [entry] = store.history(op)[entries:]
    assert (entry.op, entry.user, rev) == ("restore", "甲", 3)
    assert changes == {"address": [None, "三组"], "deleted": [1, 0]} == entry.changes


def test_invalid_id_number_is_refused_and_nothing_is_written(store: Store) -> None:
    village = make_village(store)
    before = table_counts(store)
    with pytest.raises(ValidationError) as err:
        make_household(store, village, id_code="110105194912310021")
    assert "校验" in str(err.value)
    assert table_counts(store) == before


def test_stale_base_revision_is_a_conflict(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    store.update("operator", op, {"name": "张四"})
    with pytest.raises(ConflictError):
        store.update("operator", op, {"name": "张五"}, base_rev=1)
    assert store.get("operator", op)["name"] == "张四"


def test_tombstone_hides_record_keeps_row_and_restore_brings_it_back(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    store.delete("operator", op)
    with pytest.raises(NotFoundError):
        store.get("operator", op)
    tomb = store.get("operator", op, include_deleted=True)
    assert tomb["deleted"] and tomb["rev"] == 2 and tomb["name"] == "张三"
    assert store.count("operator") == 0
    assert store.history(op)[-1].changes == {"deleted": [0, 1]}
    store.restore("operator", op)
    assert store.get("operator", op)["rev"] == 3


def test_delete_with_dependents_asks_for_cascade(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    parcel = make_parcel(store, village, op)
    services.set_measure(store, parcel, 2026, MeasureKind.RETIRED, 10, 400)
    with pytest.raises(ValidationError, match="仍有"):
        store.delete("parcel", parcel)
    gone = store.delete("operator", op, cascade=True)
    # The parcel survives (its household link is optional and cleared); its measure does not
    # depend on the household.
    assert ("operator", op) in gone
    assert store.get("parcel", parcel)["operator"] is None
    gone = store.delete("parcel", parcel, cascade=True)
    assert {k for k, _ in gone} == {"parcel", "measure"}
    assert store.count("measure") == 0


def test_parcel_area_is_derived_from_geometry_in_mu(store: Store) -> None:
    village = make_village(store)
    parcel = make_parcel(store, village, make_household(store, village))
    rec = store.get("parcel", parcel)
    assert rec["area_mu"] == pytest.approx(15.0)
    assert (rec["minx"], rec["maxy"]) == (500000.0, 4870100.0)


def test_self_intersecting_parcel_is_refused(store: Store) -> None:
    village = make_village(store)
    bowtie = "POLYGON((500000 4870000, 500100 4870100, 500100 4870000, 500000 4870100, 500000 4870000))"
    with pytest.raises(ValidationError, match="自相交"):
        store.create("parcel", {"village": village, "code": "X", "land_attribute": "集体机动地",
                                "geometry": bowtie})
    assert store.count("parcel") == 0


def test_measures_of_a_parcel_cannot_exceed_its_area(store: Store) -> None:
    village = make_village(store)
    parcel = make_parcel(store, village, make_household(store, village))
    services.set_measure(store, parcel, 2026, MeasureKind.RETIRED, 10, 400)
    with pytest.raises(ValidationError, match="超出地块面积"):
        services.set_measure(store, parcel, 2026, MeasureKind.FALLOW, 5.5, 300)
    services.set_measure(store, parcel, 2026, MeasureKind.FALLOW, 5, 300)
    measure = store.find_one("measure", "kind=?", ("退减灌溉",))
    assert measure["subsidy_amount"] == 4000.0
    # A different year has the whole parcel again.
    services.set_measure(store, parcel, 2025, MeasureKind.RETIRED, 15, 400)
    with pytest.raises(ValidationError, match="小于"):
        store.update("parcel", parcel, {"geometry": box(500000, 4870000, 500050, 4870100)})


def test_agreement_moves_only_through_allowed_steps_with_dates(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    agreement = services.start_agreement(store, op, 2026, date(2026, 7, 1))
    rec = store.get("agreement", agreement)
    assert rec["number"] == "2026-652301105-901-001"
    with pytest.raises(ValidationError):
        services.advance_agreement(store, agreement, AgreementStatus.PUBLICIZED, date(2026, 7, 2))
    with pytest.raises(ValidationError, match="依次"):
        services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(2026, 6, 1))
    services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(2026, 7, 20))
    store.create("notice", {"village": village, "year": 2026, "start_on": date(2026, 7, 25),
                            "end_on": date(2026, 7, 31)})  # 已公示 goes through the village notice
    with pytest.raises(ValidationError, match="不在测试村本年度公示期"):  # after the notice came down
        services.advance_agreement(store, agreement, AgreementStatus.PUBLICIZED, date(2026, 8, 1))
    services.advance_agreement(store, agreement, AgreementStatus.PUBLICIZED, date(2026, 7, 31))
    services.advance_agreement(store, agreement, AgreementStatus.FILED, date(2026, 8, 10))
    with pytest.raises(ValidationError, match="终止原因"):
        services.advance_agreement(store, agreement, AgreementStatus.TERMINATED, date(2026, 9, 1))
    services.advance_agreement(store, agreement, AgreementStatus.TERMINATED, date(2026, 9, 1), "放弃")
    statuses = [e.changes["status"][1] for e in store.history(agreement) if "status" in e.changes]
    assert statuses == ["草拟", "已签订", "已公示", "已报备", "终止"]
    with pytest.raises(ValidationError):
        services.advance_agreement(store, agreement, AgreementStatus.TERMINATED, date(2026, 9, 2), "x")


def test_clean_store_passes_every_check(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    make_parcel(store, village, op)
    store.update("operator", op, {"name": "李四"})
    assert checks.run_all(store) == []


def _tamper(path: Path, sql: str, params: tuple = ()) -> None:
    # What someone editing the file with a SQLite tool could do: drop the guard, rewrite, leave.
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS history_no_update")
    conn.execute("DROP TRIGGER IF EXISTS history_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_history_cannot_be_changed_through_sqlite_while_guarded(store: Store) -> None:
    make_village(store)
    # The store's connection is SQLCipher's (sqldriver), whose errors are its own classes.
    with pytest.raises(sqldriver.IntegrityError, match="只能追加"):
        store.conn.execute("UPDATE history SET user='别人'")
    with pytest.raises(sqldriver.IntegrityError, match="只能追加"):
        store.conn.execute("DELETE FROM history")


@pytest.mark.parametrize("tampering, expected", [
    ("UPDATE history SET changes = replace(changes, '张三', '王五') WHERE kind='operator'", "被改写"),
    ("DELETE FROM history WHERE seq = 2", "缺少"),
    ("UPDATE operator SET name = '王五'", "不一致"),
])
def test_check_detects_rewritten_history_and_records(tmp_path: Path, tampering: str,
                                                     expected: str) -> None:
    path = tmp_path / "t.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        village = make_village(store)
        make_household(store, village)
        assert checks.check_history(store) == []
    _tamper(path, tampering)
    with Store.open(path, "测试员") as store:
        findings = checks.check_history(store)
    assert findings and any(expected in f.message for f in findings)


def test_check_names_each_record_written_or_removed_behind_the_cores_back(tmp_path: Path) -> None:
    """Records of several kinds, walked in uuid order against their replayed history: the one
    inserted without history, the one deleted from its table and the one changed are each named,
    and no other."""
    path = tmp_path / "t.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        village = make_village(store)
        households = [make_household(store, village, id17 + identity.id_check_char(id17))
                      for id17 in ("65239919800101001", "65239919800101002", "65239919800101003")]
        parcels = [make_parcel(store, village, households[0], code=f"00{i}", x=500000.0 + 200 * i)
                   for i in range(3)]
        assert checks.check_history(store) == []
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(operator)")]
    row = dict(zip(columns, conn.execute("SELECT * FROM operator WHERE uuid=?",
                                         (households[1],)).fetchone(), strict=True))
    row.update(uuid="ffffffff-0000-4000-8000-000000000000", id_code="652399198001010046")
    conn.close()
    names = ",".join(f'"{c}"' for c in columns)
    _tamper(path, f"INSERT INTO operator ({names}) VALUES ({','.join('?' * len(columns))})",
            tuple(row.values()))
    _tamper(path, "DELETE FROM parcel WHERE uuid=?", (parcels[1],))
    _tamper(path, "UPDATE operator SET name='王五' WHERE uuid=?", (households[2],))
    with Store.open(path, "测试员") as store:
        found = {(f.record, f.message) for f in checks.check_history(store)}
    assert found == {
        ("ffffffff-0000-4000-8000-000000000000", "耕地经营者记录没有变更历史（绕过程序写入）"),
        (parcels[1], "变更历史中的记录在数据表中不存在（被删除）"),
        (households[2], "耕地经营者记录与变更历史不一致（姓名/名称被绕过程序修改）"),
    }


def test_rewritten_entry_with_recomputed_own_hash_still_breaks_the_chain(tmp_path: Path) -> None:
    from wq_desktop import history

    path = tmp_path / "t.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        village = make_village(store)
        make_household(store, village)
        store.update("operator", store.find("operator")[0]["uuid"], {"address": "一号院"})
    conn = sqlite3.connect(path)
    seq, at, _user, device, kind, record, op, rev, changes, prev = conn.execute(
        "SELECT seq, at, user, device, kind, record, op, rev, changes, prev_hash FROM history"
        " WHERE seq = 2").fetchone()
    forged = history.entry_hash(prev, seq, at, "冒名者", device, kind, record, op, rev, changes)
    conn.close()
    _tamper(path, "UPDATE history SET user='冒名者', hash=? WHERE seq=2", (forged,))
    with Store.open(path, "测试员") as store:
        messages = [f.message for f in checks.check_history(store)]
    assert any("链接不符" in m for m in messages)


def test_migration_from_first_schema_version_keeps_data_and_copies_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = migrations.create_at_version(path, 1)
    conn.close()
    # Write through a store while the file is still at version 1 (columns of version 1 only).
    with _open_v1(path) as old:
        village = make_village(old)
        op = make_household(old, village)
        parcel = old.create("parcel", {"village": village, "operator": op, "code": "1",
                                       "land_attribute": "集体机动地",
                                       "geometry": box(500000, 4870000, 500100, 4870100)})
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1
    with Store.open(path, "测试员") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rec = store.get("parcel", parcel)
        assert rec["minx"] == 500000.0 and rec["maxy"] == 4870100.0  # backfilled by migration 2
        assert store.get("operator", op)["name"] == "张三"
        assert checks.check_history(store) == []
    backups = list(tmp_path.glob("old.v1-*.sqlite.bak"))
    assert len(backups) == 1
    assert sqlite3.connect(backups[0]).execute("PRAGMA user_version").fetchone()[0] == 1


def test_migration_from_schema_three_adds_rectification_notice_fields_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    migrations.create_at_version(path, 3).close()
    # Write through a store while the file is still at version 3 (no rectification notice columns).
    with _open_v3(path) as old:
        village = make_village(old)
        op = make_household(old, village)
        parcel = make_parcel(old, village, op)
        patrol = old.create("patrol", {"parcel": parcel, "year": 2025, "stage": "秋翻",
                                       "visited_on": date(2025, 10, 3), "patrollers": ["张三", "李四"],
                                       "result": "违规-灌溉", "rect_requirement": "停止灌溉",
                                       "rect_deadline": date(2025, 10, 20)})
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(patrol)")}
    assert "rect_notified_on" not in columns
    with Store.open(path, "测试员") as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rec = store.get("patrol", patrol)
        assert rec["rect_requirement"] == "停止灌溉" and rec["rect_deadline"] == "2025-10-20"
        assert rec["rect_notified_on"] is None and rec["rect_signature"] is None
        assert store.get("parcel", parcel)["area_mu"] == pytest.approx(15.0)
        assert checks.check_history(store) == []
        # The new fields are usable at once and checked against the visit and the deadline.
        store.update("patrol", patrol, {"rect_notified_on": date(2025, 10, 5), "rect_signature": "拒签"})
        assert store.get("patrol", patrol)["rect_signature"] == "拒签"
        for values, message in (({"rect_notified_on": date(2025, 10, 1)}, "不能早于巡查日期"),
                                ({"rect_notified_on": date(2025, 10, 21)}, "不能晚于整改期限"),
                                ({"rect_signature": "未签"}, "只能是：已签字、拒签"),
                                ({"rect_notified_on": None}, "请填写整改通知日期")):
            with pytest.raises(ValidationError, match=message):
                store.update("patrol", patrol, values)
        assert store.get("patrol", patrol)["rect_notified_on"] == "2025-10-05"
    assert len(list(tmp_path.glob("v3.v3-*.sqlite.bak"))) == 1


def _open_v3(path: Path) -> Store:
    """A store over a version-3 file, the way the release before the rectification notice wrote it."""
    from wq_desktop import schema, validation

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    kinds = dict(schema.KINDS)  # every kind as version 3 had it: later kinds and fields are absent
    for name, k in kinds.items():
        if k.since > 3:
            del schema.KINDS[name]
        else:
            schema.KINDS[name] = schema.Kind(k.name, k.label, tuple(f for f in k.fields if f.since <= 3),
                                             k.since)
    original = validation._RULES["patrol"]

    def v3_patrol(s, new, old, uuid):  # today's rules, over a row without the version-4 fields
        original(s, {**new, "rect_notified_on": None, "rect_signature": None}, old, uuid)
    validation._RULES["patrol"] = v3_patrol

    legacy = pytest.MonkeyPatch()
    write_outbox_before_schema_14(legacy)

    def restore() -> None:
        schema.KINDS.update(kinds)
        validation._RULES["patrol"] = original
        legacy.undo()
    try:
        store = Store(conn, path, "旧版用户")
    except BaseException:
        restore()
        raise
    store.close = _restoring(store.close, restore)
    return store


def _open_v1(path: Path) -> Store:
    """A store over a version-1 file, the way the first release wrote it."""
    from wq_desktop import schema

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    saved = schema.KINDS["parcel"]
    v1_fields = tuple(f for f in saved.fields if f.since == 1)
    schema.KINDS["parcel"] = schema.Kind(saved.name, saved.label, v1_fields)
    legacy = pytest.MonkeyPatch()
    write_outbox_before_schema_14(legacy)
    try:
        store = Store(conn, path, "旧版用户")
        import wq_desktop.validation as validation

        original = validation._RULES["parcel"]

        def v1_parcel(s, new, old, uuid):  # the first release had no bounding box columns
            from wq_desktop.geo import polygons

            new["area_mu"] = polygons.area_mu(polygons.from_wkb(new["geometry"]))
        validation._RULES["parcel"] = v1_parcel
        store.close = _restoring(store.close, lambda: (schema.KINDS.__setitem__("parcel", saved),
                                                       validation._RULES.__setitem__("parcel", original),
                                                       legacy.undo()))
        return store
    except BaseException:
        schema.KINDS["parcel"] = saved
        legacy.undo()
        raise


def _restoring(close, restore):
    def wrapped() -> None:
        restore()
        close()
    return wrapped


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreVersionError, match="更新版本"):
        Store.open(path, "测试员")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert not list(tmp_path.glob("*-wal"))


def test_broken_or_foreign_file_gives_a_clear_message(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(WqError, match="不是有效的数据库"):
        Store.open(junk, "测试员")
    with pytest.raises(WqError, match="不存在"):
        Store.open(tmp_path / "missing.sqlite", "测试员")
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(WqError, match="不是退地减水"):
        Store.open(foreign, "测试员")


def test_store_needs_a_user_name(tmp_path: Path) -> None:
    with pytest.raises(WqError, match="用户名"):
        Store.open(tmp_path / "x.sqlite", "  ", create=True)


def test_in_lists_reads_a_list_longer_than_one_statement_takes() -> None:
    """1,201 UUIDs in three IN lists of at most 500: every one found, none twice."""
    conn = sqldriver.connect(":memory:")
    conn.execute("CREATE TABLE t (uuid TEXT PRIMARY KEY)")
    uuids = [f"u{i:05d}" for i in range(1201)]
    conn.executemany("INSERT INTO t VALUES (?)", [(u,) for u in uuids])
    slices = list(sqldriver.in_lists(uuids))
    assert [len(part) for _, part in slices] == [500, 500, 201]
    found = [u for marks, part in slices
             for (u,) in conn.execute(f"SELECT uuid FROM t WHERE uuid IN ({marks})", part)]
    assert sorted(found) == uuids
