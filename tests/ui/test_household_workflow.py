"""A year's work for one household, driven through the real widgets on the demo store, then read
back from a reopened store: refused ID, saved household, parcel and measure, agreement signed,
patrol with a photo, and the change history that tells each step."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from user_typing import type_text

from wq_desktop.rules import identity, masking
from wq_desktop.settings import Settings
from wq_desktop.store import Store

GOOD_ID = "652399198503071234"[:17] + identity.id_check_char("65239919850307123")
WRONG_ID = GOOD_ID[:17] + ("1" if GOOD_ID[17] != "1" else "2")


def test_a_households_year_is_recorded_and_survives_reopening(
        qtbot, window, demo_store: Store, settings_file: Path, field_photo, messages) -> None:
    w = window
    year = w.year
    village = w.village.village
    assert village is not None, "the first village opens at start"
    households_before = demo_store.count("operator")
    history_before = demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0]

    # -- a new household with a wrong ID number is refused, nothing is written, the text stays
    w.action("edit.new_household").trigger()
    form = w.household.form
    assert w.tabs.currentWidget() is w.household
    type_text(qtbot, form.edits["name"], "测试户")
    type_text(qtbot, form.edits["id_code"], WRONG_ID)
    assert "校验码" in form.errors["id_code"].text(), "the check digit is flagged while typing"
    assert form.errors["id_code"].isVisibleTo(w)
    type_text(qtbot, form.edits["phone"], "13912345678")
    assert w.save_current() is False
    assert demo_store.count("operator") == households_before
    assert demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == history_before
    assert form.edits["id_code"].text() == WRONG_ID
    assert form.edits["name"].text() == "测试户"
    assert "校验码" in form.errors["id_code"].text()

    # -- corrected, it is saved
    type_text(qtbot, form.edits["id_code"], GOOD_ID)
    assert not form.errors["id_code"].isVisibleTo(w)
    assert w.save_current() is True
    operator = w.household.operator
    assert operator is not None
    assert demo_store.count("operator") == households_before + 1
    assert demo_store.get("operator", operator)["id_code"] == GOOD_ID
    assert "测试户" in w.household.title.text()

    # -- a parcel typed in (not yet mapped), then this year's measure
    dialog = w.household.edit_parcel(None)
    type_text(qtbot, dialog.edits["code"], "T-01")
    type_text(qtbot, dialog.area, "20")
    dialog.save()
    assert w.household.parcel_model.rowCount() == 1
    w.household.parcel_table.selectRow(0)
    measure = w.household.set_measure()
    measure.areas["退减灌溉"].setText("12")
    measure.rates["退减灌溉"].setText("400")
    measure.areas["实际种植"].setText("8")
    measure.save()
    parcel_row = w.household.parcel_model.row_at(0)
    assert parcel_row.measure_text == "实际种植 8.00、退减灌溉 12.00"
    assert parcel_row.subsidy == 4800.0
    line = w.household.summary.text()
    assert "核实面积 20.00 亩" in line and "退减灌溉 12.00 亩" in line and "休耕轮作 0.00 亩" in line
    assert "补助金额 4,800.00 元（肆仟捌佰元整）" in line

    # -- the agreement: drafted, then moved to 已签订
    panel = w.household.agreement
    assert panel.start_button.isVisibleTo(w)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "草拟"
    assert panel.next_button.text() == "标记为已签订"
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "已签订"
    assert panel.next_button.text() == "标记为已公示"

    # -- a patrol with a photo carrying EXIF time and GPS
    photo = field_photo("现场.jpg")
    patrol = w.household.open_patrol(None)
    type_text(qtbot, patrol.patrollers, "张三、李四")
    patrol.stage.setCurrentText("秋翻")
    patrol.checks["ground_state"]["已翻耕"].setChecked(True)
    patrol.checks["well_state"]["封存完好"].setChecked(True)
    patrol.verdict.setCurrentText("合规")
    assert patrol.photo_strip.add_file(photo)
    caption = patrol.photo_strip.item(0).text()
    assert "2026-10-12 15:04" in caption and "44.02500" in caption and "87.30000" in caption
    patrol.save()
    assert patrol.result() == patrol.DialogCode.Accepted
    assert w.household.patrol_model.rowCount() == 1
    assert w.household.patrol_model.row_at(0).photos == 1
    assert "待同步变更" in w.pending_label.text()

    # -- close the store, open it again in a new window: everything is there
    path = demo_store.path
    w.close()
    demo_store.close()
    from ui.main_window import MainWindow

    reopened = Store.open(path, "测试员")
    try:
        w2 = MainWindow(reopened, Settings(user="测试员"), settings_file)
        qtbot.addWidget(w2)
        w2.set_year(year)
        w2.show_household(operator)
        h = w2.household
        assert h.form.edits["name"].text() == "测试户"
        assert h.form.edits["id_code"].text() == GOOD_ID
        assert h.parcel_model.row_at(0).measure_text == "实际种植 8.00、退减灌溉 12.00"
        assert h.agreement.status.text() == "已签订"
        patrols = h.patrol_model.rows
        assert len(patrols) == 1 and patrols[0].photos == 1 and patrols[0].patrollers == "张三、李四"

        history = h.history.rows()
        lines = {(r.record.split(" ")[0], r.action, r.field, r.old, r.new) for r in history}
        fields = {r.field for r in history}
        # each step, by its Chinese label, with the user who did it
        assert ("耕地经营者", "新建", "姓名/名称", "（空）", "测试户") in lines
        assert any(r.field == "身份证号/统一社会信用代码" and r.new == masking.mask_id(GOOD_ID)
                   for r in history)
        assert ("地块", "新建", "地块编号", "（空）", "T-01") in lines
        assert any(r.field == "措施" and r.new == "退减灌溉" for r in history)
        assert any(r.field == "面积（亩）" and r.new == "12.00" for r in history)
        assert any(r.field == "状态" and r.old == "草拟" and r.new == "已签订" for r in history)
        assert any(r.field == "签订日期" for r in history)
        assert any(r.field == "巡查人" and r.new == "张三、李四" for r in history)
        assert any(r.record.startswith("照片") for r in history)
        assert {r.user for r in history} == {"测试员"}
        # labels, never column names or raw IDs
        assert not fields & {"id_code", "area_mu", "status", "patrollers", "signed_on"}
        assert all(GOOD_ID not in (r.old + r.new) for r in history)
        w2.close()
    finally:
        reopened.close()
