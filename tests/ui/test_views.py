"""Village table, contacts, rectifications, search, settings, first start, background work, crash
reports and the shortcuts, each driven through the real widgets."""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from ui.operations import run_op
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.operations import households
from wq_desktop.queries import village_table
from wq_desktop.settings import Settings
from wq_desktop.store import Store


def test_village_table_filters_and_totals(window) -> None:
    v = window.village
    everyone = v.visible_rows()
    assert len(everyone) == 52
    v.measure_filter.setCurrentText(MeasureKind.RETIRED.value)
    retired = v.visible_rows()
    assert retired and len(retired) < len(everyone)
    assert all(r.retired_mu > 0 for r in retired)
    expected = sum(r.retired_mu for r in retired if r.agreement_status != "终止")
    assert f"退减灌溉 {expected:,.2f} 亩" in v.totals.text()
    assert f"{len(retired)} 户" in v.totals.text()
    v.status_filter.setCurrentText(AgreementStatus.SIGNED.value)
    assert all(r.agreement_status == "已签订" for r in v.visible_rows())
    v.status_filter.setCurrentText("全部")
    v.measure_filter.setCurrentText("全部")
    v.attribute_filter.setCurrentText("确权以外国有耕地")
    assert all("确权以外国有耕地" in r.land_attributes for r in v.visible_rows())
    # sorting by area puts the largest household first
    v.attribute_filter.setCurrentText("全部")
    v.table.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    first = v.proxy.source_row(0)
    assert first.area_mu == max(r.area_mu for r in everyone)


def test_notice_period_is_edited_and_a_wrong_one_refused(window, demo_store: Store) -> None:
    v = window.village
    notice = village_table.village_notice(demo_store, v.village, window.year)
    start = date.fromisoformat(notice["start_on"])
    v.notice_start.set_value(start + timedelta(days=3))  # the end moves along, 7 days kept
    assert v.notice_end.value() == start + timedelta(days=9)
    assert window.save_current() is True
    assert village_table.village_notice(demo_store, v.village, window.year)["end_on"] == \
        (start + timedelta(days=9)).isoformat()
    v.notice_end.set_value(start)  # before the start
    assert v.save_notice() is False
    assert "结束日期不能早于开始日期" in v.notice_error.text()
    assert village_table.village_notice(demo_store, v.village, window.year)["end_on"] == \
        (start + timedelta(days=9)).isoformat()


def test_contacts_assigned_to_many_households_at_once(window, demo_store: Store) -> None:
    c = window.contacts
    window.tabs.setCurrentWidget(c)
    c.village.setCurrentIndex(1)
    selection = c.assign_table.selectionModel()
    for row in (0, 2, 4):
        selection.select(c.assign_proxy.index(row, 0),
                         QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    chosen = c.selected_operators()
    assert len(chosen) == 3
    c.staff.setCurrentIndex(2)
    staff_uuid = c.staff.currentData()
    assert c.assign() == 3
    assert all(demo_store.get("operator", o)["staff"] == staff_uuid for o in chosen)
    assert "已将 3 户分配给" in c.assign_result.text()
    # nothing selected: a message, nothing written
    c.assign_table.clearSelection()
    history = demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0]
    assert c.assign() == 0
    assert "请先在表格中选择" in c.assign_error.text()
    assert demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == history


def test_rectification_overdue_marked_then_closed(window, demo_store: Store, answer_yes) -> None:
    r = window.rectifications
    r.refresh()
    rows = r.model.rows
    assert rows and rows[0].overdue
    assert r.model.data(r.model.index(0, 0)).startswith("已逾期")
    assert r.model.data(r.model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is not None
    target = rows[0]
    window.show_household(target.operator)
    dialog = window.household.open_patrol(target.patrol)
    assert dialog.rect_box.isChecked()
    # closing without a recheck is refused, nothing saved
    dialog.closed_on.set_value(date.today())
    dialog.save()
    assert "复查" in dialog.errors["closed_on"].text()
    assert demo_store.get("patrol", target.patrol)["closed_on"] is None
    dialog.recheck_on.set_value(date.today())
    dialog.recheck_result.setText("已停止灌溉")
    dialog.save()
    assert demo_store.get("patrol", target.patrol)["closed_on"] == date.today().isoformat()
    r.refresh()
    assert target.patrol not in {x.patrol for x in r.model.rows}


def test_photo_dropped_on_the_patrol_dialog(qtbot, window, field_photo) -> None:
    household = window.village.visible_rows()[0].operator
    window.show_household(household)
    dialog = window.household.open_patrol(None)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(field_photo("drop.jpg")))])
    strip = dialog.photo_strip
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    strip.dropEvent(event)
    assert strip.count() == 1
    assert "44.02500" in strip.item(0).text()
    not_a_photo = field_photo("x.jpg").with_name("notes.jpg")
    not_a_photo.write_text("不是图片")
    assert strip.add_file(not_a_photo) is False
    assert "不是可识别的图片" in dialog.photo_error.text()
    dialog.reject()


