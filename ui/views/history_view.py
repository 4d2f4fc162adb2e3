"""Change history of a household and everything hanging off it: who changed which field, old → new."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from wq_desktop.queries import change_log
from wq_desktop.store import Store

from ..when_shown import WhenShown
from ..widgets import Column, RowsModel, make_table

HISTORY_COLUMNS = (
    Column("时间", lambda r: r.at),
    Column("用户", lambda r: r.user),
    Column("记录", lambda r: r.record),
    Column("操作", lambda r: r.action),
    Column("字段", lambda r: r.field),
    Column("原值", lambda r: r.old),
    Column("新值", lambda r: r.new),
)


class HistoryView(QWidget):
    """Read when looked at: a household's history can run to hundreds of entries, and the tab is
    usually closed while the household is saved again and again."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operator: str | None = None
        self.when_shown = WhenShown(self, "_load")
        self.model = RowsModel(HISTORY_COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("history_table")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def load_household(self, operator: str | None) -> None:
        self.operator = operator
        if operator is None:
            self._load()
        else:
            self.when_shown.request()

    def _load(self) -> None:
        self.when_shown.done()
        self.model.set_rows(change_log.household_history(self.store, self.operator)
                            if self.operator else [])

    def rows(self) -> list[change_log.ChangeRow]:
        """What the tab shows (read now if it was not open since the last change)."""
        if self.when_shown.pending:
            self._load()
        return list(self.model.rows)
