"""The checks' findings, grouped by check, as a model the tree view reads from: at city size a
check finds thousands, and one QTreeWidgetItem per finding froze the window for seconds."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeView, QWidget

from wq_desktop.findings import Finding, Severity

ERROR_BRUSH = QBrush(QColor("#b00020"))
_TOP = 0  # internal id of a group's index; a finding's is its group's row + 1
_Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class FindingsModel(QAbstractItemModel):
    """Two levels: one row per check (its name and count), its findings below."""

    HEADERS = ("检查项 / 发现", "级别")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.groups: list[tuple[str, list[Finding]]] = []

    def set_findings(self, findings: list[Finding]) -> None:
        by_check: dict[str, list[Finding]] = {}
        for f in findings:
            by_check.setdefault(f.check, []).append(f)
        self.beginResetModel()
        self.groups = list(by_check.items())
        self.endResetModel()

    def finding(self, index: _Index) -> Finding | None:
        """The finding a row shows (None for a check's own row)."""
        if not index.isValid() or index.internalId() == _TOP:
            return None
        return self.groups[index.internalId() - 1][1][index.row()]

    def index(self, row: int, column: int, parent: _Index = _ROOT) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        return self.createIndex(row, column, _TOP if not parent.isValid() else parent.row() + 1)

    def parent(self, index: _Index | None = None) -> Any:  # type: ignore[override]
        if index is None:  # QObject.parent(), the same name in Qt
            return super().parent()
        if not index.isValid() or index.internalId() == _TOP:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _TOP)

    def rowCount(self, parent: _Index = _ROOT) -> int:
        if not parent.isValid():
            return len(self.groups)
        if parent.internalId() == _TOP and parent.column() == 0:
            return len(self.groups[parent.row()][1])
        return 0

    def columnCount(self, parent: _Index = _ROOT) -> int:
        return len(self.HEADERS)

    def hasChildren(self, parent: _Index = _ROOT) -> bool:
        return not parent.isValid() or (parent.internalId() == _TOP and parent.column() == 0)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if index.internalId() == _TOP:
                check, found = self.groups[index.row()]
                return f"{check}（{len(found)}）" if index.column() == 0 else ""
            f = self.groups[index.internalId() - 1][1][index.row()]
            return f.message if index.column() == 0 else str(f.severity)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1 and index.internalId() != _TOP:
            f = self.groups[index.internalId() - 1][1][index.row()]
            return ERROR_BRUSH if f.severity == Severity.ERROR else None
        return None


class FindingsTree(QTreeView):
    """Findings grouped by check; activating one (double-click, Enter) asks to open the record it
    concerns. A check with more than OPEN_UP_TO findings starts closed: opening it lays out its
    rows, which for thousands is the user's choice, not every run's."""

    recordRequested = Signal(str, str)
    OPEN_UP_TO = 200

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.findings_model = FindingsModel(self)
        self.setModel(self.findings_model)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setUniformRowHeights(True)
        self.activated.connect(self._open)

    def show_findings(self, findings: list[Finding]) -> None:
        self.findings_model.set_findings(findings)
        for row, (_check, found) in enumerate(self.findings_model.groups):
            if len(found) <= self.OPEN_UP_TO:
                self.expand(self.findings_model.index(row, 0))

    def clear(self) -> None:
        self.findings_model.set_findings([])

    def _open(self, index: QModelIndex) -> None:
        f = self.findings_model.finding(index)
        if f is not None and f.kind and f.record:
            self.recordRequested.emit(f.kind, f.record)
