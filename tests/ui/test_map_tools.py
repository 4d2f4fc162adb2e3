"""The map tools GIS people expect, driven as a user would: the cursor readout, the 1:n scale,
measuring, multi-select, the attribute table in step with the map, snapping to edges."""

from __future__ import annotations

import pytest
import shapely
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from ui.map import overlays
from ui.map_tab import MapTab
from wq_desktop.model import LandAttribute
from wq_desktop.store import Store

X0, Y0 = 524_000.0, 4_876_000.0


@pytest.fixture
def tab(qtbot, store: Store) -> MapTab:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    village = store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    for i in range(3):
        store.create("parcel", {"village": village, "code": f"P{i}", "land_attribute": "集体机动地",
                                "geometry": shapely.box(X0 + 120 * i, Y0, X0 + 120 * i + 100, Y0 + 100),
                                **({"bsm": "6523012019000000001", "dlbm": "0102"} if i == 0 else {})})
    t = MapTab(store, 2025)
    qtbot.addWidget(t)
    t.resize(1000, 800)
    t.show()
    qtbot.waitExposed(t)
    t.show_village(village)
    qtbot.waitUntil(lambda: not t.loading)  # the year's parcels are read by a worker (#15)
    c = t.canvas
    # 1 px = 1 m with (X0, Y0) at the canvas centre: a click at centre + (dx, -dy) is (X0 + dx, Y0 + dy)
    # (half a pixel moved for an odd width or height, so whole pixels are whole metres).
    c.scale, c.center = 1.0, (X0 + c.width() % 2 / 2, Y0 - c.height() % 2 / 2)
    c.update()
    t.village_uuid = village
    return t


def _at(tab: MapTab, dx: float, dy: float) -> QPoint:
    c = tab.canvas
    return QPoint(int(c.width() / 2 + dx), int(c.height() / 2 - dy))


def _move(canvas, pos: QPoint) -> None:
    event = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(pos), QPointF(canvas.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)


def test_cursor_position_is_read_out_in_the_store_crs_and_in_degrees(qtbot, tab: MapTab) -> None:
    _move(tab.canvas, _at(tab, 54, 88))
    text = tab.position.text()
    # Survey order: X is the northing. (524054, 4876088) is the city seat, 87.30°E 44.02°N.
    assert text.startswith("X=4876088.00, Y=524054.00（EPSG:4538）")
    assert "东经87°18′00.0" in text and "北纬44°01′11.9" in text


def test_scale_bar_reads_one_to_n(qtbot, tab: MapTab, monkeypatch) -> None:
    assert overlays.scale_ratio(1.0, 96) == 3780  # 96 px per inch at 1 px per metre
    assert overlays.scale_ratio(0.1, 96) == 37800 and overlays.scale_ratio(0.0123, 96) == 307000
    drawn: list[float | None] = []
    real = overlays.draw_scale_bar
    monkeypatch.setattr(overlays, "draw_scale_bar",
                        lambda p, s, h, dpi=None: (drawn.append(dpi), real(p, s, h, dpi)))
    tab.canvas.grab_image()
    assert drawn == [tab.canvas.logicalDpiX()]


def test_measuring_a_path_and_area_writes_nothing(qtbot, tab: MapTab, store: Store) -> None:
    before = store.count("parcel")
    tab.measure_action.trigger()
    c = tab.canvas
    assert c.mode == "measure" and tab.status.text().startswith("量算：单击各点")
    for dx, dy in ((0, -100), (150, -100), (150, -200)):
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, dx, dy))
    qtbot.mouseDClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, 0, -200))
    assert tab.status.text() == "量算：距离 400.00 米；闭合面积 22.50 亩（周长 500.00 米）（4 个点）"
    assert c.measure.finished and store.count("parcel") == before
    qtbot.keyClick(c, Qt.Key.Key_Escape)
    assert c.mode == "browse" and c.measure.points == []


def test_ctrl_click_selects_several_parcels_and_the_table_follows(qtbot, tab: MapTab) -> None:
    c = tab.canvas
    tab.table_action.trigger()
    assert tab.table.isVisible() and tab.table.model.rowCount() == 3
    assert tab.table.summary.text() == "西五工村 地块属性表：3 个地块，45.00 亩"
    layer = c.parcels.layer
    uuid = {layer.code[i]: layer.uuid[i] for i in range(len(layer))}
    with qtbot.waitSignal(c.selectionChanged) as first:
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, 50, 50))
    assert first.args[0] == [uuid["P0"]]
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _at(tab, 290, 50))
    assert c.selected_uuids() == [uuid["P0"], uuid["P2"]]
    assert sorted(layer.code[i] for i in tab.table.selected_indices()) == ["P0", "P2"]
    assert tab.status.text() == "已选 2 个地块，合计 30.00 亩（Ctrl+单击增减）"
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, _at(tab, 50, 50))
    assert c.selected_uuids() == [uuid["P2"]]
    # The other way round: rows chosen in the table are selected on the map.
    view, model = tab.table.view, tab.table.model
    cell = view.visualRect(model.index(model.row_of(layer.uuid.index(uuid["P1"])), 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert c.selected_uuids() == [uuid["P1"]]
    assert tab.status.text().startswith("地块 P1 · 西五工村 · 15.00 亩")
    view.selectAll()
    assert sorted(c.selected_uuids()) == sorted(uuid.values())
    # The 三调 keys are columns of the table.
    row = model.row_of(layer.uuid.index(uuid["P0"]))
    headers = [model.headerData(k, Qt.Orientation.Horizontal) for k in range(model.columnCount())]
    assert model.data(model.index(row, headers.index("标识码 BSM"))) == "6523012019000000001"
    assert model.data(model.index(row, headers.index("地类编码 DLBM"))) == "0102"


def test_points_snap_to_a_neighbours_edge_as_well_as_its_vertices(qtbot, tab: MapTab, store: Store) -> None:
    c = tab.canvas
    c.ask_new_parcel = lambda shape: {"village": tab.village_uuid, "code": "N-1",
                                      "land_attribute": LandAttribute.CONTRACTED.value}
    c.start_drawing()
    # Along P0's east edge (x = X0 + 100): clicks 3 px outside it land exactly on it.
    for dx, dy in ((103, 20), (103, 80)):
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, dx, dy))
    assert [v[0] for v in c.vertices] == [X0 + 100, X0 + 100]
    assert c.vertices[0][1] == pytest.approx(Y0 + 20, abs=1) and c.vertices[0] not in (
        (X0 + 100, Y0), (X0 + 100, Y0 + 100))
    # Near a corner the vertex wins over the edge.
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, 118, 97))
    assert c.vertices[-1] == (X0 + 120, Y0 + 100)
    qtbot.mouseDClick(c, Qt.MouseButton.LeftButton, pos=_at(tab, 118, 3))
    assert c.vertices == [] and store.find_one("parcel", "code='N-1'") is not None
    new = store.find_one("parcel", "code='N-1'")["geometry"]
    p0 = store.find_one("parcel", "code='P0'")["geometry"]
    assert new.intersection(p0).area == pytest.approx(0.0, abs=1e-6)  # shares the edge, no sliver
