"""Imports a bureau GIS person would try: far-away data, a mislabelled zone, a wrong --crs, slivers,
another village's land. Each is refused with the reason in Chinese and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import box

from wq_desktop import cli, location_checks, shape_checks
from wq_desktop.errors import ValidationError, WqError
from wq_desktop.geo.polygons import from_wkb
from wq_desktop.gis_import import apply_import, guess_mapping, preview_import, read_source
from wq_desktop.model import LandAttribute
from wq_desktop.store import Store

X0, Y0 = 524_000.0, 4_876_000.0  # near the Changji city seat in EPSG:4538


def _township(store: Store) -> tuple[dict, dict]:
    """Two villages, each with a row of 15-亩 fields: the township's own extent."""
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    a = store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    b = store.create("village", {"township": township, "code": "652301105202", "name": "东五工村"})
    for village, dx in ((a, 0.0), (b, 3000.0)):
        for i in range(4):
            x = X0 + dx + i * 104
            store.create("parcel", {"village": village, "code": f"old-{i}", "land_attribute": "集体机动地",
                                    "geometry": box(x, Y0, x + 100, Y0 + 100)})
    return store.get("village", a), store.get("village", b)


def _write(path: Path, shapes: list, codes: list[str], crs: str | None, **columns: list) -> Path:
    fields = {"DKBM": codes, **columns}
    data = [np.array(v, dtype=float if isinstance(v[0], float) else object) for v in fields.values()]
    kwargs = {"encoding": "UTF-8"} if path.suffix == ".shp" else {}
    driver = {".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".gpkg": "GPKG"}[path.suffix]
    with pytest.warns(UserWarning) if crs is None else _nothing():
        pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object), data, list(fields),
                          driver=driver, geometry_type="MultiPolygon" if any(
                              s.geom_type == "MultiPolygon" for s in shapes) else "Polygon",
                          crs=crs, **kwargs)
    return path


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _preview(store: Store, path: Path, village: dict | None = None, **kwargs):
    source = read_source(path)
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    return preview_import(store, source, mapping, village_code=village["code"] if village else None, **kwargs)


def _cli(store: Store, path: Path, village: dict, *extra: str) -> int:
    return cli.main(["import", "parcels", str(path), "--db", str(store.path), "--user", "测试员",
                     "--village", village["code"], "--land-attribute", LandAttribute.CONTRACTED.value,
                     *extra])


def _provinces() -> list:
    """1,367 polygons over China in 经纬度, the size of counties to provinces, as a public
    administrative-division file holds them (islands and all)."""
    shapes = []
    lons, lats = np.arange(73.5, 135.0, 1.5), np.arange(18.0, 53.5, 1.0)
    for lon in lons:
        for lat in lats:
            shapes.append(box(lon, lat, lon + 1.4, lat + 0.9))
    return shapes[:1367]


def test_all_1367_province_polygons_are_refused_with_distance_and_direction(store: Store, tmp_path: Path,
                                                                            capsys) -> None:
    village, _ = _township(store)
    shapes = _provinces()
    path = _write(tmp_path / "省级行政区.shp", shapes, [f"{n}" for n in range(len(shapes))], "EPSG:4490",
                  NAME=["新疆维吾尔自治区"] * len(shapes))
    before = store.count("parcel")
    preview = _preview(store, path, village)
    assert preview.ready == [] and preview.counts["outside"] == 1367
    assert preview.blocking == "没有可导入的地块。"
    reasons = [p.message for p in preview.outside]
    assert all(r.startswith("该图斑在本乡镇范围") and r.endswith("可能坐标系不对") for r in reasons)
    # A far-off one says how far and which way: the polygon at 73.5°E, 18°N is south-west.
    assert preview.outside[0].message.startswith("该图斑在本乡镇范围以西南约 ")
    assert _cli(store, path, village) == cli.EXIT_USAGE
    out = capsys.readouterr()
    assert "不在本乡镇范围 1367" in out.out and "未写入任何数据" in out.err
    assert store.count("parcel") == before


@pytest.mark.parametrize(("name", "shape", "crs", "expected"), [
    ("whole country", box(73.5, 18.0, 135.0, 53.5), "EPSG:4490", "该图斑有部分在昌吉市所在的3度带第29带"),
    ("Beijing", box(116.40, 39.90, 116.41, 39.91), "EPSG:4490", "以东约 2,"),
    ("E1000 N1000", box(1000, 1000, 1100, 1100), "EPSG:4538", "以南约 4,"),
])
def test_far_away_parcels_are_refused_even_in_an_empty_store(store: Store, tmp_path: Path, name: str,
                                                            shape, crs: str, expected: str) -> None:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    village = store.find("village")[0]
    path = _write(tmp_path / "far.gpkg", [shape], ["1"], crs)
    preview = _preview(store, path, village)
    assert preview.ready == [] and preview.blocking
    problem = (preview.outside + preview.small)[0].message
    assert expected in problem, problem
    with pytest.raises(WqError, match="没有可导入的地块"):
        apply_import(store, preview)
    assert store.count("parcel") == 0


