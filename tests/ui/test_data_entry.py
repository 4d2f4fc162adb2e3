"""Data entry that never lies (#14): each case driven through the real widgets on the demo store.
What the window says must be what the store and 数据检查 say; numbers and dates are taken as typed
or refused with a reason; rare names print; tables sort by pinyin and copy rows; the window fits."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from user_typing import type_text

from ui.operations import run_op
from wq_desktop import checks, services
from wq_desktop.operations import households, patrols
from wq_desktop.printing.catalog import render_document
from wq_desktop.queries import navigation, village_table
from wq_desktop.rules import identity
from wq_desktop.settings import Settings
from wq_desktop.store import Store

RARE = "𠮷"  # U+20BB7, CJK Extension B: in no usual Chinese font


@pytest.fixture
def window(window):
    """The conftest window; refused edits are left unsaved on purpose, so closing it (pytest-qt
    closes widgets before fixtures end) must not ask."""
    window._closing_confirmed = True
    return window


def _first_household(window) -> str:
    return window.village.visible_rows()[0].operator


# ---------------------------------------------------------------- one rule, one place


def test_another_persons_id_is_refused_in_the_form_with_the_checks_sentence(
        qtbot, window, demo_store: Store) -> None:
    taken = demo_store.get("operator", _first_household(window))
    window.action("edit.new_household").trigger()
    form = window.household.form
    type_text(qtbot, form.edits["name"], "新户")
    type_text(qtbot, form.edits["id_code"], taken["id_code"])
    said = form.errors["id_code"].text()
    assert "同一乡镇不能重复登记" in said and taken["name"] in said, "said as the number is typed"
    assert taken["id_code"] not in said  # masked, as everywhere
    before = demo_store.count("operator")
    assert window.save_current() is False
    assert "已保存" not in window.statusBar().currentMessage()
    assert demo_store.count("operator") == before
    assert form.errors["id_code"].text() == said  # the store refused with the same sentence


def test_a_patrol_of_one_patroller_and_the_escort_counts_two_people(
        qtbot, window, demo_store: Store, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No))
    window.show_household(_first_household(window))
    dialog = window.household.open_patrol(None)
    assert dialog.patrollers.text() == "", "not pre-filled with the user: the 至少两人 hint shows"
    assert "至少两人" in dialog.patrollers.placeholderText()
    type_text(qtbot, dialog.patrollers, "王巡查")
    assert "不少于2人" in dialog.people.text()
    dialog.save()  # one person: asked first (answered 否), nothing written
    assert asked and "不少于2人" in asked[0] and dialog.patrol is None
    type_text(qtbot, dialog.escort, "村干部李")
    assert "在场 2 人" in dialog.people.text()
    dialog.save()
    assert dialog.patrol is not None and len(asked) == 1, "two people: saved without asking"
    findings = checks.check_patrollers(demo_store)
    assert dialog.patrol not in {f.record for f in findings}, "数据检查 counts the 陪同人 too"


def test_publicized_outside_the_notice_period_is_said_as_the_date_is_typed(
        qtbot, window, demo_store: Store) -> None:
    signed = demo_store.find_one("agreement", "status=? AND year=?", ("已签订", window.year))
    window.show_household(signed["operator"])
    panel = window.household.agreement
    village = demo_store.get("operator", signed["operator"])["village"]
    notice = village_table.village_notice(demo_store, village, window.year)
    # the offered date follows the workflow: the notice's last day, never before the signing
    assert panel.on.value() == max(date.fromisoformat(notice["end_on"]),
                                   date.fromisoformat(signed["signed_on"]))
    late = date.fromisoformat(notice["end_on"]) + timedelta(days=3)
    type_text(qtbot, panel.on.line, late.strftime("%Y%m%d"))
    assert "不在" in panel.hint.text() and "本年度公示期" in panel.hint.text()
    panel.advance()
    assert demo_store.get("agreement", signed["uuid"])["status"] == "已签订"


def test_a_step_date_is_corrected_with_history(qtbot, window, demo_store: Store) -> None:
    signed = demo_store.find_one("agreement", "status=? AND year=?", ("已签订", window.year))
    window.show_household(signed["operator"])
    dialog = window.household.agreement.correct_date()
    dialog.step.setCurrentIndex(dialog.step.findData("signed_on"))
    right = date.fromisoformat(signed["signed_on"]) - timedelta(days=1)
    type_text(qtbot, dialog.on.line, f"{right.year}年{right.month}月{right.day}日")
    dialog.save()
    assert demo_store.get("agreement", signed["uuid"])["signed_on"] == right.isoformat()
    [entry] = [e for e in demo_store.history(signed["uuid"]) if "signed_on" in e.changes][-1:]
    assert entry.changes["signed_on"] == [signed["signed_on"], right.isoformat()]
    assert right.isoformat() in window.household.agreement.dates.text()


# ---------------------------------------------------------------- numbers and dates as typed


def test_the_shape_column_says_no_shape_for_a_parcel_without_geometry(window, demo_store: Store) -> None:
    household = _first_household(window)
    village = demo_store.get("operator", household)["village"]
    demo_store.create("parcel", {"village": village, "operator": household, "code": "无图-1",
                                 "land_attribute": "集体机动地", "area_mu": 3})
    window.show_household(household)
    table = window.household.parcel_table
    column = [table.model().headerData(c, Qt.Orientation.Horizontal) for c in
              range(table.model().columnCount())].index("图形")
    cells = {table.model().index(r, 0).data(): table.model().index(r, column).data()
             for r in range(table.model().rowCount())}
    assert cells["无图-1"] == "未绘制"
    assert "已绘制" in cells.values()  # the mapped ones still say so


def test_typing_20_into_a_filled_area_box_keeps_20_and_refuses_it_with_the_reason(
        qtbot, window, demo_store: Store) -> None:
    household = _first_household(window)
    village = demo_store.get("operator", household)["village"]
    parcel = demo_store.create("parcel", {"village": village, "operator": household, "code": "T-1",
                                          "land_attribute": "集体机动地", "area_mu": 12.35})
    services.set_measure(demo_store, parcel, window.year, "实际种植", 12.35)
    window.show_household(household)
    h = window.household
    assert h.parcel_table.select_object(lambda p: p.uuid == parcel)
    dialog = h.set_measure()
    box = dialog.areas["实际种植"]
    assert box.text() == "12.35"
    type_text(qtbot, box, "20")
    assert box.text() == "20", "the typed number stays as typed"
    assert "超出地块面积 7.65 亩" in dialog.whole.text()
    dialog.save()
    assert dialog.isVisible() and "超出地块面积 12.35 亩" in dialog.error.text()
    [measure] = demo_store.find("measure", "parcel=?", (parcel,))
    assert measure["area_mu"] == 12.35, "nothing changed"
    type_text(qtbot, dialog.rates["退减灌溉"], "4OO")
    assert "应为数字" in dialog.rates["退减灌溉"].error.text()
    dialog.reject()


def test_an_implausible_parcel_area_is_refused_with_the_reason(qtbot, window, demo_store: Store) -> None:
    window.show_household(_first_household(window))
    dialog = window.household.edit_parcel(None)
    dialog.edits["code"].setText("大-1")
    type_text(qtbot, dialog.area, "99999")
    assert "超过 5,000 亩" in dialog.errors["area_mu"].text(), "said as typed"
    before = demo_store.count("parcel")
    dialog.save()
    assert dialog.isVisible() and "平方米" in dialog.errors["area_mu"].text()
    assert demo_store.count("parcel") == before
    dialog.reject()


@pytest.mark.parametrize("typed", ["2026-11-15", "20261115", "2026/11/15", "2026.11.15", "2026年11月15日"])
def test_each_way_of_typing_a_date_is_taken(qtbot, window, typed: str) -> None:
    window.show_household(_first_household(window))
    dialog = window.household.open_patrol(None)
    type_text(qtbot, dialog.visited_on.line, typed)
    assert dialog.visited_on.value() == date(2026, 11, 15)
    dialog.visited_on.line.editingFinished.emit()
    assert dialog.visited_on.line.text() == "2026-11-15"  # read back as understood
    # follow-ups start at the patrol's date, not today
    assert dialog.rect_deadline.value() == date(2026, 11, 15)
    dialog.rect_box.setChecked(True)
    dialog.recheck_on.check.setChecked(True)
    assert dialog.recheck_on.value() == date(2026, 11, 15)
    dialog.reject()


def test_a_date_that_is_not_one_is_refused_with_the_reason_and_kept(qtbot, window, demo_store) -> None:
    window.show_household(_first_household(window))
    dialog = window.household.open_patrol(None)
    type_text(qtbot, dialog.patrollers, "甲、乙")
    type_text(qtbot, dialog.visited_on.line, "2026-02-30")
    before = demo_store.count("patrol")
    dialog.save()
    assert dialog.visited_on.line.text() == "2026-02-30"
    assert "2026年2月没有30日" in dialog.visited_on.error.text()
    assert demo_store.count("patrol") == before
    dialog.reject()


# ---------------------------------------------------------------- rare characters


def test_a_rare_character_is_flagged_only_when_no_font_has_it(qtbot, window) -> None:
    window.action("edit.new_household").trigger()
    form = window.household.form
    type_text(qtbot, form.edits["name"], f"王{RARE}")
    assert not form.errors["name"].isVisibleTo(window), "𠮷 is in the bundled fallback font"
    type_text(qtbot, form.edits["name"], "王\U00030000")  # Extension G: in no bundled font
    assert "U+30000" in form.errors["name"].text() and "方框" in form.errors["name"].text()


def test_a_village_notice_with_one_rare_name_prints_it(demo_store: Store, tmp_path: Path) -> None:
    year = navigation.latest_year(demo_store)
    operator = demo_store.find("operator", "1=1", order_by="rowid")[0]
    demo_store.update("operator", operator["uuid"], {"name": f"王{RARE}"})
    village = demo_store.get("village", operator["village"])["code"]
    out = tmp_path / "notice.pdf"
    render_document(demo_store, "notice", year=year, village=village, out=out)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert f"王{RARE}" in text


# ---------------------------------------------------------------- the window fits


def test_a_200_character_name_does_not_widen_the_window(qtbot, window, demo_store: Store) -> None:
    screen = window.screen().availableGeometry()
    household = _first_household(window)
    long_name = "很长的名字" * 40
    # Pulled from another device before the length rule: it shows, elided, and 数据检查 flags it.
    record = dict(demo_store.get("operator", household))
    demo_store.apply_pulled("operator", household, "update", {"name": long_name},
                            rev=record["rev"] + 1, user="他人", device="d2", at="2026-11-01T00:00:00Z")
    window.show_household(household)
    qtbot.waitUntil(lambda: window.household.title.text().startswith(long_name))
    QApplication.processEvents()
    assert window.frameGeometry().width() <= screen.width()
    assert window.household.title.shown_text() != window.household.title.text()  # elided
    type_text(qtbot, window.household.form.edits["name"], long_name + "户")
    assert "最多60个字" in window.household.form.errors["name"].text()
    assert any("最多60个字" in f.message for f in checks.check_rules(demo_store))
    QApplication.processEvents()
    assert window.frameGeometry().width() <= screen.width()


def test_the_window_fits_1366x768_at_150_percent(window) -> None:
    # At 150 % a 1366×768 screen is 910×512 device-independent pixels, less a taskbar.
    free_w, free_h = 1366 / 1.5, (768 - 40) / 1.5
    for tab in (window.household, window.village, window.contacts):
        window.tabs.setCurrentWidget(tab)
        hint = window.minimumSizeHint()
        assert hint.width() <= free_w and hint.height() <= free_h, (tab, hint)


def test_size_position_and_column_widths_are_remembered(qtbot, demo_store: Store, settings_file) -> None:
    from ui.main_window import MainWindow

    first = MainWindow(demo_store, Settings(user="测试员"), settings_file)
    qtbot.addWidget(first)
    first.show()
    first.resize(720, 520)  # the offscreen screen is 800×600
    first.move(20, 10)
    table = first.village.table
    table.horizontalHeader().resizeSection(0, 177)
    first._closing_confirmed = True
    first.close()
    again = MainWindow(demo_store, Settings(user="测试员"), settings_file)
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (720, 520)
    assert again.village.table.horizontalHeader().sectionSize(0) == 177
    again._closing_confirmed = True
    again.close()


# ---------------------------------------------------------------- tables like WPS


def test_names_sort_by_pinyin_and_two_rows_copy_as_tsv(qtbot, window, demo_store: Store) -> None:
    village = window.village.village
    for name, id17 in (("张三丰", "65239919800101001"), ("阿依古丽", "65239919800101002"),
                       ("陈七", "65239919800101003")):
        demo_store.create("operator", {"village": village, "name": name, "kind": "农户",
                                       "id_code": id17 + identity.id_check_char(id17)})
    window.show_village(village)
    qtbot.waitUntil(lambda: not window.village.loading)
    table = window.village.table
    names_col = [table.model().headerData(c, Qt.Orientation.Horizontal)
                 for c in range(table.model().columnCount())].index("户主/经营者")
    table.sortByColumn(names_col, Qt.SortOrder.AscendingOrder)
    names = [table.model().index(r, names_col).data() for r in range(table.model().rowCount())]
    assert names.index("阿依古丽") < names.index("陈七") < names.index("张三丰")
    table.selectRow(0)
    table.selectionModel().select(table.model().index(1, 0),
                                  table.selectionModel().SelectionFlag.Select
                                  | table.selectionModel().SelectionFlag.Rows)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[names_col] == names[0]
    assert lines[1].split("\t")[names_col] == names[1]


def test_the_selected_household_and_the_sort_order_stay_through_a_resort_and_a_reload(
        qtbot, window, demo_store: Store) -> None:
    table, v = window.village.table, window.village
    columns = [table.model().headerData(c, Qt.Orientation.Horizontal)
               for c in range(table.model().columnCount())]
    area, names = columns.index("核实面积（亩）"), columns.index("户主/经营者")
    table.sortByColumn(area, Qt.SortOrder.DescendingOrder)
    table.selectRow(3)
    chosen = table.row_object()
    table.sortByColumn(names, Qt.SortOrder.AscendingOrder)
    assert table.row_object() == chosen  # the selection went with its row
    shown = [table.model().index(r, names).data() for r in range(table.model().rowCount())]
    assert shown.index(chosen.name) == table.currentIndex().row()
    table.sortByColumn(area, Qt.SortOrder.DescendingOrder)
    run_op(window, demo_store, lambda s: households.save_operator(
        s, chosen.operator, {"address": "新住址"}, base_rev=s.get("operator", chosen.operator)["rev"]))
    assert v.loading  # the village's rows are read again
    qtbot.waitUntil(lambda: not v.loading)
    areas = [table.row_object(table.model().index(r, 0)).area_mu for r in range(table.model().rowCount())]
    assert areas == sorted(areas, reverse=True)  # the reloaded rows keep the order chosen


def test_the_contact_list_searches_and_takes_names_pasted_from_excel(qtbot, window, demo_store) -> None:
    view = window.contacts
    window.tabs.setCurrentWidget(view)
    rows = view.assign_model.rows
    a, b = rows[0], rows[1]
    type_text(qtbot, view.assign_search, a.name)
    assert view.assign_proxy.rowCount() >= 1 and "找到" in view.assign_hits.text()
    match = view.paste_selection(f"{a.name}\t{a.village}\n{b.name}\t{b.village}\n不存在的人\n")
    assert set(view.selected_operators()) == {a.operator, b.operator} == set(match.operators)
    assert "未找到：不存在的人" in view.assign_result.text()


def test_roster_rows_pasted_from_excel_are_previewed_like_a_file(qtbot, window, demo_store) -> None:
    taken = demo_store.get("operator", _first_household(window))
    id17 = "65239919800101004"
    good = id17 + identity.id_check_char(id17)
    dialog = window.import_roster()
    assert dialog.load_pasted(f"户主姓名\t身份证号\t联系电话\n新户甲\t{good}\t13912345678\n"
                              f"重名户\t{taken['id_code']}\t\n")
    assert len(dialog.preview.ok_rows) == 1
    [error] = dialog.preview.error_rows
    assert "同一乡镇不能重复登记" in error.error
    dialog.reject()


def test_search_hits_refresh_after_an_edit(qtbot, window, demo_store: Store) -> None:
    household = _first_household(window)
    window.nav.search.setText("改名后的户")
    window.nav.run_search()
    assert window.nav.no_hits.isVisibleTo(window)
    run_op(None, demo_store, lambda s: households.save_operator(s, household, {"name": "改名后的户"}))
    qtbot.waitUntil(lambda: window.nav.hits.count() == 1)


def test_a_change_no_hit_shows_does_not_run_the_search_again(qtbot, window, demo_store: Store,
                                                             monkeypatch) -> None:
    import ui.navigation as navigation_module

    household = _first_household(window)
    window.nav.search.setText("王")
    window.nav.run_search()
    searched: list[str] = []
    real = navigation_module.search_households
    monkeypatch.setattr(navigation_module, "search_households",
                        lambda store, text, *a: (searched.append(text), real(store, text, *a))[1])
    run_op(None, demo_store, lambda s: households.save_operator(s, household, {"phone": "13800001111"}))
    assert searched == []  # a phone is in no hit: the township's households are not searched again
    run_op(None, demo_store, lambda s: households.save_operator(s, household, {"name": "王改名"}))
    assert searched == ["王"] and any("王改名" in window.nav.hits.item(i).text()
                                      for i in range(window.nav.hits.count()))


def test_one_name_no_font_has_does_not_stop_the_village_notice(demo_store: Store, tmp_path: Path) -> None:
    year = navigation.latest_year(demo_store)
    operators = demo_store.find("operator", "1=1", order_by="rowid")
    demo_store.update("operator", operators[0]["uuid"], {"name": "王\U00030000"})  # Extension G
    village = demo_store.get("village", operators[0]["village"])["code"]
    out = tmp_path / "notice.pdf"
    assert render_document(demo_store, "notice", year=year, village=village, out=out) >= 1
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "王〓" in text and "生僻字" in text
    others = [o["name"] for o in operators[1:] if o["village"] == operators[0]["village"]]
    assert any(name in text for name in others), "the rest of the village is on the notice"


def test_the_pending_counts_refresh_after_every_change(qtbot, window, demo_store: Store, field_photo) -> None:
    labels = window.sync_controller
    before_photos = labels.photos_label.text()
    before_changes = window.pending_label.text()
    patrol = demo_store.find("patrol", "1=1", order_by="rowid")[0]
    photo = field_photo("new.jpg", taken="2026:10:13 09:00:00")
    run_op(None, demo_store, lambda s: patrols.record_patrol(s, patrol["uuid"], {}, add_photos=[photo]))
    qtbot.waitUntil(lambda: labels.photos_label.text() != before_photos)
    assert window.pending_label.text() != before_changes


def test_qts_own_dialogs_speak_chinese(qtbot, qapp) -> None:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.app import install_qt_translations

    translator = install_qt_translations(qapp)
    assert translator is not None, "qtbase_zh_CN.qm ships with PySide6"
    try:
        # A real QFileDialog leaves a file-watcher thread behind; its texts come from the same file.
        assert QCoreApplication.translate("QFileDialog", "Look in:") == "查找范围："
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open
                                   | QDialogButtonBox.StandardButton.Cancel)
        qtbot.addWidget(buttons)
        assert {b.text() for b in buttons.buttons()} == {"打开", "取消"}
    finally:
        qapp.removeTranslator(translator)
