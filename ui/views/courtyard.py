"""庭院种植 of one household in the selected year: a table, and a small dialog to add or correct a crop.

The plan counts courtyard planting in 实际种植 (含庭院种植面积); it is never retired, fallowed or
paid, which the panel says so staff do not look for it in the agreement."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import planting
from wq_desktop.figures import total
from wq_desktop.operations import households
from wq_desktop.store import Store

from ..operations import Op, run_op
from ..record_editor import RecordEditor
from ..widgets import Column, RowsModel, make_table

COLUMNS = (
    Column("作物", lambda c: c.crop),
    Column("面积（亩）", lambda c: f"{c.area_mu}", sort=lambda c: c.area_mu, numeric=True),
)


class CourtyardDialog(RecordEditor):
    """One courtyard crop; the area is taken as typed (no spin box that rewrites digits)."""

    def __init__(self, store: Store, operator: str, year: int, entry: planting.Courtyard | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(store, f"{year}年度庭院种植", parent)
        self.operator, self.year, self.entry = operator, year, entry
        self.crop = QComboBox()
        self.crop.setEditable(True)
        self.crop.addItems(planting.known_crops(store))
        self.crop.setCurrentText(entry.crop if entry else "")
        self.area = QLineEdit(f"{entry.area_mu}" if entry else "")
        self.area.setPlaceholderText("例如 0.80")
        self.form.addRow("种植作物", self.crop)
        self.form.addRow("面积（亩）", self.area)
        self.body.addLayout(self.form)
        self.body.addWidget(QLabel("庭院种植计入实际种植面积和用水量测算，不退减、不补助。"))
        self.finish()

    def operation(self) -> Op | None:
        crop = self.crop.currentText().strip()
        if not crop:
            self.error.show_error("请填写种植作物。")
            return None
        operator, year, area = self.operator, self.year, self.area.text()
        record = self.entry.uuid if self.entry else None
        return lambda s: households.save_courtyard(s, operator, year, crop, area, record)


class CourtyardPanel(QWidget):
    """The household page loads it (load) and redraws it from the broadcast of its writes."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operator: str | None = None
        self.year = 0
        self.model = RowsModel(COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("courtyard_table")
        self.add_button = QPushButton("新增庭院种植…")
        self.edit_button = QPushButton("修改…")
        self.delete_button = QPushButton("删除…")
        self.total = QLabel()
        row = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.total)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table)
        self.add_button.clicked.connect(lambda: self.open_entry(None))
        self.edit_button.clicked.connect(lambda: self.open_entry(self.current()))
        self.table.doubleClicked.connect(lambda _i: self.open_entry(self.current()))
        self.delete_button.clicked.connect(self.delete_entry)

    def load(self, operator: str | None, year: int) -> None:
        self.operator, self.year = operator, year
        rows = planting.courtyards(self.store, operator, year) if operator else []
        self.model.set_rows(rows)
        self.total.setText(f"{year}年度庭院种植合计 {total(c.area_mu for c in rows)} 亩"
                           "（计入实际种植，不退减、不补助）" if operator else "")
        for b in (self.add_button, self.edit_button, self.delete_button):
            b.setEnabled(operator is not None)

    def current(self) -> planting.Courtyard | None:
        return self.table.row_object()  # the table sorts: map the view's row to the entry

    def open_entry(self, entry: planting.Courtyard | None) -> CourtyardDialog | None:
        if self.operator is None:
            return None
        dialog = CourtyardDialog(self.store, self.operator, self.year, entry, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def delete_entry(self) -> None:
        entry = self.current()
        if entry is None:
            QMessageBox.information(self, "请先选择", "请先在表格中选择一条庭院种植。")
            return
        answer = QMessageBox.question(self, "删除庭院种植",
                                      f"确定删除{entry.year}年度庭院种植“{entry.crop}”{entry.area_mu} 亩？")
        if answer != QMessageBox.StandardButton.Yes:
            return
        run_op(self, self.store, lambda s: households.delete_courtyard(s, entry.uuid),
               error_title="无法删除")
