"""Open rectifications across the township; overdue ones first and in red."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from wq_desktop.operations import Changes
from wq_desktop.queries.rectifications import RectificationRow, open_rectifications
from wq_desktop.store import Store

from ..operations import change_bus
from ..when_shown import WhenShown
from ..widgets import OVERDUE_COLOR, Column, RowsModel, make_table


def _overdue_text(r: RectificationRow) -> str:
    if r.overdue:
        return f"已逾期 {r.overdue_days} 天"
    return "整改中" if r.deadline else "未定期限"


def _red(r: RectificationRow) -> QColor | None:
    return OVERDUE_COLOR if r.overdue else None


# What a row shows: the patrol, its parcel's code, the operator's name, the village's name.
SHOWN_KINDS = ("patrol", "parcel", "operator", "village")

RECT_COLUMNS = (
    Column("状态", _overdue_text, sort=lambda r: -r.overdue_days, color=_red),
    Column("整改期限", lambda r: r.deadline, color=_red),
    Column("村", lambda r: r.village),
    Column("经营者", lambda r: r.operator_name),
    Column("地块", lambda r: r.parcel_code),
    Column("巡查日期", lambda r: r.visited_on),
    Column("判定", lambda r: r.result),
    Column("整改要求", lambda r: r.requirement),
    Column("责任人", lambda r: r.responsible),
)


class RectificationsView(QWidget):
    """Double-click a row to open the patrol for recheck and closing."""

    open_patrol = Signal(str, str)  # patrol uuid, operator uuid

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = RowsModel(RECT_COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("rectifications_table")
        self.summary = QLabel()
        self.open_button = QPushButton("打开巡查记录（复查/结案）")
        refresh = QPushButton("刷新")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.open_button)
        top.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        refresh.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self._open_current)
        self.table.doubleClicked.connect(self._open_index)
        # Loaded when first shown: at township size a query and thousands of rows.
        self.when_shown = WhenShown(self, "refresh", pending=True)
        change_bus(store).changed.connect(self.apply_changes)

    def apply_changes(self, changes: Changes) -> None:
        """Redraw now if on screen, else when next shown, after a change to what the rows show."""
        if changes.touches(*SHOWN_KINDS):
            self.when_shown.request()

    def refresh(self) -> None:
        self.when_shown.done()
        rows = open_rectifications(self.store)
        self.model.set_rows(rows)
        overdue = sum(r.overdue for r in rows)
        self.summary.setText(f"未结案整改 {len(rows)} 项，其中已逾期 {overdue} 项（红色）。")

    def _open_index(self, index: QModelIndex) -> None:
        row = self.table.row_object(index)
        self.open_patrol.emit(row.patrol, row.operator)

    def _open_current(self) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            self._open_index(index)
