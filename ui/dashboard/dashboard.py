"""The township's annual dashboard: the plan's deadlines per village, data checks, water saved.

Everything shown is computed by the core (plan_calendar, checks, water); this widget only lays it
out and turns a click on a finding into `recordRequested(kind, uuid)` for the main window.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import checks, plan_calendar, water
from wq_desktop.errors import WqError
from wq_desktop.operations import Changes, measures
from wq_desktop.queries.navigation import own_township
from wq_desktop.store import Store

from ..operations import change_bus, run_op
from ..when_shown import WhenShown
from ..workers import JobContext, Worker, run_with_progress, weak_slot
from .charts import ChartData, ChartsPanel, chart_data
from .findings_tree import FindingsTree
from .supervision_panel import SupervisionPanel
from .targets_panel import TargetsPanel

DONE = QColor("#d8f0d8")
OVERDUE = QColor("#f6d0d0")
UNDER_WAY = QColor("#fff3c4")
NO_DATA = QColor("#e4e4e4")
RECORD_ROLE = Qt.ItemDataRole.UserRole


@dataclass
class DashboardData:
    """Everything the dashboard shows for one year, computed off the GUI thread."""

    year: int
    progress: list[plan_calendar.Progress]
    water: list[water.VillageWater]
    water_before: dict[str, float]
    quotas: dict[str, float]
    chart_names: list[str]
    charts: ChartData


def compute_dashboard(store: Store, year: int, ctx: JobContext | None = None) -> DashboardData:
    """The ~100 count queries, water and summaries behind the dashboard (seconds at city size)."""
    step = ctx.progress if ctx is not None else (lambda percent, text="": None)
    step(0, "正在统计各村工作进度…")
    progress = plan_calendar.progress(store, year)
    step(40, "正在计算节水量…")
    township = own_township(store)
    before = {v.village: v.saved_wan_m3 for v in water.water_saved(store, year - 1)}
    saved = water.water_saved(store, year)
    quotas = water.quotas(store, township["uuid"], year) if township else {}
    step(70, "正在汇总统计图表…")
    names, charts = chart_data(store, year)
    step(100, "")
    return DashboardData(year, progress, saved, before, quotas, names, charts)


def _item(text: str, *, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ProgressTable(QTableWidget):
    """Villages down, the plan's milestones across; each cell done/total, coloured by state."""

    def show_progress(self, rows: list[plan_calendar.Progress], year: int) -> None:
        stones = plan_calendar.milestones(year)
        villages = list(dict.fromkeys((p.village, p.village_name) for p in rows))
        self.clear()
        self.setColumnCount(len(stones))
        self.setRowCount(len(villages))
        self.setHorizontalHeaderLabels([f"{m.title}\n{m.due.month}月{m.due.day}日前" for m in stones])
        self.setVerticalHeaderLabels([name for _, name in villages])
        row_of = {uuid: i for i, (uuid, _) in enumerate(villages)}
        col_of = {m.key: j for j, m in enumerate(stones)}
        for p in rows:
            if p.no_data:
                text, colour = "尚无数据", NO_DATA
                tip = f"{p.milestone.basis}\n本年度尚未登记任何措施，无法判断。"
            else:
                text = f"{p.done}/{p.total}（{p.ratio:.0%}）" if p.total else "无需办理"
                if p.overdue:
                    text += " 逾期"
                colour = DONE if p.done >= p.total else OVERDUE if p.overdue else UNDER_WAY
                tip = p.milestone.basis
            cell = _item(text)
            cell.setBackground(QBrush(colour))
            cell.setToolTip(tip)
            self.setItem(row_of[p.village], col_of[p.milestone.key], cell)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


