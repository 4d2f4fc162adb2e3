"""Sign-in to an encrypted store, the 恢复码 path for a forgotten password, the one-time display
of a new 恢复码, and the fields of a new account (first start, encrypting a store, 本机账户)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import accounts, keyfile
from wq_desktop.errors import WqError
from wq_desktop.store import Store

from ..widgets import ErrorLabel


def password_field(name: str, placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class NewAccountFields(QWidget):
    """Account name, password and its repetition, with the strength rule stated up front."""

    def __init__(self, account: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account = QLineEdit(account)
        self.account.setObjectName("new_account")
        self.account.setPlaceholderText("您的姓名，如 张三")
        self.password = password_field("new_password", "至少10位，含字母和数字")
        self.repeat = password_field("new_password_repeat", "再输入一次")
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("账户名＊", self.account)
        form.addRow("密码＊", self.password)
        form.addRow("确认密码＊", self.repeat)

    def values(self) -> tuple[str, str, str]:
        return self.account.text().strip(), self.password.text(), self.repeat.text()


class RecoveryCodeDialog(QDialog):
    """Shows a new 恢复码 once; closes only after the user says it is written down."""

    def __init__(self, code: str, store_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("恢复码（只显示这一次）")
        intro = QLabel(
            f"数据库 {store_name} 已加密。请把下面的恢复码抄写或打印下来，锁入办公室保险柜。\n"
            "忘记密码时，凭恢复码可以打开数据库并重设密码；恢复码和所有密码都丢失时，数据无法找回。\n"
            "本程序不保存恢复码，关闭本窗口后不能再次查看。")
        intro.setWordWrap(True)
        self.code = QLabel(code)
        self.code.setObjectName("recovery_code")
        font = QFont("monospace")
        font.setPointSize(18)
        font.setBold(True)
        self.code.setFont(font)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confirm = QCheckBox("我已抄写恢复码，并会妥善保管")
        self.confirm.setObjectName("recovery_confirm")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.confirm.toggled.connect(self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled)
        self.buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        for w in (intro, self.code, self.confirm, self.buttons):
            layout.addWidget(w)

    def reject(self) -> None:  # Esc or the close button must not skip the confirmation
        if self.confirm.isChecked():
            super().reject()


class SignInDialog(QDialog):
    """Sign in to `path` (then `store` is the open store), or unlock `locked` (the open store of a
    locked window: the same or another account proves its password)."""

    def __init__(self, path: Path, parent: QWidget | None = None, *, locked: Store | None = None,
                 account: str = "") -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.locked = locked
        self.store: Store | None = None
        self.setWindowTitle(("已锁定 - " if locked else "登录 - ") + self.path.name)
        self.setMinimumWidth(420)
        heading = QLabel(f"数据库 {self.path.name} 已{'锁定' if locked else '加密'}，"
                         "请用本机账户登录：")
        heading.setWordWrap(True)
        self.account = QComboBox()
        self.account.setObjectName("sign_in_account")
        self.account.setEditable(True)
        try:
            names = [e.account for e in keyfile.load(self.path).envelopes if e.kind == keyfile.ACCOUNT]
        except WqError:
            names = []
        self.account.addItems(sorted(names))
        self.account.setCurrentText(account or (locked.user if locked else ""))
        self.password = password_field("sign_in_password", "密码")
        self.error = ErrorLabel()
        self.error.setObjectName("sign_in_error")
        form = QFormLayout()
        form.addRow("账户", self.account)
        form.addRow("密码", self.password)
        self.sign_in_button = QPushButton("解锁" if locked else "登录")
        self.sign_in_button.setObjectName("sign_in_button")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        buttons = QDialogButtonBox()
        buttons.addButton(self.sign_in_button, QDialogButtonBox.ButtonRole.ActionRole)
        if locked is None:
            buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
            buttons.rejected.connect(self.reject)
        else:
            buttons.addButton("退出程序", QDialogButtonBox.ButtonRole.RejectRole)
            buttons.rejected.connect(self.reject)

        self.recovery_box = QGroupBox("忘记密码：用恢复码重设")
        self.recovery_box.setObjectName("recovery_box")
        self.recovery_box.setCheckable(True)
        self.recovery_box.setChecked(False)
        self.recovery_code = QLineEdit()
        self.recovery_code.setObjectName("recovery_code_input")
        self.recovery_code.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.new_password = password_field("recovery_new_password", "新密码：至少10位，含字母和数字")
        self.new_repeat = password_field("recovery_new_repeat", "再输入一次")
        self.recover_button = QPushButton("用恢复码打开并设新密码")
        self.recover_button.setObjectName("recover_button")
        self.recover_button.clicked.connect(self.recover)
        rform = QFormLayout(self.recovery_box)
        rform.addRow("恢复码", self.recovery_code)
        rform.addRow("新密码", self.new_password)
        rform.addRow("确认新密码", self.new_repeat)
        rform.addRow("", self.recover_button)
        self.recovery_box.toggled.connect(self._show_recovery)
        self._show_recovery(False)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        layout.addWidget(self.recovery_box)
        self.recovery_box.setVisible(locked is None)
        self.password.setFocus()

    def _show_recovery(self, on: bool) -> None:
        for w in (self.recovery_code, self.new_password, self.new_repeat, self.recover_button):
            w.setVisible(on)

    def _busy(self, on: bool) -> None:
        # argon2id takes a moment by design (it is what makes guessing slow)
        if on:
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        else:
            QGuiApplication.restoreOverrideCursor()

    def sign_in(self) -> None:
        account = self.account.currentText().strip()
        if not account:
            self.error.show_error("请填写账户名。")
            return
        self._busy(True)
        try:
            if self.locked is not None:
                accounts.unlock(self.locked, account, self.password.text())
                self.store = self.locked
            else:
                self.store = accounts.sign_in(self.path, account, self.password.text())
        except WqError as err:
            self.error.show_error(str(err))
            self.password.clear()
            return
        finally:
            self._busy(False)
            self.password.clear()
        self.accept()

    def recover(self) -> None:
        account = self.account.currentText().strip()
        if not account:
            self.error.show_error("请先在上面填写要重设密码的账户名。")
            return
        self._busy(True)
        try:
            self.store = accounts.recover(self.path, self.recovery_code.text(), account,
                                          self.new_password.text(), self.new_repeat.text())
        except WqError as err:
            self.error.show_error(str(err))
            return
        finally:
            self._busy(False)
            self.new_password.clear()
            self.new_repeat.clear()
        self.accept()


def show_recovery_code(code: str, store_name: str, parent: QWidget | None = None) -> None:
    """The one display of a new 恢复码 (modal until confirmed)."""
    RecoveryCodeDialog(code, store_name, parent).exec()