def test_the_refusal_names_distance_and_direction() -> None:
    core = box(X0, Y0, X0 + 5000, Y0 + 5000)
    extent = location_checks.Extent(core, core.buffer(1000), "本乡镇范围", "EPSG:4538")
    east = box(X0 + 5000 + 1_020_000, Y0, X0 + 5000 + 1_020_100, Y0 + 100)
    assert extent.problem(east).startswith("该图斑在本乡镇范围以东约 1,0")
    # GK at 87°E is true to scale: the ellipsoidal distance is within 1 % of the planar one (at ~100 km
    # the message rounds to whole kilometres).
    text = extent.problem(box(X0 + 2000, Y0 - 50_100, X0 + 2100, Y0 - 50_000))
    assert text.startswith("该图斑在本乡镇范围以南约 5") and text.endswith("公里，可能坐标系不对")
    north_west = extent.problem(box(X0 - 3000, Y0 + 7000, X0 - 2000, Y0 + 8000))
    assert north_west.startswith("该图斑在本乡镇范围以西北约")
    assert extent.problem(box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)) is None


def test_zone_prefixed_eastings_under_a_cm87_prj_are_caught_and_the_corrected_crs_offered(
        store: Store, tmp_path: Path) -> None:
    village, _ = _township(store)
    shapes = [box(29_000_000 + X0 + 600 + 200 * i, Y0 + 500, 29_000_000 + X0 + 700 + 200 * i, Y0 + 600)
              for i in range(5)]
    path = _write(tmp_path / "mislabelled.shp", shapes, [f"Z{i}" for i in range(5)], "EPSG:4538")
    preview = _preview(store, path, village)
    assert preview.ready == [] and preview.counts["outside"] == 5
    assert "以东约 28,99" in preview.outside[0].message  # 29,000 km east: stored, it would be nonsense
    suggestion = preview.suggested_crs
    assert suggestion is not None and suggestion.crs == "EPSG:4517"
    assert "带有“29”带号" in suggestion.reason and "100% 的图斑位于本乡镇范围内" in suggestion.reason
    assert any(line.startswith("建议改用坐标系 EPSG:4517") for line in preview.lines())
    fixed = _preview(store, path, village, crs=suggestion.crs)  # what 采用建议 in the dialog does
    assert len(fixed.ready) == 5 and fixed.suggested_crs is None
    assert "EPSG:4517（按指定读取，文件自带 EPSG:4538）" in fixed.lines()[0]
    apply_import(store, fixed)
    parcel = store.find_one("parcel", "code=?", ("Z0",))
    assert parcel["minx"] == pytest.approx(X0 + 600, abs=0.01) and parcel["area_mu"] == pytest.approx(15.0)


def test_a_wrong_crs_for_a_file_without_prj_is_refused_and_the_right_zone_suggested(
        store: Store, tmp_path: Path, capsys) -> None:
    village, _ = _township(store)
    shapes = [box(X0 + 600, Y0 + 500, X0 + 700, Y0 + 600)]
    path = _write(tmp_path / "noprj.shp", shapes, ["W1"], None)
    before = store.count("parcel")
    # EPSG:4547 is the 3-degree zone with CM 114°E: the parcel would land near Wuhan, 12 % too large.
    assert _cli(store, path, village, "--crs", "EPSG:4547") == cli.EXIT_USAGE
    out = capsys.readouterr().out
    assert "可能坐标系不对" in out and "以东约" in out
    assert "建议改用坐标系 EPSG:4538" in out and "可能选错了分带" in out
    assert "可加 --crs EPSG:4538" in out
    assert store.count("parcel") == before
    assert _cli(store, path, village, "--crs", "EPSG:4538") == 0
    assert store.count("parcel") == before + 1


