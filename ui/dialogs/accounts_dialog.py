"""本机账户: list, add and disable local accounts (never delete); change one's own password."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import accounts
from wq_desktop.errors import WqError
from wq_desktop.store import Store

from ..views.security_log import local_time
from ..widgets import Column, ErrorLabel, RowsModel, make_table
from .sign_in import NewAccountFields, password_field

COLUMNS = (
    Column("账户", lambda a: a.name),
    Column("状态", lambda a: "可用" if a.enabled else "已停用"),
    Column("创建", lambda a: f"{local_time(a.created_at)}（{a.created_by}）"),
    Column("停用", lambda a: f"{local_time(a.disabled_at)}（{a.disabled_by}）" if a.disabled_at else ""),
)


def _busy(on: bool) -> None:
    if on:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    else:
        QGuiApplication.restoreOverrideCursor()


class AccountsDialog(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("本机账户")
        self.resize(640, 460)
        self.store = store
        self.model = RowsModel(COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("accounts_table")
        self.disable_button = QPushButton("停用所选账户")
        self.disable_button.setObjectName("disable_account")
        self.disable_button.clicked.connect(self.disable_selected)
        add_box = QGroupBox("新增账户（每位使用本机的人一个账户）")
        self.fields = NewAccountFields()
        self.add_button = QPushButton("新增")
        self.add_button.setObjectName("add_account")
        self.add_button.clicked.connect(self.add)
        add_layout = QVBoxLayout(add_box)
        add_layout.addWidget(self.fields)
        add_layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignRight)
        self.error = ErrorLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.disable_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(add_box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(accounts.list_accounts(self.store))

    def add(self) -> None:
        name, password, repeat = self.fields.values()
        self.error.show_error(None)
        _busy(True)
        try:
            accounts.add_account(self.store, name, password, repeat)
        except WqError as err:
            self.error.show_error(str(err))
            return
        finally:
            _busy(False)
            self.fields.password.clear()
            self.fields.repeat.clear()
        self.fields.account.clear()
        self.refresh()

    def disable_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.error.show_error("请先在表中选择要停用的账户。")
            return
        account = self.model.row_at(rows[0].row())
        answer = QMessageBox.question(
            self, "停用账户", f"停用账户“{account.name}”？停用后该账户不能再登录；"
            "账户不会删除，变更历史仍记着它。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            accounts.disable_account(self.store, account.name)
        except WqError as err:
            self.error.show_error(str(err))
            return
        self.error.show_error(None)
        self.refresh()


class ChangePasswordDialog(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"修改密码 - {store.user}")
        self.store = store
        self.old = password_field("old_password", "原密码")
        self.new = password_field("changed_password", "至少10位，含字母和数字")
        self.repeat = password_field("changed_password_repeat", "再输入一次")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("原密码", self.old)
        form.addRow("新密码", self.new)
        form.addRow("确认新密码", self.repeat)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def save(self) -> None:
        _busy(True)
        try:
            accounts.change_password(self.store, self.old.text(), self.new.text(), self.repeat.text())
        except WqError as err:
            self.error.show_error(str(err))
            return
        finally:
            _busy(False)
            for field in (self.old, self.new, self.repeat):
                field.clear()
        self.accept()
