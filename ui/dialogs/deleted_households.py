"""已删除的农户: the tombstoned households of a village, and 恢复所选 to bring one back whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import trash
from wq_desktop.errors import WqError
from wq_desktop.operations import households
from wq_desktop.queries import navigation
from wq_desktop.store import Store

from ..operations import run_op

if TYPE_CHECKING:
    from ..main_window import MainWindow

_HEADERS = ("姓名/名称", "身份证号/信用代码", "删除时间", "删除人")


class DeletedHouseholdsDialog(QDialog):
    """Lists deleted households; restoring asks first, then brings back the operator with exactly
    the parcels, measures, agreements, patrols and photos deleted with it (one transaction)."""

    restored = Signal(str)  # operator uuid

    def __init__(self, store: Store, village: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("已删除的农户")
        self.setMinimumSize(640, 380)
        self.store = store
        self.village = QComboBox()
        self.village.setObjectName("trash_village")
        for uuid, name in navigation.villages(store):
            self.village.addItem(name, uuid)
        if village is not None and (index := self.village.findData(village)) >= 0:
            self.village.setCurrentIndex(index)
        self.table = QTableWidget(0, len(_HEADERS))
        self.table.setObjectName("trash_table")
        self.table.setHorizontalHeaderLabels(list(_HEADERS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel("该村没有已删除的农户。")
        self.restore_button = QPushButton("恢复所选")
        self.restore_button.setObjectName("trash_restore")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("村：", self.village)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)

        self.village.currentIndexChanged.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._update_button)
        self.table.itemDoubleClicked.connect(lambda _item: self.restore_selected())
        self.restore_button.clicked.connect(self.restore_selected)
        self.rows: list[trash.DeletedHousehold] = []
        self.refresh()

    def refresh(self) -> None:
        village = self.village.currentData()
        self.rows = trash.deleted_households(self.store, village) if village else []
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate((row.name, row.masked_id, row.deleted_at, row.deleted_by)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, row.uuid)
                self.table.setItem(r, c, item)
        self.empty.setVisible(not self.rows)
        self.table.setVisible(bool(self.rows))
        self._update_button()

    def _update_button(self) -> None:
        self.restore_button.setEnabled(self.selected() is not None)

    def selected(self) -> trash.DeletedHousehold | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select(self, operator_uuid: str) -> None:
        for r, row in enumerate(self.rows):
            if row.uuid == operator_uuid:
                self.table.selectRow(r)
                return

    def restore_selected(self) -> list[tuple[str, str]]:
        household = self.selected()
        if household is None:
            return []
        answer = QMessageBox.question(
            self, "恢复农户",
            f"恢复 {household.name}（{household.masked_id}）"
            "及与其一同删除的地块、措施、协议、巡查记录和照片？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return []
        def refused(err: WqError) -> None:  # e.g. its village was deleted meanwhile: nothing changed
            QMessageBox.warning(self, "无法恢复", str(err))
            self.refresh()

        changes = run_op(self, self.store, lambda s: households.restore_household(s, household.uuid),
                         on_done=lambda _c: self.refresh(), on_error=refused)
        if changes is None:
            return []
        self.restored.emit(household.uuid)
        return changes.result


def open_deleted_households(window: MainWindow) -> QDialog:
    """Open the dialog on the village shown in the window (which redraws from the restore's
    broadcast)."""
    village = window.current_village()
    dialog = DeletedHouseholdsDialog(window.store, village, window)
    dialog.open()
    return dialog
