"""QA follow-ups seen by a user: the patrol dialog's violation/rectification guard, stale field
errors, staged photo deletion; the main window's year list, record opening and clean close."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from wq_desktop.store import Store


def _household_with_parcel(demo_store: Store) -> str:
    row = demo_store.conn.execute(
        "SELECT p.operator FROM parcel p WHERE p.deleted=0 AND p.operator IS NOT NULL ORDER BY p.code"
    ).fetchone()
    return row[0]


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox.StandardButton]:
    """Questions are answered from this list, in order (是 when it runs out)."""
    queue: list[QMessageBox.StandardButton] = []

    def question(*_args, **_kwargs):
        return queue.pop(0) if queue else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return queue


def test_a_violation_pre_checks_rectification_and_asks_before_saving_without(
        window, demo_store: Store, answers) -> None:
    window.show_household(_household_with_parcel(demo_store))
    dialog = window.household.open_patrol(None)
    dialog.patrollers.setText("张三、李四")
    assert not dialog.rect_box.isChecked()
    dialog.verdict.setCurrentText("违规-灌溉")
    assert dialog.rect_box.isChecked()
    before = demo_store.count("patrol")
    dialog.rect_box.setChecked(False)
    answers.append(QMessageBox.StandardButton.No)
    dialog.save()
    assert demo_store.count("patrol") == before
    assert "下达整改" in dialog.errors["result"].text()
    answers.append(QMessageBox.StandardButton.Yes)
    dialog.save()
    assert demo_store.count("patrol") == before + 1


def test_a_field_error_goes_when_the_field_is_changed(window, demo_store: Store) -> None:
    window.show_household(_household_with_parcel(demo_store))
    dialog = window.household.open_patrol(None)
    dialog.patrollers.setText("")
    dialog.save()
    assert dialog.errors["patrollers"].isVisibleTo(dialog)
    dialog.patrollers.setText("张三、李四")
    assert not dialog.errors["patrollers"].isVisibleTo(dialog)
    assert dialog.errors["patrollers"].text() == ""
    dialog.reject()


def test_removing_a_stored_photo_waits_for_save(window, demo_store: Store, answers) -> None:
    photo = demo_store.find_one("photo", "owner_kind='patrol'")
    patrol = demo_store.get("patrol", photo["owner"])
    operator = demo_store.get("parcel", patrol["parcel"])["operator"]
    window.show_household(operator)
    dialog = window.household.open_patrol(patrol["uuid"])
    row = next(i for i, e in enumerate(dialog.photo_strip.entries)
               if e.record and e.record["uuid"] == photo["uuid"])
    dialog.photo_strip.setCurrentRow(row)
    dialog.remove_photo()
    assert photo["uuid"] not in {e.record["uuid"] for e in dialog.photo_strip.entries if e.record}
    dialog.reject()  # 取消: the photo stays
    assert demo_store.find_one("photo", "uuid=?", (photo["uuid"],)) is not None
    dialog = window.household.open_patrol(patrol["uuid"])
    row = next(i for i, e in enumerate(dialog.photo_strip.entries)
               if e.record and e.record["uuid"] == photo["uuid"])
    dialog.photo_strip.setCurrentRow(row)
    dialog.remove_photo()
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert demo_store.find_one("photo", "uuid=?", (photo["uuid"],)) is None


def test_set_year_keeps_the_year_list_newest_first(window) -> None:
    years = [window.year_selector.itemData(i) for i in range(window.year_selector.count())]
    middle = years[-1] - 3  # older than every listed year
    window.set_year(middle)
    window.set_year(years[0] + 5)  # newer than every listed year
    window.set_year(years[0] + 3)
    shown = [window.year_selector.itemData(i) for i in range(window.year_selector.count())]
    assert shown == sorted(shown, reverse=True)
    assert window.year == years[0] + 3
    assert window.year_selector.currentText() == f"{years[0] + 3}年度"


def test_opening_a_measure_finding_selects_its_parcel_row(window, demo_store: Store) -> None:
    year = window.year
    measure = demo_store.conn.execute(
        "SELECT m.uuid, m.parcel, p.operator FROM measure m JOIN parcel p ON p.uuid=m.parcel"
        " WHERE m.deleted=0 AND p.deleted=0 AND m.year=? AND p.operator IS NOT NULL"
        " ORDER BY p.code DESC", (year,)).fetchone()
    window.open_record("measure", measure[0])
    h = window.household
    assert window.tabs.currentWidget() is h and h.operator == measure[2]
    assert h.tabs.currentIndex() == 0
    selected = h.parcel_table.selectionModel().selectedRows()
    assert len(selected) == 1 and h.parcel_table.row_object(selected[0]).uuid == measure[1]


def test_opening_a_patrol_finding_selects_its_patrol_row(window, demo_store: Store) -> None:
    patrol = demo_store.conn.execute(
        "SELECT t.uuid, p.operator FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
        " WHERE t.deleted=0 AND t.year=? AND p.operator IS NOT NULL ORDER BY t.visited_on DESC",
        (window.year,)).fetchone()
    window.open_record("patrol", patrol[0])
    h = window.household
    assert h.operator == patrol[1] and h.tabs.currentIndex() == 1
    selected = h.patrol_table.selectionModel().selectedRows()
    assert len(selected) == 1 and h.patrol_table.row_object(selected[0]).uuid == patrol[0]


def test_an_unmapped_parcel_without_household_and_a_notice_open_the_village(window,
                                                                          demo_store: Store) -> None:
    village = demo_store.find("village", order_by="code")[-1]["uuid"]
    parcel = demo_store.create("parcel", {"village": village, "code": "无户-1", "area_mu": 3,
                                          "land_attribute": "集体机动地"})
    window.tabs.setCurrentWidget(window.dashboard)
    window.open_record("parcel", parcel)
    assert window.tabs.currentWidget() is window.village and window.village.village == village
    notice = demo_store.find("notice", order_by="year")[0]
    window.tabs.setCurrentWidget(window.dashboard)
    window.open_record("notice", notice["uuid"])
    assert window.tabs.currentWidget() is window.village and window.village.village == notice["village"]


def test_closing_the_window_cancels_and_waits_for_running_jobs(qtbot, window) -> None:
    import time

    from ui.workers import JobContext, run_with_progress

    seen: list[str] = []

    def job(ctx: JobContext) -> None:
        while not ctx.cancelled:
            time.sleep(0.01)
        time.sleep(0.2)  # finishing up after 取消 takes a moment
        seen.append("stopped")

    worker = run_with_progress(window.dashboard, "测试任务", job, lambda _r: None)
    qtbot.waitUntil(worker.isRunning)
    window.close()
    assert seen == ["stopped"]  # close returned only after the job ended
    assert not worker.isRunning()


def test_search_hits_are_two_short_lines_and_the_list_fits_them(qtbot, window, demo_store: Store) -> None:
    nav = window.nav
    one = demo_store.find_one("operator", "kind='农户'")
    nav.search.setText(one["id_code"][-6:])
    hits = nav.run_search()
    assert len(hits) == 1
    item = nav.hits.item(0)
    name_line, detail_line = item.text().split("\n")
    assert name_line == one["name"] and one["name"] in item.toolTip() and detail_line in item.toolTip()
    row_height = nav.hits.sizeHintForRow(0)
    assert nav.hits.height() <= row_height + 2 * nav.hits.frameWidth() + 1  # one hit, one row tall
    nav.search.setText("1")  # IDs and parcel codes ending in 1: many hits, six rows tall, the rest scroll
    many = nav.run_search()
    assert len(many) > 6
    assert nav.hits.height() <= 6 * row_height + 2 * nav.hits.frameWidth() + 1
    assert nav.tree.height() > nav.hits.height()
    # a narrow panel elides instead of cutting the text
    assert nav.hits.textElideMode() != Qt.TextElideMode.ElideNone
