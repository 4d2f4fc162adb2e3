"""Program start: the log, Qt's Chinese button texts, and a daily backup of whatever store is opened."""

from __future__ import annotations

import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox

import ui.app as app_module
from ui.app import Application, install_qt_translations, run
from ui.main_window import MainWindow
from ui.workers import ProgressDialog
from wq_desktop import backup, logs, migrations
from wq_desktop.errors import WqError
from wq_desktop.schema import SCHEMA_VERSION
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


def test_a_store_an_older_program_wrote_is_upgraded_in_a_worker_and_opens(
        qtbot, qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        messages: list[str]) -> None:
    """The upgrade (a copy aside, then the migration) takes a minute on a city's store: it runs
    outside the GUI thread, behind a dialog that has no 取消, and the window then opens."""
    path = tmp_path / "旧版.sqlite"
    migrations.create_at_version(path, SCHEMA_VERSION - 1).close()
    assert migrations.upgrade_pending(path)
    in_gui_thread: list[bool] = []
    real_migrate = migrations.migrate
    seen = threading.Event()
    shown: list[str] = []

    def recording(conn, *args, **kwargs):
        in_gui_thread.append(threading.current_thread() is threading.main_thread())
        assert seen.wait(60), "no upgrade dialog on screen while the upgrade ran"
        return real_migrate(conn, *args, **kwargs)

    def look() -> None:  # in the GUI thread, while the window waits for the upgrade
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, ProgressDialog) and widget.isVisible() and not seen.is_set():
                assert not widget.cancel_button.isVisible()
                shown.append(f"{widget.windowTitle()}：{widget.label.text()}")
                seen.set()

    monkeypatch.setattr(migrations, "migrate", recording)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    looking = QTimer()
    looking.timeout.connect(look)
    looking.start(10)
    ctl = Application(qapp, Settings(user="测试员"))
    try:
        assert ctl.open(path, "测试员")
        assert len(shown) == 1 and "升级数据库" in shown[0] and "旧版.sqlite" in shown[0]
        assert in_gui_thread and not any(in_gui_thread)  # the upgrade, then the daily backup's check
        assert ctl.window.isVisible() and ctl.window.store.path == path
        assert not migrations.upgrade_pending(path)
        assert list(tmp_path.glob(f"旧版.v{SCHEMA_VERSION - 1}-*.sqlite.bak"))
        assert not [d for d in QApplication.topLevelWidgets()
                    if isinstance(d, ProgressDialog) and d.isVisible()]
    finally:
        looking.stop()
        ctl.wait_for_backups()
        close_windows()
    assert not messages


def test_an_upgrade_that_fails_says_why_and_opens_nothing(
        qtbot, qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        messages: list[str]) -> None:
    path = tmp_path / "旧版.sqlite"
    migrations.create_at_version(path, SCHEMA_VERSION - 1).close()

    def full_disk(*_args, **_kwargs):
        raise WqError("备份文件无法写入：磁盘已满")

    monkeypatch.setattr(migrations, "backup_copy", full_disk)
    ctl = Application(qapp, Settings(user="测试员"))
    assert not ctl.open(path, "测试员")
    assert ctl.window is None
    assert messages and "磁盘已满" in messages[0]
    assert migrations.upgrade_pending(path)  # the file is as the older program left it
