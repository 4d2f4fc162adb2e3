"""Security entries of a window: 锁定 (Ctrl+L) and the idle lock, 本机账户, 修改密码, 安全日志.

Locking covers every open window of the program with an opaque panel and asks for a password in
an application-modal dialog. Nothing is closed or hidden underneath, so a half-filled dialog keeps
what was typed and continues after the unlock. Only encrypted stores have accounts to lock with;
on the plain demo store 锁定 and the account entries are off, 安全日志 still works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QMenu, QWidget

from wq_desktop.settings import Settings

from .actions import ActionDef, declare

# The dialogs and the account code (argon2, cryptography) are imported when used, not on the way
# to the window's first paint.
if TYPE_CHECKING:
    from .dialogs.accounts_dialog import AccountsDialog, ChangePasswordDialog
    from .dialogs.sign_in import SignInDialog
    from .main_window import MainWindow
    from .views.security_log import SecurityLogDialog

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class _Cover(QLabel):
    """An opaque panel over one top-level window while the program is locked."""

    def __init__(self, window: QWidget) -> None:
        super().__init__("已锁定", window)
        self.setObjectName("lock_cover")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAutoFillBackground(True)
        self.setStyleSheet("background: #3c4a5a; color: white; font-size: 22px;")
        self.setGeometry(window.rect())
        window.installEventFilter(self)
        self.raise_()
        self.show()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.setGeometry(watched.rect())
            self.raise_()
        return False


class SecurityController(QObject):
    def __init__(self, window: MainWindow, settings: Settings) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.covers: list[_Cover] = []
        self.lock_dialog: SignInDialog | None = None
        encrypted = window.store.encrypted
        self.lock_action, self.accounts_action, self.password_action, self.log_action = (
            window.action(i) for i in ("security.lock", "security.accounts", "security.password",
                                       "security.log"))
        for action in (self.lock_action, self.accounts_action, self.password_action):
            action.setEnabled(encrypted)
        if not encrypted:
            tip = "演示数据库未加密，没有本机账户" if window.store.is_demo else "数据库未加密，没有本机账户"
            for action in (self.lock_action, self.accounts_action, self.password_action):
                action.setToolTip(tip)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self.lock)
        if encrypted:
            QApplication.instance().installEventFilter(self)
            self.restart_idle()
        if encrypted and window.store.is_demo is False:
            window.statusBar().showMessage(f"已登录：{window.store.user}（数据库已加密）", 8000)

    # ------------------------------------------------------------ idle lock
    def idle_minutes(self) -> int:
        return getattr(self.window.settings, "lock_minutes", self.settings.lock_minutes)

    def restart_idle(self) -> None:
        if not self.locked and self.window.store.encrypted:
            self.idle_timer.start(self.idle_minutes() * 60_000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and not self.locked:
            if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                    and event.key() == Qt.Key.Key_L
                    and event.modifiers() == Qt.KeyboardModifier.ControlModifier):
                # Ctrl+L from any window of the program: the menu's shortcut does not reach the
                # main window while one of its dialogs is open (Qt blocks it by modality).
                self.lock()
                return True
            self.restart_idle()
        return False

    # ------------------------------------------------------------ lock / unlock
    @property
    def locked(self) -> bool:
        return self.lock_dialog is not None

    def lock(self) -> None:
        if self.locked or not self.window.store.encrypted or getattr(self.window, "_closed", False):
            return
        from wq_desktop import accounts

        from .dialogs.sign_in import SignInDialog

        self.idle_timer.stop()
        accounts.lock(self.window.store)
        self.covers = [_Cover(w) for w in QApplication.topLevelWidgets()
                       if w.isVisible() and w.isWindow() and not isinstance(w, QMenu)]
        dialog = SignInDialog(self.window.store.path, None, locked=self.window.store)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        dialog.accepted.connect(self._unlocked)
        dialog.rejected.connect(self._gave_up)
        self.lock_dialog = dialog
        dialog.open()

    def _remove_covers(self) -> None:
        for cover in self.covers:
            parent = cover.parentWidget()
            if parent is not None:
                parent.removeEventFilter(cover)
            cover.deleteLater()
        self.covers = []

    def _unlocked(self) -> None:
        self._remove_covers()
        self.lock_dialog = None
        self.window.statusBar().showMessage(f"已解锁：{self.window.store.user}", 5000)
        self.restart_idle()

    def _gave_up(self) -> None:
        """退出程序 on the lock screen: close the window (it asks about nothing: still locked)."""
        self.lock_dialog = None
        self.window._closing_confirmed = True
        self._remove_covers()
        self.window.close()

    # ------------------------------------------------------------ dialogs
    def show_accounts(self) -> AccountsDialog:
        from .dialogs.accounts_dialog import AccountsDialog

        dialog = AccountsDialog(self.window.store, self.window)
        dialog.open()
        return dialog

    def change_password(self) -> ChangePasswordDialog:
        from .dialogs.accounts_dialog import ChangePasswordDialog

        dialog = ChangePasswordDialog(self.window.store, self.window)
        dialog.accepted.connect(lambda: self.window.statusBar().showMessage("密码已修改。", 5000))
        dialog.open()
        return dialog

    def show_log(self) -> SecurityLogDialog:
        from .views.security_log import SecurityLogDialog

        dialog = SecurityLogDialog(self.window.store, self.window)
        dialog.open()
        return dialog


def _security(method: str) -> Callable[[MainWindow], Callable[[], object]]:
    return lambda w: getattr(w.security_controller, method)


declare(
    ActionDef("security.lock", "锁定", "文件", _security("lock"), "Ctrl+L", order=100),
    ActionDef("security.accounts", "本机账户…", "工具", _security("show_accounts"), group=1, order=10),
    ActionDef("security.password", "修改密码…", "工具", _security("change_password"), group=1,
              order=20),
    ActionDef("security.log", "安全日志…", "工具", _security("show_log"), group=1, order=30),
)
