"""The attribute table of the layer the map shows (its village, or the township), kept in step with the
map's selection both ways: select rows to highlight parcels, click parcels to select rows.

The model reads the canvas's ParcelLayer columns directly (no row objects): 100,000 parcels fill it
in a moment, and only the rows on screen are ever formatted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from wq_desktop.gisfiles import ParcelLayer


def _text(name: str) -> Callable[[ParcelLayer, int], str]:
    return lambda layer, i: getattr(layer, name)[i]


def _number(name: str, digits: int) -> Callable[[ParcelLayer, int], str]:
    def value(layer: ParcelLayer, i: int) -> str:
        v = float(getattr(layer, name)[i])
        return "" if np.isnan(v) else f"{v:,.{digits}f}"
    return value


# (title, text, numeric sort key or None)
COLUMNS: tuple[tuple[str, Callable[[ParcelLayer, int], str], str | None], ...] = (
    ("地块编号", _text("code"), None),
    ("村", _text("village_name"), None),
    ("户主", _text("household"), None),
    ("土地属性", _text("land_attribute"), None),
    ("面积（亩）", _number("area_mu", 2), "area_mu"),
    ("措施", _text("category"), None),
    ("退减灌溉（亩）", _number("retired_mu", 2), "retired_mu"),
    ("标识码 BSM", _text("bsm"), None),
    ("图斑编号 TBBH", _text("tbbh"), None),
    ("地类编码 DLBM", _text("dlbm"), None),
    ("地类名称 DLMC", _text("dlmc"), None),
    ("图斑面积 TBMJ（平方米）", _number("tbmj", 2), "tbmj"),
)


class ParcelTableModel(QAbstractTableModel):
    """Rows are indices into the layer (`rows`), in the order shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer: ParcelLayer | None = None
        self.rows = np.zeros(0, dtype=np.int64)
        self._position: dict[int, int] = {}

    def set_rows(self, layer: ParcelLayer | None, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.layer, self.rows = layer, rows.astype(np.int64)
        self._position = {int(i): r for r, i in enumerate(self.rows.tolist())}
        self.endResetModel()

    def row_of(self, layer_index: int) -> int | None:
        return self._position.get(layer_index)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.layer is None:
            return None
        _title, text, numeric = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text(self.layer, int(self.rows[index.row()]))
        if role == Qt.ItemDataRole.TextAlignmentRole and numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.layer is None or not len(self.rows):
            return
        _, text, numeric = COLUMNS[column]
        if numeric:
            keys = np.nan_to_num(np.asarray(getattr(self.layer, numeric), dtype=float)[self.rows], nan=-1.0)
            order_idx = np.argsort(keys, kind="stable")
        else:
            values = [text(self.layer, int(i)) for i in self.rows.tolist()]
            order_idx = np.array(sorted(range(len(values)), key=values.__getitem__), dtype=np.int64)
        if order == Qt.SortOrder.DescendingOrder:
            order_idx = order_idx[::-1]
        self.layoutAboutToBeChanged.emit()
        self.rows = self.rows[order_idx]
        self._position = {int(i): r for r, i in enumerate(self.rows.tolist())}
        self.layoutChanged.emit()


class AttributeTable(QWidget):
    """The table under the map. `selectionChanged` carries the selected parcels' layer indices."""

    selectionChanged = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ParcelTableModel(self)
        self.view = QTableView()
        self.view.setObjectName("map_attribute_table")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        # Fixed widths: sizing to contents would format every one of 100,000 rows.
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(96)
        header.setStretchLastSection(True)
        self.summary = QLabel()
        self.summary.setObjectName("map_attribute_summary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self._syncing = False
        self.view.selectionModel().selectionChanged.connect(self._selected)

    def set_rows(self, layer: ParcelLayer | None, rows: np.ndarray, title: str) -> None:
        self._syncing = True
        try:
            self.model.set_rows(layer, rows)
        finally:
            self._syncing = False
        area = float(np.nansum(layer.area_mu[rows])) if layer is not None and len(rows) else 0.0
        self.title = title
        self.summary.setText(f"{title}：{len(rows)} 个地块，{area:,.2f} 亩")

    def select_indices(self, indices: list[int]) -> None:
        """Select the rows of these layer indices (from the map), scrolling to the first."""
        self._syncing = True
        try:
            selection = QItemSelection()
            last = self.model.columnCount() - 1
            rows = [r for r in (self.model.row_of(i) for i in indices) if r is not None]
            for r in rows:
                selection.select(self.model.index(r, 0), self.model.index(r, last))
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.view.selectionModel().select(selection, flags)
            if rows:
                self.view.scrollTo(self.model.index(rows[0], 0))
        finally:
            self._syncing = False

    def selected_indices(self) -> list[int]:
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        return [int(self.model.rows[r]) for r in rows]

    def _selected(self, *_args: object) -> None:
        if not self._syncing:
            self.selectionChanged.emit(self.selected_indices())