def test_search_by_last_id_digits_and_parcel_code_jumps_to_household(qtbot, window, demo_store) -> None:
    row = demo_store.find_one("operator", "kind='农户'")
    window.action("edit.find").trigger()
    qtbot.keyClicks(window.nav.search, row["id_code"][-6:])
    qtbot.keyClick(window.nav.search, Qt.Key.Key_Return)
    assert window.household.operator == row["uuid"]
    assert window.tabs.currentWidget() is window.household
    hit_text = window.nav.hits.item(0).text()
    assert row["id_code"] not in hit_text and "********" in hit_text  # IDs masked in the list
    parcel = demo_store.find_one("parcel", "operator=?", (row["uuid"],))
    window.nav.search.clear()
    qtbot.keyClicks(window.nav.search, parcel["code"])
    hits = window.nav.run_search()
    assert row["uuid"] in {h.operator for h in hits}


def test_deleting_a_parcel_asks_and_leaves_a_tombstone(window, demo_store, answer_yes) -> None:
    household = window.village.visible_rows()[0].operator
    window.show_household(household)
    h = window.household
    before = h.parcel_model.rowCount()
    h.parcel_table.selectRow(0)
    parcel = h.parcel_table.row_object()
    h.delete_parcel()
    assert answer_yes and "删除地块" in answer_yes[0]
    assert h.parcel_model.rowCount() == before - 1
    tomb = demo_store.get("parcel", parcel.uuid, include_deleted=True)
    assert tomb["deleted"] is True
    assert any(r.field == "状态" and r.new == "已删除" for r in h.history.rows())


def test_ctrl_p_opens_the_print_center_for_the_document_on_screen(qtbot, window) -> None:
    hits = window.store.find("operator")
    window.show_household(hits[0]["uuid"])
    center = window.print_current()
    qtbot.addWidget(center)
    assert center.document_key == "agreement"
    center.close()
    window.show_village(hits[0]["village"])
    center = window.print_current()
    qtbot.addWidget(center)
    assert center.document_key == "notice"
    center.close()
    assert window.pending_label.text().startswith("待同步变更：")


def test_checks_run_in_a_worker_with_progress(qtbot, window) -> None:
    worker = window.run_checks()
    with qtbot.waitSignal(worker.done, timeout=60000):
        pass
    assert window.tabs.currentWidget() is window.dashboard
    qtbot.waitUntil(lambda: "项发现" in window.dashboard.check_summary.text(), timeout=5000)
    assert window.dashboard.findings.model().rowCount() > 0


