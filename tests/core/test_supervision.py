"""督办 as a record kind: issued about a record of its own township only, answered with a reply,
listed overdue first, shown on the household (its parcels included), in the history, and checked."""

from __future__ import annotations

from datetime import date

import pytest
from township import Township

from wq_desktop import checks, supervision
from wq_desktop.errors import ValidationError
from wq_desktop.queries.change_log import change_rows
from wq_desktop.store import Store

TODAY = date(2026, 7, 1)


@pytest.fixture
def town(store: Store) -> Township:
    return Township(store)


def _issue(store: Store, kind: str, target: str, due: str, note: str = "补齐协议") -> str:
    return store.create("supervision", supervision.issue_values(store, kind, target, note, due, "市办",
                                                                today=date(2026, 6, 1)))


def test_a_supervision_names_a_record_of_its_own_township(town: Township) -> None:
    store = town.store
    values = supervision.issue_values(store, "parcel", town.parcels[0], " 地块未落图 ", "2026-07-10", "市办")
    assert values["township"] == store.get("village", town.v1)["township"] and values["note"] == "地块未落图"
    other = store.create("township", {"code": "652301102", "name": "榆树沟镇"})
    with pytest.raises(ValidationError, match="不属于该乡镇"):
        store.create("supervision", {**values, "township": other})
    with pytest.raises(ValidationError, match="找不到要督办的农户"):
        supervision.issue_values(store, "operator", town.parcels[0], "x", "2026-07-10", "市办")
    assert store.count("supervision") == 0


def test_answers_need_a_reply_and_rows_come_overdue_first(town: Township) -> None:
    store = town.store
    late = _issue(store, "village", town.v1, "2026-06-20", "核实未完成")
    later = _issue(store, "operator", town.farmer, "2026-07-20", "协议未报备")
    done = _issue(store, "parcel", town.parcels[1], "2026-06-25", "巡查记录不全")
    with pytest.raises(ValidationError, match="请填写回复内容"):
        supervision.answer(store, done, "  ", rectified=True)
    supervision.answer(store, done, "已补录秋翻巡查", rectified=True, today=TODAY)
    rows = supervision.supervision_rows(store, today=TODAY)
    assert [(r.uuid, r.state) for r in rows] == [(late, "overdue"), (later, "open"), (done, "rectified")]
    assert rows[2].reply == "已补录秋翻巡查" and rows[2].replied_by == "测试员"
    assert rows[0].title == "六工镇 甲村" and rows[1].title == "甲村 张三"
    # On the household: its own and its parcels' 督办.
    about = supervision.about_record(store, "operator", town.farmer, today=TODAY)
    assert {r.uuid for r in about} == {later, done}
    # In the history with a title a user reads, and the whole store passes the checks.
    history = change_rows(store, [("supervision", done)])
    assert all(r.record.startswith("督办（甲村 地块P1（张三），期限 2026-06-25）") for r in history)
    assert ("回复", "（空）", "已补录秋翻巡查") in [(r.field, r.old, r.new) for r in history]
    assert not [f for f in checks.check_history(store) + checks.check_rules(store)
                if f.kind == "supervision"]
