"""Offer to encrypt a plain store from before encryption (not the fictional demo)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMessageBox, QVBoxLayout, QWidget

from wq_desktop import encrypt_store
from wq_desktop.errors import WqError
from wq_desktop.store import Store

from ..widgets import ErrorLabel
from . import sign_in
from .sign_in import NewAccountFields


class EncryptStoreDialog(QDialog):
    """Asks for the first account; on accept, `store` is the encrypted store, signed in."""

    def __init__(self, path: Path, account: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.store: Store | None = None
        self.setWindowTitle("加密数据库 - " + self.path.name)
        text = QLabel(
            f"数据库 {self.path.name} 尚未加密：笔记本丢失时，任何人都能读出其中的身份证号和电话。\n"
            "加密后打开数据库需要登录本机账户，每条修改记下登录的账户。加密时先在旁边保留一份原文件，"
            "加密成功后删除。请设定第一个本机账户：")
        text.setWordWrap(True)
        self.fields = NewAccountFields(account)
        self.error = ErrorLabel()
        buttons = QDialogButtonBox()
        self.encrypt_button = buttons.addButton("加密", QDialogButtonBox.ButtonRole.AcceptRole)
        self.encrypt_button.setObjectName("encrypt_button")
        buttons.addButton("暂不加密", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.encrypt)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (text, self.fields, self.error, buttons):
            layout.addWidget(w)

    def encrypt(self) -> None:
        account, password, repeat = self.fields.values()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = encrypt_store.encrypt(self.path, account, password, repeat)
        except WqError as err:
            self.error.show_error(str(err))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
            self.fields.password.clear()
            self.fields.repeat.clear()
        self.store = result.store
        sign_in.show_recovery_code(result.recovery_code, self.path.name, self)
        if result.plain_copies:
            offer_to_delete_plain_copies(result.plain_copies, self)
        self.accept()


def offer_to_delete_plain_copies(copies: list[Path], parent: QWidget | None) -> list[Path]:
    """Older unencrypted copies (backups, migration copies) still hold everything in clear."""
    names = "\n".join(p.name for p in copies[:12]) + ("\n……" if len(copies) > 12 else "")
    answer = QMessageBox.question(
        parent, "未加密的旧副本",
        f"以下 {len(copies)} 个该数据库加密前的副本（备份等）仍未加密：\n\n{names}\n\n"
        "是否删除它们？（加密后的数据库今后的备份都是加密的。）",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    if answer != QMessageBox.StandardButton.Yes:
        return []
    removed = []
    for path in copies:
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed
