"""One village for the year: its households, sortable and filterable, with totals in 亩 and 元, and
the village's 公示 period."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.errors import WqError
from wq_desktop.model import ATTRIBUTE_SHORT, DEFAULT_NOTICE_DAYS, AgreementStatus, LandAttribute, MeasureKind
from wq_desktop.operations import Changes
from wq_desktop.ordering import group_sort_key
from wq_desktop.queries import navigation, village_table
from wq_desktop.queries.villages_touched import MOVING_KINDS, VILLAGE_KINDS, villages_written
from wq_desktop.store import Store

from ..operations import change_bus, run_op
from ..when_shown import WhenShown
from ..widgets import (
    Column,
    DateEdit,
    ElidedLabel,
    ErrorLabel,
    FilterProxy,
    RowsModel,
    make_table,
    mu,
    scrolling,
    yuan,
)
from ..workers import JobContext, Worker, weak_slot

ALL = "全部"
NO_MEASURE = "无措施"
NO_AGREEMENT = "无协议"
# A new year's 公示 is posted after the summer verification; the user moves it as needed.
DEFAULT_NOTICE_MONTH_DAY = (8, 1)

HOUSEHOLD_COLUMNS = (
    Column("组", lambda r: r.group_name, sort=lambda r: group_sort_key(r.group_name)[0]),
    Column("户主/经营者", lambda r: r.name),
    Column("类型", lambda r: r.kind),
    Column("证件号（脱敏）", lambda r: r.id_masked),
    # Short names keep 退减灌溉 and 补助金额 on screen at 1440 px; the full names are the tooltip.
    Column("土地属性", lambda r: "、".join(ATTRIBUTE_SHORT.get(a, a) for a in r.land_attributes),
           tooltip=lambda r: "\n".join(r.land_attributes) or None),
    Column("地块数", lambda r: str(r.parcels), sort=lambda r: r.parcels, numeric=True),
    Column("核实面积（亩）", lambda r: mu(r.area_mu), sort=lambda r: r.area_mu, numeric=True),
    Column("退减灌溉（亩）", lambda r: mu(r.retired_mu), sort=lambda r: r.retired_mu, numeric=True),
    Column("休耕轮作（亩）", lambda r: mu(r.fallow_mu), sort=lambda r: r.fallow_mu, numeric=True),
    Column("补助金额（元）", lambda r: yuan(r.subsidy), sort=lambda r: r.subsidy, numeric=True),
    Column("协议状态", lambda r: r.agreement_status or NO_AGREEMENT),
    Column("包联负责人", lambda r: r.leader),
    Column("工作人员", lambda r: r.staff),
    Column("巡查次数", lambda r: str(r.patrols), sort=lambda r: r.patrols, numeric=True),
)

def default_notice_start(year: int) -> date:
    return date(year, *DEFAULT_NOTICE_MONTH_DAY)


class VillageView(QWidget):
    """The table's rows are read by a worker on its own Store (at city size the first read of a
    village takes seconds); the notice editor reads its one record here."""

    open_household = Signal(str)
    new_household = Signal(str)  # village uuid
    rowsLoaded = Signal()  # the table shows the current village and year

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.village: str | None = None
        self.group: str | None = None
        self.year = 0
        self.notice: dict | None = None
        self._rows_job: Worker | None = None
        self._rows_of: tuple[str, int] | None = None  # (village, year) the table's rows are of
        self.when_shown = WhenShown(self, "refresh")
        change_bus(store).changed.connect(self.apply_changes)
        self.title = ElidedLabel("请在左侧选择村")
        font = self.title.font()
        font.setPointSize(font.pointSize() + 3)
        font.setBold(True)
        self.title.setFont(font)

        self.measure_filter = self._combo("measure_filter",
                                          [ALL, *[k.value for k in MeasureKind], NO_MEASURE])
        self.status_filter = self._combo("status_filter",
                                         [ALL, *[s.value for s in AgreementStatus], NO_AGREEMENT])
        self.attribute_filter = self._combo("attribute_filter", [ALL, *[a.value for a in LandAttribute]])
        self.group_filter = QComboBox()
        self.group_filter.setObjectName("group_filter")
        self.group_filter.currentIndexChanged.connect(self._apply_filter)
        self.name_filter = QLineEdit()
        self.name_filter.setPlaceholderText("姓名筛选")
        self.name_filter.textChanged.connect(self._apply_filter)
        self.add_button = QPushButton("新增经营者…")
        filters = QHBoxLayout()
        for label, widget in (("组", self.group_filter), ("措施", self.measure_filter),
                              ("协议状态", self.status_filter), ("土地属性", self.attribute_filter)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.name_filter)
        filters.addStretch(1)
        filters.addWidget(self.add_button)

        self.model = RowsModel(HOUSEHOLD_COLUMNS, self)
        self.proxy = FilterProxy(self.model, self)
        self.table = make_table(self.proxy, sortable=True)
        self.table.setObjectName("village_households")
        self.totals = QLabel()
        self.totals.setObjectName("village_totals")
        font = self.totals.font()
        font.setBold(True)
        self.totals.setFont(font)

        self.notice_box = QGroupBox("公示期")
        self.notice_start = DateEdit()
        self.notice_start.setObjectName("notice_start")
        self.notice_end = DateEdit()
        self.notice_end.setObjectName("notice_end")
        self.objections = QSpinBox()
        self.objections.setRange(0, 9999)
        self.objection_text = QLineEdit()
        self.objection_text.setPlaceholderText("异议情况（无则不填）")
        self.notice_save = QPushButton("保存公示期")
        self.notice_save.setObjectName("notice_save")
        self.notice_state = QLabel()
        self.notice_error = ErrorLabel()
        notice_form = QFormLayout()
        period = QHBoxLayout()
        period.addWidget(self.notice_start)
        period.addWidget(QLabel("至"))
        period.addWidget(self.notice_end)
        period.addWidget(self.notice_state, 1)
        notice_form.addRow("公示时间", period)
        notice_form.addRow("收到异议数", self.objections)
        notice_form.addRow("异议情况", self.objection_text)
        notice_layout = QVBoxLayout(self.notice_box)
        notice_layout.addLayout(notice_form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.notice_save)
        buttons.addWidget(self.notice_error, 1)
        notice_layout.addLayout(buttons)
        self._notice_days = DEFAULT_NOTICE_DAYS
        self.notice_start.dateChanged.connect(self._start_changed)
        self.notice_end.dateChanged.connect(self._end_changed)
        self.notice_save.clicked.connect(self.save_notice)
        self.add_button.clicked.connect(lambda: self.village and self.new_household.emit(self.village))
        self.table.doubleClicked.connect(self._open)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.title)
        layout.addWidget(self.notice_box)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self.table.setMinimumHeight(160)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(content))

    def _combo(self, name: str, items: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItems(items)
        combo.currentIndexChanged.connect(self._apply_filter)
        return combo

    # ------------------------------------------------------------ loading
    def show_village(self, village: str, year: int, group: str | None = None) -> None:
        self.village, self.year, self.group = village, year, group
        self.group_filter.blockSignals(True)
        self.group_filter.clear()
        self.group_filter.addItem(ALL, None)
        for uuid, name in navigation.village_groups(self.store, village):
            self.group_filter.addItem(name, uuid)
        self.group_filter.setCurrentIndex(max(self.group_filter.findData(group), 0) if group else 0)
        self.group_filter.blockSignals(False)
        self.refresh()

    def apply_changes(self, changes: Changes) -> None:
        """Redraw only for a change in the shown village: now if on screen (the notice the user
        may be typing in stays), else when next shown."""
        if self.village is None or not changes.touches(*VILLAGE_KINDS):
            return
        moved = any("village" in changes.changed_fields(k) for k in MOVING_KINDS)
        if not moved and self.village not in villages_written(self.store, changes.records):
            return
        if self.isVisible():
            self.refresh(reload_notice=False)
        else:
            self.when_shown.defer()

    def set_year(self, year: int) -> None:
        self.year = year
        self.when_shown.request()

    def refresh(self, reload_notice: bool = True) -> None:
        """Reload the table; the notice editor too unless the user may be typing in it."""
        if self.village is None:
            return
        self.when_shown.done()
        name = self.store.get("village", self.village)["name"]
        self.title.setText(f"{name} · {self.year}年度")
        self._load_rows()
        if reload_notice:
            self._load_notice()

    @property
    def loading(self) -> bool:
        return self._rows_job is not None

    def _load_rows(self) -> None:
        """Read the rows in a worker; a newer read supersedes a running one. Until they arrive
        the table keeps what it shows if that is the same village, else it is emptied."""
        assert self.village is not None
        if self._rows_job is not None:
            self._rows_job.cancel()
        path, user, village, year = self.store.path, self.store.user, self.village, self.year

        def job(ctx: JobContext) -> list[village_table.HouseholdRow]:
            with Store.open(path, user) as own:
                ctx.check()
                return village_table.village_households(own, village, year)

        worker = Worker(job, self)
        self._rows_job = worker
        loaded, ended = weak_slot(self._rows_loaded), weak_slot(self._rows_ended)
        worker.done.connect(lambda rows, w=worker, key=(village, year): loaded(w, key, rows))
        worker.failed.connect(lambda message, w=worker: ended(w, f"未能读取本村农户：{message}"))
        worker.cancelled.connect(lambda w=worker: ended(w, ""))
        worker.finished.connect(worker.deleteLater)
        if self._rows_of is None or self._rows_of[0] != village:
            self.model.set_rows([])
            self._rows_of = None
        self.totals.setText("正在读取本村农户…")
        worker.start()

    def _rows_loaded(self, worker: Worker, key: tuple[str, int],
                     rows: list[village_table.HouseholdRow]) -> None:
        if worker is not self._rows_job:
            return  # superseded: the newer read shows its rows
        self._rows_job = None
        self._rows_of = key
        self.model.set_rows(rows)
        self._apply_filter()
        self.rowsLoaded.emit()

    def _rows_ended(self, worker: Worker, message: str) -> None:
        if worker is not self._rows_job:
            return
        self._rows_job = None
        if message:
            self.totals.setText(message)

    def _load_notice(self) -> None:
        assert self.village is not None
        self.notice = village_table.village_notice(self.store, self.village, self.year)
        self.notice_box.setTitle(f"{self.year}年度公示期")
        self.notice_error.show_error(None)
        n = self.notice
        for edit in (self.notice_start, self.notice_end):
            edit.blockSignals(True)
        if n:
            self.notice_start.set_value(n["start_on"])
            self.notice_end.set_value(n["end_on"])
            self.objections.setValue(n["objection_count"] or 0)
            self.objection_text.setText(n["objections"] or "")
        else:  # never last year's dates: a 2027 notice must not be saved as dated 2026
            start = default_notice_start(self.year)
            self.notice_start.set_value(start)
            self.notice_end.set_value(start + timedelta(days=DEFAULT_NOTICE_DAYS - 1))
            self.objections.setValue(0)
            self.objection_text.clear()
        for edit in (self.notice_start, self.notice_end):
            edit.blockSignals(False)
        self._end_changed()

    def _start_changed(self) -> None:
        # Moving the start moves the end along, keeping the period's length (7 days by default).
        self.notice_end.blockSignals(True)
        self.notice_end.set_value(self.notice_start.value() + timedelta(days=self._notice_days - 1))
        self.notice_end.blockSignals(False)
        self._show_days()

    def _end_changed(self) -> None:
        start, end = self.notice_start.valid_value(), self.notice_end.valid_value()
        if start is not None and end is not None:
            self._notice_days = max((end - start).days + 1, 1)
        self._show_days()

    def _show_days(self) -> None:
        start, end = self.notice_start.valid_value(), self.notice_end.valid_value()
        if start is None or end is None:
            self.notice_state.setText("")
            return
        days = (end - start).days + 1
        state = f"共 {days} 天" if days > 0 else "结束日期早于开始日期"
        self.notice_state.setText(state + ("" if self.notice else "（尚未保存）"))

    def save_notice(self) -> bool:
        if self.village is None:
            return False
        self.notice_error.show_error(None)
        try:  # a date that is not one is refused with its reason (shown under the field too)
            values = {"start_on": self.notice_start.value(), "end_on": self.notice_end.value(),
                      "objection_count": self.objections.value(), "objections": self.objection_text.text()}
        except WqError as err:
            self.notice_error.show_error(str(err))
            return False
        uuid, rev = (self.notice["uuid"], self.notice["rev"]) if self.notice else (None, None)
        if uuid is None:
            values.update(village=self.village, year=self.year)
        # The editor takes the saved notice (and its new revision) back at once; the table
        # redraws from the broadcast.
        from wq_desktop.operations import agreements  # not on the way to the first paint

        changes = run_op(self, self.store, lambda s: agreements.save_notice(s, uuid, values, base_rev=rev),
                         on_done=lambda _c: self._load_notice(),
                         on_error=lambda err: self.notice_error.show_error(str(err)))
        return changes is not None

    # ------------------------------------------------------------ filtering
    def _apply_filter(self) -> None:
        measure = self.measure_filter.currentText()
        status = self.status_filter.currentText()
        attribute = self.attribute_filter.currentText()
        group = self.group_filter.currentData()
        name = self.name_filter.text().strip()

        def keep(r: village_table.HouseholdRow) -> bool:
            if group and r.group != group:
                return False
            if measure == NO_MEASURE and r.measures:
                return False
            if measure not in (ALL, NO_MEASURE) and measure not in r.measures:
                return False
            if status == NO_AGREEMENT and r.agreement_status:
                return False
            if status not in (ALL, NO_AGREEMENT) and r.agreement_status != status:
                return False
            if attribute != ALL and attribute not in r.land_attributes:
                return False
            return not name or name in r.name

        self.proxy.set_predicate(keep)
        t = village_table.totals(self.proxy.visible_rows())
        left_out = (f"（协议终止的 {t.excluded_households} 户、{mu(t.excluded_mu)} 亩未计入）"
                    if t.excluded_households else "")
        self.totals.setText(
            f"合计（当前筛选）：{t.households} 户；核实面积 {mu(t.area_mu)} 亩；"
            f"退减灌溉 {mu(t.retired_mu)} 亩；休耕轮作 {mu(t.fallow_mu)} 亩；补助金额 {yuan(t.subsidy)} 元"
            + left_out)

    def visible_rows(self) -> list[village_table.HouseholdRow]:
        return self.proxy.visible_rows()

    def _open(self, index: QModelIndex) -> None:
        self.open_household.emit(self.proxy.source_row(index.row()).operator)
