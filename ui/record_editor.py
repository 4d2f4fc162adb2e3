"""The small dialog that edits a few values and saves them as one operation: a form, the red
line that says why a save was refused (nothing is written then, the dialog stays open), and
确定/取消 (or 保存/取消). 庭院种植 and the 目标 sheet are written on it."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QVBoxLayout, QWidget

from wq_desktop.errors import WqError
from wq_desktop.store import Store

from .operations import Op, run_op
from .widgets import ErrorLabel


class RecordEditor(QDialog):
    """Subclasses put their widgets in `self.form` (and `self.body`), call `finish()`, and give
    `operation()`: the write to run, or None after saying in `self.error` what is missing."""

    refused_prefix = ""  # put before the store's reason ("未保存：")

    def __init__(self, store: Store, title: str, parent: QWidget | None = None, *,
                 ok_text: str = "确定", save: bool = False) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle(title)
        self.form = QFormLayout()
        self.error = ErrorLabel()
        ok = QDialogButtonBox.StandardButton.Save if save else QDialogButtonBox.StandardButton.Ok
        self.buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(ok).setText(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.body = QVBoxLayout(self)

    def finish(self) -> None:
        """After the subclass's own widgets: the refusal line and the buttons, at the bottom."""
        self.body.addWidget(self.error)
        self.body.addWidget(self.buttons)

    def operation(self) -> Op | None:
        raise NotImplementedError

    def accept(self) -> None:
        self.error.show_error(None)
        op = self.operation()
        if op is None:
            return
        run_op(self, self.store, op, on_done=lambda _changes: super(RecordEditor, self).accept(),
               on_error=self._refused)

    def _refused(self, err: WqError) -> None:
        self.error.show_error(f"{self.refused_prefix}{err}")
