"""The window's read-only queries: counts, search, totals, history labels and open rectifications."""

from __future__ import annotations

from datetime import date, timedelta

from wq_desktop import services
from wq_desktop.model import AgreementStatus
from wq_desktop.ordering import group_sort_key
from wq_desktop.queries import change_log, household, navigation, village_table
from wq_desktop.queries.rectifications import open_rectifications
from wq_desktop.queries.search import search_households
from wq_desktop.rules import masking
from wq_desktop.store import Store


def test_tree_counts_match_the_households(demo_store: Store) -> None:
    (township,) = navigation.navigation_tree(demo_store)
    assert township.name == "六工镇" and township.households == demo_store.count("operator")
    for v in township.villages:
        assert v.households == demo_store.count("operator", "village=?", (v.uuid,))
        assert [g.name for g in v.groups] == ["一组", "二组", "三组"]
        assert sum(g.households for g in v.groups) + v.ungrouped == v.households


def test_group_names_sort_in_counting_order() -> None:
    names = ["十一组", "二组", "十组", "一组", "九组"]
    assert sorted(names, key=group_sort_key) == ["一组", "二组", "九组", "十组", "十一组"]


def test_search_by_name_id_tail_and_parcel_code(demo_store: Store) -> None:
    op = demo_store.find_one("operator", "kind='农户'")
    by_tail = search_households(demo_store, op["id_code"][-6:])
    assert op["uuid"] in {h.operator for h in by_tail}
    assert all(op["id_code"] not in h.matched for h in by_tail)  # shown masked
    by_name = search_households(demo_store, op["name"])
    assert op["uuid"] in {h.operator for h in by_name}
    parcel = demo_store.find_one("parcel", "operator=?", (op["uuid"],))
    assert op["uuid"] in {h.operator for h in search_households(demo_store, parcel["code"])}
    assert search_households(demo_store, "  ") == []
    # full-width digits from a Chinese IME are understood
    wide = "".join(chr(ord(c) + 0xFEE0) for c in op["id_code"][-6:] if c.isdigit())
    if len(wide) == 6:
        assert op["uuid"] in {h.operator for h in search_households(demo_store, wide)}


def test_the_parcel_code_search_scans_the_small_index_not_the_parcels(demo_store: Store) -> None:
    """Any part of a code may match, so no index can seek it; the covering index is what keeps
    the box quick at township size (the parcel rows carry their outlines)."""
    sent: list[str] = []
    demo_store.conn.set_trace_callback(sent.append)
    try:
        hits = search_households(demo_store, "00")
    finally:
        demo_store.conn.set_trace_callback(None)
    assert any(h.matched.startswith("地块：") for h in hits)
    parcel_sql = next(s for s in sent if "FROM parcel p" in s)
    plan = " | ".join(row[3] for row in demo_store.conn.execute("EXPLAIN QUERY PLAN " + parcel_sql))
    assert "SCAN p USING COVERING INDEX parcel_code_search" in plan


def test_village_rows_and_totals_add_up(demo_store: Store) -> None:
    year = navigation.latest_year(demo_store)
    village = navigation.villages(demo_store)[0][0]
    rows = village_table.village_households(demo_store, village, year)
    t = village_table.totals(rows)
    retired = demo_store.conn.execute(
        "SELECT sum(m.area_mu) FROM measure m JOIN parcel p ON p.uuid=m.parcel"
        " WHERE p.village=? AND m.year=? AND m.kind='退减灌溉' AND m.deleted=0"
        " AND NOT EXISTS (SELECT 1 FROM agreement a WHERE a.operator=p.operator AND a.year=m.year"
        " AND a.deleted=0 AND a.status='终止')",  # a terminated agreement is not counted
        (village, year)).fetchone()[0]
    assert abs(float(t.retired_mu) - retired) < 1e-6
    assert all("*" in r.id_masked or r.kind != "农户" for r in rows)


def test_change_rows_use_labels_and_summarise_geometry(demo_store: Store) -> None:
    op = demo_store.find_one("operator", "kind='农户'")
    demo_store.update("operator", op["uuid"], {"address": "新地址"})
    rows = change_log.household_history(demo_store, op["uuid"])
    assert rows[0].field == "住址" and rows[0].new == "新地址" and rows[0].action == "修改"
    geometry = [r for r in rows if r.field == "地块图形"]
    assert geometry and all(r.new.startswith("已绘制图形") and "亩" in r.new for r in geometry)
    assert not any(r.field in ("范围", "id_code") for r in rows)
    ids = [r for r in rows if r.field == "身份证号/统一社会信用代码"]
    assert ids and ids[0].new == masking.mask_id(op["id_code"])


def test_open_rectifications_flag_overdue(store: Store) -> None:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    village = store.create("village", {"township": township, "code": "652301105901", "name": "测试村"})
    op = store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                   "id_code": "11010519491231002X"})
    parcel = store.create("parcel", {"village": village, "operator": op, "code": "1",
                                     "land_attribute": "集体机动地", "area_mu": 10})
    visited = date.today() - timedelta(days=20)
    patrol = store.create("patrol", {"parcel": parcel, "year": visited.year, "stage": "秋翻",
                                     "visited_on": visited, "patrollers": ["甲", "乙"],
                                     "result": "违规-灌溉", "rect_deadline": visited + timedelta(days=7)})
    (row,) = open_rectifications(store)
    assert row.patrol == patrol and row.overdue and row.overdue_days == 13
    store.update("patrol", patrol, {"recheck_on": date.today(), "recheck_result": "已整改",
                                    "closed_on": date.today()})
    assert open_rectifications(store) == []
    agreement = services.start_agreement(store, op, visited.year, visited)
    services.advance_agreement(store, agreement, AgreementStatus.SIGNED, visited)
    assert household.agreement_for(store, op, visited.year)["status"] == "已签订"