def test_worker_cancel(qtbot) -> None:
    from ui.workers import JobContext, Worker

    def slow(ctx: JobContext) -> str:
        for i in range(200):
            ctx.progress(i // 2)
            time.sleep(0.01)
        return "done"

    worker = Worker(slow)
    with qtbot.waitSignal(worker.cancelled, timeout=10000):
        worker.start()
        worker.cancel()
    worker.wait()


def test_a_running_worker_whose_parent_is_deleted_stops_instead_of_aborting(qtbot) -> None:
    """A panel deleted while its worker runs (a closed dashboard, a test's widget collected):
    Qt destroys the child thread with it and aborts the whole program unless it has ended."""
    import threading

    import shiboken6
    from PySide6.QtWidgets import QWidget

    from ui.workers import Cancelled, JobContext, start_worker

    running, stopped = threading.Event(), threading.Event()

    def endless(ctx: JobContext) -> None:
        try:
            while True:
                running.set()
                ctx.check()
                stopped.wait(0.01)
        except Cancelled:
            stopped.set()
            raise

    parent = QWidget()
    worker = start_worker(parent, endless, on_done=lambda _: None)
    qtbot.waitUntil(running.is_set)
    shiboken6.delete(parent)  # takes the worker with it, as Qt deletes children
    assert stopped.is_set()  # the job was asked to stop and had ended before its thread went
    assert not shiboken6.isValid(worker)


def test_settings_dialog_refuses_bad_server_and_saves_good(qtbot, window, settings_file: Path) -> None:
    dialog = window.edit_settings()
    dialog.server.setText("wq.example.cn")
    dialog.save()
    assert "http://" in dialog.errors["server_url"].text()
    assert not settings_file.exists()
    assert dialog.server.text() == "wq.example.cn"
    dialog.server.setText("https://wq.example.cn")
    dialog.year.setValue(2025)
    dialog.save()
    saved = json.loads(settings_file.read_text(encoding="utf-8"))
    assert saved["server_url"] == "https://wq.example.cn" and saved["default_year"] == 2025
    assert window.settings.default_year == 2025


def test_settings_dialog_server_certificate(qtbot, window, settings_file: Path, tmp_path: Path,
                                           monkeypatch) -> None:
    from PySide6.QtWidgets import QFileDialog, QPushButton

    dialog = window.edit_settings()
    notes = tmp_path / "notes.txt"
    notes.write_text("不是证书", encoding="utf-8")
    dialog.ca_bundle.setText(str(notes))
    dialog.save()
    assert "不是证书文件" in dialog.errors["ca_bundle"].text()
    assert dialog.errors["ca_bundle"].isVisibleTo(dialog) and not settings_file.exists()
    assert dialog.ca_bundle.text() == str(notes)
    ca = tmp_path / "office-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", encoding="ascii")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(ca), "")))
    dialog.findChild(QPushButton, "settings_ca_browse").click()
    assert dialog.ca_bundle.text() == str(ca)
    dialog.save()
    assert json.loads(settings_file.read_text(encoding="utf-8"))["ca_bundle"] == str(ca.resolve())
    assert window.settings.verify == str(ca.resolve())


def test_first_start_creates_an_empty_encrypted_store_with_its_first_account(
        qtbot, tmp_path: Path, monkeypatch) -> None:
    from ui.dialogs import sign_in
    from ui.dialogs.first_start import FirstStartDialog
    from wq_desktop import accounts, keyfile

    shown: list[str] = []
    monkeypatch.setattr(sign_in, "show_recovery_code", lambda code, name, parent=None: shown.append(code))
    dialog = FirstStartDialog(tmp_path / "data")
    qtbot.addWidget(dialog)
    dialog.create_empty()
    assert "用户名" in dialog.user_error.text()
    dialog.user.setText("王干部")
    dialog.township_code.setText("12345")
    dialog.township_name.setText("六工镇")
    dialog.password.setText("Wang2026pass")
    dialog.repeat.setText("Wang2026pass")
    dialog.create_empty()
    assert "9位数字" in dialog.error.text()
    assert not list((tmp_path / "data").glob("wq.sqlite*"))  # nothing left of the refused store
    dialog.township_code.setText("652301105")
    dialog.password.setText("short1")
    dialog.repeat.setText("short1")
    dialog.create_empty()
    assert "至少" in dialog.error.text() and not shown
    dialog.password.setText("Wang2026pass")
    dialog.repeat.setText("Wang2026pass")
    dialog.create_empty()
    assert dialog.chosen == tmp_path / "data" / "wq.sqlite" and len(shown) == 1
    assert keyfile.is_encrypted_store(dialog.chosen)
    keyfile.forget(dialog.chosen)
    with accounts.sign_in(dialog.chosen, "王干部", "Wang2026pass") as store:
        assert [t["name"] for t in store.find("township")] == ["六工镇"]
        assert store.history(store.find("township")[0]["uuid"])[0].user == "王干部"


def test_first_start_opens_the_demo_township_in_a_worker(qtbot, tmp_path: Path) -> None:
    from ui.dialogs.first_start import FirstStartDialog

    dialog = FirstStartDialog(tmp_path / "data", "王干部")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=60000):
        dialog.open_demo()
    with Store.open(dialog.chosen, "王干部") as store:
        assert store.is_demo and store.count("operator") == 156


