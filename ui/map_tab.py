"""The 地图 tab: a small toolbar over the MapCanvas, its attribute table, and a status line below.

The status line shows the live area (亩) while a parcel is drawn or edited, the canvas's messages,
the measure tool's reading, the cursor position (store CRS and 经纬度), and, after a click on the
map, the clicked household with a button to open it: a click on the map never takes the user away
from the map by itself. The attribute table (属性表) lists the shown layer; its selection and the
map's (Ctrl+click for several parcels) follow each other.

`install_map_tab(window)` puts the tab into the main window's empty 地图 page and wires it to the
window (navigation, year, household parcel table, refresh after writes).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.errors import WqError
from wq_desktop.geo import projection
from wq_desktop.gis_export import EXPORT_CRS, SHP_ENCODINGS, ExportResult, export_parcels
from wq_desktop.rules import quantities
from wq_desktop.store import Store

from .map import MapCanvas
from .map.attribute_table import AttributeTable
from .workers import JobContext, Worker, run_with_progress

if TYPE_CHECKING:
    from .main_window import MainWindow

# Format key (as gis_export takes it) -> what the user reads, and the file dialog's filter.
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "gpkg": ("GeoPackage（.gpkg，推荐）", "GeoPackage (*.gpkg)"),
    "shp": ("Shapefile（.shp）", "Shapefile (*.shp)"),
    "geojson": ("GeoJSON（.geojson，经纬度）", "GeoJSON (*.geojson *.json)"),
    "txt": ("坐标TXT（自然资源部界址点格式）", "坐标TXT (*.txt)"),
}
IMPORT_FILTER = ("地块图形文件 (*.shp *.gpkg *.geojson *.json *.txt);;"
                 "File Geodatabase（选择 .gdb 文件夹中的任一文件）(*.gdbtable gdb);;所有文件 (*)")
ERROR_STYLE = "color: #b00020;"


def _gdb_folder(path: Path) -> Path:
    """A file picked inside a .gdb folder stands for the geodatabase (a file dialog can't pick folders)."""
    for folder in (path, *path.parents):
        if folder.suffix.lower() == ".gdb":
            return folder
    return path


class ExportDialog(QDialog):
    """Format, scope (this village or the township), only retired/fallow land, and the target file."""

    def __init__(self, village_name: str | None, year: int, start_folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"导出 {year} 年度地块图形")
        self.start_folder = start_folder
        self.format = QComboBox()
        for key, (label, _filter) in EXPORT_FORMATS.items():
            self.format.addItem(label, key)
        self.scope = QComboBox()
        if village_name:
            self.scope.addItem(f"本村（{village_name}）", "village")
        self.scope.addItem("全镇", "township")
        self.only_retired = QCheckBox("只导出退减灌溉、休耕轮作地块")
        # The bureau's conventions: GBK text and zone-prefixed coordinates are what its tools expect.
        self.encoding = QComboBox()
        self.encoding.setObjectName("export_encoding")
        for key, label in SHP_ENCODINGS.items():
            self.encoding.addItem(label, key)
        self.crs = QComboBox()
        self.crs.setObjectName("export_crs")
        for key, label in EXPORT_CRS.items():
            self.crs.addItem(label, key)
        self.path = QLineEdit()
        self.path.setPlaceholderText("选择保存位置…")
        browse = QPushButton("浏览…")
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("格式", self.format)
        form.addRow("范围", self.scope)
        form.addRow("文字编码", self.encoding)
        form.addRow("坐标系", self.crs)
        form.addRow("", self.only_retired)
        form.addRow("保存到", row)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        ok_cancel = QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        buttons = QDialogButtonBox(ok_cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("导出")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        browse.clicked.connect(self.browse)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    @property
    def fmt(self) -> str:
        return str(self.format.currentData())

    @property
    def options(self) -> dict[str, str | None]:
        """encoding and crs for gis_export, as far as the chosen format has them."""
        return {"encoding": self.encoding.currentData() if self.fmt == "shp" else "UTF-8",
                "crs": self.crs.currentData() if self.fmt in ("shp", "gpkg") else None}

    @property
    def whole_township(self) -> bool:
        return self.scope.currentData() == "township"

    def browse(self) -> None:
        start = self.path.text().strip() or str(self.start_folder / f"地块{self._suffix()}")
        name, _ = QFileDialog.getSaveFileName(self, "导出到", start, EXPORT_FORMATS[self.fmt][1])
        if name:
            self.path.setText(name)

    def _suffix(self) -> str:
        return "." + ("geojson" if self.fmt == "geojson" else self.fmt)

    def _format_changed(self) -> None:
        # Each format starts at its usual convention: a Shapefile for the bureau is GBK in EPSG:4517
        # (as 三调 results are), a GeoPackage keeps the store's EPSG:4538.
        self.crs.setCurrentIndex(self.crs.findData("EPSG:4517" if self.fmt == "shp" else "EPSG:4538"))
        self.encoding.setEnabled(self.fmt == "shp")
        self.crs.setEnabled(self.fmt in ("shp", "gpkg"))
        self.crs.setToolTip("" if self.crs.isEnabled() else
                            "GeoJSON 为经纬度，坐标TXT 固定为带“29”带号的 EPSG:4517")
        # Keep the chosen name and folder, give it the new format's ending.
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix(self._suffix())))

    def target(self) -> Path | None:
        text = self.path.text().strip()
        return Path(text).expanduser() if text else None

    def _accept(self) -> None:
        target = self.target()
        if target is None:
            self.error.setText("请选择保存位置。")
            return
        if not target.parent.is_dir():
            self.error.setText(f"文件夹不存在：{target.parent}")
            return
        self.accept()


