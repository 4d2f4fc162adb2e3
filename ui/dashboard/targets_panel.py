"""目标与用水: each village's progress against its 退减 target (measures and signed agreements),
fragmented plans flagged, the year's water use beside the target, and the plan's years as a chart
toward the city's 2025 cap. Everything is computed by the core (targets.dashboard_data) in a worker
thread on its own Store; this widget lays it out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import targets
from wq_desktop.queries.navigation import own_township
from wq_desktop.store import Store
from wq_desktop.summary import fmt_rate

from ..workers import JobContext, Worker
from .charts import COLOURS, _bars, _plot, _ticks
from .targets_editor import TargetsDialog

COLUMNS = ("村", "计划退减灌溉（亩）", "计划休耕轮作（亩）", "已落实措施（亩）", "落实率", "已签协议（亩）",
           "签约率", "测算用水量（万立方米）", "村用水量目标（万立方米）", "碎片化地块")
FRAGMENT_COLUMN = len(COLUMNS) - 1
WARN = QColor("#fff3c4")
DONE = QColor("#d8f0d8")
OVER = QColor("#f6d0d0")
RECORD_ROLE = Qt.ItemDataRole.UserRole
_RUNNING: set[Worker] = set()


def _forget(worker: Worker) -> None:
    worker.wait()  # `finished` comes just before the thread ends: let it end before dropping it
    _RUNNING.discard(worker)


def _cell(text: str, *, right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _wan(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


class TargetsPanel(QWidget):
    recordRequested = Signal(str, str)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.year = 0
        self.last_data: targets.DashboardData | None = None
        self.worker: Worker | None = None
        self.water_label = QLabel()
        self.water_label.setWordWrap(True)
        self.edit_button = QPushButton("编辑目标…")
        self.edit_button.clicked.connect(lambda: self.edit_targets())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("targets_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._open)
        # The two plots are made when the panel is first shown (pyqtgraph is slow to set up and
        # the window's first paint need not wait for it); a series that arrives before waits.
        self._plots: tuple[Any, Any] | None = None
        self._series: list[targets.YearPoint] | None = None
        top = QHBoxLayout()
        top.addWidget(self.water_label, 1)
        top.addWidget(self.edit_button)
        self._charts = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 2)
        layout.addLayout(self._charts, 3)

    @property
    def area_plot(self) -> Any:
        return self._made_plots()[0]

    @property
    def water_plot(self) -> Any:
        return self._made_plots()[1]

    def showEvent(self, event: QShowEvent) -> None:
        self._made_plots()
        super().showEvent(event)

    def _made_plots(self) -> tuple[Any, Any]:
        if self._plots is None:
            self._plots = (_plot("各年度实际种植（含庭院）与退减、休耕面积", "亩"),
                           _plot("各年度测算用水量与控制目标", "万立方米"))
            for plot in self._plots:
                self._charts.addWidget(plot)
            if self._series is not None:
                self._draw_series(self._series)
        return self._plots

    # ------------------------------------------------------------ computing
    def show_year(self, year: int) -> Worker:
        """Recompute in the background; `last_data` is set when the figures are shown."""
        self.year = year
        path, user = self.store.path, self.store.user
        self.water_label.setText(f"正在计算 {year} 年度用水量与目标完成情况…")

        def job(ctx: JobContext) -> targets.DashboardData:
            with Store.open(path, user) as own:
                return targets.dashboard_data(own, year)

        # No parent: closing the dashboard must not destroy a thread still running (Qt aborts);
        # the module keeps it alive until it finishes, and a result for a closed panel is dropped.
        worker = Worker(job)
        worker.done.connect(self._show)  # connected before start(): a quick job is never missed
        worker.failed.connect(self._failed)
        _RUNNING.add(worker)
        worker.finished.connect(lambda: _forget(worker))
        self.worker = worker
        worker.start()
        return worker

    def _failed(self, message: str) -> None:
        self.water_label.setText(f"计算未完成：{message}")

    def _show(self, data: targets.DashboardData) -> None:
        if data.year != self.year:  # an older job finishing after the year changed
            return
        self.last_data = data
        self._show_water(data)
        self._show_progress(data)
        self._show_series(data.series)

    def _show_water(self, data: targets.DashboardData) -> None:
        use = data.water
        parts = [f"<b>{data.year} 年度农业用水量测算 {_wan(use.water_wan_m3)} 万立方米</b>"
                 "（实际种植含庭院 × 亩均需水量）"]
        if use.target_wan_m3 is None:
            parts.append(f"尚未登记 {data.year} 年度用水总量控制目标")
        else:
            margin = use.margin_wan_m3
            state = (f"低于目标 {_wan(margin)} 万立方米" if margin >= 0
                     else f"<span style='color:#b00020'>超出目标 {_wan(-margin)} 万立方米</span>")
            parts.append(f"控制目标 {_wan(use.target_wan_m3)} 万立方米，{state}")
        if use.unquoted_mu:
            parts.append(f"<span style='color:#b00020'>未定额面积 {use.unquoted_mu} 亩"
                         f"（{'、'.join(use.unquoted_crops)}）未计入</span>")
        self.water_label.setText("；".join(parts) + "。")

    def _show_progress(self, data: targets.DashboardData) -> None:
        water_of = {v.uuid: v.water_wan_m3 for t in data.water.children for v in t.children}
        rows = data.progress
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = [_cell(r.name, right=False), _cell(f"{r.target_retired_mu}"),
                      _cell(f"{r.target_fallow_mu}"), _cell(f"{r.measured_mu}"),
                      _cell(fmt_rate(r.measured_share)), _cell(f"{r.signed_mu}"),
                      _cell(fmt_rate(r.signed_share)), _cell(_wan(water_of.get(r.village))),
                      _cell(_wan(r.target_water_wan_m3)),
                      _cell(f"{len(r.fragmented)} 块" if r.fragmented else "无")]
            if not r.has_target:
                values[1].setText("未定目标")
                values[1].setForeground(QBrush(QColor("#888")))
            for j, share in ((4, r.measured_share), (6, r.signed_share)):
                if share is not None:
                    values[j].setBackground(QBrush(DONE if share >= 1 else WARN))
            water, cap = water_of.get(r.village), r.target_water_wan_m3
            if water is not None and cap is not None:
                values[7].setBackground(QBrush(OVER if water > cap else DONE))
            if r.fragmented:
                values[FRAGMENT_COLUMN].setBackground(QBrush(WARN))
                values[FRAGMENT_COLUMN].setToolTip("\n".join(m for _, m in r.fragmented)
                                                   + "\n双击打开第一块地")
                values[FRAGMENT_COLUMN].setData(RECORD_ROLE, r.fragmented[0][0])
            for j, item in enumerate(values):
                self.table.setItem(i, j, item)

    def _show_series(self, points: list[targets.YearPoint]) -> None:
        self._series = points
        if self._plots is not None:
            self._draw_series(points)

    def _draw_series(self, points: list[targets.YearPoint]) -> None:
        import pyqtgraph as pg

        names = [f"{p.year}" for p in points]
        _bars(self.area_plot, [
            ("实际种植（含庭院）", [float(p.planted_mu) for p in points]),
            ("退减灌溉", [float(p.retired_mu) for p in points]),
            ("休耕轮作", [float(p.fallow_mu) for p in points])], stacked=False)
        _ticks(self.area_plot, names)
        plot = self.water_plot
        plot.clear()
        xs = list(range(len(points)))
        with_data = [(x, float(p.water_wan_m3)) for x, p in zip(xs, points, strict=True) if p.has_data]
        if with_data:
            plot.plot([x for x, _ in with_data], [y for _, y in with_data], name="测算用水量",
                      pen=pg.mkPen(COLOURS[0], width=2), symbol="o", symbolBrush=COLOURS[0])
        target = [(x, float(p.target_wan_m3)) for x, p in zip(xs, points, strict=True)
                  if p.target_wan_m3 is not None]
        if target:
            plot.plot([x for x, _ in target], [y for _, y in target], name="用水总量控制目标",
                      pen=pg.mkPen(COLOURS[3], width=2, style=Qt.PenStyle.DashLine), symbol="s",
                      symbolBrush=COLOURS[3])
        top = max([y for _, y in with_data + target], default=1.0)
        plot.setYRange(0, top * 1.15, padding=0)
        plot.setXRange(-0.5, len(points) - 0.5, padding=0)
        _ticks(plot, names)
        plot.setTitle(f"各年度测算用水量与控制目标（{targets.CAP_YEAR}年全市地下水用水量上限 "
                      f"{targets.CITY_GROUNDWATER_CAP_2025} 万立方米）", color="#222", size="10pt")

    # ------------------------------------------------------------ actions
    def _open(self, row: int, column: int) -> None:
        item = self.table.item(row, column)
        parcel = item.data(RECORD_ROLE) if item is not None else None
        if parcel:
            self.recordRequested.emit("parcel", parcel)

    def edit_targets(self, year: int | None = None) -> TargetsDialog | None:
        township = own_township(self.store)
        if township is None:
            return None
        dialog = TargetsDialog(self.store, township["uuid"], year or self.year + 1, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
