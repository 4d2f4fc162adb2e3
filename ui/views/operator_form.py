"""The land operator's details, checked as they are typed with the same rules the store applies."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import validation
from wq_desktop.errors import ValidationError
from wq_desktop.model import ContactRole, OperatorKind
from wq_desktop.operations import Changes, households
from wq_desktop.printing.fonts import NoChineseFontError, unprintable_chars
from wq_desktop.queries import contacts, navigation
from wq_desktop.rules import identity, phones
from wq_desktop.schema import KINDS
from wq_desktop.store import Store

from ..operations import run_op
from ..widgets import ErrorLabel

_OPERATOR = KINDS["operator"]
TEXT_FIELDS = ("name", "id_code", "legal_rep", "phone", "address", "note")


class OperatorForm(QWidget):
    """Create or edit one household. `save()` writes through the store or shows why it cannot."""

    dirty_changed = Signal(bool)
    saved = Signal(str)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.uuid: str | None = None
        self.rev: int | None = None
        self.village: str | None = None
        self._dirty = False
        self._loading = False
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, ErrorLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # Created in form order, so Tab moves down the form as it reads.
        self.kind = QComboBox()
        self.kind.addItems([k.value for k in OperatorKind])
        self._add_row(form, "name", self._line("name", "户主姓名或单位名称"))
        self.edits["name"].setMaxLength(identity.MAX_NAME_CHARS + 40)  # room to see, and say, the excess
        self._add_row(form, "kind", self.kind)
        self._add_row(form, "id_code", self._line("id_code", "农户填18位身份证号，单位填统一社会信用代码"))
        self._add_row(form, "legal_rep", self._line("legal_rep", "合作社、企业必填"))
        self._add_row(form, "phone", self._line("phone", "手机号或0994-1234567"))
        self._add_row(form, "address", self._line("address", ""))
        self.group = QComboBox()
        self._add_row(form, "group", self.group)
        self.leader = QComboBox()
        self._add_row(form, "leader", self.leader)
        self.staff = QComboBox()
        self._add_row(form, "staff", self.staff)
        self._add_row(form, "note", self._line("note", ""))
        self.general_error = ErrorLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        self.kind.currentTextChanged.connect(self._kind_changed)
        for combo in (self.group, self.leader, self.staff):
            combo.currentIndexChanged.connect(lambda _i: self._set_dirty(True))

    # ------------------------------------------------------------ building
    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"operator_{name}")
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda _t, n=name: self._edited(n))
        # 18 characters of an ID number stay readable; a narrow window scrolls instead of squeezing.
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("0") * 20 + 12)
        self.edits[name] = edit
        return edit

    def _add_row(self, form: QFormLayout, name: str, widget: QWidget) -> None:
        f = _OPERATOR.field(name)
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(widget)
        error = ErrorLabel()
        error.setObjectName(f"error_{name}")
        column.addWidget(error)
        self.errors[name] = error
        label = f.label + ("＊" if f.required else "")
        form.addRow(label, box)

    # ------------------------------------------------------------ loading
    def load(self, record: dict[str, Any] | None, village: str) -> None:
        """Show a record (None: a new household in `village`)."""
        self._loading = True
        self.uuid = record["uuid"] if record else None
        self.rev = record["rev"] if record else None
        self.village = village
        self._fill_combo(self.group, navigation.village_groups(self.store, village),
                         record and record["group"])
        self._fill_combo(self.leader, contacts.contacts_by_role(self.store, ContactRole.LEADER),
                         record and record["leader"])
        self._fill_combo(self.staff, contacts.contacts_by_role(self.store, ContactRole.STAFF),
                         record and record["staff"])
        self.kind.setCurrentText(record["kind"] if record else OperatorKind.FARMER.value)
        for name, edit in self.edits.items():
            value = (record or {}).get(name) or ""
            if name == "phone":
                value = phones.format_phone(value)
            edit.setText(str(value))
        for error in self.errors.values():
            error.show_error(None)
        self.general_error.show_error(None)
        self._loading = False
        self._set_dirty(False)
        self._update_legal_rep()

    @staticmethod
    def _fill_combo(combo: QComboBox, items: list[tuple[str, str]], current: str | None) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("（未选择）", None)
        for uuid, label in items:
            combo.addItem(label, uuid)
        index = combo.findData(current) if current else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    # ------------------------------------------------------------ live checks
    @property
    def dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, dirty: bool) -> None:
        if self._loading:
            return
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    def _edited(self, name: str) -> None:
        self._set_dirty(True)
        self.errors[name].show_error(self.live_error(name) or self.live_warning(name))

    def _kind_changed(self, _text: str) -> None:
        self._update_legal_rep()
        if self._loading:
            return
        self._set_dirty(True)
        if self.edits["id_code"].text().strip():
            self.errors["id_code"].show_error(self.live_error("id_code"))
        self.errors["legal_rep"].show_error(None)

    def _update_legal_rep(self) -> None:
        needs = self.kind.currentText() in (OperatorKind.COOPERATIVE, OperatorKind.COMPANY)
        self.edits["legal_rep"].setPlaceholderText("必填" if needs else "农户、村集体可不填")

    def live_warning(self, name: str) -> str | None:
        """Not an error: a character no bundled font has (it would show and print as a box).
        The household still saves; the notice prints, with the clerk warned here first."""
        if name not in ("name", "legal_rep", "address"):
            return None
        try:
            missing = unprintable_chars(self.edits[name].text())
        except NoChineseFontError:
            return None
        if not missing:
            return None
        shown = "、".join(f"“{ch}”(U+{ord(ch):04X})" for ch in missing)
        return f"提示：{shown}没有可用的字体，屏幕和打印会显示为方框；请核对是否录错或用常用字。"

    def live_error(self, name: str) -> str | None:
        """The message the store would give for this field's current text, or None."""
        text = self.edits[name].text().strip()
        try:
            if name == "name" and not text:
                return "请填写“姓名/名称”。"
            if name == "name":
                identity.check_name_length(text, "name")
            if name == "id_code":
                if not text:
                    return "请填写身份证号或统一社会信用代码。"
                normalized = identity.normalize_identity(self.kind.currentText(), text, "id_code")
                if self.village is not None:
                    return validation.id_clash(self.store, self.village, normalized, self.uuid)
            if name == "phone" and text:
                phones.normalize_phone(text)
        except ValidationError as err:
            return err.message
        return None

    # ------------------------------------------------------------ saving
    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: edit.text().strip() or None for name, edit in self.edits.items()}
        values.update(kind=self.kind.currentText(), group=self.group.currentData(),
                      leader=self.leader.currentData(), staff=self.staff.currentData())
        return values

    def save(self) -> str | None:
        """Write the household; on a refused value show the message by its field and keep the text."""
        assert self.village is not None
        for error in self.errors.values():
            error.show_error(None)
        self.general_error.show_error(None)
        values, uuid, rev = self.values(), self.uuid, self.rev

        def saved(changes: Changes) -> None:
            self.uuid = changes.result
            record = self.store.get("operator", self.uuid)
            self.load(record, record["village"])
            self.saved.emit(self.uuid)

        changes = run_op(self, self.store,
                         lambda s: households.save_operator(s, uuid, values, village=self.village,
                                                            base_rev=rev),
                         on_done=saved,
                         # a refused value, or someone else changed the record meanwhile
                         on_error=lambda err: self.show_error(getattr(err, "field", None), str(err)))
        return self.uuid if changes else None

    def show_error(self, field: str | None, message: str) -> None:
        target = self.errors.get(field or "")
        (target or self.general_error).show_error(message)
        widget = self.edits.get(field or "")
        if widget is not None:
            widget.setFocus()
