"""Start the window: pick the store (argument, last used, or the first-start dialog) and run."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox, QWidget

from wq_desktop import settings as settings_mod
from wq_desktop.errors import WqError
from wq_desktop.settings import Settings
from wq_desktop.store import Store

from .crash import install_excepthook
from .dialogs.first_start import FirstStartDialog
from .fonts import apply_chinese_font
from .main_window import MainWindow


class Application:
    """Owns the open window; replaces it when the user opens another store file."""

    def __init__(self, app: QApplication, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.window: MainWindow | None = None

    def ask_user(self, parent: QWidget | None = None) -> str | None:
        name, ok = QInputDialog.getText(parent, "用户名", "请输入您的姓名（记入每条变更记录）：",
                                        text=self.settings.user)
        return name.strip() if ok and name.strip() else None

    def first_start(self) -> tuple[Path, str] | None:
        dialog = FirstStartDialog(self.settings.data_path, self.settings.user)
        if not dialog.exec() or dialog.chosen is None:
            return None
        return dialog.chosen, dialog.user.text().strip()

    def open(self, db: Path, user: str) -> bool:
        try:
            store = Store.open(db, user)
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
        self.window.show()
        if old is not None:
            old._closing_confirmed = True  # the user already answered about unsaved edits
            old.close()
            old.store.close()
        return True

    def switch(self, db: Path) -> None:
        user = self.window.store.user if self.window else self.settings.user
        self.open(db, user)


def run(db: Path | None = None, user: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("退地减水核查")
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
        if not user:
            user = controller.ask_user() or ""
            if not user:
                return 0
        if controller.open(db, user):
            break
        db = None  # could not open it: offer the first-start choices instead
    code = app.exec()
    if controller.window is not None:
        controller.window.store.close()
    return code