def test_digitising_crumbs_and_slivers_are_refused_unless_confirmed_one_by_one(
        store: Store, tmp_path: Path, capsys) -> None:
    village, _ = _township(store)
    x, y = X0 + 1000, Y0 + 1000
    shapes = [box(x, y, x + 0.1, y + 1),  # 0.1 m²
              box(x + 10, y, x + 11, y + 1),  # 1 m²
              box(x + 20, y + 20, x + 25, y + 25),  # 25 m²: 0.04 亩, under the 0.1 亩 minimum
              box(x + 20, y, x + 220, y + 0.5),  # 200 m × 0.5 m: 0.15 亩, above the minimum area
              box(x + 20, y + 50, x + 1020, y + 60)]  # a 1,000 m × 10 m field: real
    path = _write(tmp_path / "crumbs.shp", shapes, ["c1", "c2", "c3", "s1", "long"], "EPSG:4538")
    preview = _preview(store, path, village)
    assert [p.values["code"] for p in preview.ready] == ["long"]
    small = {p.code: p.message for p in preview.small}
    # Under 0.005 亩 a parcel is 0.00 亩 as a figure of record: no confirmation can save it.
    assert small["c1"] == \
        "面积仅 0.10 平方米，按 0.01 亩记为 0.00 亩，不能作为地块登记（疑似数字化产生的碎片）"
    assert small["c2"].startswith("面积仅 1.00 平方米，按 0.01 亩记为 0.00 亩")
    assert small["c3"].startswith("面积仅 0.0375 亩（25.00 平方米），小于最小地块面积 0.1 亩")
    assert small["s1"].startswith("狭长碎片：平均宽度仅 0.50 米")
    assert "确认无误后可逐个确认导入" in small["s1"] and "确认" in small["c3"]
    before = store.count("parcel")
    assert _cli(store, path, village) == 1
    assert "有 4 个图斑未通过检查，未写入任何数据" in capsys.readouterr().out
    assert store.count("parcel") == before
    # The sliver and c3 are confirmed by number; the crumbs cannot be, so the import still stops.
    assert _cli(store, path, village, "--confirm-small", "3,4", "--confirm-small", "1") == 1
    assert _cli(store, path, village, "--confirm-small", "3,4", "--skip-problems") == 0
    codes = {p["code"] for p in store.find("parcel", "code IN ('s1','long','c1','c2','c3')")}
    assert codes == {"c3", "s1", "long"}
    # The minimum is a setting of the store.
    more = _write(tmp_path / "more.shp", [box(x + 40, y + 100, x + 60, y + 120)], ["m1"], "EPSG:4538")
    assert len(_preview(store, more, village).ready) == 1  # 400 m² = 0.60 亩
    shape_checks.save(store, shape_checks.CheckSettings(min_area_mu=1.0))
    assert shape_checks.load(store).min_area_mu == 1.0
    assert _preview(store, more, village).small[0].message.startswith(
        "面积仅 0.6000 亩（400.00 平方米），小于最小地块面积 1 亩")
    with pytest.raises(ValidationError, match="最小地块面积"):
        shape_checks.save(store, shape_checks.CheckSettings(min_area_mu=-1))


def test_an_overlap_into_another_villages_parcel_is_always_an_error(store: Store, tmp_path: Path,
                                                                   capsys) -> None:
    a, b = _township(store)
    # 5 亩 (50 m × 66.67 m) into 东五工村's parcel old-0, imported into 西五工村.
    x = X0 + 3000 + 50
    path = _write(tmp_path / "cross.shp", [box(x, Y0, x + 100, Y0 + 66.6667)], ["x1"], "EPSG:4538")
    preview = _preview(store, path, a)
    assert preview.ready == []
    assert preview.overlap_refused[0].message == \
        "与东五工村已有地块 old-0 重叠 5.00 亩（不同村的地块不能重叠）"
    before = store.count("parcel")
    assert _cli(store, path, a) == cli.EXIT_USAGE
    assert "重叠被拒 1" in capsys.readouterr().out
    assert store.count("parcel") == before
    # Into the same village it is a warning, unless the store refuses overlaps above a threshold.
    same = _preview(store, path, b)
    assert len(same.ready) == 1 and same.overlaps_existing[0].message.startswith("与东五工村已有地块 old-0")
    strict = _preview(store, path, b, checks=shape_checks.CheckSettings(refuse_overlap_mu=1.0))
    assert strict.ready == [] and strict.overlap_refused[0].message.endswith("（超过设定的 1 亩）")
    assert _cli(store, path, b, "--refuse-overlap", "1") == cli.EXIT_USAGE
    assert store.count("parcel") == before


