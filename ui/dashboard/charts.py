"""pyqtgraph charts over the core's three-level summary (wq_desktop.summary): nothing is computed
here beyond turning exact sums into bar heights.

pyqtgraph is imported when the charts are first shown, not when the window opens: it is the
heaviest import on the way to the window's first paint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QGridLayout, QWidget

from wq_desktop import summary
from wq_desktop.store import Store

if TYPE_CHECKING:
    import pyqtgraph as pg

# One colour per series, readable when printed in grey too.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#d62728")


def _plot(title: str, left: str) -> pg.PlotWidget:
    import pyqtgraph as pg

    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#222", size="11pt")
    plot.setLabel("left", left)
    plot.showGrid(y=True, alpha=0.3)
    plot.setMouseEnabled(x=False, y=False)
    # The legend sits in its own row under the x axis, not inside the view box: it can never
    # cover a bar, however tall the bars or however many series there are.
    item = plot.getPlotItem()
    legend = pg.LegendItem(offset=None, labelTextColor="#222")
    item.legend = legend  # PlotItem.addItem(name=…) lists series here
    item.layout.addItem(legend, 4, 1)
    return plot


def _ticks(plot: pg.PlotWidget, names: list[str]) -> None:
    plot.getAxis("bottom").setTicks([list(enumerate(names))])


def _bars(plot: pg.PlotWidget, series: list[tuple[str, list[float]]], *, stacked: bool) -> None:
    """Grouped or stacked bars, one group per category on x = 0, 1, 2…"""
    import pyqtgraph as pg

    plot.clear()
    count = len(series)
    legend = plot.getPlotItem().legend
    if legend is not None:
        # One line of entries under the axis, or two columns when long names (the land
        # attributes) would make the row wider than the plot and squeeze it.
        long_names = sum(len(name) for name, _ in series) > 20
        legend.setColumnCount(2 if long_names else max(count, 1))
    width = 0.7 if stacked else 0.7 / max(count, 1)
    base = [0.0] * (len(series[0][1]) if series else 0)
    for i, (name, values) in enumerate(series):
        xs = [x if stacked else x - 0.35 + width * (i + 0.5) for x in range(len(values))]
        item = pg.BarGraphItem(x=xs, height=values, y0=base if stacked else None, width=width,
                               brush=COLOURS[i % len(COLOURS)], name=name)
        plot.addItem(item)
        if stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
    # A township with no village yet has no bars at all (a new store): nothing to scale to.
    top = max(base, default=0.0) if stacked else max((max(v) for _, v in series if v), default=0.0)
    plot.setYRange(0, (top or 1.0) * 1.08, padding=0)


ChartData = dict[str, list[tuple[str, list[float]]]]


def chart_data(store: Store, year: int) -> tuple[list[str], ChartData]:
    """Village names and bar series from the core's summary; no Qt, so a worker can run it."""
    this, last = summary.summarize(store, year), summary.summarize(store, year - 1)
    villages = [v for t in this.children for v in t.children]
    previous = {v.code: v for t in last.children for v in t.children}
    names = [v.name.replace("（演示）", "") for v in villages]

    def pct(value: object) -> float:
        return float(value) * 100 if value is not None else 0.0

    data = {
        "area": [(attr, [float(v.retired_by_attribute.get(attr, 0)) for v in villages])
                 for attr in villages[0].retired_by_attribute] if villages else [],
        "signing": [("签约率", [pct(v.signing_rate) for v in villages]),
                    ("已公示", [100.0 * v.villages_publicized for v in villages])],
        "coverage": [(stage, [pct(v.coverage(stage)) for v in villages])
                     for stage in summary.COVERAGE_STAGES],
        "violations": [("违规", [float(v.violations) for v in villages]),
                       ("已整改", [float(v.rectified) for v in villages])],
        "compare": [
            (f"{year - 1}年", [float(previous[v.code].retired_mu + previous[v.code].fallow_mu)
                               if v.code in previous else 0.0 for v in villages]),
            (f"{year}年", [float(v.retired_mu + v.fallow_mu) for v in villages])],
    }
    if villages:
        data["area"].append(("休耕轮作", [float(v.fallow_mu) for v in villages]))
    return names, data


class ChartsPanel(QWidget):
    """Area by measure and land attribute, signing, patrol coverage, violations, year on year.
    The plots are made when the panel is first shown; figures that arrive before wait for it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.last_data: ChartData = {}
        self._names: list[str] = []

    def plot(self, key: str) -> pg.PlotWidget:
        """The plot of one chart ("area", "signing", …), made on first use."""
        self._make_plots()
        return self.plots[key]

    area = property(lambda self: self.plot("area"))
    signing = property(lambda self: self.plot("signing"))
    coverage = property(lambda self: self.plot("coverage"))
    violations = property(lambda self: self.plot("violations"))
    compare = property(lambda self: self.plot("compare"))

    def showEvent(self, event: QShowEvent) -> None:
        self._make_plots()
        super().showEvent(event)

    def _make_plots(self) -> None:
        if self.plots:
            return
        for i, (key, (title, unit)) in enumerate(_TITLES.items()):
            self.plots[key] = plot = _plot(title, unit)
            self.grid.addWidget(plot, i // 2, i % 2)
        if self.last_data:
            self._draw()

    def show_year(self, store: Store, year: int) -> None:
        self.show_data(*chart_data(store, year))

    def show_data(self, names: list[str], data: ChartData) -> None:
        """Draw figures computed by chart_data (possibly in a worker thread)."""
        self._names, self.last_data = names, data
        if self.plots:
            self._draw()

    def _draw(self) -> None:
        for key, plot in self.plots.items():
            _bars(plot, self.last_data[key], stacked=key == "area")
            _ticks(plot, self._names)


_TITLES = {
    "area": ("各村退减面积（按土地属性）与休耕面积", "亩"),
    "signing": ("各村签约率与公示", "%"),
    "coverage": ("各村巡查覆盖率（按节点）", "%"),
    "violations": ("违规与整改", "起"),
    "compare": ("退减与休耕面积：本年与上年", "亩"),
}
