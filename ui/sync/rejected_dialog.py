"""被拒绝的变更: local changes the server refused, with its reason. They stay on this computer."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.operations import sync as sync_ops
from wq_desktop.store import Store
from wq_desktop.sync.status import RejectedChange, local_time_text, rejected_changes

from ..operations import run_op

COLUMNS = ["记录", "类型", "操作", "修改内容", "修改时间", "修改人", "服务器拒绝原因"]


class RejectedDialog(QDialog):
    open_record = Signal(str, str)  # kind, uuid
    discarded = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("被拒绝的变更")
        self.resize(980, 440)
        self.changes: list[RejectedChange] = []
        hint = QLabel("以下修改被服务器拒绝，没有同步到服务器，但仍保留在本机。请按拒绝原因核对："
                      "改正记录后会作为新的修改再次同步；如有疑问请联系管理员。双击一行可打开该记录。")
        hint.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("rejected_list")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.empty_label = QLabel("没有被拒绝的变更。")
        open_button = QPushButton("打开记录")
        open_button.clicked.connect(self._open_selected)
        self.discard_button = QPushButton("放弃本机修改")
        self.discard_button.setObjectName("discard_rejected")
        self.discard_button.setToolTip("不再上传这条修改：本机记录与服务器一致（服务器从未收下的新增记录在本机删除）")
        self.discard_button.clicked.connect(self._discard_selected)
        close = QPushButton("关闭")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.changes = rejected_changes(self.store)
        self.table.setRowCount(len(self.changes))
        for row, c in enumerate(self.changes):
            cells = (c.title, c.kind_label, c.op_text, "、".join(c.field_labels),
                     local_time_text(c.at, ""), c.user, c.reason)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        for col in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(col)
        self.table.resizeRowsToContents()
        self.empty_label.setVisible(not self.changes)

    def reasons(self) -> list[str]:
        return [self.table.item(row, len(COLUMNS) - 1).text() for row in range(self.table.rowCount())]

    def _open_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._open(rows[0].row())

    def _discard_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self.changes):
            return
        change = self.changes[rows[0].row()]
        answer = QMessageBox.question(
            self, "放弃本机修改",
            f"放弃对“{change.title}”的这条修改？放弃后它不再上传，本机记录以服务器为准。")
        if answer != QMessageBox.StandardButton.Yes:
            return
        run_op(self, self.store, lambda s: sync_ops.discard_rejected(s, change.seq),
               on_done=lambda _c: (self.refresh(), self.discarded.emit()))

    def _open(self, row: int) -> None:
        if 0 <= row < len(self.changes):
            change = self.changes[row]
            self.open_record.emit(change.kind, change.record)
