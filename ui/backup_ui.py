"""Backups in the window: 立即备份, 备份与恢复… (list and restore), 备份设置 (days to keep).

Restoring replaces the store file, so the window must let go of it first: the controller closes
the window's Store, restores (the current file is renamed aside, never deleted) and asks for
the store to be opened again in a new window. The menu entries are declared here (ui/actions.py
builds them); ui/app.py sets `reopen` so the new window is built by the application that owns
the windows.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import audit, backup, paths
from wq_desktop.backup import DEFAULT_KEEP_DAYS, BackupInfo
from wq_desktop.errors import WqError

from .actions import ActionDef, declare
from .widgets import ErrorLabel, save_cancel_buttons
from .workers import JobContext, Worker, run_with_progress

if TYPE_CHECKING:
    from .main_window import MainWindow

log = logging.getLogger(__name__)

# Settings has no field for it (and its save() drops unknown keys), so the number of days to keep
# backups lives in its own small file in the data folder, next to the backups it governs.
BACKUP_SETTINGS_FILE = "backup_settings.json"
MAX_KEEP_DAYS = 3650


def _settings_file() -> Path:
    return paths.data_dir() / BACKUP_SETTINGS_FILE


def load_keep_days(path: Path | None = None) -> int:
    """Days to keep backups; the default (30) when unset or the file is unreadable."""
    try:
        data = json.loads((path or _settings_file()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DEFAULT_KEEP_DAYS
    days = data.get("keep_days") if isinstance(data, dict) else None
    if isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_KEEP_DAYS:
        return days
    return DEFAULT_KEEP_DAYS


def save_keep_days(days: int, path: Path | None = None) -> None:
    if not 1 <= days <= MAX_KEEP_DAYS:
        raise WqError(f"备份保留天数应在 1–{MAX_KEEP_DAYS} 天之间。")
    path = path or _settings_file()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keep_days": days}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)  # never half a file


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size, 1024) / 1024:.0f} KB"


def aside_name(store_path: Path) -> str:
    """The name the current file will be kept under (as backup.restore_backup names it)."""
    return f"{store_path.stem}.before-restore-{backup.now():%Y%m%d-%H%M%S}{store_path.suffix}"


def backup_made_text(path: Path) -> str:
    return f"数据库已备份到：\n{path}\n（{format_size(path.stat().st_size)}）"


class BackupListDialog(QDialog):
    """The store's backups, newest first, with 立即备份 and 恢复所选备份…."""

    COLUMNS = ("日期", "时间", "大小", "备份文件")

    def __init__(self, controller: BackupController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("备份与恢复")
        self.setMinimumSize(640, 420)
        self.backups: list[BackupInfo] = []
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("backup_table")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in range(3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel("还没有该数据库的备份。点“立即备份”生成一份。")
        self.error = ErrorLabel()
        self.backup_button = QPushButton("立即备份")
        self.restore_button = QPushButton("恢复所选备份…")
        self.restore_button.setObjectName("restore_button")
        self.folder_button = QPushButton("打开备份文件夹")
        self.close_button = QPushButton("关闭")
        buttons = QHBoxLayout()
        for button in (self.backup_button, self.restore_button, self.folder_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.backup_button.clicked.connect(lambda: self.controller.backup_now(self.refresh))
        self.restore_button.clicked.connect(self.restore_selected)
        self.folder_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemDoubleClicked.connect(lambda _item: self.restore_selected())
        self.refresh()

    def refresh(self) -> None:
        store_path = self.controller.store_path
        self.backups = backup.list_backups(store_path)
        self.table.setRowCount(len(self.backups))
        for row, info in enumerate(self.backups):
            cells = (f"{info.taken_at:%Y年%m月%d日}", f"{info.taken_at:%H:%M:%S}",
                     format_size(info.size), info.path.name)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.empty.setVisible(not self.backups)
        keep = load_keep_days()
        self.summary.setText(
            f"数据库 {store_path.name} 共有 {len(self.backups)} 份备份，保存在：{paths.backups_dir()}\n"
            f"每天第一次打开数据库时自动备份一次；备份保留 {keep} 天"
            "（每个数据库最新的一份始终保留），可在“备份设置”中修改。")
        if self.backups:
            self.table.selectRow(0)
        self._selection_changed()

    def selected(self) -> BackupInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None)

    def restore_selected(self) -> bool:
        info = self.selected()
        if info is None:
            self.error.show_error("请先在列表中选择要恢复的备份。")
            return False
        self.error.show_error(None)
        return self.controller.restore(info, self)

    def open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.backups_dir())))


