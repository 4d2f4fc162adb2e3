"""Small widgets shared by the views: inline error labels, date and number inputs that take what was
typed (or say why not), eliding labels, and tables that sort by pinyin and copy rows as TSV."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCollator,
    QDate,
    QLocale,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetricsF, QGuiApplication, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QCalendarWidget,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from wq_desktop import figures
from wq_desktop.errors import ValidationError
from wq_desktop.rules import dates, quantities

ERROR_STYLE = "color: #b00020;"
OVERDUE_COLOR = QColor("#b00020")


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


DATE_HINT = "如 2026-11-15、20261115、2026/11/15、2026年11月15日"


class DateEdit(QWidget):
    """A date typed the way people type it (2026-11-15, 20261115, 2026/11/15, 2026.11.15,
    2026年11月15日) or picked from a calendar; shown back as 2026-11-15. Text that is not a date
    stays as typed with the reason beneath it: it is never silently replaced by another date."""

    dateChanged = Signal(object)  # the new date, each time the text becomes a different valid date

    def __init__(self, value: str | date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText(DATE_HINT)
        self.line.setToolTip(DATE_HINT)
        self.line.setMinimumWidth(self.line.fontMetrics().horizontalAdvance("2026-12-01") + 16)
        self.button = QToolButton()
        self.button.setText("日历")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.calendar = QCalendarWidget()
        self.calendar.setLocale(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
        menu = QMenu(self.button)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.calendar)
        menu.addAction(action)
        self.button.setMenu(menu)
        self.error = ErrorLabel()
        self._last: date | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addLayout(row)
        column.addWidget(self.error)
        self.setFocusProxy(self.line)
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._finished)
        self.calendar.clicked.connect(self._picked)
        self.set_value(value or date.today())

    def _parse(self) -> date:
        return dates.parse_date(self.line.text(), self.objectName() or "date")

    def valid_value(self) -> date | None:
        """The typed date, or None while the text is not (yet) a date."""
        try:
            return self._parse()
        except ValidationError:
            return None

    def value(self) -> date:
        """The typed date; raises ValidationError with the reason (also shown under the field)."""
        try:
            day = self._parse()
        except ValidationError as err:
            self.error.show_error(err.message)
            raise
        return day

    def set_value(self, value: str | date | None) -> None:
        day = dates.parse_date(value) if value else date.today()
        self.line.setText(day.isoformat())
        self.error.show_error(None)
        self._emit_if_new(day)

    def _emit_if_new(self, day: date) -> None:
        if day != self._last:
            self._last = day
            if not self.signalsBlocked():
                self.dateChanged.emit(day)

    def _typed(self, _text: str) -> None:
        day = self.valid_value()
        if day is not None:
            self.error.show_error(None)
            self._emit_if_new(day)

    def _finished(self) -> None:
        if not self.line.text().strip():
            return
        try:
            day = self.value()
        except ValidationError:
            return
        self.line.setText(day.isoformat())  # 20261115 reads back as 2026-11-15: what was understood
        self._emit_if_new(day)

    def _picked(self, picked: QDate) -> None:
        self.button.menu().hide()
        self.set_value(from_qdate(picked))

    def showEvent(self, event) -> None:
        day = self.valid_value()
        if day is not None:
            self.calendar.setSelectedDate(to_qdate(day))
        super().showEvent(event)


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

    def set_default(self, value: str | date) -> None:
        """The date offered when the box is ticked (e.g. the patrol's date), unless one is set."""
        if not self.check.isChecked():
            self.edit.set_value(value)


class NumberEdit(QLineEdit):
    """A number kept exactly as typed: no spin box that rewrites `20` as `2.00` to fit its range.
    `number()` is the value, or raises ValidationError with the reason shown under the field."""

    def __init__(self, label: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label, self.unit = label, unit
        self.error = ErrorLabel()
        self.setPlaceholderText(f"单位：{unit}")
        self.textEdited.connect(lambda _t: self.check())

    def set_number(self, value: float | None) -> None:
        self.setText("" if value is None else quantities.format_mu(value))

    def number(self) -> float | None:
        """None for an empty box."""
        return quantities.non_negative_number(self.text(), self.objectName(), self.label)

    def check(self) -> str | None:
        try:
            self.number()
        except ValidationError as err:
            self.error.show_error(err.message)
            return err.message
        self.error.show_error(None)
        return None

    def number_or_zero(self) -> float:
        try:
            return self.number() or 0.0
        except ValidationError:
            return 0.0


class ElidedLabel(QLabel):
    """One line of text that shortens itself with … to the room it has, and never asks the layout
    for more: a 200-character name must not widen the window. The whole text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        """The whole text (what is drawn may be shortened with …; see shown_text)."""
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(hint.width(), 400))
        return hint

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(40)
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(self.width(), 40))
        super().setText(shown)


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    sort: Callable[[Any], Any] | None = None  # defaults to the text
    numeric: bool = False
    color: Callable[[Any], QColor | None] | None = None
    tooltip: Callable[[Any], str | None] | None = None


_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class RowsModel(QAbstractTableModel):
    """Read-only table over a list of plain rows (dataclasses from wq_desktop.queries). Cells are
    computed when Qt asks for them (only the rows on screen), and sorting happens here, in one
    Python sort over keys computed once per row: a proxy's lessThan calls back into Python for
    every comparison, which at a village of 300 households took longer than the query."""

    def __init__(self, columns: Sequence[Column], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[Any] = []
        self._sorted_by: tuple[int, Qt.SortOrder] | None = None
        self.collator = pinyin_collator()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        if self._sorted_by is not None:
            self.rows = [self.rows[i] for i in self._order(self.rows, *self._sorted_by)]
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
        # Qt asks each cell for a dozen roles per paint and per size hint: the common answer first.
        if role == _DISPLAY:
            return self.columns[index.column()].text(self.rows[index.row()])
        if role == _ALIGN:
            return _RIGHT if self.columns[index.column()].numeric else None
        if role == _FOREGROUND:
            col = self.columns[index.column()]
            return col.color(self.rows[index.row()]) if col.color else None
        if role == _TOOLTIP:
            col = self.columns[index.column()]
            return col.tooltip(self.rows[index.row()]) if col.tooltip else None
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder the rows by `column` (text by pinyin, numbers by value, empty first), stable;
        selections and the current row follow their rows."""
        if not 0 <= column < len(self.columns):
            self._sorted_by = None
            return
        self._sorted_by = (column, order)
        self.layoutAboutToBeChanged.emit()
        ordered = self._order(self.rows, column, order)
        new_row = {old: new for new, old in enumerate(ordered)}
        self.rows = [self.rows[i] for i in ordered]
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.index(new_row[i.row()], i.column()) for i in persistent])
        self.layoutChanged.emit()

    def _order(self, rows: list[Any], column: int, order: Qt.SortOrder) -> list[int]:
        """Positions of `rows` in sorted order."""
        col = self.columns[column]
        keys = [col.sort(r) if col.sort else col.text(r) for r in rows]
        if not all(k is None or isinstance(k, str) for k in keys):
            try:  # numbers, dates: by value unless they cannot be compared
                sorted(k for k in keys if k is not None)
            except TypeError:
                keys = [None if k is None else str(k) for k in keys]
        texts = sorted({k for k in keys if isinstance(k, str)}, key=cmp_to_key(self.collator.compare))
        rank = {t: i for i, t in enumerate(texts)}
        ranked = [(0, 0) if k is None else (1, rank[k] if isinstance(k, str) else k) for k in keys]
        return sorted(range(len(rows)), key=ranked.__getitem__,
                      reverse=order == Qt.SortOrder.DescendingOrder)


