"""The map canvas as a user drives it: draw by clicks, edit, select, zoom; refusals are shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import shapely
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QPainter

from ui.map import MapCanvas
from ui.operations import run_op
from wq_desktop.model import LandAttribute, MeasureKind
from wq_desktop.operations import measures, parcels
from wq_desktop.store import Store

ORIGIN = (500_000.0, 4_870_000.0)


@pytest.fixture
def village(store: Store) -> str:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    return store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})


@pytest.fixture
def canvas(qtbot, store: Store, village: str) -> MapCanvas:
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(800, 600)
    c.show()
    qtbot.waitExposed(c)
    c.set_store(store, 2025)
    # 1 px = 1 m, world ORIGIN at the widget centre: a click at (400 + dx, 300 - dy) is ORIGIN + (dx, dy).
    c.scale, c.center = 1.0, ORIGIN
    c.ask_new_parcel = lambda shape: {"village": village, "code": "N-1",
                                      "land_attribute": LandAttribute.CONTRACTED.value}
    return c


def _add_parcel(store: Store, values: dict) -> str:
    """A parcel saved as the window saves one: an operation, its Changes broadcast to the canvas."""
    return run_op(None, store, lambda s: parcels.save_parcel(s, None, values)).result


def _set_measure(store: Store, parcel: str, *args) -> None:
    run_op(None, store, lambda s: measures.set_measure(s, parcel, *args))


def _screen(dx: float, dy: float) -> QPoint:
    return QPoint(int(400 + dx), int(300 - dy))


def _draw(qtbot, canvas: MapCanvas, points: list[tuple[float, float]]) -> None:
    canvas.start_drawing()
    for dx, dy in points[:-1]:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(dx, dy))
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(*points[-1]))


def test_drawing_a_polygon_by_clicks_saves_a_parcel_with_the_expected_area(qtbot, canvas: MapCanvas,
                                                                          store: Store) -> None:
    areas: list[float] = []
    canvas.drawingAreaChanged.connect(areas.append)
    with qtbot.waitSignal(canvas.parcelEdited) as saved:
        _draw(qtbot, canvas, [(0, 0), (150, 0), (150, 100), (0, 100)])
    parcel = store.get("parcel", saved.args[0])
    assert parcel["code"] == "N-1"
    assert parcel["area_mu"] == pytest.approx(150 * 100 / (10000 / 15), abs=0.01)  # 22.50 亩
    assert max(areas) == pytest.approx(22.5, abs=0.01)  # the live area reached the final value
    assert canvas.mode == "browse" and canvas.selected_uuid() == parcel["uuid"]


def test_a_self_intersecting_drawing_is_refused_with_the_reason(qtbot, canvas: MapCanvas,
                                                                store: Store) -> None:
    _draw(qtbot, canvas, [(0, 0), (100, 100), (100, 0), (0, 100)])
    assert store.count("parcel") == 0
    assert canvas.last_refusal is not None and "自相交" in canvas.last_refusal
    assert canvas.mode == "draw"  # the user can still fix the drawing
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.mode == "browse" and canvas.vertices == []


def test_vertices_snap_to_a_neighbour_within_a_few_pixels(qtbot, canvas: MapCanvas, store: Store,
                                                          village: str) -> None:
    x0, y0 = ORIGIN
    _add_parcel(store, {"village": village, "code": "old", "land_attribute": "集体机动地",
                            "geometry": shapely.box(x0 - 100, y0, x0, y0 + 100)})
    canvas.apply_pending()  # drawn now rather than on the next turn of the event loop
    canvas.start_drawing()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(3, 4))  # 5 px from (x0, y0)
    assert canvas.vertices[0] == (x0, y0)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(60, 60))  # nothing near
    assert canvas.vertices[1] == (x0 + 60, y0 + 60)


def test_an_overlap_is_warned_in_mu_and_declining_saves_nothing(qtbot, canvas: MapCanvas, store: Store,
                                                               village: str) -> None:
    x0, y0 = ORIGIN
    _add_parcel(store, {"village": village, "code": "old", "land_attribute": "集体机动地",
                            "geometry": shapely.box(x0 - 50, y0, x0 + 50, y0 + 100)})
    canvas.apply_pending()
    asked: list[str] = []
    canvas.confirm = lambda text: asked.append(text) or False
    _draw(qtbot, canvas, [(20, 20), (200, 20), (200, 80), (20, 80)])
    assert len(asked) == 1 and "old（2.70 亩）" in asked[0]  # 30 m × 60 m shared
    assert store.count("parcel") == 1


def test_editing_drags_inserts_and_deletes_vertices_then_saves(qtbot, canvas: MapCanvas, store: Store,
                                                               village: str) -> None:
    x0, y0 = ORIGIN
    uuid = _add_parcel(store, {"village": village, "code": "E", "land_attribute": "集体机动地",
                                   "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})
    canvas.apply_pending()
    canvas.start_editing(uuid)
    assert len(canvas.vertices) == 4
    # Drag the corner (100, 100) out to (150, 100).
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_screen(100, 100))
    qtbot.mouseMove(canvas, _screen(150, 100))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_screen(150, 100))
    assert canvas.drawing_area_mu() == pytest.approx(12500 / (10000 / 15))
    # Insert a vertex on the bottom edge, then delete it again with a right-click.
    qtbot.mouseDClick(canvas, Qt.MouseButton.LeftButton, pos=_screen(50, 0))
    assert len(canvas.vertices) == 5
    qtbot.mouseClick(canvas, Qt.MouseButton.RightButton, pos=_screen(50, 0))
    assert len(canvas.vertices) == 4
    with qtbot.waitSignal(canvas.parcelEdited):
        qtbot.keyClick(canvas, Qt.Key.Key_Return)
    assert store.get("parcel", uuid)["area_mu"] == pytest.approx(12500 / (10000 / 15))
    assert store.get("parcel", uuid)["rev"] == 2


def test_clicking_a_parcel_selects_it_and_its_household(qtbot, demo_store: Store) -> None:
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(900, 700)
    c.show()
    c.set_store(demo_store, max(m["year"] for m in demo_store.find("measure")))
    parcel = next(p for p in demo_store.find("parcel") if p["operator"])
    centre = parcel["geometry"].representative_point()
    c.center, c.scale = (centre.x, centre.y), 1.0
    parcels: list[str] = []
    households: list[str] = []
    c.parcelSelected.connect(parcels.append)
    c.householdSelected.connect(households.append)
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=QPoint(450, 350))
    assert parcels == [parcel["uuid"]] and households == [parcel["operator"]]
    assert c.selected_uuid() == parcel["uuid"]


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot, canvas: MapCanvas) -> None:
    at = QPointF(600, 200)
    before = canvas.to_world(at)
    canvas.zoom_at(at, 2.0)
    after = canvas.to_world(at)
    assert canvas.scale == 2.0
    assert after == pytest.approx(before)


def test_township_view_uses_level_of_detail_and_village_view_shows_labels(qtbot, demo_store: Store) -> None:
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(1000, 700)
    year = max(m["year"] for m in demo_store.find("measure"))
    c.set_store(demo_store, year)
    c.show_village(None)
    c.scale /= 20  # far out: parcels are a few pixels
    image = QImage(c.size(), QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(image)
    far = c.render_map(p)
    p.end()
    assert far["paths"] == 0 and far["dots"] + far["rects"] == demo_store.count("parcel")
    village = demo_store.find("village", order_by="code")[0]["uuid"]
    c.show_village(village)
    c.zoom_at(QPointF(500, 350), 6)
    p = QPainter(image)
    near = c.render_map(p)
    p.end()
    assert near["paths"] > 0 and near["labels"] > 0
    counts = c._legend_counts()
    retired = demo_store.conn.execute(
        "SELECT count(DISTINCT m.parcel) FROM measure m JOIN parcel p ON p.uuid=m.parcel"
        " WHERE m.year=? AND m.kind=? AND p.village=? AND m.deleted=0",
        (year, MeasureKind.RETIRED.value, village)).fetchone()[0]
    assert counts[MeasureKind.RETIRED.value][0] == retired


@pytest.fixture
def township(qtbot, demo_store: Store) -> Callable[[], MapCanvas]:
    """Shows the demo township's parcels of its latest year, the whole township in view (called
    by the test, after it has set what it needs: no frame is painted in between)."""
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(1000, 700)
    c.show()
    qtbot.waitExposed(c)

    def show() -> MapCanvas:
        c.set_store(demo_store, max(m["year"] for m in demo_store.find("measure")))
        return c

    return show


def _frame(c: MapCanvas, image: QImage) -> dict[str, int]:
    """One frame of the map painted into `image`: what render_map drew."""
    p = QPainter(image)
    try:
        return c.render_map(p)
    finally:
        p.end()


def test_outlines_not_built_in_one_frame_show_as_rectangles_then_all_come(qtbot, township) -> None:
    """A view needing more outlines than a frame builds (the whole township at real size) never
    waits for them all: the rest are rectangles until the event loop has built them."""
    c = township()
    c.build_chunk = 40
    image = QImage(c.size(), QImage.Format.Format_ARGB32_Premultiplied)
    first = _frame(c, image)
    waiting = c.paths_waiting
    assert first["paths"] == 40 and waiting > 40 and first["rects"] >= waiting
    qtbot.waitUntil(lambda: c.paths_waiting == 0)
    after = _frame(c, image)
    assert after["paths"] == first["paths"] + waiting
    assert after["dots"] + after["rects"] + after["paths"] == first["dots"] + first["rects"] + first["paths"]


def test_outlines_are_the_parcels_rings_holes_and_parts_included() -> None:
    from ui.map.parcels import outline_paths

    square = shapely.box(0, 0, 100, 100)
    holed = square.difference(shapely.box(40, 40, 60, 60))
    two = shapely.MultiPolygon([shapely.box(200, 0, 210, 10), shapely.box(220, 0, 230, 10)])
    shapes = [holed, two, square]
    paths = outline_paths([shapely.to_wkb(s) for s in shapes] + [None], (10.0, 0.0))
    assert paths[3].isEmpty() and len(paths) == 4
    for shape, path in zip(shapes, paths, strict=False):
        minx, miny, maxx, maxy = shape.bounds
        box = path.boundingRect()
        assert (box.left(), box.top(), box.right(), box.bottom()) == (minx - 10, miny, maxx - 10, maxy)
        assert path.elementCount() == shapely.get_num_coordinates(shape)
        for x, y in ((50, 50), (20, 20), (205, 5), (215, 5), (225, 5), (99, 1)):
            assert path.contains(QPointF(x - 10, y)) == shape.contains(shapely.Point(x, y)), (shape, x, y)


def test_measure_change_recolours_the_parcel(qtbot, canvas: MapCanvas, store: Store, village: str) -> None:
    x0, y0 = ORIGIN
    uuid = _add_parcel(store, {"village": village, "code": "M", "land_attribute": "集体机动地",
                                   "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})
    canvas.apply_pending()
    i = canvas.parcels.layer.index_of(uuid)
    assert canvas.parcels.layer.category[i] == "未核实"
    _set_measure(store, uuid, 2025, MeasureKind.RETIRED, 15.0, 400.0)
    canvas.apply_pending()
    assert canvas.parcels.layer.category[canvas.parcels.layer.index_of(uuid)] == "退减灌溉"


def test_boundary_points_dialog_parses_pasted_points(qtbot, store: Store, village: str) -> None:
    from ui.map.dialogs import BoundaryPointsDialog

    dialog = BoundaryPointsDialog(store, village)
    qtbot.addWidget(dialog)
    dialog.text.setPlainText("J1,1,4870100.00,29500000.00\nJ2,1,4870100.00,29500100.00\n"
                             "J3,1,4870000.00,29500100.00\nJ4,1,4870000.00,29500000.00\n")
    assert dialog.shape is not None and dialog.shape.bounds == (500000, 4870000, 500100, 4870100)
    assert "15.00 亩" in dialog.result.text()
    dialog.text.setPlainText("J1,1,4870100,29500000\nJ2,1,4870000,29500100\nJ3,1,4870100,29500100\n"
                             "J4,1,4870000,29500000\n")
    assert dialog.shape is None and "自相交" in dialog.result.text()


def test_import_dialog_previews_the_dltb_preset(qtbot, store: Store, village: str, tmp_path: Path) -> None:
    import numpy as np
    import pyogrio

    from ui.map.dialogs import ImportDialog

    shapes = [shapely.box(500_000 + 200 * i, 4_870_000, 500_100 + 200 * i, 4_870_100) for i in range(3)]
    fields = {"TBBH": ["1", "2", "3"], "DLBM": ["0102", "0102", "1001"],
              "DLMC": ["水浇地", "水浇地", "铁路用地"],
              "ZLDWDM": ["6523011052010000000"] * 3, "ZLDWMC": ["西五工村"] * 3, "TBMJ": [1e4] * 3}
    pyogrio.raw.write(tmp_path / "DLTB.shp", np.array(shapely.to_wkb(shapes), dtype=object),
                      [np.array(v, dtype=float if k == "TBMJ" else object) for k, v in fields.items()],
                      list(fields), driver="ESRI Shapefile", geometry_type="Polygon", crs="EPSG:4538",
                      encoding="GBK")
    dialog = ImportDialog(store, tmp_path / "DLTB.shp")
    qtbot.addWidget(dialog)
    assert dialog.preset.currentText() == "三调地类图斑（DLTB）"
    assert not dialog.ok.isEnabled()  # no land attribute yet: missing field, nothing importable
    dialog.attribute.setCurrentText(LandAttribute.CONTRACTED.value)
    dialog.refresh()
    assert dialog.ok.isEnabled()
    report = dialog.report.toPlainText()
    assert "可导入 2" in report and "铁路用地" in report


def test_offline_imagery_is_drawn_under_the_parcels(qtbot, demo_store: Store, tmp_path: Path) -> None:
    from tests.core.test_gisfiles import make_mbtiles
    from wq_desktop.geo import projection

    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(800, 600)
    c.set_store(demo_store, max(m["year"] for m in demo_store.find("measure")))
    point = projection.transform(shapely.Point(87.30, 44.00), "EPSG:4326", demo_store.crs)
    make_mbtiles(tmp_path / "img.mbtiles", 87.30, 44.00, 16, colour=(10, 200, 10))
    c.set_imagery(str(tmp_path / "img.mbtiles"))
    c.center, c.scale = (point.x, point.y), 1.0
    assert c.imagery is not None
    target = QImage(c.size(), QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(target)
    drawn = c.imagery.paint(painter, c.world_to_screen(), c.view_extent(), 1.0)
    painter.end()
    assert drawn >= 4  # every package tile that meets the 800 m × 600 m view
    image = c.grab_image()
    # Where no parcel covers the map the tile colour shows, not the plain background.
    colours = {image.pixelColor(x, y).green() for x in range(0, 800, 50) for y in range(150, 550, 50)}
    assert 200 in colours


def test_legend_sums_the_measure_areas_not_the_whole_parcel(qtbot, canvas: MapCanvas, store: Store,
                                                          village: str) -> None:
    from ui.map.overlays import legend_lines
    x0, y0 = ORIGIN
    retired = _add_parcel(store, {"village": village, "code": "R", "land_attribute": "集体机动地",
                                      "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})  # 15 亩
    _add_parcel(store, {"village": village, "code": "U", "land_attribute": "集体机动地",
                            "geometry": shapely.box(x0 + 200, y0, x0 + 300, y0 + 100)})
    _set_measure(store, retired, 2025, MeasureKind.RETIRED, 5.25, 400.0)
    _set_measure(store, retired, 2025, MeasureKind.PLANTED, 9.75, 0.0)
    canvas.apply_pending()
    counts = canvas._legend_counts()
    assert counts[MeasureKind.RETIRED.value] == (1, pytest.approx(5.25))
    assert counts[MeasureKind.PLANTED.value] == (1, pytest.approx(9.75))
    assert counts["未核实"] == (1, pytest.approx(15.0, abs=0.01))
    lines = legend_lines(counts)
    assert "退减灌溉  1 块  5.25 亩" in lines
    assert "未核实  1 块  15.00 亩" in lines


def test_legend_is_counted_once_per_change_not_once_per_frame(qtbot, canvas: MapCanvas, store: Store,
                                                             village: str, monkeypatch) -> None:
    x0, y0 = ORIGIN
    parcel = _add_parcel(store, {"village": village, "code": "R", "land_attribute": "集体机动地",
                                     "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})
    qtbot.waitUntil(lambda: canvas.parcels is not None and canvas.parcels.n == 1)
    canvas.grab()  # the first frame after the change counts
    counted: list[int] = []
    count = canvas._count_legend
    monkeypatch.setattr(canvas, "_count_legend", lambda: counted.append(1) or count())
    for _ in range(3):
        canvas.grab()  # a frame each: paintEvent draws the legend
    assert counted == []
    _set_measure(store, parcel, 2025, MeasureKind.RETIRED, 15, 400.0)
    qtbot.waitUntil(lambda: canvas._legend_counts()[MeasureKind.RETIRED.value][0] == 1)
    for _ in range(3):
        canvas.grab()
    assert len(counted) == 1 and canvas._legend_counts()["未核实"] == (0, 0.0)


def test_legend_and_north_arrow_are_drawn_once_per_change_and_look_the_same(
        qtbot, canvas: MapCanvas, store: Store, village: str, monkeypatch) -> None:
    from PySide6.QtGui import QColor, QFontMetrics

    from ui.map import overlays

    x0, y0 = ORIGIN
    parcel = _add_parcel(store, {"village": village, "code": "R", "land_attribute": "集体机动地",
                                 "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})
    qtbot.waitUntil(lambda: canvas.parcels is not None and canvas.parcels.n == 1)
    drawn: list[str] = []
    legend, north = overlays.draw_legend, overlays.draw_north_arrow
    monkeypatch.setattr(overlays, "draw_legend", lambda *a: drawn.append("legend") or legend(*a))
    monkeypatch.setattr(overlays, "draw_north_arrow", lambda *a: drawn.append("north") or north(*a))
    for _ in range(4):
        canvas.grab_image()
    assert drawn.count("legend") <= 1 and drawn.count("north") <= 1  # drawn once, then copied
    drawn.clear()
    _set_measure(store, parcel, 2025, MeasureKind.RETIRED, 15, 400.0)
    qtbot.waitUntil(lambda: canvas._legend_counts()[MeasureKind.RETIRED.value][0] == 1)
    for _ in range(3):
        canvas.grab_image()
    assert drawn == ["legend"]  # new figures: the legend once more, the arrow stays
    canvas.resize(canvas.width() + 40, canvas.height())
    for _ in range(3):
        canvas.grab_image()
    assert drawn == ["legend", "north"]  # the arrow moved with the right edge
    # Copied from the image, the furniture looks as drawn straight onto the map.
    direct = QImage(canvas.size(), QImage.Format.Format_ARGB32_Premultiplied)
    direct.fill(0)
    p = QPainter(direct)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setFont(canvas.font())
    legend(p, canvas._legend_counts(), canvas.year)
    north(p, canvas.width())
    p.end()
    box = overlays.legend_box(QFontMetrics(canvas.font()), canvas._legend_counts(), canvas.year)
    height = QFontMetrics(canvas.font()).height()
    shot = canvas.grab_image()  # the middle of each swatch (see overlays.draw_legend)
    swatches = [(box.left() + 18, box.top() + 5 + n * (height + 4) + height / 2) for n in (1, 2, 3, 4)]
    arrow = [(canvas.width() - 34 + 2, 14 + 26), (canvas.width() - 34 - 2, 14 + 26)]
    for x, y in swatches + arrow:
        a, b = QColor(shot.pixel(int(x), int(y))), QColor(direct.pixel(int(x), int(y)))
        assert b.alpha() == 255 and a.rgb() == b.rgb(), (x, y, a.name(), b.name())


def test_a_drawn_parcel_can_be_given_to_a_household_of_its_village(qtbot, canvas: MapCanvas,
                                                                   store: Store, village: str) -> None:
    from ui.map.dialogs import NO_OPERATOR, NewParcelDialog

    farmer = store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                       "id_code": "11010519491231002X"})
    other_village = store.create("village", {"township": store.get("village", village)["township"],
                                              "code": "652301105202", "name": "东五工村"})
    store.create("operator", {"village": other_village, "name": "李四", "kind": "农户",
                              "id_code": "110105194912310038"})
    x0, y0 = ORIGIN
    shape = shapely.box(x0, y0, x0 + 100, y0 + 100)
    dialog = NewParcelDialog(store, shape, village)
    qtbot.addWidget(dialog)
    combo = dialog.fields.operator
    assert [combo.itemText(i) for i in range(combo.count())] == [NO_OPERATOR, "张三"]
    assert dialog.values()["operator"] is None  # not chosen: saved without a household
    combo.setCurrentIndex(1)
    dialog.fields.code.setText("N-2")
    uuid = canvas.create_parcel(shape, dialog.values())
    assert store.get("parcel", uuid)["operator"] == farmer
    # another village offers its own households only
    dialog.fields.village.setCurrentIndex(dialog.fields.village.findData(other_village))
    assert [combo.itemText(i) for i in range(combo.count())] == [NO_OPERATOR, "李四"]


def test_outlines_asked_for_are_never_evicted_by_building_the_others(
        demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a full cache, asking for built and unbuilt outlines together returns every one of
    them (building the missing ones evicts only outlines not asked for): a None here is a paint
    that raises."""
    from ui.map import parcels as parcels_module
    from ui.map.parcels import ParcelPaths
    from wq_desktop.gisfiles import parcel_layer
    from wq_desktop.queries import navigation

    monkeypatch.setattr(parcels_module, "PATH_CACHE", 4)
    pp = ParcelPaths(parcel_layer(demo_store, navigation.latest_year(demo_store)))
    pp.paths_of(np.array([0, 1]))
    pp.paths_of(np.array([2, 3]))
    assert all(path is not None for path in pp.paths_of(np.array([0, 1, 4, 5])))


