"""Start the window: pick the store (argument, last used, or the first-start dialog) and run.

Every store the program opens (argument, last used, first start, 打开数据库…, after a restore) gets
its daily backup, made in a worker thread so the window appears at once, and old backups are
pruned to the number of days set under 文件 > 备份设置.

An encrypted store opens only after a sign-in (before any window shows its data); the signed-in
account is the store's user. A plain store that is not the fictional demo is offered encryption.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEventLoop, QLibraryInfo, QThread, QTranslator
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from wq_desktop import audit, backup, keyfile, migrations
from wq_desktop import settings as settings_mod
from wq_desktop.errors import WqError
from wq_desktop.logs import setup_logging
from wq_desktop.settings import Settings
from wq_desktop.store import Store

from .backup_ui import load_keep_days
from .crash import install_excepthook, install_native_crash_log
from .dialogs.encrypt_offer import EncryptStoreDialog
from .dialogs.first_start import FirstStartDialog
from .dialogs.sign_in import SignInDialog
from .fonts import apply_chinese_font
from .gc_guard import collect_in_gui_thread
from .main_window import MainWindow
from .workers import JobContext, ProgressDialog, Worker, start_worker

log = logging.getLogger(__name__)

QT_TRANSLATION = "qtbase_zh_CN"


def translation_folders() -> list[Path]:
    """Where Qt's own .qm files may be: Qt's configured folder, then the PySide6 package's."""
    folders = [Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))]
    import PySide6

    folders.append(Path(PySide6.__file__).resolve().parent / "Qt" / "translations")
    return folders


def install_qt_translations(app: QApplication) -> QTranslator | None:
    """Qt's Chinese texts for its standard buttons and dialogs (OK → 确定, Cancel → 取消).

    Without the file the program still works; those few buttons then read in English.
    """
    translator = QTranslator(app)  # parented to the app: lives as long as it
    for folder in translation_folders():
        if translator.load(QT_TRANSLATION, str(folder)):
            app.installTranslator(translator)
            return translator
    log.warning("Qt translation %s not found; standard buttons stay in English", QT_TRANSLATION)
    return None


