"""Program start: the log, Qt's Chinese button texts, and a daily backup of whatever store is opened."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QApplication

import ui.app as app_module
from ui.app import Application, install_qt_translations, run
from ui.main_window import MainWindow
from wq_desktop import backup, logs
from wq_desktop.errors import WqError
from wq_desktop.settings import Settings
from wq_desktop.store import Store


def close_windows() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            widget._closing_confirmed = True
            widget.close()
            widget.store.close()


@pytest.fixture
def store_file(demo_store: Store) -> Path:
    demo_store.close()
    return demo_store.path


def test_opening_a_store_makes_todays_backup_exactly_once(
        qtbot, qapp: QApplication, store_file: Path, messages: list[str]) -> None:
    ctl = Application(qapp, Settings(user="测试员"))
    try:
        assert ctl.open(store_file, "测试员")
        ctl.wait_for_backups()
        backups = backup.list_backups(store_file)
        assert len(backups) == 1 and backups[0].day == date.today()
        with Store.open(backups[0].path, "测试员") as copy:
            assert copy.count("parcel") == 400  # the whole demo township
        assert backups[0].path.name in ctl.window.statusBar().currentMessage()
        ctl.switch(store_file)  # opened again the same day (文件 > 打开数据库…)
        ctl.wait_for_backups()
        assert [b.path for b in backup.list_backups(store_file)] == [backups[0].path]
    finally:
        ctl.wait_for_backups()
        close_windows()
    assert not messages


def test_a_failed_daily_backup_is_reported_and_the_window_still_works(
        qtbot, qapp: QApplication, store_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*_a, **_k):
        raise WqError("备份文件无法写入：磁盘已满")

    monkeypatch.setattr(backup, "ensure_daily_backup", disk_full)
    ctl = Application(qapp, Settings(user="测试员"))
    try:
        assert ctl.open(store_file, "测试员")
        ctl.wait_for_backups()
        status = ctl.window.statusBar().currentMessage()
        assert "自动备份未能完成" in status and "磁盘已满" in status
        assert ctl.window.store.count("operator") == 156
    finally:
        close_windows()


def test_run_logs_translates_qt_buttons_and_backs_up(
        qtbot, qapp: QApplication, store_file: Path, monkeypatch: pytest.MonkeyPatch,
        messages: list[str]) -> None:
    seen: dict[str, object] = {}

    def exec_(_self=None) -> int:  # instead of the event loop: look at the started program
        seen["cancel"] = QCoreApplication.translate("QPlatformTheme", "Cancel")
        seen["ok"] = QCoreApplication.translate("QPlatformTheme", "OK")
        seen["windows"] = [w for w in QApplication.topLevelWidgets()
                           if isinstance(w, MainWindow) and w.isVisible()]
        return 0

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs the crash dialog
    monkeypatch.setattr(QApplication, "exec", exec_)
    try:
        assert run(store_file, "测试员") == 0
    finally:
        for translator in qapp.findChildren(QTranslator):
            qapp.removeTranslator(translator)
            translator.deleteLater()
        close_windows()
    assert seen["cancel"] == "取消" and seen["ok"] == "确定"
    assert len(seen["windows"]) == 1
    assert logs.current_log_file() is not None
    assert len(backup.list_backups(store_file)) == 1  # made, and finished before run() returned


def test_missing_qt_translation_is_not_an_error(
        qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "translation_folders", lambda: [tmp_path])
    assert install_qt_translations(qapp) is None
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
