"""The checks of #16 where the user meets them: the import dialog offers the corrected CRS and asks
for each small parcel, the map refuses a drawing far away or over another village, the export dialog
writes the bureau's Shapefile, and the parcel dialog shows the 三调 keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ui.map import MapCanvas
from wq_desktop.model import LandAttribute
from wq_desktop.store import Store

X0, Y0 = 524_000.0, 4_876_000.0


@pytest.fixture
def villages(store: Store) -> tuple[str, str]:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    a = store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    b = store.create("village", {"township": township, "code": "652301105202", "name": "东五工村"})
    store.create("parcel", {"village": b, "code": "B-1", "land_attribute": "集体机动地",
                            "geometry": shapely.box(X0, Y0, X0 + 100, Y0 + 100)})
    return a, b


def _shp(path: Path, shapes: list, codes: list[str], crs: str) -> Path:
    pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object), [np.array(codes, dtype=object)],
                      ["DKBM"], driver="ESRI Shapefile", geometry_type="Polygon", crs=crs, encoding="UTF-8")
    return path


def test_import_dialog_offers_the_corrected_crs_and_confirms_small_parcels_one_by_one(
        qtbot, store: Store, villages, tmp_path: Path, answer_yes, messages) -> None:
    from ui.map.dialogs import ImportDialog

    a, _ = villages
    # Zone-prefixed eastings under a .prj that says CM 87°E, one of them a 25 m² (0.04 亩) patch.
    shapes = [shapely.box(29_000_000 + X0 + 500, Y0, 29_000_000 + X0 + 600, Y0 + 100),
              shapely.box(29_000_000 + X0 + 700, Y0, 29_000_000 + X0 + 705, Y0 + 5)]
    dialog = ImportDialog(store, _shp(tmp_path / "p.shp", shapes, ["P-1", "P-2"], "EPSG:4538"), a)
    qtbot.addWidget(dialog)
    dialog.attribute.setCurrentText(LandAttribute.CONTRACTED.value)
    dialog.refresh()
    assert not dialog.ok.isEnabled()
    assert "不在本乡镇范围 2" in dialog.report.toPlainText()
    assert not dialog.use_suggestion.isHidden() and dialog.use_suggestion.text() == "采用 EPSG:4517"
    assert "带有“29”带号" in dialog.suggestion.text()
    qtbot.mouseClick(dialog.use_suggestion, Qt.MouseButton.LeftButton)
    assert dialog.crs.text() == "EPSG:4517" and dialog.use_suggestion.isHidden()
    report = dialog.report.toPlainText()
    assert "可导入 1" in report and "面积过小或狭长 1" in report
    assert dialog.small.count() == 1 and "第2个图斑（编号 P-2）：面积仅" in dialog.small.item(0).text()
    dialog.small.item(0).setCheckState(Qt.CheckState.Checked)  # the user checked it on the ground
    assert "可导入 2" in dialog.report.toPlainText() and "1 个面积过小或狭长的图斑已逐个确认" in \
        dialog.report.toPlainText()
    dialog.run_import()
    assert {p["code"] for p in store.find("parcel", "village=?", (a,))} == {"P-1", "P-2"}
    assert store.find_one("parcel", "code='P-1'")["minx"] == pytest.approx(X0 + 500)


def test_the_map_refuses_a_parcel_far_away_or_over_another_village_and_asks_for_a_crumb(
        qtbot, store: Store, villages) -> None:
    a, _ = villages
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.set_store(store, 2025)
    asked: list[str] = []
    canvas.confirm = lambda text: asked.append(text) or False
    values = {"village": a, "code": "N-1", "land_attribute": LandAttribute.CONTRACTED.value}
    # 界址点 typed with X and Y meaning 1,000 km further east: refused with distance and direction.
    far = shapely.box(X0 + 1_000_000, Y0, X0 + 1_000_100, Y0 + 100)
    assert canvas.create_parcel(far, values) is None
    assert canvas.last_refusal.startswith("无法保存：该图斑在本乡镇范围以东约 9")
    assert canvas.last_refusal.endswith("可能坐标系不对")
    # Over 东五工村's parcel: never, whatever the user would answer.
    canvas.confirm = lambda text: True
    over = shapely.box(X0 + 50, Y0, X0 + 150, Y0 + 100)
    assert canvas.create_parcel(over, values) is None
    assert "与其他村的地块重叠：东五工村的地块 B-1（7.50 亩）" in canvas.last_refusal
    # A 1 m² crumb is 0.00 亩 as a figure of record: refused. A 25 m² patch is asked about;
    # refused when the user says no, saved when yes.
    crumb = shapely.box(X0 + 300, Y0, X0 + 301, Y0 + 1)
    assert canvas.create_parcel(crumb, values) is None
    assert canvas.last_refusal.startswith("无法保存：面积仅 1.00 平方米，按 0.01 亩记为 0.00 亩")
    canvas.confirm = lambda text: asked.append(text) or False
    patch = shapely.box(X0 + 300, Y0, X0 + 305, Y0 + 5)
    assert canvas.create_parcel(patch, values) is None
    assert asked[-1].startswith("面积仅 0.0375 亩") and asked[-1].endswith("确认这是一个地块并保存吗？")
    canvas.confirm = lambda text: True
    assert canvas.create_parcel(patch, values) is not None
    assert store.count("parcel", "village=?", (a,)) == 1


def test_parcel_dialog_shows_the_sandiao_keys(qtbot, store: Store, villages) -> None:
    from ui.views.parcel_dialogs import ParcelDialog

    a, _ = villages
    parcel = store.create("parcel", {"village": a, "code": "101", "land_attribute": "集体机动地",
                                     "geometry": shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 100),
                                     "bsm": "6523012019000000001", "dlbm": "0102", "dlmc": "水浇地",
                                     "tbmj": 10003.5, "zldwdm": "6523011052010000000"})
    dialog = ParcelDialog(store, a, None, parcel)
    qtbot.addWidget(dialog)

    shown = {w.objectName(): w.text() for w in dialog.findChildren(QLabel) if w.objectName()}
    assert shown["parcel_bsm"] == "6523012019000000001" and shown["parcel_dlmc"] == "水浇地"
    assert shown["parcel_tbmj"] == "10,003.50" and shown["parcel_qsxz"] == "—"
    other = store.create("parcel", {"village": a, "code": "102", "land_attribute": "集体机动地",
                                    "area_mu": 3})
    plain = ParcelDialog(store, a, None, other)
    qtbot.addWidget(plain)
    assert not [w for w in plain.findChildren(QLabel) if w.objectName() == "parcel_bsm"]


def test_export_dialog_defaults_a_shapefile_to_gbk_in_4517(qtbot) -> None:
    from ui.map_tab import ExportDialog

    dialog = ExportDialog("西五工村", 2025, Path("/tmp"))
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("shp"))
    assert dialog.options == {"encoding": "GBK", "crs": "EPSG:4517"}
    dialog.encoding.setCurrentIndex(dialog.encoding.findData("UTF-8"))
    dialog.crs.setCurrentIndex(dialog.crs.findData("EPSG:4538"))
    assert dialog.options == {"encoding": "UTF-8", "crs": "EPSG:4538"}
    dialog.format.setCurrentIndex(dialog.format.findData("geojson"))
    assert not dialog.crs.isEnabled() and not dialog.encoding.isEnabled()
    assert dialog.options == {"encoding": "UTF-8", "crs": None}


def test_check_settings_dialog_sets_the_boundary_and_the_minimum(qtbot, store: Store, villages,
                                                                  tmp_path: Path) -> None:
    from ui.map.dialogs import CheckSettingsDialog
    from wq_desktop import location_checks, shape_checks

    a, _ = villages
    boundary = shapely.box(X0 - 500, Y0 - 500, X0 + 2000, Y0 + 2000)
    pyogrio.raw.write(tmp_path / "乡镇边界.gpkg", np.array([shapely.to_wkb(boundary)], dtype=object),
                      [np.array(["六工镇"], dtype=object)], ["名称"], driver="GPKG",
                      geometry_type="Polygon", crs="EPSG:4538")
    dialog = CheckSettingsDialog(store)
    qtbot.addWidget(dialog)
    assert dialog.edits["min_area_mu"].text() == "0.1" and dialog.edits["refuse_overlap_mu"].text() == ""
    dialog.edits["min_area_mu"].setText("一亩")
    dialog.save()
    assert dialog.error.text() == "最小地块面积（亩）“一亩”不是数字。"
    assert shape_checks.load(store).min_area_mu == 0.1
    dialog.edits["min_area_mu"].setText("0.5")
    dialog.edits["refuse_overlap_mu"].setText("2")
    dialog.choose_boundary(str(tmp_path / "乡镇边界.gpkg"))
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    saved = shape_checks.load(store)
    assert (saved.min_area_mu, saved.refuse_overlap_mu) == (0.5, 2.0)
    extent = location_checks.township_extent(store)
    assert extent.core.equals(boundary)
    # A parcel 3 km north of the boundary is now refused on the map.
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.set_store(store, 2025)
    values = {"village": a, "code": "N", "land_attribute": LandAttribute.CONTRACTED.value}
    assert canvas.create_parcel(shapely.box(X0, Y0 + 5000, X0 + 100, Y0 + 5100), values) is None
    assert canvas.last_refusal == "无法保存：该图斑在本乡镇范围以北约 3.0 公里，可能坐标系不对"