def pinyin_collator() -> QCollator:
    """Chinese office order: names by pinyin (阿明 < 陈七 < 李四 < 张三), numbers inside text by
    value (P2 < P10). Qt's collator for zh_CN uses ICU's pinyin collation."""
    collator = QCollator(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    collator.setNumericMode(True)
    return collator


class FilterProxy(QSortFilterProxyModel):
    """Keeps the rows a predicate accepts; sorting is the source RowsModel's (see there), so the
    proxy keeps the source's order."""

    def __init__(self, source: RowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.predicate: Callable[[Any], bool] = lambda _row: True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        assert isinstance(model, RowsModel)
        model.sort(column, order)

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


class DataTable(QTableView):
    """A table that behaves like the ones in WPS: Ctrl+C copies the selected rows as tab-separated
    text (pastes into Excel/WPS as rows and columns), every column sorts."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def selection_tsv(self) -> str:
        model = self.model()
        rows = sorted({i.row() for i in self.selectionModel().selectedIndexes()})
        if not rows and self.currentIndex().isValid():
            rows = [self.currentIndex().row()]
        columns = [c for c in range(model.columnCount()) if not self.isColumnHidden(c)]

        def cell(r: int, c: int) -> str:
            text = str(model.index(r, c).data(Qt.ItemDataRole.DisplayRole) or "")
            return text.replace("\t", " ").replace("\n", " ")

        return "".join("\t".join(cell(r, c) for c in columns) + "\n" for r in rows)

    def copy_selection(self) -> str:
        text = self.selection_tsv()
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def row_object(self, index: QModelIndex | None = None) -> Any:
        """The plain row (from wq_desktop.queries) under `index` (default: the current one)."""
        index = self.currentIndex() if index is None else index
        if not index.isValid():
            return None
        model = self.model()
        if isinstance(model, FilterProxy):
            return model.source_row(index.row())
        assert isinstance(model, RowsModel)
        return model.row_at(index.row())

    def select_object(self, match: Callable[[Any], bool]) -> bool:
        """Select and show the first row whose object `match` accepts."""
        for r in range(self.model().rowCount()):
            if match(self.row_object(self.model().index(r, 0))):
                self.selectRow(r)
                self.scrollTo(self.model().index(r, 0))
                return True
        return False


# Column widths come from a sample of rows, not all of them: a village of 300 households made
# Qt ask every cell of the table for its size at each reload.
SIZE_SAMPLE_ROWS = 60

# A column fitted to a 200-character name would push the others out of sight; wider text elides.
MAX_FITTED_COLUMN = 320


def make_table(model: QAbstractTableModel | QSortFilterProxyModel, *, sortable: bool = True,
               multi: bool = False) -> DataTable:
    """A table over `model`; a bare RowsModel gets a sorting proxy so every column sorts."""
    if isinstance(model, RowsModel) and sortable:
        model = FilterProxy(model, model)
    view = DataTable()
    view.setModel(model)
    # Qt's header starts with a descending indicator; tables read 一组 → 三组 by default.
    view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(sortable)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection if multi
                          else QTableView.SelectionMode.SingleSelection)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().setVisible(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setMaximumSectionSize(4 * MAX_FITTED_COLUMN)
    model.modelReset.connect(lambda: fit_columns(view))
    # A width the user drags stays (and is remembered, ui.window_state); refits leave it alone.
    header.sectionResized.connect(
        lambda *_a: view.property("fitting") or view.setProperty("user_widths", True))
    return view


def fit_columns(view: QTableView) -> None:
    """Fit columns to their text (the first SIZE_SAMPLE_ROWS rows and the title), none wider than
    MAX_FITTED_COLUMN, unless the user (or a remembered layout) has set the widths. Measured
    here from the texts: Qt's resizeColumnToContents asks every sampled cell for a dozen roles
    through Python and lays each out, 100 ms and more for one village's table. Widths are
    fractional and rounded up, as the delegate lays text out: QFontMetrics rounds 140.06 px down
    to 140, and the masked ID number's last digit became "…"."""
    if view.property("user_widths"):
        return
    model, header, metrics = view.model(), view.horizontalHeader(), QFontMetricsF(view.font())
    # What the item delegate puts around a line of text, and the grid line (as Qt's own fit).
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    pad = 2 * margin + int(view.showGrid())
    rows = range(min(model.rowCount(), SIZE_SAMPLE_ROWS))
    view.setProperty("fitting", True)
    try:
        for c in range(header.count()):
            lines = {line for r in rows for line in str(model.index(r, c).data() or "").split("\n")}
            text = math.ceil(max((metrics.horizontalAdvance(t) for t in lines), default=0)) + pad
            header.resizeSection(c, min(max(text, header.sectionSizeHint(c)), MAX_FITTED_COLUMN))
    finally:
        view.setProperty("fitting", False)


def scrolling(content: QWidget) -> QScrollArea:
    """`content` in a frameless scroll area: on a small or scaled screen (1366×768 at 150 %) the
    page scrolls instead of pushing the window's totals line and status bar off the screen."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(content)
    return area


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Size a window to (width, height) but never larger than the screen's free area, centred."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return
    free = screen.availableGeometry()
    # Room for the title bar and frame, which the window's own size does not include.
    w, h = min(width, free.width() - 16), min(height, free.height() - 48)
    window.resize(max(w, 200), max(h, 150))
    window.move(free.x() + (free.width() - window.width()) // 2,
                free.y() + max((free.height() - window.height() - 32) // 2, 0))


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
