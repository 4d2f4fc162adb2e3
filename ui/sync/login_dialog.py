"""Ask for the server password before a sync (never stored: the user types it each time)."""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from ..widgets import ErrorLabel


class LoginDialog(QDialog):
    def __init__(self, server: str, user: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("与服务器同步")
        self.setMinimumWidth(420)
        self.server_label = QLabel(server)
        self.user_edit = QLineEdit(user)
        self.user_edit.setObjectName("sync_user")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("sync_password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = ErrorLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("开始同步")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("服务器：", self.server_label)
        form.addRow("用户名：", self.user_edit)
        form.addRow("密码：", self.password_edit)
        form.addRow(self.error)
        form.addRow(self.buttons)
        (self.password_edit if user else self.user_edit).setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        (self.password_edit if self.user else self.user_edit).setFocus()

    @property
    def user(self) -> str:
        return self.user_edit.text().strip()

    @property
    def password(self) -> str:
        return self.password_edit.text()

    def accept(self) -> None:
        if not self.user:
            self.error.show_error("请填写用户名。")
            return
        if not self.password:
            self.error.show_error("请输入服务器密码。")
            return
        super().accept()