class MapTab(QWidget):
    """Toolbar + MapCanvas + status line. `openHousehold` asks the window to show a household."""

    openHousehold = Signal(str)

    def __init__(self, store: Store, year: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("map_tab_content")
        self.store = store
        self.year = year
        self.imagery_path: str | None = None  # for this session: Settings has no field for it
        self.clicked_household: str | None = None
        self.export_worker: Worker | None = None
        self.last_export: ExportResult | None = None

        self.canvas = MapCanvas()
        self.canvas.setObjectName("map_canvas")
        self.toolbar = QToolBar("地图工具")
        self.toolbar.setObjectName("map_toolbar")
        self.fit_action = self._tool("适应本村", self.fit, "把地图缩放到当前村的全部地块")
        self.draw_action = self._tool("绘制地块", self.start_drawing,
                                      "单击各拐点，双击结束；Backspace 撤销上一点，Esc 取消")
        self.edit_action = self._tool("编辑所选地块", self.edit_selected,
                                      "拖动拐点；双击边线加点；右键拐点删除；Enter 保存")
        self.measure_action = self._tool("量算", self.start_measuring,
                                         "单击各点量距离，三点以上同时显示面积（亩）；双击结束，Esc 退出")
        self.cancel_action = self._tool("取消", self.cancel, "放弃正在绘制或修改的图形")
        self.toolbar.addSeparator()
        self.points_action = self._tool("粘贴界址点…", self.paste_boundary_points,
                                        "按界址点坐标（如 J1,1,X,Y）新建地块")
        self.import_action = self._tool("导入地块…", self.import_parcels,
                                        "从 SHP、GPKG、GeoJSON、GDB 或坐标TXT 导入地块到本村")
        self.export_action = self._tool("导出…", self.export, "导出本年度地块图形及措施")
        self.checks_action = self._tool("检查设置…", self.edit_check_settings,
                                        "乡镇边界、最小面积、狭长碎片、重叠阈值：导入和绘制地块时的检查")
        self.toolbar.addSeparator()
        self.imagery_action = self._tool("影像底图…", self.choose_imagery, "选择离线影像（.mbtiles）")
        self.table_action = self._tool("属性表", self.toggle_table,
                                       "显示或隐藏当前图层的属性表（与地图选择同步）")
        self.table_action.setCheckable(True)
        self.table = AttributeTable()
        self.table.setObjectName("map_attribute_panel")
        self.table.hide()

        self.area_label = QLabel()
        self.area_label.setObjectName("map_area")
        font = self.area_label.font()
        font.setBold(True)
        self.area_label.setFont(font)
        self.area_label.hide()
        self.status = QLabel("单击地块查看所属农户，Ctrl+单击多选；滚轮缩放，拖动平移。")
        self.status.setObjectName("map_status")
        self.position = QLabel()
        self.position.setObjectName("map_position")
        self.position.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.household_label = QLabel()
        self.household_label.setObjectName("map_household")
        self.open_household_button = QPushButton("打开农户")
        self.open_household_button.setObjectName("map_open_household")
        self.open_household_button.hide()
        status_row = QHBoxLayout()
        status_row.setContentsMargins(6, 2, 6, 2)
        status_row.addWidget(self.area_label)
        status_row.addWidget(self.status, 1)
        status_row.addSpacing(12)
        status_row.addWidget(self.position)
        status_row.addSpacing(12)
        status_row.addWidget(self.household_label)
        status_row.addSpacing(6)
        status_row.addWidget(self.open_household_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(status_row)

        self.canvas.message.connect(self._message)
        self.canvas.drawingAreaChanged.connect(self._area)
        self.canvas.parcelSelected.connect(self._parcel_clicked)
        self.canvas.householdSelected.connect(self._household_clicked)
        self.canvas.parcelEdited.connect(lambda _u: self._tool_state())
        self.open_household_button.clicked.connect(self._open_household)
        self.canvas.cursorMoved.connect(self._cursor)
        self.canvas.measured.connect(self._measured)
        self.canvas.selectionChanged.connect(self._map_selection)
        self.canvas.layerChanged.connect(self._refresh_table)
        self.table.selectionChanged.connect(self._table_selection)
        self.canvas.layerLoaded.connect(self._layer_loaded)
        self.canvas.layerFailed.connect(lambda message: self.status.setText(f"地块未能载入：{message}"))
        self._load_layer(year)

    # ------------------------------------------------------------ loading the year's parcels
    @property
    def loading(self) -> bool:
        return self.canvas.loading

    def _load_layer(self, year: int) -> None:
        """The year's parcels are read in a worker; the map shows what it had until they arrive."""
        self.status.setText(f"正在载入 {year} 年度地块…")
        self.canvas.load_layer(self.store, year)

    def _layer_loaded(self) -> None:
        self.status.setText("单击地块查看所属农户；滚轮缩放，拖动平移。")
        self._tool_state()

    def _tool(self, text: str, slot: Any, tip: str) -> QAction:
        action = QAction(text, self)
        action.setIconText(text)  # keep the "…" that says a dialog follows (Qt drops it on tool buttons)
        action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.toolbar.addAction(action)
        return action

    # ------------------------------------------------------------ following the window
    def set_year(self, year: int) -> None:
        """Recolour by `year`'s measures (a drawing in progress is dropped, as the layer is rebuilt)."""
        if year == self.year and self.canvas.year == year:
            return
        self.year = year
        self._load_layer(year)

    def show_village(self, village: str | None) -> None:
        self.canvas.show_village(village)

    def select_parcel(self, parcel: str | None) -> None:
        """Highlight a parcel chosen elsewhere (the household's table); the map moves to its village."""
        pp = self.canvas.parcels
        if parcel is not None and pp is not None:
            row = pp.row_of(parcel)
            village = pp.layer.village[row] if row is not None else None
            if village is not None and village != self.canvas.village:
                self.canvas.show_village(village)
        self.canvas.select_parcel(parcel)
        self._sync_table()

    # ------------------------------------------------------------ tools
    def fit(self) -> None:
        self.canvas.show_village(self.canvas.village)

    def start_drawing(self) -> None:
        self.canvas.start_drawing()
        self._area(0.0)

    def edit_selected(self) -> None:
        uuid = self.canvas.selected_uuid()
        if uuid is None:
            self.canvas.show_message("请先在地图上单击选择要修改的地块。", error=True)
            return
        self.canvas.start_editing(uuid)
        self._tool_state()
        if self.canvas.mode == "edit":
            self._area(self.canvas.drawing_area_mu() or 0.0)

    def start_measuring(self) -> None:
        self.canvas.start_measuring()

    def toggle_table(self) -> None:
        """Show or hide the attribute table of the shown layer."""
        shown = not self.table.isVisible()
        self.table.setVisible(shown)
        self.table_action.setChecked(shown)
        if shown:
            total = max(self.splitter.height(), 300)
            self.splitter.setSizes([total * 3 // 5, total * 2 // 5])
            self._refresh_table()

    def cancel(self) -> None:
        if self.canvas.mode != "browse":
            self.canvas.cancel()
            self.canvas.show_message("已取消。")
        self._tool_state()

    def paste_boundary_points(self) -> str | None:
        return self.canvas.create_from_boundary_points()

    def import_parcels(self, path: str | Path | None = None) -> list[str]:
        """Pick a file (or use `path`), preview and import it into the shown village; returns new uuids."""
        from .map.dialogs import ImportDialog

        if path is None:
            name, _ = QFileDialog.getOpenFileName(self, "导入地块", "", IMPORT_FILTER)
            if not name:
                return []
            path = name
        source = _gdb_folder(Path(path))
        try:
            dialog = ImportDialog(self.store, source, self.canvas.village, self)
        except WqError as err:
            QMessageBox.warning(self, "无法导入", str(err))
            return []
        if not dialog.exec() or not dialog.created:
            return []
        self.canvas.apply_pending()  # the import's broadcast queued the new parcels: draw them now
        # and fit the village again, them in view (a large import: once read again by a worker)
        self.canvas.when_loaded(lambda: self.canvas.show_village(self.canvas.village))
        self.canvas.show_message(f"已导入 {len(dialog.created)} 个地块。")
        return dialog.created

    def edit_check_settings(self) -> bool:
        """The township's location and size checks (boundary, minimum area …); True when saved."""
        from .map.dialogs import CheckSettingsDialog

        dialog = CheckSettingsDialog(self.store, self)
        if not dialog.exec():
            return False
        self.canvas.show_message("地块检查设置已保存。")
        return True

    def export(self) -> Worker | None:
        """Ask for format, scope and file, then write them in the background."""
        village = self.canvas.village
        name = self.store.get("village", village)["name"] if village else None
        dialog = ExportDialog(name, self.year, Path.home(), self)
        if not dialog.exec():
            return None
        target = dialog.target()
        assert target is not None
        return self.start_export(dialog.fmt, target, None if dialog.whole_township else village,
                                 dialog.only_retired.isChecked(), **dialog.options)

    def start_export(self, fmt: str, path: Path, village: str | None = None,
                     only_retired: bool = False, encoding: str = "UTF-8", crs: str | None = None) -> Worker:
        """Run gis_export off the GUI thread on its own Store (a Store is not shared between threads)."""
        code = self.store.get("village", village)["code"] if village else None
        db, user, year = self.store.path, self.store.user, self.year

        def job(ctx: JobContext) -> ExportResult:
            ctx.progress(5, "正在读取地块…")
            with Store.open(db, user) as store:
                result = export_parcels(store, fmt, path, year=year, village_code=code,
                                        only_retired=only_retired, encoding=encoding, crs=crs)
            ctx.progress(100, "已写出。")
            return result

        self.status.setText("正在导出…")
        self.export_worker = run_with_progress(self, "导出地块图形", job, self._exported, self._export_failed)
        return self.export_worker

    def _exported(self, result: ExportResult) -> None:
        self.last_export = result
        self.export_worker = None
        lines = result.lines()
        self.status.setText(lines[0])
        QMessageBox.information(self, "导出完成", "\n".join(lines))

    def _export_failed(self, message: str) -> None:
        self.export_worker = None
        self.status.setText(f"导出失败：{message}")
        QMessageBox.warning(self, "导出失败", message)

    def choose_imagery(self, path: str | None = None) -> bool:
        """Show an offline MBTiles package under the parcels, remembered for this session."""
        if path is None:
            start = self.imagery_path or ""
            path, _ = QFileDialog.getOpenFileName(self, "选择离线影像", start,
                                                  "离线影像 (*.mbtiles);;所有文件 (*)")
            if not path:
                return False
        try:
            self.canvas.set_imagery(path)
        except WqError as err:
            QMessageBox.warning(self, "无法使用该影像", str(err))
            return False
        self.imagery_path = path
        self.canvas.show_message(f"影像底图：{Path(path).name}")
        return True

    # ------------------------------------------------------------ status line
    def _cursor(self, x: float, y: float) -> None:
        self.position.setText(projection.format_position(x, y, self.store.crs))

    def _measured(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)

    def _refresh_table(self) -> None:
        if not self.table.isVisible():
            return
        pp = self.canvas.parcels
        if pp is None:
            self.table.set_rows(None, np.zeros(0, dtype=np.int64), "无图层")
            return
        rows = self.canvas.shown_indices()
        village = self.canvas.village
        title = (self.store.get("village", village)["name"] if village else "全镇") + " 地块属性表"
        self.table.set_rows(pp.layer, rows, title)
        self._sync_table()

    def _sync_table(self) -> None:
        pp = self.canvas.parcels
        if pp is None or not self.table.isVisible():
            return
        rows = [pp.row_of(u) for u in self.canvas.selected_uuids()]
        self.table.select_indices([i for i in rows if i is not None])

    def _map_selection(self, uuids: list[str]) -> None:
        self._sync_table()
        if len(uuids) > 1:
            self._say_selection(uuids)
        elif uuids and self.canvas.extra_selected == [] and self.status.text().startswith("已选"):
            self._parcel_clicked(uuids[0])  # Ctrl+click took the selection back to one parcel

    def _table_selection(self, indices: list[int]) -> None:
        pp = self.canvas.parcels
        if pp is None:
            return
        uuids = [pp.layer.uuid[i] for i in indices]
        self.canvas.select_parcels(uuids)
        if len(uuids) == 1:
            self._parcel_clicked(uuids[0])
        elif uuids:
            self._say_selection(uuids)

    def _say_selection(self, uuids: list[str]) -> None:
        pp = self.canvas.parcels
        assert pp is not None
        total = sum(float(np.nan_to_num(pp.layer.area_mu[pp.row_of(u)])) for u in uuids)
        self.clicked_household = None  # several parcels: no one household to open
        self.household_label.clear()
        self.open_household_button.hide()
        self.status.setStyleSheet("")
        self.status.setText(
            f"已选 {len(uuids)} 个地块，合计 {quantities.format_mu(total)} 亩（Ctrl+单击增减）")

    def _tool_state(self) -> None:
        if self.canvas.mode == "browse":
            self.area_label.hide()

    def _area(self, mu: float) -> None:
        if self.canvas.mode == "browse":
            self.area_label.hide()
            return
        verb = "正在绘制" if self.canvas.mode == "draw" else "正在修改"
        self.area_label.setText(f"{verb}：{mu:,.2f} 亩")
        self.area_label.show()

    def _message(self, text: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if self.canvas.last_refusal == text else "")
        self._tool_state()

    def _parcel_clicked(self, parcel: str) -> None:
        """Any selection on the map (a click or a new parcel): say which parcel, forget the household."""
        self.clicked_household = None
        self.household_label.clear()
        self.open_household_button.hide()
        pp = self.canvas.parcels
        if pp is None:
            return
        i = pp.row_of(parcel)
        if i is None:
            return
        layer = pp.layer
        area = quantities.format_mu(float(np.nan_to_num(layer.area_mu[i])))
        self.status.setStyleSheet("")
        self.status.setText(f"地块 {layer.code[i]} · {layer.village_name[i]} · {area} 亩 · "
                            f"{self.year}年度{layer.category[i]}")

    def _household_clicked(self, operator: str) -> None:
        try:
            name = self.store.get("operator", operator)["name"]
        except WqError:
            return
        self.clicked_household = operator
        self.household_label.setText(f"农户：{name}")
        self.open_household_button.show()

    def _open_household(self) -> None:
        if self.clicked_household:
            self.openHousehold.emit(self.clicked_household)


def install_map_tab(window: MainWindow, page: QWidget) -> MapTab:
    """Fill the window's 地图 page with a MapTab and connect it to the window (the household
    page's parcel table too, now or when that page is made)."""
    tab = MapTab(window.store, window.year, page)
    layout = page.layout()
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(tab)
    tab.show_village(window.current_village())

    window.year_selector.currentIndexChanged.connect(lambda _i: tab.set_year(window.year))
    window.nav.village_selected.connect(lambda village, _group: tab.show_village(village))
    window.nav.township_selected.connect(lambda _township: tab.show_village(None))
    tab.openHousehold.connect(window.show_household)

    def follow_household() -> None:
        household = window.household

        def parcel_row_changed(current: QModelIndex, _previous: QModelIndex) -> None:
            row = household.parcel_table.row_object(current)
            if row is not None:
                tab.select_parcel(row.uuid)

        household.parcel_table.selectionModel().currentRowChanged.connect(parcel_row_changed)

    if window.tabs.is_built("household"):
        follow_household()
    else:
        window.tabs.built.connect(lambda key: follow_household() if key == "household" else None)
    return tab
