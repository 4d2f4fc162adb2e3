"""文件 menu backups: 立即备份, the list of backups, restoring one (the window lets go of its store
first and the current file is kept aside), and the days to keep."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from ui.app import Application
from ui.backup_ui import load_keep_days
from ui.operations import change_bus
from wq_desktop import backup
from wq_desktop.operations import recorded
from wq_desktop.settings import Settings
from wq_desktop.store import Store

NEW_NAME = "恢复前改的村名"


@pytest.fixture
def app_ctl(qtbot, qapp: QApplication, demo_store: Store, messages: list[str]):
    """The application with a window on a demo store file, opened the way the program opens it."""
    path = demo_store.path
    demo_store.close()  # the program holds the only connection, as in real use
    ctl = Application(qapp, Settings(user="测试员"))
    assert ctl.open(path, "测试员")
    ctl.wait_for_backups()
    yield ctl
    ctl.wait_for_backups()
    if ctl.window is not None:
        ctl.window._closing_confirmed = True
        ctl.window.close()
        ctl.window.store.close()


def first_village(store: Store) -> dict:
    village = store.find_one("village", "1=1")
    assert village is not None
    return village


def nav_names(window) -> list[str]:
    tree = window.nav.tree
    names = []
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        names += [top.child(j).text(0) for j in range(top.childCount())]
    return names


def test_file_menu_has_the_backup_entries_once(app_ctl: Application) -> None:
    window = app_ctl.window
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().startswith("文件"))
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts.count("立即备份") == 1
    i = texts.index("立即备份")
    assert texts[i:i + 4] == ["立即备份", "备份与恢复…", "备份设置…", "退出"]


def test_backup_now_makes_a_new_file_and_names_it(qtbot, app_ctl: Application,
                                                  messages: list[str]) -> None:
    window = app_ctl.window
    before = {b.path for b in backup.list_backups(window.store.path)}
    window.backup_controller.backup_action.trigger()
    qtbot.waitUntil(lambda: any(m.startswith("备份完成") for m in messages), timeout=10000)
    made = {b.path for b in backup.list_backups(window.store.path)} - before
    assert len(made) == 1
    new = made.pop()
    assert str(new) in messages[-1]
    backup.verify_database(new)  # a complete, openable copy
    with Store.open(new, "测试员") as copy:
        assert copy.count("operator") == window.store.count("operator")
    qtbot.waitUntil(lambda: window.backup_controller.backup_action.isEnabled())


def test_list_shows_backups_newest_first_with_date_time_and_size(
        qtbot, app_ctl: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    store_path = app_ctl.window.store.path
    for stamp in (datetime(2024, 3, 1, 8, 30, 5), datetime(2025, 6, 2, 17, 4, 9)):
        monkeypatch.setattr(backup, "now", lambda stamp=stamp: stamp)
        backup.backup_now(store_path)
    dialog = app_ctl.window.backup_controller.show_backups()
    qtbot.addWidget(dialog)
    table = dialog.table
    rows = [[table.item(r, c).text() for c in range(4)] for r in range(table.rowCount())]
    assert len(rows) == 3  # today's automatic one and the two above
    assert rows[1][:2] == ["2025年06月02日", "17:04:09"]
    assert rows[2][:2] == ["2024年03月01日", "08:30:05"]
    assert rows[2][3] == f"{store_path.stem}_2024-03-01_083005.sqlite"
    assert rows[0][2].endswith("MB")  # the 3 MB demo store
    assert "共有 3 份备份" in dialog.summary.text() and "保留 30 天" in dialog.summary.text()
    assert dialog.restore_button.isEnabled()


def _change_after_backup(window) -> tuple[str, str, Path]:
    store = window.store
    village = first_village(store)
    taken = backup.list_backups(store.path)[0]
    with recorded(store, "rename_village") as done:  # a change as the window makes and announces it
        store.update("village", village["uuid"], {"name": NEW_NAME})
    change_bus(store).publish(done.changes)
    return village["uuid"], village["name"], taken.path


def test_restore_brings_old_content_back_and_keeps_current_file_aside(
        qtbot, app_ctl: Application, answer_yes: list[str], messages: list[str]) -> None:
    old_window = app_ctl.window
    store_path = old_window.store.path
    old_window.backup_controller.backup_action.trigger()  # 立即备份, then restore that one
    qtbot.waitUntil(lambda: any(m.startswith("备份完成") for m in messages), timeout=10000)
    qtbot.waitUntil(lambda: old_window.backup_controller.worker is None)
    qtbot.wait(50)  # the finished worker is deleted meanwhile
    assert len(backup.list_backups(store_path)) == 2
    uuid, old_name, taken = _change_after_backup(old_window)
    qtbot.waitUntil(lambda: NEW_NAME in nav_names(old_window))
    dialog = old_window.backup_controller.show_backups()
    assert dialog.selected().path == taken  # newest first, and selected
    assert dialog.restore_selected()
    assert "当前数据库文件不会删除，将改名保留为" in answer_yes[0]
    assert f"{store_path.stem}.before-restore-" in answer_yes[0]

    window = app_ctl.window
    assert window is not old_window and window.isVisible()
    assert window.store.get("village", uuid)["name"] == old_name
    assert old_name in nav_names(window) and NEW_NAME not in nav_names(window)
    kept = list(store_path.parent.glob(f"{store_path.stem}.before-restore-*{store_path.suffix}"))
    assert len(kept) == 1
    with Store.open(kept[0], "测试员") as aside:
        assert aside.get("village", uuid)["name"] == NEW_NAME  # nothing typed is lost
    assert messages[-1].startswith("恢复完成") and str(kept[0]) in messages[-1]
    assert len(backup.list_backups(store_path)) == 2  # reopening made no extra backup today
    window.store.update("village", uuid, {"name": "恢复后照常录入"})  # the new window works
    assert window.store.get("village", uuid)["name"] == "恢复后照常录入"


def test_cancelling_the_confirmation_changes_nothing(
        qtbot, app_ctl: Application, monkeypatch: pytest.MonkeyPatch, messages: list[str]) -> None:
    window = app_ctl.window
    store_path = window.store.path
    uuid, _old, _taken = _change_after_backup(window)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda _p, title, text, *a, **k: asked.append(text) or QMessageBox.StandardButton.No))
    dialog = window.backup_controller.show_backups()
    qtbot.addWidget(dialog)
    assert not dialog.restore_selected()
    assert asked and app_ctl.window is window and dialog.isVisible()
    assert window.store.get("village", uuid)["name"] == NEW_NAME  # the store is still open
    assert not list(store_path.parent.glob("*.before-restore-*"))
    assert not messages


def test_restore_of_a_damaged_backup_is_refused_with_the_store_still_open(
        qtbot, app_ctl: Application, answer_yes: list[str], messages: list[str]) -> None:
    window = app_ctl.window
    uuid, _old, taken = _change_after_backup(window)
    taken.write_bytes(b"not a database" * 100)
    dialog = window.backup_controller.show_backups()
    qtbot.addWidget(dialog)
    assert not dialog.restore_selected()
    assert messages and messages[-1].startswith("无法恢复")
    assert app_ctl.window is window
    assert window.store.get("village", uuid)["name"] == NEW_NAME


def test_restore_refused_by_another_connection_reopens_the_unchanged_store(
        qtbot, app_ctl: Application, answer_yes: list[str], messages: list[str]) -> None:
    window = app_ctl.window
    store_path = window.store.path
    uuid, _old, _taken = _change_after_backup(window)
    other = Store.open(store_path, "另一程序")  # e.g. a second copy of the program
    try:
        dialog = window.backup_controller.show_backups()
        assert not dialog.restore_selected()
    finally:
        other.close()
    assert messages[-1].startswith("恢复未完成") and "未做任何更改" in messages[-1]
    assert app_ctl.window is not window
    assert app_ctl.window.store.get("village", uuid)["name"] == NEW_NAME
    assert not list(store_path.parent.glob("*.before-restore-*"))


def test_keep_days_are_saved_and_used_when_the_store_is_opened(
        qtbot, app_ctl: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_keep_days() == 30  # the default when never set
    store_path = app_ctl.window.store.path
    old_day = datetime.now() - timedelta(days=20)
    monkeypatch.setattr(backup, "now", lambda: old_day)
    old = backup.backup_now(store_path)
    monkeypatch.setattr(backup, "now", datetime.now)
    dialog = app_ctl.window.backup_controller.edit_settings()
    qtbot.addWidget(dialog)
    assert dialog.keep_days.value() == 30
    dialog.keep_days.setValue(7)
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted and load_keep_days() == 7
    app_ctl.switch(store_path)  # opening the store again prunes to 7 days
    app_ctl.wait_for_backups()
    assert not old.exists()
    assert backup.list_backups(store_path)  # today's is kept