class Application:
    """Owns the open window; replaces it when the user opens another store file."""

    def __init__(self, app: QApplication, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.window: MainWindow | None = None
        self.backup_workers: list[Worker] = []
        # Encrypted stores signed in to in this process: path -> account (reopened as that account).
        self.signed_in: dict[Path, str] = {}

    def ask_user(self, parent: QWidget | None = None) -> str | None:
        name, ok = QInputDialog.getText(parent, "用户名", "请输入您的姓名（记入每条变更记录）：",
                                        text=self.settings.user)
        return name.strip() if ok and name.strip() else None

    def first_start(self) -> tuple[Path, str] | None:
        dialog = FirstStartDialog(self.settings.data_path, self.settings.user)
        if not dialog.exec() or dialog.chosen is None:
            return None
        user = dialog.user.text().strip()
        if keyfile.unlocked_key(dialog.chosen):  # a new encrypted store: its account just signed in
            self.signed_in[dialog.chosen.resolve()] = user
        return dialog.chosen, user

    def _open_store(self, db: Path, user: str) -> Store | None:
        """The store of `db`: signed in if encrypted, offered encryption if plain (not the demo).
        None when the user cancelled the sign-in."""
        resolved = db.resolve()
        if keyfile.is_encrypted_store(db):
            if resolved in self.signed_in and keyfile.unlocked_key(db):
                return self._open_upgrading(db, self.signed_in[resolved])
            dialog = SignInDialog(db, self.window)
            if not dialog.exec() or dialog.store is None:
                return None
            self.signed_in[resolved] = dialog.store.user
            return dialog.store
        store = self._open_upgrading(db, user)
        if store.is_demo:
            return store  # fictional people: no sign-in friction for trying the program
        answer = QMessageBox.question(
            self.window, "数据库未加密",
            f"数据库 {db.name} 未加密：笔记本丢失时，任何人都能读出其中的身份证号和电话。\n\n现在加密吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        if answer != QMessageBox.StandardButton.Yes:
            return store
        store.close()
        dialog = EncryptStoreDialog(db, user, self.window)
        if dialog.exec() and dialog.store is not None:
            self.signed_in[resolved] = dialog.store.user
            return dialog.store
        return Store.open(db, user)

    def _open_upgrading(self, db: Path, user: str) -> Store:
        """Store.open; a store an older program wrote is first copied aside and upgraded, which
        takes a minute on a city's store, so that runs in a worker behind a dialog saying so
        (it cannot be stopped halfway: the migration is one transaction)."""
        if not migrations.upgrade_pending(db):
            return Store.open(db, user)
        outcome: dict[str, object] = {}
        wait = QEventLoop()
        held: list[object] = []  # the worker and its dialog: with no window yet they have no parent

        def with_dialog(worker: Worker) -> None:
            dialog = ProgressDialog("升级数据库", worker, self.window, cancellable=False)
            dialog.label.setText(f"{db.name} 由旧版本程序创建，正在升级（原文件先备份在同一文件夹）。"
                                 "数据多时需要一两分钟，请勿关闭程序。")
            held.extend((worker, dialog))
            dialog.open()

        start_worker(self.window, lambda _ctx: Store.open(db, user),
                     on_done=lambda store: outcome.update(store=store),
                     on_failed=lambda message: outcome.update(error=message),
                     on_finished=wait.quit, before_start=with_dialog)
        wait.exec()  # finished is queued to this thread: it cannot come before exec()
        if "error" in outcome:
            raise WqError(str(outcome["error"]))
        store = outcome["store"]
        assert isinstance(store, Store)
        return store

    def open(self, db: Path, user: str) -> bool:
        try:
            store = self._open_store(db, user)
            if store is None:
                return False
        except WqError as err:
            QMessageBox.critical(self.window, "无法打开数据库", f"{db}\n\n{err}")
            return False
        except Exception as err:  # e.g. not an SQLite file: say so rather than crash
            QMessageBox.critical(self.window, "无法打开数据库", f"{db}\n\n该文件不是本程序的数据库：{err}")
            return False
        self.settings = replace(self.settings, user=self.settings.user or user)
        old = self.window
        self.window = MainWindow(store, self.settings)
        self.window.remember_store()
        self.settings = self.window.settings
        self.window.store_requested.connect(self.switch)
        self.window.backup_controller.reopen = self.reopen
        self.window.show()
        if old is not None:
            old._closing_confirmed = True  # the user already answered about unsaved edits
            old.close()
            old.store.close()
            if not any(t.isRunning() for t in old.findChildren(QThread)):
                old.deleteLater()  # its dialogs and timers go with it: none touches the closed store
            if old.store.path.resolve() != store.path.resolve():
                # Another file now: the old one needs a new sign-in to be opened again.
                keyfile.forget(old.store.path)
                self.signed_in.pop(old.store.path.resolve(), None)
        self.start_daily_backup(store.path)
        return True

    def switch(self, db: Path) -> None:
        user = self.window.store.user if self.window else self.settings.user
        self.open(db, user)

    def reopen(self, db: Path) -> MainWindow | None:
        """Open ``db`` again after the window closed its store for a restore."""
        old = self.window
        user = old.store.user if old is not None else self.settings.user
        if self.open(db, user):
            return self.window
        # Could not open it (the message was shown): the old window's store is closed, so the
        # window is of no use any more; closing it ends the program, the files stay as they are.
        if old is not None:
            old._closing_confirmed = True
            old.close()
        self.window = None
        return None

    # ------------------------------------------------------------ daily backup
    def start_daily_backup(self, store_path: Path) -> Worker:
        """Today's backup (if none yet) and pruning, in a worker thread with its own connection."""
        keep_days = load_keep_days()

        def job(_ctx: JobContext) -> Path | None:
            made = backup.ensure_daily_backup(store_path, keep_days=keep_days)
            backup.prune_backups(keep_days)  # also when today's existed: the setting may have changed
            return made

        worker = Worker(job)
        worker.done.connect(self._daily_backup_done)
        worker.failed.connect(self._daily_backup_failed)
        worker.finished.connect(lambda: self.backup_workers.remove(worker))
        self.backup_workers.append(worker)
        worker.start()
        return worker

    def _daily_backup_done(self, made: Path | None) -> None:
        if made is not None and self.window is not None:
            try:
                audit.record(self.window.store, audit.BACKUP, {"file": made.name, "daily": True})
            except Exception:  # broad on purpose: the store may have been closed meanwhile
                log.warning("daily backup made but not entered in the security log")
            self.window.statusBar().showMessage(f"已自动备份今天的数据：{made.name}", 8000)

    def _daily_backup_failed(self, message: str) -> None:
        log.warning("daily backup failed: %s", message)
        if self.window is not None:
            self.window.statusBar().showMessage(
                f"今天的自动备份未能完成：{message}（可用“文件 > 立即备份”再试）")

    def wait_for_backups(self) -> None:
        """Let running backups finish (at exit: a thread must not outlive the application)."""
        for worker in list(self.backup_workers):
            worker.wait()
        QApplication.processEvents()  # deliver their results


def run(db: Path | None = None, user: str | None = None) -> int:
    setup_logging()
    install_native_crash_log()
    app = QApplication.instance() or QApplication(sys.argv)
    collect_in_gui_thread()
    assert isinstance(app, QApplication)
    app.setApplicationName("退地减水核查")
    install_qt_translations(app)
    apply_chinese_font(app)
    settings = settings_mod.load()
    controller = Application(app, settings)
    install_excepthook(lambda: controller.window)

    user = (user or settings.user or "").strip()
    if db is None and settings.last_store_path and settings.last_store_path.exists():
        db = settings.last_store_path
    while True:
        if db is None:
            chosen = controller.first_start()
            if chosen is None:
                return 0
            db, user = chosen
        if not user and not keyfile.is_encrypted_store(db):  # encrypted: the sign-in names the user
            user = controller.ask_user() or ""
            if not user:
                return 0
        if controller.open(db, user):
            break
        db = None  # could not open it: offer the first-start choices instead
    code = app.exec()
    controller.wait_for_backups()
    if controller.window is not None:
        controller.window.store.close()
    return code