def test_a_frame_building_outlines_keeps_the_ones_it_draws(
        township, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a full cache, a frame that builds its missing outlines evicts outlines it does not
    draw, never the built ones it does (which it would then build a second time to draw)."""
    from ui.map import parcels as parcels_module

    c = township()
    c.zoom_at(QPointF(500, 350), 3.0)  # a part of the township
    pp = c.parcels
    _, _, shown = pp.split_by_size(pp.in_box(*c.view_extent()), c.scale)
    others = np.setdiff1d(np.arange(pp.n), shown)
    assert len(shown) >= 40 and len(others) >= 40
    monkeypatch.setattr(parcels_module, "PATH_CACHE", len(shown))
    c.build_chunk = len(shown)
    pp.build_paths(shown[:20])  # drawn long ago
    pp.build_paths(others[:len(shown) - 20])  # drawn since: the cache is full
    built: list[int] = []
    real = parcels_module.outline_paths
    monkeypatch.setattr(parcels_module, "outline_paths",
                        lambda wkbs, origin: built.append(len(wkbs)) or real(wkbs, origin))
    drawn = _frame(c, QImage(c.size(), QImage.Format.Format_ARGB32_Premultiplied))
    assert drawn["paths"] == len(shown)
    assert sum(built) == len(shown) - 20  # only the missing ones, each once
    assert not len(pp.without_path(shown))


def test_a_year_change_draws_its_first_frame_with_every_outline_in_the_new_colours(
        qtbot, township, demo_store: Store) -> None:
    """The new year's layer shares the outlines of the one shown, so the outlines built for the
    view are kept: the first frame after the change has no rectangle standing in for one, and the
    map holds one copy of the township's outlines, not two."""
    from wq_desktop.gisfiles import parcel_layer

    c = township()
    year = c.year
    c.build_chunk = 40  # outlines built per frame: the township's take many frames
    image = QImage(c.size(), QImage.Format.Format_ARGB32_Premultiplied)
    _frame(c, image)
    qtbot.waitUntil(lambda: c.paths_waiting == 0)
    before, shown = _frame(c, image), c.parcels.layer
    c.load_layer(demo_store, year - 1)
    qtbot.waitUntil(lambda: not c.loading and c.year == year - 1)
    assert _frame(c, image) == before and c.paths_waiting == 0  # every outline drawn, none waiting
    layer = c.parcels.layer
    assert layer.wkb is shown.wkb and layer.category != shown.category
    assert layer.category == parcel_layer(demo_store, year - 1).category


def test_a_label_shows_the_whole_name_where_it_fits_and_elides_it_where_not(qapp) -> None:
    from PySide6.QtGui import QFont, QFontMetricsF

    from ui.map.painter import LabelTexts

    font = QFont(qapp.font())
    texts = LabelTexts().texts(font)
    name = "古丽娜尔·吐尔逊"
    full = QFontMetricsF(font).horizontalAdvance(name)
    assert texts.fitted(name, full + 1).text() == name
    short = texts.fitted(name, full / 2).text()
    assert short.endswith("…") and name.startswith(short[:-1]) and len(short) < len(name)
    assert texts.fitted(name, 1) is None or texts.fitted(name, 1).text() in ("", "…")
