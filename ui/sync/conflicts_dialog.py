"""同步冲突: the open conflicts, and for one of them each disputed field with my value and the other
device's value side by side; the user picks one per field and saves (the choice syncs like an edit)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.model import RecordOp, record_op_label
from wq_desktop.operations import Changes
from wq_desktop.operations import sync as sync_ops
from wq_desktop.store import Store
from wq_desktop.sync import conflict_detail, list_conflicts
from wq_desktop.sync.conflicts import MINE, THEIRS, ConflictDetail, ConflictSummary
from wq_desktop.sync.status import conflict_time, local_time_text

from ..operations import run_op
from ..widgets import ErrorLabel


def _side_text(user: str | None, op: str, fallback: str) -> str:
    return f"{user or fallback}（{record_op_label(op)}）"


class ConflictsDialog(QDialog):
    """Non-modal: the user may open the record in the window while deciding."""

    resolved = Signal(str)  # conflict uuid
    open_record = Signal(str, str)  # kind, uuid

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("同步冲突")
        self.resize(980, 620)
        self.conflicts: list[ConflictSummary] = []
        self.detail: ConflictDetail | None = None
        self.groups: dict[str, QButtonGroup] = {}

        self.list = QTableWidget(0, 5)
        self.list.setObjectName("conflict_list")
        self.list.setHorizontalHeaderLabels(["记录", "类型", "冲突内容", "双方", "时间"])
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        header = self.list.horizontalHeader()
        for col in (0, 1, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.list.itemSelectionChanged.connect(self._selected)
        self.empty_label = QLabel("没有待处理的同步冲突。")

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.fields = QTableWidget(0, 3)
        self.fields.setObjectName("conflict_fields")
        self.fields.setHorizontalHeaderLabels(["字段", "我的", "对方的"])
        self.fields.verticalHeader().hide()
        self.fields.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.fields.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.fields.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.all_mine = QPushButton("全部用我的")
        self.all_theirs = QPushButton("全部用对方的")
        self.open_button = QPushButton("打开记录")
        self.save_button = QPushButton("保存选择")
        self.save_button.setDefault(True)
        self.error = ErrorLabel()
        self.all_mine.clicked.connect(lambda: self.choose_all(MINE))
        self.all_theirs.clicked.connect(lambda: self.choose_all(THEIRS))
        self.open_button.clicked.connect(self._open_record)
        self.save_button.clicked.connect(self.save)

        close = QPushButton("关闭")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for b in (self.all_mine, self.all_theirs, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        hint = QLabel("两台设备修改了同一项内容，双方的内容都已保留。请逐项选择保留哪一方，"
                      "保存后将在下次同步时发送到服务器和其他设备。")
        hint.setWordWrap(True)
        detail = QWidget()
        lay = QVBoxLayout(detail)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.heading)
        lay.addWidget(self.fields, 1)
        lay.addWidget(self.error)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(self.empty_label)
        top_lay.addWidget(self.list)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(detail)
        splitter.setSizes([220, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.refresh()

    # ------------------------------------------------------------ list
    def refresh(self) -> None:
        chosen = self.detail.summary.uuid if self.detail else None
        self.conflicts = list_conflicts(self.store)
        self.list.setRowCount(len(self.conflicts))
        for row, c in enumerate(self.conflicts):
            sides = (f"我：{_side_text(c.mine_user, c.mine_op, '本机')}　"
                     f"对方：{_side_text(c.theirs_user, c.theirs_op, '其他设备')}")
            cells = (c.title, c.kind_label, "、".join(c.field_labels), sides,
                     local_time_text(conflict_time(self.store, c.uuid), ""))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, c.uuid)
                self.list.setItem(row, col, item)
        self.empty_label.setVisible(not self.conflicts)
        self.list.setVisible(bool(self.conflicts))
        uuids = [c.uuid for c in self.conflicts]
        if uuids:
            self.list.selectRow(uuids.index(chosen) if chosen in uuids else 0)
        else:
            self.show_conflict(None)

    def _selected(self) -> None:
        rows = self.list.selectionModel().selectedRows()
        self.show_conflict(self.conflicts[rows[0].row()].uuid if rows else None)

    def select(self, conflict_uuid: str) -> None:
        for row, c in enumerate(self.conflicts):
            if c.uuid == conflict_uuid:
                self.list.selectRow(row)

    # ------------------------------------------------------------ one conflict
    def show_conflict(self, conflict_uuid: str | None) -> None:
        self.error.show_error(None)
        self.detail = conflict_detail(self.store, conflict_uuid) if conflict_uuid else None
        self.groups = {}
        self.fields.setRowCount(0)
        for b in (self.all_mine, self.all_theirs, self.open_button, self.save_button):
            b.setEnabled(self.detail is not None)
        if self.detail is None:
            self.heading.setText("")
            return
        s = self.detail.summary
        mine = _side_text(s.mine_user, s.mine_op, "本机")
        theirs = _side_text(s.theirs_user, s.theirs_op, "其他设备")
        heading = f"<b>{s.kind_label}“{s.title}”</b>　我的：{mine}　对方的：{theirs}"
        if RecordOp.CREATE in (s.mine_op, s.theirs_op):
            heading += ("<br>两台设备分别新增了同一条记录，各处只保留一条、不重复统计：选“我的”"
                        "并入已有记录，选“对方的”放弃本机修改。" if s.mine_op == RecordOp.CREATE else
                        "<br>另一台设备也新增了这条记录，各处只保留一条、不重复统计：逐项选择保留哪一方的内容。")
        self.heading.setText(heading)
        self.fields.setRowCount(len(self.detail.fields))
        for row, f in enumerate(self.detail.fields):
            self.fields.setItem(row, 0, QTableWidgetItem(f.label))
            group = QButtonGroup(self)
            for col, (side, text) in enumerate(((MINE, f.mine_text), (THEIRS, f.theirs_text)), 1):
                radio = QRadioButton(text)
                radio.setProperty("side", side)
                radio.setToolTip(text)
                group.addButton(radio)
                self.fields.setCellWidget(row, col, radio)
            self.groups[f.name] = group
        self.fields.resizeRowsToContents()

    def choose(self, field_name: str, side: str) -> None:
        for button in self.groups[field_name].buttons():
            if button.property("side") == side:
                button.setChecked(True)

    def choose_all(self, side: str) -> None:
        for name in self.groups:
            self.choose(name, side)

    def choices(self) -> dict[str, str]:
        out = {}
        for name, group in self.groups.items():
            checked = group.checkedButton()
            if checked is not None:
                out[name] = str(checked.property("side"))
        return out

    def save(self) -> bool:
        if self.detail is None:
            return False
        choices = self.choices()
        missing = [f.label for f in self.detail.fields if f.name not in choices]
        if missing:
            self.error.show_error(f"请为每一项选择保留哪一方：{'、'.join(missing)}。")
            return False
        uuid = self.detail.summary.uuid

        def resolved(_changes: Changes) -> None:
            self.detail = None
            self.refresh()  # this list, not a view: the window redraws from the broadcast
            self.resolved.emit(uuid)

        return run_op(self, self.store, lambda s: sync_ops.resolve_conflict(s, uuid, choices),
                      on_done=resolved, on_error=lambda err: self.error.show_error(str(err))
                      ) is not None

    def _open_record(self) -> None:
        if self.detail is not None:
            self.open_record.emit(self.detail.summary.record_kind, self.detail.summary.record)