class BackupSettingsDialog(QDialog):
    """Days to keep backups; older ones are removed at the next start (the newest always stays)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("备份设置")
        self.setMinimumWidth(460)
        self.keep_days = QSpinBox()
        self.keep_days.setObjectName("keep_days")
        self.keep_days.setRange(1, MAX_KEEP_DAYS)
        self.keep_days.setSuffix(" 天")
        self.keep_days.setValue(load_keep_days())
        folder = QLabel(str(paths.backups_dir()))
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note = QLabel("每天第一次打开数据库时自动备份。超过保留天数的备份在下次打开数据库时删除，"
                      "每个数据库最新的一份备份始终保留。")
        note.setWordWrap(True)
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("备份保留天数：", self.keep_days)
        form.addRow("备份文件夹：", folder)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(save_cancel_buttons(self))

    def save(self) -> None:
        try:
            save_keep_days(self.keep_days.value())
        except (OSError, WqError) as err:
            self.error.show_error(f"设置未能保存：{err}")
            return
        self.accept()


class BackupController(QObject):
    """The backup menu entries of one window, and the restore that replaces that window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        # Opens the store again after a restore and returns the new window. ui/app.py replaces
        # this with its own opener; by default the window asks through store_requested.
        self.reopen: Callable[[Path], MainWindow | None] = self._request_reopen
        self.worker: Worker | None = None

    @property
    def backup_action(self) -> QAction:
        return self.window.action("backup.now")

    @property
    def store_path(self) -> Path:
        return self.window.store.path

    def _request_reopen(self, store_path: Path) -> MainWindow | None:
        self.window.store_requested.emit(store_path)
        return None

    # ------------------------------------------------------------ 立即备份
    def backup_now(self, then: Callable[[], None] | None = None) -> Worker:
        """Back up off the GUI thread (the job opens its own connection on the file)."""
        store_path = self.store_path

        def job(ctx: JobContext) -> Path:
            ctx.progress(10, f"正在备份 {store_path.name}…")
            made = backup.backup_now(store_path)
            if ctx.cancelled:  # finished anyway: the user said not to keep it
                made.unlink(missing_ok=True)
                return made
            ctx.progress(100, "备份完成")
            return made

        def done(made: Path) -> None:
            audit.record(self.window.store, audit.BACKUP, {"file": made.name})
            QMessageBox.information(self.window, "备份完成", backup_made_text(made))
            if then:
                then()

        def failed(message: str) -> None:
            QMessageBox.warning(self.window, "备份未完成", message)

        def cancelled() -> None:
            self.window.statusBar().showMessage("已取消备份。", 5000)

        self.backup_action.setEnabled(False)
        worker = run_with_progress(self.window, "立即备份", job, done, failed, cancelled,
                                   on_finished=self._backup_finished)
        self.worker = worker
        return worker

    def _backup_finished(self) -> None:
        self.worker = None  # run_with_progress deletes the worker once finished
        self.backup_action.setEnabled(True)

    # ------------------------------------------------------------ lists and settings
    def show_backups(self) -> BackupListDialog:
        dialog = BackupListDialog(self, self.window)
        dialog.open()
        return dialog

    def edit_settings(self) -> BackupSettingsDialog:
        dialog = BackupSettingsDialog(self.window)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ restore
    def confirm_text(self, info: BackupInfo) -> str:
        store_path = self.store_path
        return (
            f"将用 {info.taken_at:%Y年%m月%d日 %H:%M:%S} 的备份恢复数据库 {store_path.name}。\n\n"
            f"当前数据库文件不会删除，将改名保留为：\n{aside_name(store_path)}\n"
            f"（在同一文件夹：{store_path.parent}）\n\n"
            "该备份之后录入的内容不在恢复后的数据库中，只保存在上述保留的文件里。"
            "恢复时将关闭并重新打开数据库窗口。\n\n是否恢复？")

    def signed_in_key(self, backup_path: Path, parent: QWidget) -> bytes | None:
        """An encrypted backup is restored only after the signed-in account proves its password
        against the backup's own key file. None when cancelled; SignInError when wrong."""
        user = self.window.store.user
        password, ok = QInputDialog.getText(
            parent, "恢复备份需要登录", f"恢复加密的备份：请输入账户“{user}”的密码：",
            QLineEdit.EchoMode.Password)
        if not ok:
            return None
        from wq_desktop import accounts  # argon2: when a backup is restored, not at start

        return accounts.key_from_keyfile(backup_path, user, password)

    def restore(self, info: BackupInfo, parent: QWidget | None = None) -> bool:
        """Ask, then close the store, restore the backup and open it again in a new window."""
        parent = parent or self.window
        answer = QMessageBox.question(
            parent, "恢复备份", self.confirm_text(info),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        # An unsaved household edit is saved (into the file kept aside), discarded or keeps us here.
        if not self.window._leave_household_edit():
            return False
        key = None
        try:  # a damaged backup is refused while the window still holds its store
            if backup.is_encrypted(info.path):
                key = self.signed_in_key(info.path, parent)
                if key is None:
                    return False
            backup.verify_database(info.path, key)
        except WqError as err:
            QMessageBox.warning(parent, "无法恢复", str(err))
            return False
        if self.worker is not None and self.worker.isRunning():
            QMessageBox.information(parent, "请稍候", "正在备份，请等备份完成后再恢复。")
            return False
        if isinstance(parent, QDialog) and parent is not self.window:
            parent.accept()
        store_path = self.store_path
        aside: Path | None = None
        error: str | None = None
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            # Our own connection must go first: restore_backup refuses a file another
            # connection holds, and closing folds the WAL into the file that is kept aside.
            self.window.store.close()
            try:
                aside = backup.restore_backup(info.path, store_path, key=key)
            except WqError as err:
                error = str(err)
            new_window = self.reopen(store_path)
        finally:
            QGuiApplication.restoreOverrideCursor()
        if error is not None:
            log.warning("restore of %s refused: %s", info.path.name, error)
            QMessageBox.warning(new_window, "恢复未完成", f"{error}\n\n数据库已按原样重新打开。")
            return False
        if new_window is not None:
            audit.record(new_window.store, audit.RESTORE, {"file": info.path.name})
        kept = f"\n\n原数据库文件已改名保留为：\n{aside}" if aside else ""
        QMessageBox.information(
            new_window, "恢复完成",
            f"已恢复 {info.taken_at:%Y年%m月%d日 %H:%M:%S} 的备份。{kept}")
        return True


def _backup(method: str) -> Callable[[MainWindow], Callable[[], object]]:
    return lambda w: getattr(w.backup_controller, method)


# In the 文件 menu, a group of their own before 退出.
declare(
    ActionDef("backup.now", "立即备份", "文件", _backup("backup_now"), group=80, order=10),
    ActionDef("backup.list", "备份与恢复…", "文件", _backup("show_backups"), group=80, order=20),
    ActionDef("backup.settings", "备份设置…", "文件", _backup("edit_settings"), group=80, order=30),
)
