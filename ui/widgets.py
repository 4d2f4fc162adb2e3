"""Small widgets shared by the views: inline error labels, date inputs, a table model over plain rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

from wq_desktop import figures

ERROR_STYLE = "color: #b00020;"
OVERDUE_COLOR = QColor("#b00020")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


class ErrorLabel(QLabel):
    """Red text beside a field; empty and hidden when the field is fine."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.hide()

    def show_error(self, message: str | None) -> None:
        self.setText(message or "")
        self.setVisible(bool(message))


def to_qdate(value: str | date | None) -> QDate:
    if not value:
        return QDate.currentDate()
    d = value if isinstance(value, date) else date.fromisoformat(value)
    return QDate(d.year, d.month, d.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class DateEdit(QDateEdit):
    """A date field with a calendar popup, shown as 2026-07-28."""

    def __init__(self, value: str | date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(to_qdate(value), parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")

    def value(self) -> date:
        return from_qdate(self.date())

    def set_value(self, value: str | date | None) -> None:
        self.setDate(to_qdate(value))


class OptionalDate(QWidget):
    """A date that may be left out (e.g. 复查日期 before the recheck): a check box enables it."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox(label)
        self.edit = DateEdit()
        self.edit.setEnabled(False)
        self.check.toggled.connect(self.edit.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.edit, 1)
        self.setFocusProxy(self.check)

    def value(self) -> date | None:
        return self.edit.value() if self.check.isChecked() else None

    def set_value(self, value: str | date | None) -> None:
        self.check.setChecked(bool(value))
        if value:
            self.edit.set_value(value)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None  # defaults to the text
    numeric: bool = False
    color: Callable[[Any], QColor | None] | None = None


class RowsModel(QAbstractTableModel):
    """Read-only table over a list of plain rows (dataclasses from wq_desktop.queries)."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self.rows[row]

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == SORT_ROLE:
            key = col.sort(row) if col.sort else col.text(row)
            # Qt compares numbers it knows; figures of record are Decimal.
            return float(key) if isinstance(key, Decimal) else key
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col.color:
            return col.color(row)
        return None


class FilterProxy(QSortFilterProxyModel):
    """Sorts by each column's sort key and keeps rows a predicate accepts."""

    def __init__(self, source: RowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.predicate: Callable[[Any], bool] = lambda _row: True

    def set_predicate(self, predicate: Callable[[Any], bool]) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9 replaces invalidateFilter()
            self.beginFilterChange()
            self.predicate = predicate
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.predicate = predicate
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, RowsModel)
        return self.predicate(model.row_at(source_row))

    def visible_rows(self) -> list[Any]:
        model = self.sourceModel()
        assert isinstance(model, RowsModel)
        return [model.row_at(self.mapToSource(self.index(r, 0)).row()) for r in range(self.rowCount())]

    def source_row(self, proxy_row: int) -> Any:
        model = self.sourceModel()
        assert isinstance(model, RowsModel)
        return model.row_at(self.mapToSource(self.index(proxy_row, 0)).row())


def make_table(model: QAbstractTableModel | QSortFilterProxyModel, *, sortable: bool = False,
               multi: bool = False) -> QTableView:
    view = QTableView()
    view.setModel(model)
    # Qt's header starts with a descending indicator; tables read 一组 → 三组 by default.
    view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(sortable)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection if multi
                          else QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def mu(value: float | Decimal | None) -> str:
    """An area of record as on paper (figures.show), with thousands separators for the screen."""
    return f"{Decimal(figures.show(value or 0)):,.2f}"


def yuan(value: float | Decimal | None) -> str:
    return f"{Decimal(figures.show(value or 0)):,.2f}"


def save_cancel_buttons(dialog: QDialog, save_text: str = "保存") -> QDialogButtonBox:
    """保存 / 取消 with Chinese labels; 保存 calls dialog.save(), which accepts only on success."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Save).setText(save_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(dialog.save)  # type: ignore[attr-defined]
    buttons.rejected.connect(dialog.reject)
    return buttons
