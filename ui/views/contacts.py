"""包联 leaders and staff, and assigning many households to one of them at once."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import pasted_rows
from wq_desktop.errors import WqError
from wq_desktop.model import ContactRole, LeaderLevel
from wq_desktop.operations import Changes, households
from wq_desktop.operations import contacts as contact_ops
from wq_desktop.ordering import group_sort_key
from wq_desktop.queries import contacts, navigation
from wq_desktop.rules import phones
from wq_desktop.schema import KINDS
from wq_desktop.store import Store

from ..operations import change_bus, run_op
from ..when_shown import WhenShown
from ..widgets import Column, ErrorLabel, FilterProxy, RowsModel, make_table, save_cancel_buttons

CONTACT_COLUMNS = (
    Column("角色", lambda c: c.role),
    Column("姓名", lambda c: c.name),
    Column("职务", lambda c: c.post),
    Column("层级", lambda c: c.level),
    Column("联系电话", lambda c: c.phone),
    Column("包联户数", lambda c: str(c.households), sort=lambda c: c.households, numeric=True),
)
ASSIGN_COLUMNS = (
    Column("村", lambda r: r.village),
    Column("组", lambda r: r.group, sort=lambda r: group_sort_key(r.group)[0]),
    Column("经营者", lambda r: r.name),
    Column("包联负责人", lambda r: r.leader or "未指定"),
    Column("工作人员", lambda r: r.staff or "未指定"),
)


class ContactDialog(QDialog):
    def __init__(self, store: Store, township: str, contact: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.township, self.contact = store, township, contact
        record = store.get("contact", contact) if contact else None
        self.rev = record["rev"] if record else None
        self.setWindowTitle("编辑包联人员" if record else "新增包联人员")
        k = KINDS["contact"]
        self.role = QComboBox()
        self.role.addItems([r.value for r in ContactRole])
        self.name = QLineEdit()
        self.name.setObjectName("contact_name")
        self.post = QLineEdit()
        self.phone = QLineEdit()
        self.phone.setObjectName("contact_phone")
        self.level = QComboBox()
        self.level.addItem("", None)
        for level in LeaderLevel:
            self.level.addItem(level.value, level.value)
        self.errors = {n: ErrorLabel() for n in ("role", "name", "post", "phone", "level")}
        form = QFormLayout()
        for name, widget in (("role", self.role), ("name", self.name), ("post", self.post),
                             ("phone", self.phone), ("level", self.level)):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(widget)
            column.addWidget(self.errors[name])
            form.addRow(k.field(name).label + ("＊" if k.field(name).required else ""), box)
        self.general = ErrorLabel()
        self.phone.textEdited.connect(self._check_phone)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(save_cancel_buttons(self))
        if record:
            self.role.setCurrentText(record["role"])
            self.name.setText(record["name"])
            self.post.setText(record["post"] or "")
            self.phone.setText(phones.format_phone(record["phone"] or ""))
            self.level.setCurrentIndex(max(self.level.findData(record["level"]), 0))

    def _check_phone(self, text: str) -> None:
        try:
            if text.strip():
                phones.normalize_phone(text)
            self.errors["phone"].show_error(None)
        except WqError as err:
            self.errors["phone"].show_error(str(err))

    def values(self) -> dict[str, Any]:
        return {"role": self.role.currentText(), "name": self.name.text(), "post": self.post.text(),
                "phone": self.phone.text(), "level": self.level.currentData()}

    def save(self) -> None:
        for error in [*self.errors.values(), self.general]:
            error.show_error(None)
        uuid, rev = self.contact, self.rev
        values = self.values() if uuid else {"township": self.township, **self.values()}

        def saved(changes: Changes) -> None:
            self.contact = changes.result
            self.accept()

        def refused(err: WqError) -> None:
            (self.errors.get(getattr(err, "field", None) or "") or self.general).show_error(str(err))

        run_op(self, self.store, lambda s: contact_ops.save_contact(s, uuid, values, base_rev=rev),
               on_done=saved, on_error=refused)


# Operations made on this page: it redraws at once after them; after others' (a sync, the
# household form) it redraws when next shown, never under a selection being made.
OWN_OPERATIONS = {"save_contact", "delete_contact", "assign_contacts"}


class ContactsView(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # Loaded when first shown: a township's 包联 table is thousands of rows.
        self.when_shown = WhenShown(self, "refresh", pending=True)
        change_bus(store).changed.connect(self.apply_changes)
        self.contact_model = RowsModel(CONTACT_COLUMNS, self)
        self.contact_proxy = FilterProxy(self.contact_model, self)
        self.contact_table = make_table(self.contact_proxy, sortable=True)
        self.contact_table.setObjectName("contacts_table")
        self.add_button = QPushButton("新增人员…")
        self.edit_button = QPushButton("编辑…")
        self.delete_button = QPushButton("删除…")
        left = QGroupBox("包联负责人与工作人员")
        left_layout = QVBoxLayout(left)
        row = QHBoxLayout()
        for b in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(b)
        row.addStretch(1)
        left_layout.addLayout(row)
        left_layout.addWidget(self.contact_table)

        self.village = QComboBox()
        self.village.setObjectName("assign_village")
        self.assign_model = RowsModel(ASSIGN_COLUMNS, self)
        self.assign_proxy = FilterProxy(self.assign_model, self)
        self.assign_table = make_table(self.assign_proxy, sortable=True, multi=True)
        self.assign_table.setObjectName("assign_table")
        self.assign_search = QLineEdit()
        self.assign_search.setObjectName("assign_search")
        self.assign_search.setClearButtonEnabled(True)
        self.assign_search.setPlaceholderText("搜索：姓名 / 组 / 包联负责人 / 工作人员")
        self.assign_hits = QLabel()
        self.assign_hits.setObjectName("assign_hits")
        self.assign_search.textChanged.connect(lambda _t: self._filter_assignments())
        self.paste_button = QPushButton("粘贴名单选中…")
        self.paste_button.setObjectName("assign_paste")
        self.paste_button.setToolTip("在Excel中复制一列姓名（可带村、组列），粘贴即选中这些经营者（Ctrl+V）")
        self.paste_button.clicked.connect(self.paste_selection)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self.assign_table)
        paste.activated.connect(self.paste_selection)
        self.leader = QComboBox()
        self.leader.setObjectName("assign_leader")
        self.staff = QComboBox()
        self.staff.setObjectName("assign_staff")
        self.assign_button = QPushButton("分配给所选经营者")
        self.assign_button.setObjectName("assign_button")
        self.assign_result = QLabel()
        self.assign_error = ErrorLabel()
        right = QGroupBox("批量分配包联（按住 Ctrl 或 Shift 多选经营者）")
        right_layout = QVBoxLayout(right)
        top = QHBoxLayout()
        top.addWidget(QLabel("村"))
        top.addWidget(self.village, 1)
        top.addWidget(self.assign_search, 2)
        top.addWidget(self.assign_hits)
        top.addWidget(self.paste_button)
        right_layout.addLayout(top)
        right_layout.addWidget(self.assign_table, 1)
        form = QFormLayout()
        form.addRow("包联负责人", self.leader)
        form.addRow("工作人员", self.staff)
        right_layout.addLayout(form)
        right_layout.addWidget(self.assign_button)
        right_layout.addWidget(self.assign_result)
        right_layout.addWidget(self.assign_error)

        splitter = QSplitter()
        splitter.setObjectName("contacts_splitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([500, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.add_button.clicked.connect(lambda: self.edit_contact(None))
        self.edit_button.clicked.connect(lambda: self.edit_contact(self._current_contact()))
        self.contact_table.doubleClicked.connect(lambda _i: self.edit_contact(self._current_contact()))
        self.delete_button.clicked.connect(self.delete_contact)
        self.village.currentIndexChanged.connect(self._load_assignments)
        self.assign_button.clicked.connect(self.assign)

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        self.when_shown.done()
        self.contact_model.set_rows(contacts.contact_rows(self.store))
        current = self.village.currentData()
        self.village.blockSignals(True)
        self.village.clear()
        self.village.addItem("全部村", None)
        for uuid, name in navigation.villages(self.store):
            self.village.addItem(name, uuid)
        self.village.setCurrentIndex(max(self.village.findData(current), 0))
        self.village.blockSignals(False)
        for combo, role in ((self.leader, ContactRole.LEADER), (self.staff, ContactRole.STAFF)):
            keep = combo.currentData()
            combo.clear()
            combo.addItem("（不变）", None)
            for uuid, label in contacts.contacts_by_role(self.store, role):
                combo.addItem(label, uuid)
            combo.setCurrentIndex(max(combo.findData(keep), 0))
        self._load_assignments()

    def _load_assignments(self) -> None:
        self.assign_model.set_rows(contacts.assignment_rows(self.store, self.village.currentData()))
        self._filter_assignments()

    def _filter_assignments(self) -> None:
        words = self.assign_search.text().split()

        def keep(r: contacts.AssignRow) -> bool:
            text = " ".join((r.village, r.group, r.name, r.leader, r.staff))
            return all(w in text for w in words)

        self.assign_proxy.set_predicate(keep)
        shown, total = self.assign_proxy.rowCount(), self.assign_model.rowCount()
        self.assign_hits.setText(f"找到 {shown} 户" if words else f"共 {total} 户")

    def paste_selection(self, text: str | None = None) -> pasted_rows.PastedMatch:
        """Select the households a list pasted from Excel names (one per line)."""
        text = QGuiApplication.clipboard().text() if text is None else text
        self.assign_search.clear()
        match = pasted_rows.match_households(self.assign_model.rows, text)
        selection = self.assign_table.selectionModel()
        selection.clearSelection()
        wanted = set(match.operators)
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for r in range(self.assign_proxy.rowCount()):
            if self.assign_proxy.source_row(r).operator in wanted:
                selection.select(self.assign_proxy.index(r, 0), flags)
        self.assign_result.setText(match.describe())
        return match

    def _current_contact(self) -> contacts.ContactRow | None:
        index = self.contact_table.currentIndex()
        return self.contact_proxy.source_row(index.row()) if index.isValid() else None

    def selected_operators(self) -> list[str]:
        rows = {i.row() for i in self.assign_table.selectionModel().selectedRows()}
        return [self.assign_proxy.source_row(r).operator for r in sorted(rows)]

    # ------------------------------------------------------------ actions
    def edit_contact(self, contact: contacts.ContactRow | None) -> ContactDialog | None:
        townships = navigation.townships(self.store)
        if not townships:
            QMessageBox.information(self, "尚无乡镇", "请先建立乡镇。")
            return None
        dialog = ContactDialog(self.store, townships[0][0], contact.uuid if contact else None, self)
        dialog.open()
        return dialog

    def delete_contact(self) -> None:
        contact = self._current_contact()
        if contact is None:
            QMessageBox.information(self, "请先选择", "请先在表格中选择一名人员。")
            return
        note = ""
        if contact.households:
            note = f"\n该人员现包联 {contact.households} 户，删除后这些户的包联将清空。"
        if QMessageBox.question(self, "删除包联人员", f"确定删除“{contact.name}”？{note}"
                                ) != QMessageBox.StandardButton.Yes:
            return
        run_op(self, self.store, lambda s: contact_ops.delete_contact(s, contact.uuid),
               error_title="无法删除")

    def assign(self) -> int:
        self.assign_error.show_error(None)
        operators = self.selected_operators()
        if not operators:
            self.assign_error.show_error("请先在表格中选择要分配的经营者（可按住 Ctrl 或 Shift 多选）。")
            return 0
        leader, staff = self.leader.currentData(), self.staff.currentData()
        who = "、".join(c.currentText() for c in (self.leader, self.staff) if c.currentData())
        changes = run_op(self, self.store,
                         lambda s: households.assign_contacts(s, operators, leader=leader, staff=staff),
                         on_done=lambda c: self.assign_result.setText(f"已将 {c.result} 户分配给 {who}。"),
                         on_error=lambda err: self.assign_error.show_error(str(err)))
        return changes.result if changes else 0

    def apply_changes(self, changes: Changes) -> None:
        if not changes.touches("contact", "operator", "village", "township"):
            return
        if self.isVisible() and changes.operation in OWN_OPERATIONS:
            self.refresh()
        else:
            self.when_shown.defer()
