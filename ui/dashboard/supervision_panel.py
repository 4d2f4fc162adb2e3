"""督办待办: the city office's 督办 for this township, overdue first; the staff answer them here.

Rows come from `supervision.supervision_rows`; 回复 and 已整改 run `answer_supervision` (the
township may change only the answering fields; the server refuses anything else). The answer
travels to the office with the next sync.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import supervision
from wq_desktop.operations import Changes
from wq_desktop.operations import supervision as supervision_ops
from wq_desktop.store import Store

from ..operations import run_op
from ..widgets import OVERDUE_COLOR, Column, RowsModel, make_table


def _red(r: supervision.SupervisionRow) -> QColor | None:
    return OVERDUE_COLOR if r.overdue else None


COLUMNS = (
    Column("状态", lambda r: supervision.STATE_NAMES[r.state], color=_red),
    Column("办理期限", lambda r: r.due_on, color=_red),
    Column("督办对象", lambda r: f"{r.target_label}：{r.title}"),
    Column("督办事项", lambda r: r.note),
    Column("督办人", lambda r: f"{r.issued_by} {r.issued_on}".strip()),
    Column("回复", lambda r: r.reply),
    Column("回复人", lambda r: f"{r.replied_by} {r.replied_on}".strip()),
)


class SupervisionPanel(QWidget):
    """The list, and an answer box acting on the selected 督办."""

    recordRequested = Signal(str, str)  # the record a 督办 is about (kind, uuid)
    answered = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = RowsModel(COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("supervision_table")
        self.summary = QLabel()
        self.reply = QPlainTextEdit()
        self.reply.setPlaceholderText("回复内容：做了什么、结果如何（必填）")
        self.reply.setMaximumHeight(80)
        self.reply_button = QPushButton("回复")
        self.rectified_button = QPushButton("已整改")
        self.open_button = QPushButton("打开督办对象")
        buttons = QHBoxLayout()
        for b in (self.reply_button, self.rectified_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("选中一项督办后填写回复；标记“已整改”表示问题已整改到位。同步后市级办公室即可看到。"))
        layout.addWidget(self.reply)
        layout.addLayout(buttons)
        self.reply_button.clicked.connect(lambda: self.answer(rectified=False))
        self.rectified_button.clicked.connect(lambda: self.answer(rectified=True))
        self.open_button.clicked.connect(self._open_current)
        self.table.doubleClicked.connect(self._open_index)

    def refresh(self) -> None:
        rows = supervision.supervision_rows(self.store)
        self.model.set_rows(rows)
        waiting = sum(r.state in ("open", "overdue") for r in rows)
        overdue = sum(r.overdue for r in rows)
        self.summary.setText(f"督办 {len(rows)} 项，待办理 {waiting} 项，其中已逾期 {overdue} 项（红色）。")

    def current(self) -> supervision.SupervisionRow | None:
        index = self.table.currentIndex()
        return self.table.row_object(index) if index.isValid() else None

    def answer(self, rectified: bool) -> bool:
        row = self.current()
        if row is None:
            QMessageBox.information(self, "请先选择督办", "请先在列表中选中要回复的督办。")
            return False
        text = self.reply.toPlainText()

        def answered(_changes: Changes) -> None:
            self.reply.clear()
            self.answered.emit()  # the dashboard redraws this list and its count

        return run_op(self, self.store,
                      lambda s: supervision_ops.answer_supervision(s, row.uuid, text, rectified),
                      on_done=answered, error_title="回复未保存") is not None

    def _open_index(self, index: QModelIndex) -> None:
        row = self.table.row_object(index)
        self.recordRequested.emit(row.target_kind, row.target)

    def _open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self._open_index(index)
