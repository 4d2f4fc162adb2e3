"""This year's agreement of one household: its number, status and step dates, and buttons that move
it through the allowed steps (草拟 → 已签订 → 已公示 → 已报备, or 终止) on a chosen date. The date
offered follows the workflow (never before the last step; 已公示 in the village notice period), and
a step's date can be corrected later, with the history keeping both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import validation
from wq_desktop.model import AGREEMENT_DATE_FIELD, AGREEMENT_NEXT, AgreementStatus
from wq_desktop.operations import Changes, agreements
from wq_desktop.queries import village_table
from wq_desktop.queries.household import agreement_for
from wq_desktop.schema import KINDS
from wq_desktop.store import Store

from ..operations import run_op
from ..widgets import DateEdit, ErrorLabel, save_cancel_buttons

STEP_VERBS = {AgreementStatus.SIGNED: "签订", AgreementStatus.PUBLICIZED: "公示",
              AgreementStatus.FILED: "报备"}
_LABELS = {col: KINDS["agreement"].field(col).label for col in AGREEMENT_DATE_FIELD.values()}


class CorrectDateDialog(QDialog):
    """更正日期: pick a step already taken and type its right date."""

    def __init__(self, store: Store, agreement: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.agreement = store, agreement
        self.setWindowTitle(f"更正协议 {agreement['number']} 的步骤日期")
        self.step = QComboBox()
        self.step.setObjectName("correct_step")
        for col in AGREEMENT_DATE_FIELD.values():
            if agreement[col]:
                self.step.addItem(f"{_LABELS[col]}（现为 {agreement[col]}）", col)
        self.on = DateEdit()
        self.on.setObjectName("correct_date")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("步骤", self.step)
        form.addRow("正确日期", self.on)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("更正记入变更历史，原日期仍可查到。"))
        layout.addWidget(self.error)
        layout.addWidget(save_cancel_buttons(self, "更正"))
        self.step.currentIndexChanged.connect(self._step_changed)
        self._step_changed()

    def _step_changed(self) -> None:
        col = self.step.currentData()
        if col:
            self.on.set_value(self.agreement[col])

    def save(self) -> None:
        self.error.show_error(None)
        uuid, field, on = self.agreement["uuid"], self.step.currentData(), self.on.value()
        run_op(self, self.store, lambda s: agreements.correct_agreement_date(s, uuid, field, on),
               on_done=lambda _c: self.accept(), on_error=lambda err: self.error.show_error(str(err)))


class AgreementPanel(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operator: str | None = None
        self.year = date.today().year
        self.agreement: dict | None = None
        self.number = QLabel()
        self.status = QLabel()
        self.status.setObjectName("agreement_status")
        self.dates = QLabel()
        self.dates.setWordWrap(True)
        self.on = DateEdit(date.today())
        self.on.setObjectName("agreement_date")
        self.start_button = QPushButton("起草协议")
        self.next_button = QPushButton()
        self.next_button.setObjectName("agreement_next")
        self.terminate_button = QPushButton("终止协议…")
        self.correct_button = QPushButton("更正日期…")
        self.correct_button.setObjectName("agreement_correct")
        self.error = ErrorLabel()
        self.hint = ErrorLabel()  # the notice-period rule, said while the date is typed
        form = QFormLayout()
        form.addRow("协议编号", self.number)
        form.addRow("状态", self.status)
        form.addRow("各步日期", self.dates)
        form.addRow("本步日期", self.on)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.next_button, self.terminate_button, self.correct_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        self.on.dateChanged.connect(lambda _d: self._check_date())
        self.correct_button.clicked.connect(self.correct_date)
        self.start_button.clicked.connect(self.start)
        self.next_button.clicked.connect(self.advance)
        self.terminate_button.clicked.connect(self.terminate)

    def load(self, operator: str | None, year: int) -> None:
        self.operator, self.year = operator, year
        self.agreement = agreement_for(self.store, operator, year) if operator else None
        self.error.show_error(None)
        a = self.agreement
        if a is None:
            self.number.setText("—")
            self.status.setText("本年度尚无协议" if operator else "请先保存经营者")
            self.dates.setText("")
        else:
            self.number.setText(a["number"] or "")
            self.status.setText(a["status"])
            fields = KINDS["agreement"]
            parts = [f"{fields.field(col).label.removesuffix('日期')} {a[col]}"
                     for col in AGREEMENT_DATE_FIELD.values() if a[col]]
            if a["terminate_reason"]:
                parts.append(f"终止原因：{a['terminate_reason']}")
            self.dates.setText("；".join(parts))
        status = AgreementStatus(a["status"]) if a else None
        nxt = AGREEMENT_NEXT.get(status) if status else None
        self.start_button.setVisible(a is None)
        self.start_button.setEnabled(operator is not None)
        self.next_button.setVisible(nxt is not None)
        if nxt is not None:
            self.next_button.setText(f"标记为{nxt.value}")
        self.terminate_button.setVisible(a is not None and status != AgreementStatus.TERMINATED)
        self.correct_button.setVisible(a is not None)
        self.on.setEnabled(operator is not None and status != AgreementStatus.TERMINATED)
        self.on.set_value(self.default_date(nxt))
        self._check_date()

    def default_date(self, nxt: AgreementStatus | None) -> date:
        """The date the next step most likely has: never before the step already taken, and for
        已公示 the village notice's last day (the notice went up after the signing)."""
        a = self.agreement
        taken = [date.fromisoformat(a[c]) for c in AGREEMENT_DATE_FIELD.values() if a and a[c]]
        floor = max(taken, default=None)
        proposal = date.today()
        if nxt == AgreementStatus.PUBLICIZED and self.operator is not None:
            village = self.store.get("operator", self.operator)["village"]
            notice = village_table.village_notice(self.store, village, self.year)
            if notice is not None:
                proposal = date.fromisoformat(notice["end_on"])
        return max(proposal, floor) if floor else proposal

    def _check_date(self) -> None:
        """已公示 outside the notice period is said as the date is typed, in the store's words."""
        a = self.agreement
        nxt = AGREEMENT_NEXT.get(AgreementStatus(a["status"])) if a else None
        day = self.on.valid_value()
        message = None
        if nxt == AgreementStatus.PUBLICIZED and day is not None and self.operator is not None:
            message = validation.notice_period_error(self.store, self.operator, self.year, day)
        self.hint.show_error(message)

    def _run(self, op: Callable[[Store], Changes]) -> None:
        """The household page redraws this panel from the broadcast."""
        self.error.show_error(None)
        run_op(self, self.store, op, on_error=lambda err: self.error.show_error(str(err)))

    def start(self) -> None:
        assert self.operator is not None
        operator, year, on = self.operator, self.year, self.on.value()
        self._run(lambda s: agreements.start_agreement(s, operator, year, on))

    def advance(self) -> None:
        assert self.agreement is not None
        target = AGREEMENT_NEXT[AgreementStatus(self.agreement["status"])]
        uuid, on = self.agreement["uuid"], self.on.value()
        self._run(lambda s: agreements.advance_agreement(s, uuid, target, on))

    def correct_date(self) -> CorrectDateDialog | None:
        if self.agreement is None:
            return None
        dialog = CorrectDateDialog(self.store, self.agreement, self)
        dialog.open()
        return dialog

    def terminate(self) -> None:
        assert self.agreement is not None
        reason, ok = QInputDialog.getText(self, "终止协议", "终止原因（必填）：")
        if not ok:
            return
        if QMessageBox.question(self, "终止协议", f"确定终止协议 {self.agreement['number']}？终止后不能恢复。"
                                ) != QMessageBox.StandardButton.Yes:
            return
        uuid, on = self.agreement["uuid"], self.on.value()
        self._run(lambda s: agreements.advance_agreement(s, uuid, AgreementStatus.TERMINATED, on,
                                                         reason))