def test_two_villages_overlapping_inside_one_file_are_both_refused(store: Store, tmp_path: Path) -> None:
    _township(store)
    x, y = X0 + 1500, Y0 + 2000
    shapes = [box(x, y, x + 100, y + 100), box(x + 50, y, x + 150, y + 100)]
    path = _write(tmp_path / "two.shp", shapes, ["1", "2"], "EPSG:4538",
                  CUNDM=["652301105201", "652301105202"])
    preview = _preview(store, path)
    assert preview.ready == [] and preview.counts["overlap_refused"] == 2


def test_a_dltb_of_unknown_units_says_how_to_import_into_a_chosen_village(store: Store,
                                                                         tmp_path: Path) -> None:
    village, _ = _township(store)
    x, y = X0 + 1000, Y0 + 1000
    shapes = [box(x, y, x + 100, y + 100), box(x + 200, y, x + 300, y + 100)]
    path = _write(tmp_path / "DLTB.shp", shapes, ["1", "2"], "EPSG:4538", TBBH=["1", "2"],
                  DLBM=["0102", "0103"], ZLDWDM=["6523011059990000000"] * 2, ZLDWMC=["不存在村"] * 2)
    source = read_source(path)
    mapping = guess_mapping(source, "三调地类图斑（DLTB）")
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping)
    assert preview.ready == [] and preview.counts["skipped"] == 2
    hint = next(line for line in preview.lines() if line.startswith("坐落单位代码"))
    assert "6523011059990000000（2 个图斑）在数据库中没有对应的村" in hint
    assert "请在“导入到”中选择该村" in hint and "--village" in hint
    chosen = preview_import(store, source, mapping, village_code=village["code"])
    assert [p.village_name for p in chosen.ready] == ["西五工村", "西五工村"]
    assert "坐落单位代码 6523011059990000000（2 个图斑）在数据库中没有对应的村，按选择导入到西五工村。" \
        in chosen.lines()
    apply_import(store, chosen)
    assert store.find_one("parcel", "code='1'")["zldwdm"] == "6523011059990000000"


def test_tbmj_beyond_the_tolerance_is_flagged(store: Store, tmp_path: Path) -> None:
    village, _ = _township(store)
    shapes = [box(X0 + 1000, Y0 + 1000, X0 + 1100, Y0 + 1100),
              box(X0 + 1200, Y0 + 1000, X0 + 1300, Y0 + 1100)]
    path = _write(tmp_path / "tbmj.shp", shapes, ["1", "2"], "EPSG:4538", TBBH=["1", "2"],
                  DLBM=["0102", "0102"], TBMJ=[10_005.0, 8_800.0])
    source = read_source(path)
    mapping = guess_mapping(source, "三调地类图斑（DLTB）")
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping, village_code=village["code"])
    assert len(preview.ready) == 2 and [p.code for p in preview.area_differences] == ["2"]
    assert "相差 +13.6%（允许 1.0%" in preview.area_differences[0].message


def test_corrupt_geojson_is_explained_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "坏.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4]', encoding="utf-8")
    with pytest.raises(WqError) as err:
        read_source(path)
    message = str(err.value)
    assert message.startswith("无法打开 坏.geojson：GeoJSON 内容格式错误，第1行第")
    assert not any(word in message for word in ("Failed", "Unterminated", "line", "character"))


def test_a_township_boundary_is_the_extent_when_set(store: Store, tmp_path: Path) -> None:
    village, _ = _township(store)
    boundary = box(X0 - 100, Y0 - 100, X0 + 4000, Y0 + 1000)
    location_checks.set_boundary(store, boundary)
    # 3 km north of the boundary: inside the 10 km around the parcels, outside the boundary.
    path = _write(tmp_path / "north.shp", [box(X0, Y0 + 4000, X0 + 100, Y0 + 4100)], ["n1"], "EPSG:4538")
    preview = _preview(store, path, village)
    assert preview.outside[0].message == "该图斑在本乡镇范围以北约 3.0 公里，可能坐标系不对"
    with pytest.raises(ValidationError, match="乡镇边界不在昌吉市所在的3度带第29带"):
        location_checks.set_boundary(store, box(1000, 1000, 2000, 2000))
    location_checks.set_boundary(store, None)
    assert len(_preview(store, path, village).ready) == 1
    # From a file through the command line.
    gpkg = _write(tmp_path / "乡镇边界.gpkg", [boundary], ["六工镇"], "EPSG:4538")
    argv = ["gis-settings", "--db", str(store.path), "--user", "测试员", "--boundary", str(gpkg)]
    assert cli.main(argv) == 0
    assert len(_preview(store, path, village).outside) == 1
    assert from_wkb(bytes.fromhex(store.meta(location_checks.BOUNDARY_META))).equals(boundary)
