"""The 地图 tab inside the main window, driven as a user would: it follows the navigation and the
year, drawing saves through the core, overlaps are warned in 亩, a map click offers the household
without leaving the map, the household's parcel table selects on the map, and export writes a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from shapely.geometry import Polygon

from ui.map.dialogs import NewParcelDialog
from ui.map_tab import ExportDialog, MapTab
from wq_desktop.geo import polygons
from wq_desktop.gisfiles import UNVERIFIED, parcel_layer
from wq_desktop.queries.navigation import villages
from wq_desktop.settings import Settings
from wq_desktop.store import Store


@pytest.fixture
def win(qtbot, demo_store: Store):
    from ui.main_window import MainWindow

    w = MainWindow(demo_store, Settings(user="测试员"))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.tabs.setCurrentWidget(w.map_tab)
    qtbot.waitExposed(w)
    QApplication.processEvents()
    tab = w.map
    qtbot.waitUntil(lambda: not tab.loading and tab.canvas.parcels is not None, timeout=60000)
    return w


def _when_dialog(kind: type[QDialog], act: Callable[[QDialog], None]) -> None:
    """Answer the next modal dialog of `kind` once it is open (exec() blocks the test otherwise)."""
    tries = [500]  # about 5 s; then stop polling so a missing dialog fails the test, not later ones

    def poll() -> None:
        dialog = next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()),
                      None)
        if dialog is not None:
            act(dialog)
        elif tries[0] > 0:
            tries[0] -= 1
            QTimer.singleShot(10, poll)

    QTimer.singleShot(0, poll)


def _screen(tab: MapTab, x: float, y: float) -> QPoint:
    return tab.canvas.to_screen(x, y).toPoint()


def _hover(tab: MapTab, x: float, y: float) -> None:
    """Move the mouse over the canvas with no button held (QTest's mouseMove does not under offscreen)."""
    pos = QPointF(_screen(tab, x, y))
    event = QMouseEvent(QEvent.Type.MouseMove, pos, tab.canvas.mapToGlobal(pos), Qt.MouseButton.NoButton,
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(tab.canvas, event)


def _draw(qtbot, tab: MapTab, corners: list[tuple[float, float]]) -> None:
    qtbot.mouseClick(tab.toolbar.widgetForAction(tab.draw_action), Qt.MouseButton.LeftButton)
    for x, y in corners[:-1]:
        qtbot.mouseClick(tab.canvas, Qt.MouseButton.LeftButton, pos=_screen(tab, x, y))
    qtbot.mouseMove(tab.canvas, _screen(tab, *corners[-1]))
    qtbot.mouseDClick(tab.canvas, Qt.MouseButton.LeftButton, pos=_screen(tab, *corners[-1]))


def _village_parcels(tab: MapTab, village: str) -> list[int]:
    layer = tab.canvas.parcels.layer
    return [i for i, v in enumerate(layer.village) if v == village and layer.wkb[i] is not None]


def test_the_map_tab_shows_the_current_village_and_follows_the_navigation(win) -> None:
    tab: MapTab = win.map
    first = win.village.village
    assert tab.canvas.village == first and tab.canvas.year == win.year
    assert tab.canvas.parcels is not None and len(_village_parcels(tab, first)) > 50
    # The whole village is in view: every parcel's box lies inside what the canvas shows.
    minx, miny, maxx, maxy = tab.canvas.view_extent()
    boxes = tab.canvas.parcels.bbox[_village_parcels(tab, first)]
    assert (boxes[:, 0] >= minx).all() and (boxes[:, 2] <= maxx).all()
    assert (boxes[:, 1] >= miny).all() and (boxes[:, 3] <= maxy).all()

    other = next(uuid for uuid, _name in villages(win.store) if uuid != first)
    before = tab.canvas.center
    win.nav.select_village(other)
    assert tab.canvas.village == other
    assert tab.canvas.center != before
    boxes = tab.canvas.parcels.bbox[_village_parcels(tab, other)]
    cx, cy = tab.canvas.center
    assert boxes[:, 0].min() <= cx <= boxes[:, 2].max() and boxes[:, 1].min() <= cy <= boxes[:, 3].max()


def test_drawing_a_square_by_clicks_saves_a_parcel_in_the_village(qtbot, win, demo_store: Store) -> None:
    tab: MapTab = win.map
    village = win.village.village
    # An empty corner east of every parcel, at 1 px per metre.
    bounds = tab.canvas.parcels.extent()
    x0, y0 = bounds[2] + 2000, bounds[3] + 2000
    tab.canvas.center, tab.canvas.scale = (x0 + 50, y0 + 50), 1.0

    def fill(dialog: QDialog) -> None:
        dialog.fields.code.setText("T-100")
        dialog._accept()

    _when_dialog(NewParcelDialog, fill)
    with qtbot.waitSignal(tab.canvas.parcelEdited, timeout=5000) as saved:
        _draw(qtbot, tab, [(x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100), (x0, y0 + 100)])
    uuid = saved.args[0]
    parcel = demo_store.get("parcel", uuid)
    assert parcel["code"] == "T-100" and parcel["village"] == village
    assert parcel["area_mu"] == pytest.approx(15.0, abs=0.01)  # 100 m × 100 m = 15 亩
    assert uuid in parcel_layer(demo_store, win.year, village).uuid  # what the village's lists read
    assert tab.canvas.selected_uuid() == uuid
    assert "15.00 亩" in tab.status.text() and "T-100" in tab.status.text()
    assert not tab.area_label.isVisible()  # the live area went away with the tool
    assert win.tabs.currentWidget() is win.map_tab


def test_the_live_area_shows_in_the_status_line_while_drawing(qtbot, win) -> None:
    tab: MapTab = win.map
    bounds = tab.canvas.parcels.extent()
    x0, y0 = bounds[2] + 2000, bounds[3] + 2000
    tab.canvas.center, tab.canvas.scale = (x0 + 50, y0 + 50), 1.0
    tab.start_drawing()
    for x, y in [(x0, y0), (x0 + 100, y0), (x0 + 100, y0 + 100)]:
        qtbot.mouseClick(tab.canvas, Qt.MouseButton.LeftButton, pos=_screen(tab, x, y))
    assert tab.area_label.text() == "正在绘制：7.50 亩"  # three corners: a triangle
    _hover(tab, x0, y0 + 100)  # the fourth corner under the cursor counts before it is clicked
    assert tab.area_label.isVisible() and tab.area_label.text() == "正在绘制：15.00 亩"
    qtbot.mouseClick(tab.toolbar.widgetForAction(tab.cancel_action), Qt.MouseButton.LeftButton)
    assert tab.canvas.mode == "browse" and not tab.area_label.isVisible()
    assert tab.status.text() == "已取消。"


def test_an_overlap_is_warned_with_the_shared_mu_and_no_saves_nothing(qtbot, win, demo_store: Store,
                                                                     monkeypatch) -> None:
    tab: MapTab = win.map
    asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    layer = tab.canvas.parcels.layer
    i = _village_parcels(tab, win.village.village)[0]
    inside = shapely.from_wkb(layer.wkb[i]).representative_point()
    tab.canvas.center, tab.canvas.scale = (inside.x, inside.y), 1.0
    before = demo_store.count("parcel")
    _draw(qtbot, tab, [(inside.x - 23, inside.y - 17), (inside.x + 61, inside.y - 17),
                       (inside.x + 61, inside.y + 47), (inside.x - 23, inside.y + 47)])
    assert len(asked) == 1
    drawn = Polygon(tab.canvas.vertices)  # as clicked and snapped
    shared = sum(polygons.area_mu(drawn.intersection(shapely.from_wkb(w)))
                 for w in layer.wkb if w is not None and drawn.intersects(shapely.from_wkb(w)))
    assert shared > 0.5
    assert f"共 {shared:.2f} 亩" in asked[0] and layer.code[i] in asked[0]
    assert demo_store.count("parcel") == before


def test_changing_the_year_recolours_the_map(qtbot, win) -> None:
    tab: MapTab = win.map
    this_year = win.year
    assert "退减灌溉" in set(tab.canvas.parcels.layer.category)
    win.set_year(this_year + 1)  # a year with no measures yet: every parcel is 未核实
    assert tab.loading and f"正在载入 {this_year + 1} 年度地块" in tab.status.text()  # in a worker
    qtbot.waitUntil(lambda: not tab.loading, timeout=60000)
    assert tab.canvas.year == this_year + 1
    assert set(tab.canvas.parcels.layer.category) == {UNVERIFIED}
    assert tab.canvas.village == win.village.village  # the map stays on the village
    win.set_year(this_year)
    qtbot.waitUntil(lambda: not tab.loading, timeout=60000)
    assert tab.canvas.year == this_year and "退减灌溉" in set(tab.canvas.parcels.layer.category)


def test_a_map_click_offers_the_household_without_leaving_the_map(qtbot, win, demo_store: Store) -> None:
    tab: MapTab = win.map
    layer = tab.canvas.parcels.layer
    i = next(i for i in _village_parcels(tab, win.village.village) if layer.operator[i])
    operator = layer.operator[i]
    point = shapely.from_wkb(layer.wkb[i]).representative_point()
    tab.canvas.center, tab.canvas.scale = (point.x, point.y), 2.0
    qtbot.mouseClick(tab.canvas, Qt.MouseButton.LeftButton, pos=_screen(tab, point.x, point.y))
    assert tab.canvas.selected_uuid() == layer.uuid[i]
    assert win.tabs.currentWidget() is win.map_tab
    name = demo_store.get("operator", operator)["name"]
    assert tab.household_label.text() == f"农户：{name}" and tab.open_household_button.isVisible()
    assert layer.code[i] in tab.status.text()
    qtbot.mouseClick(tab.open_household_button, Qt.MouseButton.LeftButton)
    assert win.tabs.currentWidget() is win.household and win.household.operator == operator


def test_choosing_a_parcel_in_the_household_table_selects_it_on_the_map(win, demo_store: Store) -> None:
    tab: MapTab = win.map
    layer = tab.canvas.parcels.layer
    counts: dict[str, int] = {}
    for i, op in enumerate(layer.operator):
        if op and layer.wkb[i] is not None:
            counts[op] = counts.get(op, 0) + 1
    operator = next(op for op, n in counts.items() if n >= 2)
    win.show_household(operator)
    table = win.household.parcel_table
    model = table.model()
    shown: list[str] = []
    tab.canvas.householdSelected.connect(shown.append)
    for row in (1, 0):
        table.setCurrentIndex(model.index(row, 0))
        assert tab.canvas.selected_uuid() == table.row_object(model.index(row, 0)).uuid
    assert shown == []  # a programmatic selection never opens a household
    assert win.tabs.currentWidget() is win.household


def test_export_to_geopackage_through_the_dialog_writes_the_village(qtbot, win, demo_store: Store,
                                                                    tmp_path: Path, messages) -> None:
    tab: MapTab = win.map
    target = tmp_path / "本村地块"

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, ExportDialog)
        dialog.format.setCurrentIndex(dialog.format.findData("gpkg"))
        dialog.path.setText(str(target))
        dialog._accept()

    _when_dialog(ExportDialog, fill)
    tab.export()
    qtbot.waitUntil(lambda: tab.last_export is not None, timeout=20000)
    written = target.with_suffix(".gpkg")
    info = pyogrio.read_info(written)
    assert info["crs"] == demo_store.crs
    expected = len(_village_parcels(tab, win.village.village))
    assert info["features"] == expected
    _meta, _fids, _geoms, columns = pyogrio.raw.read(written, columns=["村名称", "措施"])
    village_name = demo_store.get("village", win.village.village)["name"]
    assert set(np.asarray(columns[0])) == {village_name}
    assert messages and "已导出" in messages[-1] and str(expected) in messages[-1]
    assert "已导出" in tab.status.text()


def test_an_export_dialog_without_a_place_says_so(qtbot, win) -> None:
    dialog = ExportDialog("西五工村", win.year, Path.home(), win)
    dialog._accept()
    assert dialog.error.text() == "请选择保存位置。" and dialog.result() == 0
    dialog.path.setText("/no/such/folder/地块.gpkg")
    dialog._accept()
    assert "文件夹不存在" in dialog.error.text()
    dialog.format.setCurrentIndex(dialog.format.findData("shp"))
    assert dialog.path.text().endswith("地块.shp")


def test_an_imagery_file_that_is_not_mbtiles_is_refused(win, tmp_path: Path, messages) -> None:
    tab: MapTab = win.map
    bad = tmp_path / "影像.mbtiles"
    bad.write_text("不是影像", encoding="utf-8")
    assert tab.choose_imagery(str(bad)) is False
    assert messages and "MBTiles" in messages[-1]
    assert tab.canvas.imagery is None and tab.imagery_path is None


def test_importing_a_file_adds_its_parcels_to_the_village_and_the_map(qtbot, win, demo_store: Store,
                                                                      tmp_path: Path, messages,
                                                                      monkeypatch) -> None:
    from ui.map.dialogs import ImportDialog

    tab: MapTab = win.map
    village = win.village.village
    code = demo_store.get("village", village)["code"]
    bounds = tab.canvas.parcels.extent()
    x0, y0 = bounds[2] + 3000, bounds[3] + 3000
    shapes = [shapely.box(x0, y0, x0 + 100, y0 + 100), shapely.box(x0 + 200, y0, x0 + 300, y0 + 50)]
    source = tmp_path / "新测地块.gpkg"
    pyogrio.raw.write(source, np.array(shapely.to_wkb(shapes), dtype=object),
                      [np.array(["I-1", "I-2"], dtype=object), np.array([code, code], dtype=object),
                       np.array(["集体机动地", "集体机动地"], dtype=object)],
                      ["地块编号", "村代码", "土地属性"], layer="地块", driver="GPKG",
                      geometry_type="Polygon", crs=demo_store.crs)

    def run(dialog: ImportDialog) -> int:  # the user reads the preview and presses 导入
        assert dialog.ok.isEnabled(), dialog.report.toPlainText()
        dialog.run_import()
        return dialog.result()

    monkeypatch.setattr(ImportDialog, "exec", run)
    created = tab.import_parcels(source)
    assert len(created) == 2
    assert {demo_store.get("parcel", u)["code"] for u in created} == {"I-1", "I-2"}
    assert all(demo_store.get("parcel", u)["village"] == village for u in created)
    assert set(created) <= set(tab.canvas.parcels.layer.uuid)
    assert tab.status.text() == "已导入 2 个地块。"
    assert any("已导入 2 个地块" in m for m in messages)


def test_an_unreadable_import_file_is_refused_and_changes_nothing(win, demo_store: Store, tmp_path: Path,
                                                                  messages) -> None:
    tab: MapTab = win.map
    bad = tmp_path / "地块.xlsx"
    bad.write_bytes(b"not a GIS file")
    before = demo_store.count("parcel")
    assert tab.import_parcels(bad) == []
    assert messages and messages[-1].startswith("无法导入：不支持的文件类型")
    assert demo_store.count("parcel") == before


def test_a_file_picked_inside_a_geodatabase_stands_for_the_geodatabase(tmp_path: Path) -> None:
    from ui.map_tab import _gdb_folder

    gdb = tmp_path / "三调.gdb"
    assert _gdb_folder(gdb / "a00000009.gdbtable") == gdb
    assert _gdb_folder(gdb) == gdb
    assert _gdb_folder(tmp_path / "地块.shp") == tmp_path / "地块.shp"


def test_a_write_while_the_year_loads_is_not_lost(qtbot, win, demo_store: Store) -> None:
    from wq_desktop import services
    from wq_desktop.model import MeasureKind

    tab: MapTab = win.map
    year = win.year + 1
    win.set_year(year)
    parcel = demo_store.find_one("parcel", "geometry IS NOT NULL")
    services.set_measure(demo_store, parcel["uuid"], year, MeasureKind.PLANTED, 1.0)  # meanwhile
    qtbot.waitUntil(lambda: not tab.loading and tab.canvas.year == year, timeout=60000)
    layer = tab.canvas.parcels.layer
    assert layer.category[layer.index_of(parcel["uuid"])] == MeasureKind.PLANTED.value