class WaterPanel(QWidget):
    """Water saved per village this year and last, and the editable per-crop quotas."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.saved = QTableWidget(0, 6)
        self.saved.setHorizontalHeaderLabels(
            ["村", "退减灌溉（亩）", "休耕轮作（亩）", "上年节水（万立方米）", "本年节水（万立方米）",
             "未定额面积（亩）"])
        self.saved.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.quotas = QTableWidget(0, 2)
        self.quotas.setHorizontalHeaderLabels(["作物", "亩均需水量（立方米/亩）"])
        self.add_button = QPushButton("添加作物")
        self.delete_button = QPushButton("删除作物")
        self.delete_button.setToolTip("删除所选作物本年度的定额（以前年度的定额不受影响）")
        self.save_button = QPushButton("保存定额")
        self.add_button.clicked.connect(self._add_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("各村节水量（按原种植作物的亩均需水量计算）"))
        layout.addWidget(self.saved, 3)
        layout.addWidget(QLabel("亩均需水量定额（本年度；未填的作物沿用以前年度）"))
        layout.addWidget(self.quotas, 2)
        layout.addLayout(buttons)
        for table in (self.saved, self.quotas):
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.saved.verticalHeader().hide()  # rows are villages plus 合计: numbering them misleads

    def _add_row(self) -> None:
        self.quotas.insertRow(self.quotas.rowCount())
        self.quotas.setCurrentCell(self.quotas.rowCount() - 1, 0)

    def show_water(self, rows: list[water.VillageWater], before: dict[str, float],
                   quotas: dict[str, float]) -> None:
        self.saved.setRowCount(len(rows) + 1)
        totals = [0.0] * 5
        for i, v in enumerate(rows):
            values = [v.retired_mu, v.fallow_mu, before.get(v.village, 0.0), v.saved_wan_m3, v.unquoted_mu]
            totals = [a + b for a, b in zip(totals, values, strict=True)]
            self._fill_row(i, v.name, values)
            if v.unquoted_mu:
                self.saved.item(i, 5).setToolTip("缺少定额的作物：" + "、".join(sorted(v.unquoted_crops)))
        self._fill_row(len(rows), "合计", totals)
        self.quotas.setRowCount(len(quotas))
        for i, (crop, value) in enumerate(sorted(quotas.items())):
            name = QTableWidgetItem(crop)
            name.setData(RECORD_ROLE, crop)  # the crop as saved, to tell an emptied row from a new one
            self.quotas.setItem(i, 0, name)
            self.quotas.setItem(i, 1, QTableWidgetItem(f"{value:g}"))

    def _fill_row(self, row: int, name: str, values: list[float]) -> None:
        self.saved.setItem(row, 0, _item(name))
        for j, value in enumerate(values):
            digits = 4 if j in (2, 3) else 2
            self.saved.setItem(row, j + 1, _item(f"{value:,.{digits}f}", align_right=True))

    def saved_crop(self, row: int) -> str | None:
        """The crop a row showed when loaded (None for a row added since)."""
        item = self.quotas.item(row, 0)
        return item.data(RECORD_ROLE) if item is not None else None

    def quota_rows(self) -> list[tuple[int, str, str]]:
        """(row, crop, typed value) for every filled row, and for every loaded row since emptied."""
        rows = []
        for i in range(self.quotas.rowCount()):
            crop = (self.quotas.item(i, 0).text() if self.quotas.item(i, 0) else "").strip()
            value = (self.quotas.item(i, 1).text() if self.quotas.item(i, 1) else "").strip()
            if crop or value or self.saved_crop(i):
                rows.append((i, crop, value))
        return rows


class Dashboard(QWidget):
    """One place to see where the township stands for the selected year."""

    recordRequested = Signal(str, str)

    def __init__(self, store: Store, year: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.year = year
        self.title = QLabel()
        self.progress = ProgressTable()
        self.findings = FindingsTree()
        self.findings.recordRequested.connect(self.recordRequested)
        self.check_button = QPushButton("运行全部检查")
        self.check_button.clicked.connect(self.run_checks)
        self.check_summary = QLabel("尚未运行检查。")
        self.water = WaterPanel()
        self.water.save_button.clicked.connect(self.save_quotas)
        self.water.delete_button.clicked.connect(self.delete_quota)
        self.charts = ChartsPanel()
        self.targets = TargetsPanel(store)
        self.targets.recordRequested.connect(self.recordRequested)
        change_bus(store).changed.connect(self.apply_changes)
        self.supervision = SupervisionPanel(store)
        self.supervision.recordRequested.connect(self.recordRequested)
        self.supervision.answered.connect(self.show_supervision)

        self.checks_page = checks_page = QWidget()
        checks_layout = QVBoxLayout(checks_page)
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.check_summary, 1)
        checks_layout.addLayout(row)
        checks_layout.addWidget(self.findings)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.progress, "工作进度")
        self.tabs.addTab(self.supervision, "督办待办")
        self.tabs.addTab(checks_page, "数据检查")
        self.tabs.addTab(self.charts, "统计图表")
        self.tabs.addTab(self.water, "节水量")
        self.tabs.addTab(self.targets, "目标与用水")
        # The figures are computed in a worker: at city size they take seconds, and the window
        # must keep answering meanwhile. The bar and 取消 show while it runs.
        self.loading_label = QLabel()
        self.loading_bar = QProgressBar()
        self.loading_bar.setRange(0, 100)
        self.loading_bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.clicked.connect(self.cancel_refresh)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        for w in (self.loading_label, self.loading_bar, self.cancel_button, self.refresh_button):
            header.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.tabs)
        self.last_findings: list[checks.Finding] = []
        self._job: Worker | None = None
        self._show_loading(False)
        # Computed when looked at, not at start-up; after a change or another year, again now if
        # on screen, else when next shown.
        self.when_shown = WhenShown(self, "refresh", pending=True)

    def apply_changes(self, _changes: Changes) -> None:
        self.when_shown.request()  # every figure on it may move with any record

    def set_year(self, year: int) -> None:
        if year != self.year:
            self.year = year
            self.findings.clear()
            self.check_summary.setText("尚未运行检查。")
            self.when_shown.request()

    def _township(self) -> str | None:
        row = own_township(self.store)
        return row["uuid"] if row else None

    @property
    def loading(self) -> bool:
        return self._job is not None

    def _show_loading(self, on: bool, text: str = "") -> None:
        self.loading_label.setText(text)
        for w in (self.loading_label, self.loading_bar, self.cancel_button):
            w.setVisible(on)
        if on:
            self.loading_bar.setValue(0)

    def refresh(self) -> Worker:
        """Recompute in a worker on its own Store; a newer refresh supersedes a running one."""
        self.when_shown.done()
        self.title.setText(f"<h2>{self.year} 年度退地减水工作进度</h2>")
        self.targets.show_year(self.year)  # the 目标与用水 tab runs its own worker
        self.show_supervision()
        if self._job is not None:
            self._job.cancel()
        path, user, year = self.store.path, self.store.user, self.year

        def job(ctx: JobContext) -> DashboardData:
            with Store.open(path, user) as own:
                return compute_dashboard(own, year, ctx)

        worker = Worker(job, self)
        self._job = worker
        progressed, computed, ended = (weak_slot(self._progressed), weak_slot(self._computed),
                                       weak_slot(self._ended))
        worker.progressed.connect(lambda percent, text, w=worker: progressed(w, percent, text))
        worker.done.connect(lambda data, w=worker: computed(w, data))
        worker.failed.connect(lambda message, w=worker: ended(w, f"统计未完成：{message}"))
        worker.cancelled.connect(lambda w=worker: ended(w, "已取消统计，点“刷新”重新计算。"))
        worker.finished.connect(worker.deleteLater)
        self._show_loading(True, "正在统计…")
        worker.start()
        return worker

    def show_supervision(self) -> None:
        """督办 are few (the office's findings): read at once, the count on the tab."""
        self.supervision.refresh()
        waiting = sum(r.state in ("open", "overdue") for r in self.supervision.model.rows)
        self.tabs.setTabText(self.tabs.indexOf(self.supervision),
                             f"督办待办（{waiting}）" if waiting else "督办待办")

    def cancel_refresh(self) -> None:
        if self._job is not None:
            self.cancel_button.setEnabled(False)
            self._job.cancel()

    def _progressed(self, worker: Worker, percent: int, text: str) -> None:
        if worker is self._job:
            self.loading_bar.setValue(percent)
            if text:
                self.loading_label.setText(text)

    def _ended(self, worker: Worker, message: str) -> None:
        if worker is not self._job:
            return  # a superseded refresh: the newer one reports
        self._job = None
        self.cancel_button.setEnabled(True)
        self._show_loading(False)
        self.title.setText(f"<h2>{self.year} 年度退地减水工作进度</h2>{message}")

    def _computed(self, worker: Worker, data: DashboardData) -> None:
        if worker is not self._job:
            return
        self._job = None
        self.cancel_button.setEnabled(True)
        self._show_loading(False)
        self.show_data(data)

    def show_data(self, data: DashboardData) -> None:
        self.progress.show_progress(data.progress, data.year)
        self.water.show_water(data.water, data.water_before, data.quotas)
        self.charts.show_data(data.chart_names, data.charts)

    def run_checks(self) -> Worker:
        """Every check in a worker thread on its own Store, with progress and 取消."""
        path, user, year = self.store.path, self.store.user, self.year
        self.tabs.setCurrentWidget(self.checks_page)

        def job(ctx: JobContext) -> list[checks.Finding]:
            findings: list[checks.Finding] = []
            with Store.open(path, user) as own, own.stopping_when(lambda: ctx.cancelled):
                items = list(checks.CHECKS.values())
                for i, (label, check) in enumerate(items):
                    ctx.progress(i * 100 // len(items), f"正在检查：{label}…")
                    findings += check(own, year)
            return findings

        self.check_summary.setText("正在检查…")
        return run_with_progress(self, "数据检查", job, self.show_findings,
                                 lambda message: self.check_summary.setText(f"检查未完成：{message}"),
                                 lambda: self.check_summary.setText("已取消检查。"))

    def show_findings(self, findings: list[checks.Finding]) -> None:
        self.last_findings = findings
        self.findings.show_findings(findings)
        errors = sum(f.severity == checks.Severity.ERROR for f in findings)
        self.check_summary.setText(
            f"{self.year} 年度共 {len(findings)} 项发现：{errors} 个错误，{len(findings) - errors} 个提示。"
            "双击一项打开对应记录。")

    def save_quotas(self) -> None:
        township = self._township()
        if township is None:
            return
        quotas: list[tuple[str, float]] = []
        try:
            for row, crop, value in self.water.quota_rows():
                was = self.water.saved_crop(row)
                if was and (not crop or not value):
                    # Emptying a row is not a deletion: deleting is asked for explicitly.
                    raise WqError(f"第 {row + 1} 行“{was}”的作物或定额被清空。要删除这种作物的定额，"
                                  "请选中该行后点“删除作物”；否则请填回内容。")
                if not crop:
                    raise WqError(f"第 {row + 1} 行请填写作物名称。")
                if not value:
                    raise WqError(f"第 {row + 1} 行“{crop}”请填写亩均需水量。")
                try:
                    number = float(value)
                except ValueError:
                    raise WqError(
                        f"第 {row + 1} 行“{crop}”的亩均需水量应为数字，实为“{value}”。") from None
                quotas.append((crop, number))
        except WqError as err:
            QMessageBox.warning(self, "定额未保存", str(err))
            return
        year = self.year
        run_op(self, self.store, lambda s: measures.set_quotas(s, township, year, quotas),
               error_title="定额未保存")

    def delete_quota(self) -> bool:
        """删除作物: tombstone this year's quota of the selected crop, after confirmation."""
        row = self.water.quotas.currentRow()
        if row < 0:
            QMessageBox.information(self, "请先选择作物", "请先在定额表中选中要删除的作物。")
            return False
        crop = self.water.saved_crop(row)
        if crop is None:  # added but never saved: nothing stored to delete
            self.water.quotas.removeRow(row)
            return True
        township = self._township()
        record = water.quota_record(self.store, township, self.year, crop) if township else None
        if record is None:
            QMessageBox.information(
                self, "无法删除", f"“{crop}”的定额来自以前年度，{self.year} 年度没有单独的定额可删除。"
                "如需修改，请填写新的数值后保存。")
            return False
        answer = QMessageBox.question(
            self, "删除作物定额", f"确定删除“{crop}”{self.year} 年度的亩均需水量定额"
            f"（{record['m3_per_mu']:g} 立方米/亩）？删除会记入变更历史。",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        return run_op(self, self.store, lambda s: measures.delete_quota(s, record["uuid"]),
                      error_title="定额未删除") is not None
