"""Parcel GIS files: export then import keeps every shape and attribute; broken files change nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import Polygon

from wq_desktop import cli
from wq_desktop.errors import WqError
from wq_desktop.geo import boundary_points, polygons
from wq_desktop.gis_export import EXPORT_FIELDS, export_parcels
from wq_desktop.gis_import import (
    PRESET_DLTB,
    apply_import,
    guess_mapping,
    preview_import,
    read_source,
)
from wq_desktop.gisfiles import merge_layer, parcel_layer
from wq_desktop.model import SQM_PER_MU, LandAttribute
from wq_desktop.store import Store

ATTRIBUTES = ("code", "land_attribute", "place_name", "crop", "water_source", "east", "south", "west",
              "north", "operator")


def _village(store: Store, n: int = 0) -> dict:
    return store.find("village", order_by="code")[n]


def _parcels_by_code(store: Store, village: str) -> dict[str, dict]:
    return {p["code"]: p for p in store.find("parcel", "village=?", (village,))}


def _clear_village(store: Store, village: str) -> None:
    with store.transaction():
        for p in store.find("parcel", "village=?", (village,)):
            store.delete("parcel", p["uuid"], cascade=True)


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "txt"])
def test_export_then_import_keeps_every_geometry_and_attribute(demo_store: Store, tmp_path: Path,
                                                               fmt: str) -> None:
    village = _village(demo_store)
    before = _parcels_by_code(demo_store, village["uuid"])
    result = export_parcels(demo_store, fmt, tmp_path / f"parcels.{fmt}", village_code=village["code"])
    assert result.written == len(before) > 100
    _clear_village(demo_store, village["uuid"])
    assert demo_store.count("parcel", "village=?", (village["uuid"],)) == 0

    source = read_source(result.path)
    mapping = guess_mapping(source)
    if fmt == "txt":  # 坐标TXT carries shape, code and name, not the land attribute
        mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(demo_store, source, mapping, village_code=village["code"])
    assert not preview.blocking and not preview.has_errors, preview.lines()
    assert len(preview.ready) == len(before)
    apply_import(demo_store, preview)

    after = _parcels_by_code(demo_store, village["uuid"])
    assert after.keys() == before.keys()
    for code, old in before.items():
        new = after[code]
        # 坐标TXT keeps coordinates to 0.01 m: the drawn area moves by far less than 0.01 亩, so
        # its figure of record moves by at most one step of 0.01 亩 (22.905 → 22.90 or 22.91).
        assert abs(polygons.area_mu(new["geometry"]) - polygons.area_mu(old["geometry"])) < 0.005, code
        assert abs(new["area_mu"] - old["area_mu"]) < 0.0101, code
        assert shapely.equals_exact(shapely.normalize(new["geometry"]), shapely.normalize(old["geometry"]),
                                     tolerance=0.01), code
        checked = ("code",) if fmt == "txt" else ATTRIBUTES
        for name in checked:
            assert new[name] == old[name], (code, name)


def test_gdal_reads_exported_geopackage_and_shapefile_with_the_right_crs(demo_store: Store,
                                                                        tmp_path: Path) -> None:
    gpkg = export_parcels(demo_store, "gpkg", tmp_path / "out.gpkg").path
    shp = export_parcels(demo_store, "shp", tmp_path / "out.shp").path
    for path in (gpkg, shp):
        info = pyogrio.read_info(path)
        assert info["crs"] == "EPSG:4538"
        assert info["features"] == demo_store.count("parcel")
    assert (tmp_path / "out.cpg").read_text().strip().upper() == "UTF-8"
    assert "GK_Zone" in (tmp_path / "out.prj").read_text() or "87" in (tmp_path / "out.prj").read_text()
    # Shapefile field names are the short ASCII names; the GeoPackage keeps the Chinese ones.
    assert list(pyogrio.read_info(shp)["fields"]) == [f.short for f in EXPORT_FIELDS]
    assert "户主姓名" in list(pyogrio.read_info(gpkg)["fields"])
    if shutil.which("ogrinfo"):
        out = subprocess.run(["ogrinfo", "-so", "-al", str(shp)], capture_output=True, text=True).stdout
        assert "Feature Count: " + str(demo_store.count("parcel")) in out
        assert "CM 87E" in out or "87" in out
    # Household names are there, ID numbers never.
    names = pyogrio.raw.read(gpkg, columns=["户主姓名"])[3][0]
    ids = [o["id_code"] for o in demo_store.find("operator")]
    assert set(names) & {o["name"] for o in demo_store.find("operator")}
    blob = gpkg.read_bytes() + shp.with_suffix(".dbf").read_bytes()
    assert not any(i.encode() in blob for i in ids)


def test_coordinate_txt_has_zone_29_eastings_and_closed_rings(demo_store: Store, tmp_path: Path) -> None:
    path = export_parcels(demo_store, "txt", tmp_path / "zb.txt", only_retired=True).path
    text = path.read_bytes().decode("gbk")
    lines = text.split("\r\n")
    assert lines[0] == "[属性描述]" and "带号=29" in lines and "[地块坐标]" in lines
    title = next(i for i, line in enumerate(lines) if line.endswith("@"))
    count = int(lines[title].split(",")[0])
    rows = [line.split(",") for line in lines[title + 1:title + 1 + count]]
    assert rows[0] == rows[-1] and rows[0][0] == "J1"  # closed by repeating J1
    x_north, y_east = float(rows[0][2]), float(rows[0][3])
    assert 29_000_000 < y_east < 30_000_000 and 4_000_000 < x_north < 6_000_000
    assert all(cat in ("退减灌溉", "休耕轮作") for cat in
               (line.split(",")[6] for line in lines if line.endswith("@")))


def _write_dltb(path: Path, village: dict, encoding: str, with_cpg: bool = True) -> None:
    base = shapely.box(500_000, 4_870_000, 500_120, 4_870_100)
    shapes = [base, shapely.affinity.translate(base, 200), shapely.affinity.translate(base, 400)]
    wkb = np.array(shapely.to_wkb(shapes), dtype=object)
    fields = {
        "TBBH": ["101", "102", "103"],
        "DLBM": ["0102", "0103", "0702"],
        "DLMC": ["水浇地", "旱地", "农村宅基地"],
        # A code in another scheme: the village is found by its Chinese name, which proves decoding.
        "ZLDWDM": ["6523991059990000000"] * 3,
        "ZLDWMC": [village["name"]] * 3,
        "TBMJ": [s.area for s in shapes],
    }
    data = [np.array(v, dtype=float if k == "TBMJ" else object) for k, v in fields.items()]
    pyogrio.raw.write(path, wkb, data, list(fields), driver="ESRI Shapefile", geometry_type="Polygon",
                      crs="EPSG:4538", encoding=encoding)
    if not with_cpg:
        path.with_suffix(".cpg").unlink()


@pytest.mark.parametrize("with_cpg", [True, False])
def test_gbk_shapefile_imports_with_correct_chinese(store: Store, tmp_path: Path, with_cpg: bool) -> None:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    village = _village(store)
    path = tmp_path / "DLTB.shp"
    _write_dltb(path, village, "GBK", with_cpg)
    source = read_source(path)
    assert source.columns["DLMC"] == ["水浇地", "旱地", "农村宅基地"]
    mapping = guess_mapping(source)
    assert mapping.preset == PRESET_DLTB
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping)
    assert [p.values["code"] for p in preview.ready] == ["101", "102"]
    assert preview.skipped[0].message == "地类为农村宅基地，不是耕地"
    apply_import(store, preview)
    parcels = _parcels_by_code(store, village["uuid"])
    assert sorted(parcels) == ["101", "102"]
    assert parcels["101"]["area_mu"] == pytest.approx(120 * 100 / SQM_PER_MU)


def test_truncated_shapefile_gives_a_clear_message_and_writes_nothing(demo_store: Store,
                                                                     tmp_path: Path) -> None:
    path = export_parcels(demo_store, "shp", tmp_path / "broken.shp").path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = demo_store.count("parcel")
    with pytest.raises(WqError, match=r"broken\.shp 已损坏.*不完整"):
        read_source(path)
    code = cli.main(["import", "parcels", str(path), "--db", str(demo_store.path), "--user", "测试员"])
    assert code == cli.EXIT_USAGE
    assert demo_store.count("parcel") == before


def test_unsupported_or_garbage_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.dwg").write_bytes(b"AC1032")
    with pytest.raises(WqError, match="不支持的文件类型"):
        read_source(tmp_path / "a.dwg")
    (tmp_path / "b.gpkg").write_bytes(b"not a database at all" * 10)
    with pytest.raises(WqError, match=r"无法打开 b\.gpkg"):
        read_source(tmp_path / "b.gpkg")


def _village_store(store: Store) -> dict:
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    return _village(store)


def test_missing_crs_is_asked_for_and_zone_prefixed_coordinates_land_right(store: Store,
                                                                          tmp_path: Path) -> None:
    village = _village_store(store)
    shape = shapely.box(29_500_000, 4_870_000, 29_500_100, 4_870_100)
    path = tmp_path / "noprj.shp"
    with pytest.warns(UserWarning, match="crs"):
        pyogrio.raw.write(path, np.array([shapely.to_wkb(shape)], dtype=object),
                          [np.array(["J-1"], dtype=object)], ["DKBM"], driver="ESRI Shapefile",
                          geometry_type="Polygon", crs=None)
    assert not path.with_suffix(".prj").exists()
    source = read_source(path)
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.COLLECTIVE_RESERVE.value
    with pytest.raises(WqError, match="没有坐标系"):
        preview_import(store, source, mapping, village_code=village["code"])
    preview = preview_import(store, source, mapping, village_code=village["code"], crs="EPSG:4517")
    apply_import(store, preview)
    parcel = store.find_one("parcel", "code=?", ("J-1",))
    assert parcel["minx"] == pytest.approx(500_000, abs=0.01)  # the 29 prefix is gone in EPSG:4538
    assert parcel["area_mu"] == pytest.approx(15.0)


def _shapefile(path: Path, codes: list[str], shapes: list[Polygon]) -> Path:
    pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object),
                      [np.array(codes, dtype=object)], ["DKBM"], driver="ESRI Shapefile",
                      geometry_type="Polygon", crs="EPSG:4538", encoding="UTF-8")
    return path


def test_invalid_and_duplicate_rows_are_listed_and_stop_the_cli_import(store: Store, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    village = _village_store(store)
    good = shapely.box(500_000, 4_870_000, 500_100, 4_870_100)
    bowtie = Polygon([(500_200, 4_870_000), (500_300, 4_870_100), (500_300, 4_870_000), (500_200, 4_870_100)])
    moved = shapely.affinity.translate(good, 500)
    path = _shapefile(tmp_path / "p.shp", ["1", "2", "1"], [good, bowtie, moved])
    source = read_source(path)
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping, village_code=village["code"])
    assert [p.values["code"] for p in preview.ready] == ["1"]
    assert "自相交" in preview.invalid[0].message and preview.invalid[0].feature == 2
    assert preview.duplicates[0].message == "与文件中第1个图斑编号相同"
    argv = ["import", "parcels", str(path), "--db", str(store.path), "--user", "测试员",
            "--village", village["code"], "--land-attribute", LandAttribute.CONTRACTED.value]
    assert cli.main(argv) == 1
    assert "未写入任何数据" in capsys.readouterr().out
    assert store.count("parcel") == 0
    assert cli.main([*argv, "--skip-problems"]) == 0
    assert store.count("parcel") == 1


def test_overlap_with_an_existing_parcel_is_reported_in_mu(store: Store, tmp_path: Path) -> None:
    village = _village_store(store)
    store.create("parcel", {"village": village["uuid"], "code": "old", "land_attribute": "集体机动地",
                            "geometry": shapely.box(500_000, 4_870_000, 500_100, 4_870_100)})
    path = _shapefile(tmp_path / "o.shp", ["new"], [shapely.box(500_050, 4_870_000, 500_150, 4_870_100)])
    source = read_source(path)
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping, village_code=village["code"])
    assert preview.overlaps_existing[0].message == "与西五工村已有地块 old 重叠 7.50 亩"
    assert not preview.blocking  # a warning: the user decides


def test_a_refusal_while_writing_rolls_back_the_whole_import(store: Store, tmp_path: Path) -> None:
    village = _village_store(store)
    shapes = [shapely.box(500_000 + 200 * i, 4_870_000, 500_100 + 200 * i, 4_870_100) for i in range(3)]
    source = read_source(_shapefile(tmp_path / "r.shp", ["a", "b", "c"], shapes))
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping, village_code=village["code"])
    # Someone saves parcel "c" between the preview and the import.
    store.create("parcel", {"village": village["uuid"], "code": "c", "land_attribute": "集体机动地",
                            "area_mu": 3})
    with pytest.raises(WqError, match=r"第3个图斑（编号 c）无法写入.*没有导入任何地块"):
        apply_import(store, preview)
    assert store.count("parcel") == 1


def test_export_gis_entry_point_and_standalone_command(demo_store: Store, tmp_path: Path) -> None:
    import argparse

    from wq_desktop.cli_gis import export_gis

    year = max(m["year"] for m in demo_store.find("measure"))
    args = argparse.Namespace(format="geojson", db=demo_store.path, user="测试员", year=year,
                              output=tmp_path / "x.geojson", village=None)
    assert export_gis(args) == 0
    assert pyogrio.read_info(tmp_path / "x.geojson")["crs"] == "EPSG:4326"
    assert cli.main(["export", "shp", "--db", str(demo_store.path), "--user", "测试员",
                     "--year", str(year), "-o", str(tmp_path / "y.shp")]) == 0
    layer = parcel_layer(demo_store, year)
    values = pyogrio.raw.read(tmp_path / "y.shp", columns=["TJMJ"])[3][0]
    assert float(values.sum()) == pytest.approx(float(np.nansum(layer.retired_mu)), abs=0.01)


def make_mbtiles(path: Path, lon: float, lat: float, z: int, colour: tuple[int, int, int] = (90, 120, 60)
                 ) -> tuple[int, int]:
    """A one-zoom MBTiles package of 3 × 3 plain tiles around (lon, lat); returns the centre XYZ tile."""
    import io
    import sqlite3

    from PIL import Image

    from wq_desktop import mbtiles

    x, y = (int(v) for v in mbtiles.lonlat_to_tile(lon, lat, z))
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
                 " tile_data BLOB)")
    west, north = mbtiles.tile_to_lonlat(x - 1, y - 1, z)
    east, south = mbtiles.tile_to_lonlat(x + 2, y + 2, z)
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [
        ("name", "测试影像"), ("format", "png"), ("bounds", f"{west},{south},{east},{north}"),
        ("minzoom", str(z)), ("maxzoom", str(z))])
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            buf = io.BytesIO()
            shade = 20 * (dx + 1) + 10 * (dy + 1)
            Image.new("RGB", (256, 256), (colour[0] + shade, colour[1], colour[2] + shade)).save(buf, "PNG")
            conn.execute("INSERT INTO tiles VALUES (?,?,?,?)",
                         (z, x + dx, (1 << z) - 1 - (y + dy), buf.getvalue()))
    conn.commit()
    conn.close()
    return x, y


def test_mbtiles_package_gives_tiles_by_xyz_and_its_bounds(tmp_path: Path) -> None:
    from PIL import Image

    from wq_desktop.mbtiles import MBTiles, tile_corners

    x, y = make_mbtiles(tmp_path / "img.mbtiles", 87.30, 44.00, 15)
    with MBTiles(tmp_path / "img.mbtiles") as package:
        assert package.info.name == "测试影像" and package.info.min_zoom == package.info.max_zoom == 15
        west, south, east, north = package.info.bounds
        assert west < 87.30 < east and south < 44.00 < north
        import io

        centre = Image.open(io.BytesIO(package.tile(15, x, y)))
        north_tile = Image.open(io.BytesIO(package.tile(15, x, y - 1)))  # XYZ: smaller y is north
        assert centre.getpixel((0, 0)) == (120, 120, 90) and north_tile.getpixel((0, 0)) == (110, 120, 80)
        assert package.tile(15, x + 5, y) is None
        assert package.zoom_for(0.1, 44.0) == 15 and package.zoom_for(500, 44.0) == 15  # clamped
    corners = tile_corners(15, x, y, "EPSG:4538")
    assert corners[0][1] > corners[3][1] and corners[1][0] > corners[0][0]  # NW above SW, NE east of NW
    (tmp_path / "bad.mbtiles").write_bytes(b"junk" * 100)
    with pytest.raises(WqError, match="不是 MBTiles"):
        MBTiles(tmp_path / "bad.mbtiles")


def test_file_geodatabase_dltb_layer_imports(store: Store, tmp_path: Path) -> None:
    """三调 data usually arrives as a File Geodatabase (.gdb folder) with the DLTB layer among others."""
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    store.create("village", {"township": township, "code": "652301105201", "name": "西五工村"})
    village = _village(store)
    gdb = tmp_path / "三调成果.gdb"
    base = shapely.box(500_000, 4_870_000, 500_120, 4_870_100)
    shapes = [shapely.MultiPolygon([base]), shapely.MultiPolygon([shapely.affinity.translate(base, 200)])]
    fields = {"TBBH": ["201", "202"], "DLBM": ["0102", "0101"], "DLMC": ["水浇地", "水田"],
              "ZLDWDM": ["6523011052010000000"] * 2, "ZLDWMC": [village["name"]] * 2,
              "TBMJ": [s.area for s in shapes]}
    data = [np.array(v, dtype=float if k == "TBMJ" else object) for k, v in fields.items()]
    pyogrio.raw.write(gdb, np.array(shapely.to_wkb(shapes), dtype=object), data, list(fields),
                      driver="OpenFileGDB", layer="DLTB", geometry_type="MultiPolygon", crs="EPSG:4538")
    pyogrio.raw.write(gdb, np.array(shapely.to_wkb([shapely.Point(500_000, 4_870_000)]), dtype=object),
                      [np.array(["界址点"], dtype=object)], ["NAME"], driver="OpenFileGDB", layer="JZD",
                      geometry_type="Point", crs="EPSG:4538", append=True)
    source = read_source(gdb)  # no layer named: DLTB is picked among the geodatabase's layers
    assert source.columns["DLMC"] == ["水浇地", "水田"]
    mapping = guess_mapping(source)
    assert mapping.preset == PRESET_DLTB
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    preview = preview_import(store, source, mapping)
    apply_import(store, preview)
    parcels = _parcels_by_code(store, village["uuid"])
    assert sorted(parcels) == ["201", "202"]
    assert parcels["202"]["area_mu"] == pytest.approx(120 * 100 / SQM_PER_MU)


def _dltb_with_keys(path: Path, village: dict) -> list[dict]:
    """A 三调 DLTB layer in GBK with every key the bureau joins on, one 图斑 with a hole."""
    x, y = 524_000.0, 4_876_000.0
    shapes = [shapely.box(x, y, x + 120, y + 100),
              Polygon([(x + 200, y), (x + 330, y), (x + 330, y + 90), (x + 200, y + 90)],
                      [[(x + 240, y + 30), (x + 260, y + 30), (x + 260, y + 50), (x + 240, y + 50)]]),
              shapely.box(x + 400, y, x + 470, y + 150)]
    rows = [{"BSM": f"65230120190000{n:05d}", "TBBH": f"{101 + n}", "DLBM": code, "DLMC": name,
             "TBMJ": round(s.area, 2), "QSXZ": "30", "ZLDWDM": village["code"] + "0000000",
             "ZLDWMC": village["name"]}
            for n, (s, code, name) in enumerate(zip(shapes, ("0102", "0101", "0103"),
                                                    ("水浇地", "水田", "旱地"), strict=True))]
    data = [np.array([r[k] for r in rows], dtype=float if k == "TBMJ" else object) for k in rows[0]]
    # EPSG:4517 eastings
    prefixed = [shapely.affinity.translate(s, boundary_points.ZONE_29_OFFSET) for s in shapes]
    pyogrio.raw.write(path, np.array(shapely.to_wkb(prefixed), dtype=object), data, list(rows[0]),
                      driver="ESRI Shapefile", geometry_type="Polygon", crs="EPSG:4517", encoding="GBK")
    for row, shape in zip(rows, shapes, strict=True):
        row["geometry"] = shape  # EPSG:4538, as stored
    return rows


def test_dltb_round_trip_through_gbk_4517_shapefile_and_gdal_keeps_every_sandiao_key(
        store: Store, tmp_path: Path) -> None:
    village = _village_store(store)
    rows = _dltb_with_keys(tmp_path / "DLTB.shp", village)
    source = read_source(tmp_path / "DLTB.shp")
    assert source.crs == "EPSG:4517"
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    apply_import(store, preview_import(store, source, mapping))
    stored = {p["bsm"]: p for p in store.find("parcel")}
    assert sorted(stored) == [r["BSM"] for r in rows]
    for row in rows:
        parcel = stored[row["BSM"]]
        for key in ("TBBH", "DLBM", "DLMC", "QSXZ", "ZLDWDM", "TBMJ"):
            assert parcel[key.lower()] == row[key], key
        assert shapely.equals_exact(shapely.normalize(parcel["geometry"]), shapely.normalize(row["geometry"]),
                                    tolerance=0.001)

    out = tmp_path / "成果.shp"
    result = export_parcels(store, "shp", out, encoding="GBK", crs="EPSG:4517")
    assert result.written == 3
    assert out.with_suffix(".cpg").read_text().strip() == "GBK"
    assert "水浇地".encode("gbk") in out.with_suffix(".dbf").read_bytes()  # GBK bytes, not UTF-8
    info = subprocess.run(["ogrinfo", "-al", "-geom=NO", str(out)], capture_output=True, text=True,
                          check=True).stdout
    assert "CGCS2000 / 3-degree Gauss-Kruger zone 29" in info and "Feature Count: 3" in info
    for key in ("BSM", "TBBH", "DLBM", "DLMC", "TBMJ", "QSXZ", "ZLDWDM"):
        assert f"{key}: " in info, key
    assert "DLMC (String) = 水浇地" in info and f"BSM (String) = {rows[0]['BSM']}" in info
    extent = subprocess.run(["ogrinfo", "-so", "-al", str(out)], capture_output=True, text=True).stdout
    assert "Extent: (29524000.000000, 4876000.000000)" in extent  # the zone prefix is there

    # The bureau's GIS person converts it with GDAL (as a GeoPackage in 4538) and hands it back.
    back = tmp_path / "回传.gpkg"
    subprocess.run(["ogr2ogr", "-t_srs", "EPSG:4538", str(back), str(out)], check=True, capture_output=True)
    again = read_source(back)
    preview = preview_import(store, again, guess_mapping(again))
    assert not preview.has_errors and preview.updates == 3, preview.lines()
    assert any("按标识码（BSM）匹配到已有地块 3 个" in line for line in preview.lines())
    revs = {p["uuid"]: p["rev"] for p in store.find("parcel")}
    written = apply_import(store, preview)
    assert sorted(written) == sorted(revs) and store.count("parcel") == 3  # updated, not duplicated
    for row in rows:
        parcel = store.find_one("parcel", "bsm=?", (row["BSM"],))
        for key in ("TBBH", "DLBM", "DLMC", "QSXZ", "ZLDWDM", "TBMJ"):
            assert parcel[key.lower()] == row[key], key
        assert shapely.equals_exact(shapely.normalize(parcel["geometry"]), shapely.normalize(row["geometry"]),
                                     tolerance=0.01)
        assert parcel["rev"] == revs[parcel["uuid"]]  # nothing differed: no new revision
        assert parcel["land_attribute"] == LandAttribute.CONTRACTED.value

    # A changed outline in the bureau's file updates the same parcel (BSM), with history.
    moved = shapely.affinity.translate(rows[0]["geometry"], 0, 10)
    wkb = [shapely.to_wkb(moved)]
    fields = {k: [rows[0][k]] for k in ("BSM", "TBBH", "DLBM", "DLMC", "ZLDWDM")}
    pyogrio.raw.write(tmp_path / "变更.shp", np.array(wkb, dtype=object),
                      [np.array(v, dtype=object) for v in fields.values()], list(fields),
                      driver="ESRI Shapefile", geometry_type="Polygon", crs="EPSG:4538", encoding="GBK")
    change = read_source(tmp_path / "变更.shp")
    preview = preview_import(store, change, guess_mapping(change))
    assert preview.updates == 1 and not preview.overlaps_existing  # not against its own old outline
    apply_import(store, preview)
    parcel = store.find_one("parcel", "bsm=?", (rows[0]["BSM"],))
    assert parcel["miny"] == pytest.approx(4_876_010.0) and parcel["rev"] == revs[parcel["uuid"]] + 1
    assert store.count("parcel") == 3
    # Someone edits the parcel between the preview and the import: the update is refused, not lost.
    again = preview_import(store, change, guess_mapping(change))
    store.update("parcel", parcel["uuid"], {"place_name": "东大渠"})
    refused = r"第1个图斑（编号 101）无法写入：该地块在您编辑期间已被修改.*没有导入任何地块"
    with pytest.raises(WqError, match=refused):
        apply_import(store, again)
    assert store.get("parcel", parcel["uuid"])["place_name"] == "东大渠"


def test_exports_choose_encoding_and_crs_and_txt_carries_dlbm(store: Store, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    village = _village_store(store)
    _dltb_with_keys(tmp_path / "DLTB.shp", village)
    source = read_source(tmp_path / "DLTB.shp")
    mapping = guess_mapping(source)
    mapping.default_land_attribute = LandAttribute.CONTRACTED.value
    apply_import(store, preview_import(store, source, mapping))
    base = ["--db", str(store.path), "--user", "测试员"]
    assert cli.main(["export", "shp", *base, "--encoding", "UTF-8", "--crs", "EPSG:4538",
                     "-o", str(tmp_path / "u.shp")]) == 0
    assert (tmp_path / "u.cpg").read_text().strip().upper() == "UTF-8"
    assert "水浇地".encode() in (tmp_path / "u.dbf").read_bytes()
    assert pyogrio.read_info(tmp_path / "u.shp")["crs"] == "EPSG:4538"
    assert cli.main(["export", "gpkg", *base, "--crs", "EPSG:4517", "-o", str(tmp_path / "z.gpkg")]) == 0
    assert pyogrio.read_info(tmp_path / "z.gpkg")["crs"] == "EPSG:4517"
    assert "BSM" in pyogrio.read_info(tmp_path / "z.gpkg")["fields"]
    assert cli.main(["export", "txt", *base, "-o", str(tmp_path / "zb.txt")]) == 0
    titles = [line for line in (tmp_path / "zb.txt").read_bytes().decode("gbk").split("\r\n")
              if line.endswith("@")]
    assert sorted(t.split(",")[7] for t in titles) == ["0101", "0102", "0103"]  # 地类编码 from DLBM
    with pytest.raises(WqError, match="不支持的文字编码"):
        export_parcels(store, "shp", tmp_path / "x.shp", encoding="BIG5")
    # A name GBK cannot hold is refused before any file is written, with the way out.
    parcel = store.find("parcel")[0]
    store.update("parcel", parcel["uuid"], {"place_name": "𠮷地"})
    with pytest.raises(WqError, match=r"GBK编码无法表示.*请改用UTF-8"):
        export_parcels(store, "shp", tmp_path / "g.shp", encoding="GBK")
    assert not (tmp_path / "g.shp").exists()


def test_the_parcel_layer_holds_each_repeated_text_once_and_the_stored_values(demo_store: Store) -> None:
    year = max(m["year"] for m in demo_store.find("measure"))
    layer = parcel_layer(demo_store, year)
    stored = {r["uuid"]: r for r in demo_store.find("parcel")}
    assert set(layer.uuid) == set(stored)
    for i, uuid in enumerate(layer.uuid):
        record = stored[uuid]
        assert (layer.code[i], layer.village[i], layer.operator[i]) == (
            record["code"], record["village"], record["operator"])
        assert layer.land_attribute[i] == record["land_attribute"]
        assert layer.crop[i] == (record["crop"] or "")
        assert layer.wkb[i] == (polygons.to_wkb(record["geometry"]) if record["geometry"] else None)
    # A village's parcels share one village text, not one copy each (memory at city size).
    by_value: dict[str, set[int]] = {}
    for text in layer.village + layer.land_attribute + layer.village_name:
        by_value.setdefault(text, set()).add(id(text))
    assert all(len(ids) == 1 for ids in by_value.values()) and len(layer.village) > len(by_value)


def test_a_layer_merged_with_its_changed_parcels_is_the_layer_read_again(demo_store: Store) -> None:
    year = max(m["year"] for m in demo_store.find("measure"))
    before = parcel_layer(demo_store, year)
    changed, deleted = before.uuid[3], before.uuid[10]
    demo_store.update("parcel", changed, {"code": "A-改", "crop": "打瓜"})
    demo_store.delete("parcel", deleted, cascade=True)
    added = demo_store.create("parcel", {"village": before.village[0], "code": "0-新",
                                         "land_attribute": before.land_attribute[0], "area_mu": 3})
    asked = [changed, deleted, added]
    merged = merge_layer(before, parcel_layer(demo_store, year, parcel_uuids=asked), asked)
    again = parcel_layer(demo_store, year)
    for name, column in vars(again).items():
        if isinstance(column, np.ndarray):
            np.testing.assert_array_equal(getattr(merged, name), column)
        else:
            assert getattr(merged, name) == column, name


def _same_layer(a, b) -> None:
    for name, column in vars(b).items():
        if isinstance(column, np.ndarray):
            np.testing.assert_array_equal(getattr(a, name), column)
        else:
            assert getattr(a, name) == column, name


def test_a_layer_read_like_another_year_shares_what_did_not_change_and_only_that(demo_store: Store) -> None:
    """The map reads a new year while it shows the old one: the two share their unchanged columns
    and outlines (one copy of the township, not two) and the new one is what a plain read gives."""
    year = max(m["year"] for m in demo_store.find("measure"))
    shown = parcel_layer(demo_store, year)
    other = parcel_layer(demo_store, year - 1, like=shown)
    _same_layer(other, parcel_layer(demo_store, year - 1))
    assert other.wkb is shown.wkb and other.uuid is shown.uuid and other.household is shown.household
    assert other.category is not shown.category and other.category != shown.category
    # An outline and a code changed since `shown` was read: the new ones, and those columns apart.
    moved = shown.uuid[5]
    geometry = demo_store.get("parcel", moved)["geometry"]
    demo_store.update("parcel", moved, {"code": "A-移",
                                        "geometry": shapely.affinity.translate(geometry, 1.0)})
    changed = parcel_layer(demo_store, year - 1, like=shown)
    _same_layer(changed, parcel_layer(demo_store, year - 1))
    assert changed.wkb is not shown.wkb and changed.code is not shown.code
    outline = dict(zip(shown.uuid, shown.wkb, strict=True))
    i = changed.index_of(moved)
    assert changed.wkb[i] != outline[moved] and changed.code[i] == "A-移"
    assert sum(w is outline[u] for u, w in zip(changed.uuid, changed.wkb, strict=True)) == len(shown) - 1