def test_crash_report_is_chinese_and_masks_ids(data_dir: Path, messages) -> None:
    from ui.crash import show_unexpected

    try:
        raise RuntimeError("bad row 65239919850307123X phone 13912345678 tel 0994-2345678")
    except RuntimeError:
        report = show_unexpected(None, *sys.exc_info())
    assert report is not None and report.parent == data_dir / "reports"
    text = report.read_text(encoding="utf-8")
    assert "65239919850307123X" not in text and "[身份证号已隐去]" in text
    assert "13912345678" not in text and "[手机号已隐去]" in text
    assert "2345678" not in text
    assert "程序遇到了一个意外错误" in messages[0] and "尚未保存的内容仍在窗口中" in messages[0]


def test_unsaved_edit_is_not_dropped_when_leaving(qtbot, window, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    rows = window.village.visible_rows()
    window.show_household(rows[0].operator)
    form = window.household.form
    form.edits["address"].setText("新地址")
    form.edits["address"].textEdited.emit("新地址")
    assert form.dirty
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel))
    window.show_household(rows[1].operator)
    assert window.household.operator == rows[0].operator
    assert form.edits["address"].text() == "新地址"


def test_year_selector_switches_the_work_year(qtbot, window) -> None:
    this_year = window.year
    rows_now = {r.operator: r.retired_mu for r in window.village.visible_rows()}
    window.set_year(this_year - 1)
    assert window.village.title.text().endswith(f"{this_year - 1}年度")
    qtbot.waitUntil(lambda: not window.village.loading)
    rows_then = {r.operator: r.retired_mu for r in window.village.visible_rows()}
    assert rows_now != rows_then  # last year's measures, not this year's


def test_a_year_chosen_on_another_page_shows_in_the_village_and_household_on_return(
        qtbot, window) -> None:
    this_year = window.year
    household = window.village.visible_rows()[0].operator
    window.show_household(household)
    window.show_village(window.village.village)
    qtbot.waitUntil(lambda: not window.village.loading)
    window.tabs.setCurrentWidget(window.rectifications)
    window.set_year(this_year - 1)
    window.tabs.setCurrentWidget(window.village)
    assert window.village.title.text().endswith(f"{this_year - 1}年度")
    qtbot.waitUntil(lambda: not window.village.loading)
    expected = village_table.village_households(window.store, window.village.village, this_year - 1)
    assert {r.operator: r.retired_mu for r in window.village.visible_rows()} == \
        {r.operator: r.retired_mu for r in expected}
    window.tabs.setCurrentWidget(window.household)
    assert window.household.title.text().endswith(f"{this_year - 1}年度")
    assert window.household.agreement_box.title().startswith(f"{this_year - 1}年度")


def test_default_year_from_settings(qtbot, demo_store: Store, settings_file: Path) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(demo_store, Settings(user="测试员", default_year=2025), settings_file)
    qtbot.addWidget(w)
    assert w.year == 2025


def test_village_table_starts_in_counting_order_of_groups(window) -> None:
    rows = window.village.proxy.visible_rows()
    groups = [r.group_name for r in rows]
    assert groups[0] == "一组" and groups[-1] == "三组"
    assert groups.index("二组") < groups.index("三组")


def test_village_total_leaves_out_terminated_agreements_and_says_so(window) -> None:
    v = window.village
    rows = v.visible_rows()
    stopped = [r for r in rows if r.agreement_status == "终止" and (r.retired_mu or r.fallow_mu)]
    assert stopped, "the demo village has terminated households with 退减 area"
    counted = [r for r in rows if r.agreement_status != "终止"]
    text = v.totals.text()
    assert f"退减灌溉 {sum(r.retired_mu for r in counted):,.2f} 亩" in text
    assert f"补助金额 {sum(r.subsidy for r in counted):,.2f} 元" in text
    left_out = sum(r.retired_mu + r.fallow_mu for r in stopped)
    assert text.endswith(f"（协议终止的 {len(stopped)} 户、{left_out:,.2f} 亩未计入）")
    v.status_filter.setCurrentText(AgreementStatus.SIGNED.value)
    assert "未计入" not in v.totals.text()


