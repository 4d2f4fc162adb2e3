"""目标 editor: the township's 用水总量控制目标 for a year and each village's planned 退减灌溉 /
休耕轮作 亩 and water. Values are taken as typed and saved together by the core
(targets.save_target_sheet); a refused value leaves everything as it was and says why."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from wq_desktop import targets
from wq_desktop.operations import measures
from wq_desktop.store import Store

from ..operations import Op
from ..record_editor import RecordEditor

VILLAGE_COLUMNS = ("村", "计划退减灌溉（亩）", "计划休耕轮作（亩）", "用水量控制目标（万立方米）")


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value}"


class TargetsDialog(RecordEditor):
    refused_prefix = "未保存："

    def __init__(self, store: Store, township: str, year: int, parent: QWidget | None = None) -> None:
        super().__init__(store, "退减目标与用水总量控制目标", parent, ok_text="保存", save=True)
        self.township = township
        self.resize(720, 420)
        self.year = QSpinBox()
        self.year.setRange(2021, 2100)
        self.year.setValue(year)
        self.total = QLineEdit()
        self.groundwater = QLineEdit()
        self.table = QTableWidget(0, len(VILLAGE_COLUMNS))
        self.table.setHorizontalHeaderLabels(VILLAGE_COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.form.addRow("目标年度", self.year)
        self.form.addRow("用水总量控制目标（万立方米）", self.total)
        self.form.addRow("其中地下水用水量控制目标（万立方米）", self.groundwater)
        self.body.addWidget(QLabel("每年7月10日前确定下年度用水总量控制目标和各村退减灌溉、休耕轮作面积"
                                   "（前轻后重、分年推进，避免碎片化）。"))
        self.body.addLayout(self.form)
        self.body.addWidget(self.table, 1)
        self.finish()
        self.year.valueChanged.connect(self.load)
        self.load()

    def load(self) -> None:
        sheet = targets.target_sheet(self.store, self.township, self.year.value())
        self.sheet = sheet
        self.total.setText(_text(sheet.total_wan_m3))
        self.groundwater.setText(_text(sheet.groundwater_wan_m3))
        self.table.setRowCount(len(sheet.villages))
        for i, row in enumerate(sheet.villages):
            name = QTableWidgetItem(row.name)
            name.setFlags(name.flags() & ~name.flags().ItemIsEditable)
            self.table.setItem(i, 0, name)
            for j, value in enumerate((row.retired_mu, row.fallow_mu, row.water_wan_m3), start=1):
                self.table.setItem(i, j, QTableWidgetItem(_text(value)))
        self.error.show_error(None)

    def typed_rows(self) -> list[tuple[str, str, str, str]]:
        def cell(i: int, j: int) -> str:
            item = self.table.item(i, j)
            return item.text() if item else ""

        return [(row.village, cell(i, 1), cell(i, 2), cell(i, 3))
                for i, row in enumerate(self.sheet.villages)]

    def operation(self) -> Op:
        township, year, total, groundwater = (self.township, self.year.value(), self.total.text(),
                                              self.groundwater.text())
        rows = self.typed_rows()
        return lambda s: measures.save_targets(s, township, year, total, groundwater, rows)
