"""One household: operator details, its parcels with this year's measures, the agreement, 包联,
patrols and change history."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import services, supervision
from wq_desktop.errors import NotFoundError
from wq_desktop.household_totals import household_totals
from wq_desktop.operations import Changes, households, parcels, patrols
from wq_desktop.queries.household import (
    HouseholdDetail,
    ParcelRow,
    PatrolRow,
    household_detail,
)
from wq_desktop.rules import amount_words, phones
from wq_desktop.store import Store

from ..operations import change_bus, run_op
from ..when_shown import WhenShown
from ..widgets import OVERDUE_COLOR, Column, ElidedLabel, RowsModel, make_table, mu, scrolling, yuan
from .agreement_panel import AgreementPanel
from .courtyard import CourtyardPanel
from .history_view import HistoryView
from .operator_form import OperatorForm
from .parcel_dialogs import MeasureDialog, ParcelDialog
from .patrol import PatrolDialog

PARCEL_COLUMNS = (
    Column("地块编号", lambda p: p.code),
    Column("小地名", lambda p: p.place_name),
    Column("土地属性", lambda p: p.land_attribute),
    Column("面积（亩）", lambda p: mu(p.area_mu), sort=lambda p: p.area_mu, numeric=True),
    Column("图形", lambda p: "已绘制" if p.has_geometry else "未绘制"),
    Column("本年措施", lambda p: p.measure_text),
    Column("退减/休耕面积（亩）",
           lambda p: mu(p.retired_mu + p.fallow_mu), numeric=True),
    Column("补助金额（元）", lambda p: yuan(p.subsidy), sort=lambda p: p.subsidy, numeric=True),
)

PATROL_COLUMNS = (
    Column("巡查日期", lambda t: t.visited_on),
    Column("年度", lambda t: str(t.year)),
    Column("节点", lambda t: t.stage),
    Column("地块", lambda t: t.parcel_code),
    Column("巡查人", lambda t: t.patrollers),
    Column("判定", lambda t: t.result),
    Column("整改", lambda t: t.rectification,
           color=lambda t: OVERDUE_COLOR if t.rectification == "已逾期" else None),
    Column("照片", lambda t: str(t.photos), numeric=True),
)


# The kinds a household page shows (operator form, parcels and measures, patrols with photos,
# agreement, courtyard, 包联 people, the village's groups, history of them all).
SHOWN_KINDS = ("operator", "parcel", "measure", "patrol", "photo", "agreement", "courtyard",
               "contact", "group", "village", "rectification", "supervision")


class HouseholdView(QWidget):
    """Shows one household for the selected year; `save()` is what Ctrl+S calls here. It redraws
    from the store's ChangeBus only (never after its own writes)."""

    household_gone = Signal()  # the household on screen was deleted on another device

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.year = 0
        self.operator: str | None = None
        self.village: str | None = None
        self.default_patroller = ""
        self.detail: HouseholdDetail | None = None
        self.when_shown = WhenShown(self, "_redraw")

        self.title = ElidedLabel("请在左侧选择村组，或搜索农户")
        self.title.setObjectName("household_title")
        font = self.title.font()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.title.setFont(font)

        self.form = OperatorForm(store)
        self.save_button = QPushButton("保存（Ctrl+S）")
        self.save_button.setObjectName("household_save")
        self.delete_button = QPushButton("删除该经营者…")
        form_box = QGroupBox("经营者信息")
        form_layout = QVBoxLayout(form_box)
        form_layout.addWidget(self.form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        form_layout.addLayout(buttons)

        self.agreement = AgreementPanel(store)
        self.agreement_box = QGroupBox("本年度协议")
        QVBoxLayout(self.agreement_box).addWidget(self.agreement)
        self.contacts = QLabel()
        self.contacts.setWordWrap(True)
        contacts_box = QGroupBox("包联责任人")
        QVBoxLayout(contacts_box).addWidget(self.contacts)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        summary_box = QGroupBox("本年度合计")
        QVBoxLayout(summary_box).addWidget(self.summary)
        right = QVBoxLayout()
        right.addWidget(self.agreement_box)
        right.addWidget(contacts_box)
        right.addWidget(summary_box)
        right.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(form_box, 3)
        top.addLayout(right, 2)

        self.parcel_model = RowsModel(PARCEL_COLUMNS, self)
        self.parcel_table = make_table(self.parcel_model)
        self.parcel_table.setObjectName("parcel_table")
        self.add_parcel_button = QPushButton("新增地块…")
        self.edit_parcel_button = QPushButton("编辑地块…")
        self.measure_button = QPushButton("设置本年措施…")
        self.measure_button.setObjectName("measure_button")
        self.delete_parcel_button = QPushButton("删除地块…")
        parcels_tab = self._table_tab(self.parcel_table, self.add_parcel_button, self.measure_button,
                                      self.edit_parcel_button, self.delete_parcel_button)
        self.patrol_model = RowsModel(PATROL_COLUMNS, self)
        self.patrol_table = make_table(self.patrol_model)
        self.patrol_table.setObjectName("patrol_table")
        self.add_patrol_button = QPushButton("新增巡查…")
        self.open_patrol_button = QPushButton("打开巡查（整改/复查/结案）…")
        self.delete_patrol_button = QPushButton("删除巡查…")
        patrol_tab = self._table_tab(self.patrol_table, self.add_patrol_button, self.open_patrol_button,
                                     self.delete_patrol_button)
        self.history = HistoryView(store)
        self.courtyard = CourtyardPanel(store)
        self.tabs = QTabWidget()
        self.tabs.addTab(parcels_tab, "地块与本年措施")
        self.tabs.addTab(patrol_tab, "巡查记录")
        self.tabs.addTab(self.courtyard, "庭院种植")
        self.tabs.addTab(self.history, "变更历史")

        # The city office's 督办 about this household or its parcels (answered in 工作进度 → 督办待办).
        self.supervision_note = QLabel()
        self.supervision_note.setObjectName("household_supervision")
        self.supervision_note.setWordWrap(True)
        self.supervision_note.setStyleSheet("color: #b00020; border: 1px solid #e0a0a0; padding: 4px;")
        self.supervision_note.hide()

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.title)
        layout.addWidget(self.supervision_note)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.tabs.setMinimumHeight(220)  # a few table rows stay visible when the page scrolls
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(content))

        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete_household)
        self.form.saved.connect(self._adopt)
        change_bus(store).changed.connect(self.apply_changes)
        self.add_parcel_button.clicked.connect(lambda: self.edit_parcel(None))
        self.edit_parcel_button.clicked.connect(lambda: self.edit_parcel(self._current_parcel()))
        self.parcel_table.doubleClicked.connect(lambda _i: self.set_measure())
        self.measure_button.clicked.connect(self.set_measure)
        self.delete_parcel_button.clicked.connect(self.delete_parcel)
        self.add_patrol_button.clicked.connect(lambda: self.open_patrol(None))
        self.open_patrol_button.clicked.connect(lambda: self.open_patrol(self._current_patrol()))
        self.patrol_table.doubleClicked.connect(lambda _i: self.open_patrol(self._current_patrol()))
        self.delete_patrol_button.clicked.connect(self.delete_patrol)
        self._enable(False)

    @staticmethod
    def _table_tab(table: QWidget, *buttons: QPushButton) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        for b in buttons:
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(table)
        return tab

    def _enable(self, saved_household: bool) -> None:
        for w in (self.delete_button, self.add_parcel_button, self.edit_parcel_button, self.measure_button,
                  self.delete_parcel_button, self.add_patrol_button, self.open_patrol_button,
                  self.delete_patrol_button):
            w.setEnabled(saved_household)
        self.save_button.setEnabled(self.village is not None)

    # ------------------------------------------------------------ showing
    def show_household(self, operator: str, year: int) -> None:
        self.year = year
        self.operator = operator
        record = self.store.get("operator", operator)
        self.village = record["village"]
        self.form.load(record, self.village)
        self.refresh()

    def new_household(self, village: str, year: int) -> None:
        self.year, self.operator, self.village = year, None, village
        self.form.load(None, village)
        self.refresh()
        self.form.edits["name"].setFocus()

    def set_year(self, year: int) -> None:
        self.year = year
        self.when_shown.request()

    def _redraw(self) -> None:
        """Refresh; a household deleted meanwhile (a pulled tombstone) leaves an empty form for
        a new one in its village."""
        try:
            self.refresh()
        except NotFoundError:
            self.operator = None
            self.form.load(None, self.village)
            self.refresh()
            self.household_gone.emit()

    def refresh(self) -> None:
        """Reload everything but the form (an open edit there is never overwritten)."""
        self.when_shown.done()
        if self.operator is None:
            village = self.store.get("village", self.village)["name"] if self.village else ""
            self.title.setText(f"新增经营者 · {village}" if self.village else "请在左侧选择村组，或搜索农户")
            self.detail = None
            self.parcel_model.set_rows([])
            self.patrol_model.set_rows([])
            self.history.load_household(None)
            self.courtyard.load(None, self.year)
            self.agreement.load(None, self.year)
            self.contacts.setText("")
            self.summary.setText("")
            self.supervision_note.hide()
            self._enable(False)
            return
        d = household_detail(self.store, self.operator, self.year)
        self.detail = d
        if not self.form.dirty:
            self.form.load(d.operator, d.village["uuid"])
        group = f" {d.group_name}" if d.group_name else ""
        self.title.setText(f"{d.operator['name']} · {d.village['name']}{group} · {self.year}年度")
        self.agreement_box.setTitle(f"{self.year}年度协议")
        self.agreement.load(self.operator, self.year)
        self.parcel_model.set_rows(d.parcels)
        self.patrol_model.set_rows(d.patrols)
        self.history.load_household(self.operator)
        self.courtyard.load(self.operator, self.year)
        self.contacts.setText(self._contacts_text(d))
        self._show_supervision()
        totals = household_totals(d.parcels)
        self.summary.setText(
            f"地块 {totals.parcels} 块，核实面积 {mu(totals.area_mu)} 亩；"
            f"退减灌溉 {mu(totals.retired_mu)} 亩，休耕轮作 {mu(totals.fallow_mu)} 亩；"
            f"补助金额 {yuan(totals.subsidy)} 元"
            f"（{amount_words.amount_in_words(totals.subsidy)}）")
        self._enable(True)

    def _show_supervision(self) -> None:
        rows = supervision.about_record(self.store, "operator", self.operator)
        lines = [f"【督办·{supervision.STATE_NAMES[r.state]}】{r.title}：{r.note}（期限 {r.due_on}"
                 f"{'，已回复：' + r.reply if r.reply else ''}）" for r in rows]
        self.supervision_note.setText("\n".join(lines) + ("\n请在“工作进度 → 督办待办”中回复。"
                                                         if any(r.state in ("open", "overdue")
                                                                for r in rows) else ""))
        self.supervision_note.setVisible(bool(rows))

    @staticmethod
    def _contacts_text(d: HouseholdDetail) -> str:
        def one(title: str, c: dict | None) -> str:
            if not c:
                return f"{title}：未指定"
            extra = "，".join(x for x in (c.get("post") or "", phones.format_phone(c.get("phone") or ""))
                             if x)
            return f"{title}：{c['name']}" + (f"（{extra}）" if extra else "")
        return one("包联负责人", d.leader) + "\n" + one("工作人员", d.staff)

    # ------------------------------------------------------------ actions
    def save(self) -> bool:
        if self.village is None:
            return False
        created = self.operator is None
        uuid = self.form.save()
        if uuid is None:
            return False
        if created:
            self.operator = uuid
            self.refresh()
        return True

    def _adopt(self, operator: str) -> None:
        """A new household was saved in the form: it is the one this page shows from now on
        (set before the broadcast, which then draws it)."""
        self.operator = operator

    def apply_changes(self, changes: Changes) -> None:
        """Redraw once if the change touches what this page shows."""
        if self.operator is None or not changes.touches(*SHOWN_KINDS):
            return
        if changes.records.keys() == {"operator"} and self.operator not in changes.ids("operator"):
            return  # another household's own fields
        self.when_shown.request()

    def delete_household(self) -> None:
        if self.operator is None or self.detail is None:
            return
        name = self.detail.operator["name"]
        taken = services.household_records(self.store, self.operator).describe()
        answer = QMessageBox.question(
            self, "删除经营者",
            f"确定删除“{name}”？\n将一并删除：{taken}。\n"
            "（删除记录保留在变更历史中，可整户恢复。）")
        if answer != QMessageBox.StandardButton.Yes:
            return
        def deleted(_changes: Changes) -> None:
            self.operator = None  # the form now offers a new household in the same village
            self.form.load(None, self.village)
            self.refresh()  # the broadcast no longer concerns this (empty) page

        operator = self.operator
        run_op(self, self.store, lambda s: households.delete_household(s, operator),
               on_done=deleted, error_title="无法删除")

    def _current_parcel(self) -> ParcelRow | None:
        return self.parcel_table.row_object()

    def print_context(self) -> str | None:
        """The patrol to print when the patrol tab has one selected (else the household prints)."""
        row = self._current_patrol() if self.tabs.currentIndex() == 1 else None
        return row.uuid if row else None

    def _current_patrol(self) -> PatrolRow | None:
        return self.patrol_table.row_object()

    def _need(self, thing: object, what: str) -> bool:
        if thing is None:
            QMessageBox.information(self, "请先选择", f"请先在表格中选择一个{what}。")
            return False
        return True

    def _open_dialog(self, dialog: QDialog) -> QDialog:
        """Window-modal but not blocking: what the dialog saves comes back on the ChangeBus."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def edit_parcel(self, parcel: ParcelRow | None) -> ParcelDialog | None:
        if not (self.operator and self.village):
            return None
        dialog = ParcelDialog(self.store, self.village, self.operator, parcel.uuid if parcel else None, self)
        self._open_dialog(dialog)
        return dialog

    def set_measure(self) -> MeasureDialog | None:
        parcel = self._current_parcel()
        if not self._need(parcel, "地块"):
            return None
        assert parcel is not None
        dialog = MeasureDialog(self.store, parcel, self.year, self)
        self._open_dialog(dialog)
        return dialog

    def delete_parcel(self) -> None:
        parcel = self._current_parcel()
        if not self._need(parcel, "地块"):
            return
        assert parcel is not None
        answer = QMessageBox.question(
            self, "删除地块",
            f"确定删除地块 {parcel.code}？其各年度措施和巡查记录将一并删除（可在变更历史中查到）。")
        if answer != QMessageBox.StandardButton.Yes:
            return
        run_op(self, self.store, lambda s: parcels.delete_parcel(s, parcel.uuid),
               error_title="无法删除")

    def patrol_parcels(self) -> list[tuple[str, str]]:
        rows = self.detail.parcels if self.detail else []
        return [(p.uuid, f"{p.code} {p.place_name}（{p.measure_text}）") for p in rows]

    def open_patrol(self, patrol: PatrolRow | str | None) -> PatrolDialog | None:
        """Open the patrol dialog for a new visit (None) or an existing one."""
        if self.operator is None:
            return None
        uuid = patrol.uuid if isinstance(patrol, PatrolRow) else patrol
        dialog = PatrolDialog(self.store, self.patrol_parcels(), self.year, uuid,
                              self.default_patroller, self)
        self._open_dialog(dialog)
        return dialog

    def delete_patrol(self) -> None:
        patrol = self._current_patrol()
        if not self._need(patrol, "巡查记录"):
            return
        assert patrol is not None
        answer = QMessageBox.question(
            self, "删除巡查记录", f"确定删除 {patrol.visited_on} 的{patrol.stage}巡查记录及其照片？")
        if answer != QMessageBox.StandardButton.Yes:
            return
        run_op(self, self.store, lambda s: patrols.delete_patrol(s, patrol.uuid),
               error_title="无法删除")