def test_land_attribute_column_is_short_with_full_names_in_the_tooltip(window) -> None:
    v = window.village
    column = next(i for i, c in enumerate(v.model.columns) if c.title == "土地属性")
    row = next(i for i, r in enumerate(v.model.rows) if "农民土地承包确权颁证耕地" in r.land_attributes)
    index = v.model.index(row, column)
    shown = v.model.data(index)
    assert "承包确权地" in shown and "农民土地承包确权颁证耕地" not in shown
    assert "农民土地承包确权颁证耕地" in v.model.data(index, Qt.ItemDataRole.ToolTipRole)
    v.attribute_filter.setCurrentText("确权以外国有耕地")  # the filter still uses the full names
    assert v.visible_rows()
    assert all("确权外国有地" in v.model.columns[column].text(r) for r in v.visible_rows())


def test_new_years_notice_starts_in_that_year(window, demo_store: Store) -> None:
    v = window.village
    next_year = window.year + 1
    window.set_year(next_year)
    assert village_table.village_notice(demo_store, v.village, next_year) is None
    assert v.notice_start.value() == date(next_year, 8, 1)
    assert v.notice_end.value() == date(next_year, 8, 7)
    assert v.save_notice() is True
    saved = village_table.village_notice(demo_store, v.village, next_year)
    assert saved["start_on"] == f"{next_year}-08-01" and saved["end_on"] == f"{next_year}-08-07"
    # a start typed outside the year is refused with a clear message
    v.notice_start.set_value(date(next_year - 1, 12, 25))
    assert v.save_notice() is False
    assert f"公示开始日期应在 {next_year} 年度内" in v.notice_error.text()


def test_measure_dialog_refuses_more_than_the_parcel_with_one_message(window, demo_store) -> None:
    window.show_household(window.village.visible_rows()[0].operator)
    h = window.household
    h.parcel_table.selectRow(0)
    parcel = h.parcel_table.row_object()
    dialog = h.set_measure()
    dialog.areas["退减灌溉"].set_number(parcel.area_mu)
    dialog.areas["实际种植"].set_number(parcel.area_mu)
    assert "！" not in dialog.whole.text() and "超出地块面积" in dialog.whole.text()
    history = demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0]
    dialog.save()
    message = dialog.error.text()
    assert message.count("超出地块面积") == 1 and "已登记" not in message and "！；" not in message
    assert f"超出地块面积 {parcel.area_mu:.2f} 亩" in message
    assert demo_store.conn.execute("SELECT count(*) FROM history").fetchone()[0] == history
    dialog.reject()


def test_deleting_a_household_says_what_goes_and_leaves_no_orphan_parcels(qtbot, window, demo_store,
                                                                          answer_yes) -> None:
    from wq_desktop import services

    row = next(r for r in window.village.visible_rows() if r.parcels >= 2 and r.patrols)
    window.show_household(row.operator)
    taken = services.household_records(demo_store, row.operator)
    window.household.delete_household()
    asked = answer_yes[0]
    assert f"地块 {row.parcels} 块" in asked and f"巡查记录 {len(taken.patrols)} 条" in asked
    assert f"协议 {len(taken.agreements)} 份" in asked
    assert demo_store.count("parcel", "operator=? OR operator IS NULL", (row.operator,)) == 0
    assert all(demo_store.get("patrol", u, include_deleted=True)["deleted"] for u in taken.patrols)
    window.village.refresh()
    qtbot.waitUntil(lambda: not window.village.loading)
    assert row.operator not in {r.operator for r in window.village.visible_rows()}


def test_publicized_step_defaults_to_the_notice_end(window, demo_store: Store) -> None:
    signed = demo_store.find_one("agreement", "status=? AND year=?", ("已签订", window.year))
    window.show_household(signed["operator"])
    panel = window.household.agreement
    village = demo_store.get("operator", signed["operator"])["village"]
    notice = village_table.village_notice(demo_store, village, window.year)
    assert panel.next_button.text() == "标记为已公示"
    assert panel.on.value() == date.fromisoformat(notice["end_on"])
    panel.on.set_value(date.fromisoformat(notice["start_on"]) - timedelta(days=1))
    panel.advance()
    assert "不在" in panel.error.text() and "本年度公示期" in panel.error.text()
    assert demo_store.get("agreement", signed["uuid"])["status"] == "已签订"
    panel.on.set_value(notice["end_on"])
    panel.advance()
    assert demo_store.get("agreement", signed["uuid"])["publicized_on"] == notice["end_on"]


def test_settings_dialog_keeps_the_notice_supervision_phone_with_the_data(qtbot, window,
                                                                         settings_file: Path) -> None:
    from wq_desktop.printing.notice import supervision_phone

    dialog = window.edit_settings()
    dialog.supervision.setText("12345")
    dialog.save()
    assert "无效" in dialog.errors["supervision_phone"].text()
    assert supervision_phone(window.store) == "" and not settings_file.exists()
    dialog.supervision.setText("0994-2345678")
    dialog.save()
    assert supervision_phone(window.store) == "09942345678" and settings_file.exists()
    assert window.edit_settings().supervision.text() == "0994-2345678"


def test_file_menu_offers_every_xlsx_table_with_a_save_dialog(qtbot, window, tmp_path: Path,
                                                             monkeypatch) -> None:
    from openpyxl import load_workbook
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from wq_desktop.xlsx_exports import XLSX_TABLES

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda _p, _t, suggested, *a, **k: (str(tmp_path / Path(suggested).name), "")))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *a, **k: None))
    assert {key for key, _ in window.xlsx_actions} == {t.key for t in XLSX_TABLES}
    assert ("contacts", True) in window.xlsx_actions
    window.xlsx_actions[("summary", False)].trigger()
    window.xlsx_actions[("notice", False)].trigger()
    written = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert any(n.endswith("三级汇总表.xlsx") for n in written)
    assert any(n.endswith("公示表.xlsx") for n in written)
    summary = next(tmp_path.glob("*三级汇总表.xlsx"))
    assert load_workbook(summary).active.title == "汇总表"


def test_tabs_off_screen_load_when_first_shown_not_after_every_write(qtbot, window, demo_store: Store,
                                                                       monkeypatch) -> None:
    loads: list[str] = []
    for name in ("contacts", "rectifications"):
        view = getattr(window, name)
        real = view.refresh
        monkeypatch.setattr(view, "refresh", lambda real=real, name=name: (loads.append(name), real()))
    before = demo_store.pending_changes()
    operator = demo_store.find_one("operator", "1=1")
    run_op(None, demo_store,
           lambda s: households.save_operator(s, operator["uuid"], {"address": "9号院（演示）"}))
    qtbot.waitUntil(lambda: str(before + 1) in window.pending_label.text())
    assert loads == []  # the window refreshed what is on screen, not the hidden tables
    window.tabs.setCurrentWidget(window.contacts)
    window.tabs.setCurrentWidget(window.rectifications)
    window.tabs.setCurrentWidget(window.contacts)  # shown again without a change: no reload
    assert loads == ["contacts", "rectifications"]


def test_a_job_that_ends_before_the_caller_connects_still_reports_finished(qtbot) -> None:
    from PySide6.QtWidgets import QWidget

    from ui.workers import run_with_progress

    parent = QWidget()
    qtbot.addWidget(parent)
    ended: list[str] = []
    worker = run_with_progress(parent, "测试任务", lambda _ctx: "ok", ended.append,
                               on_finished=lambda: ended.append("finished"))
    worker.wait()  # over before the GUI thread does anything else (an unreachable server)
    qtbot.waitUntil(lambda: ended == ["ok", "finished"])


def test_village_rows_are_read_in_a_worker_and_the_last_village_chosen_wins(
        qtbot, window, demo_store: Store) -> None:
    villages = demo_store.find("village", order_by="code")
    assert len(villages) >= 2
    first, second = villages[0]["uuid"], villages[1]["uuid"]
    window.show_village(first)
    window.show_village(second)  # before the first village's rows arrive
    assert window.village.loading and window.village.model.rows == []
    with qtbot.waitSignal(window.village.rowsLoaded, timeout=60000):
        pass
    assert not window.village.loading
    expected = village_table.village_households(demo_store, second, window.year)
    assert sorted(r.operator for r in window.village.model.rows) == sorted(r.operator for r in expected)
    assert window.village.totals.text().startswith(f"合计（当前筛选）：{len(expected)} 户")


def test_masked_id_column_shows_the_whole_masked_number(window) -> None:
    """Fitted to the text's fractional width: rounded down, the last digit became "…"."""
    v = window.village
    column = next(i for i, c in enumerate(v.model.columns) if c.title == "证件号（脱敏）")
    assert any("*" in r.id_masked for r in v.model.rows)
    # What the item delegate needs to draw each cell's text without eliding it (Qt's own measure).
    assert v.table.sizeHintForColumn(column) <= v.table.horizontalHeader().sectionSize(column)
