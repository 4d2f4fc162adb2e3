"""wq_desktop.geo: validation messages, 亩, CRS transforms, overlaps, 界址点 text."""

from __future__ import annotations

import random

import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from wq_desktop.errors import ValidationError
from wq_desktop.geo import boundary_points, polygons, projection
from wq_desktop.geo.overlaps import Overlap, find_overlaps, overlaps_with

# A corner near Changji in EPSG:4538 (x = easting, y = northing).
E0, N0 = 512_000.0, 4_875_000.0


def _refused(geom) -> str:
    with pytest.raises(ValidationError) as info:
        polygons.check_polygon(geom)
    return str(info.value)


# ---------------------------------------------------------------- area and validation


def test_hectare_square_is_15_mu() -> None:
    square = box(E0, N0, E0 + 100, N0 + 100)
    assert polygons.area_mu(square) == pytest.approx(15.0, abs=1e-9)
    assert polygons.area_mu(square.wkt) == pytest.approx(15.0, abs=1e-9)


def test_valid_polygon_accepted_from_wkt_and_wkb() -> None:
    square = box(E0, N0, E0 + 50, N0 + 20)
    assert polygons.check_polygon(square.wkt).equals(square)
    assert polygons.check_polygon(shapely.to_wkb(square)).equals(square)
    with_hole = Polygon(square.exterior.coords, [box(E0 + 5, N0 + 5, E0 + 10, N0 + 10).exterior.coords])
    assert polygons.check_polygon(with_hole).equals(with_hole)


def test_bow_tie_refused_with_location_in_survey_order() -> None:
    bow_tie = Polygon([(E0, N0), (E0 + 10, N0 + 10), (E0 + 10, N0), (E0, N0 + 10)])
    msg = _refused(bow_tie)
    assert "自相交" in msg
    # The crossing is at easting E0+5, northing N0+5; X is printed first and is the northing.
    assert f"X={N0 + 5:.2f}, Y={E0 + 5:.2f}" in msg


def test_ring_touching_itself_refused() -> None:
    touch = Polygon([(0, 0), (10, 0), (10, 10), (5, 0), (0, 10)])
    msg = _refused(touch)
    assert "自相交" in msg and "X=0.00, Y=5.00" in msg


def test_two_point_ring_refused() -> None:
    assert "边界点少于3个" in _refused("POLYGON ((0 0, 10 0, 10 0, 0 0))")
    assert "边界点少于3个" in _refused("POLYGON ((0 0, 10 0, 0 0))")


def test_zero_area_refused() -> None:
    assert "面积为零" in _refused(Polygon([(E0, N0), (E0 + 10, N0 + 10), (E0 + 20, N0 + 20)]))


def test_non_polygons_refused() -> None:
    assert _refused(LineString([(0, 0), (1, 1)])) == "几何类型应为面（多边形），实为线"
    assert "实为点" in _refused(Point(1, 1))
    assert _refused(Polygon()) == "几何为空"
    assert _refused("") == "几何为空"
    assert "无法解析" in _refused("POLYGON ((0 0, 1")


def test_hole_outside_and_overlapping_parts_refused() -> None:
    shell = box(0, 0, 10, 10).exterior.coords
    assert "内环（洞）位于外边界之外" in _refused(Polygon(shell, [box(20, 20, 21, 21).exterior.coords]))
    parts = MultiPolygon([box(0, 0, 10, 10), box(5, 5, 15, 15)])
    assert "相互重叠" in _refused(parts)


def test_wkb_round_trip_is_2d() -> None:
    square3d = Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)])
    back = polygons.from_wkb(polygons.to_wkb(square3d))
    assert not shapely.has_z(back)
    assert back.equals(shapely.force_2d(square3d))
    assert polygons.bbox(box(1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0)


# ---------------------------------------------------------------- CRS


def test_round_trip_4538_4490_within_a_millimetre() -> None:
    parcel = Polygon(box(E0, N0, E0 + 120, N0 + 80).exterior.coords,
                     [box(E0 + 10, N0 + 10, E0 + 20, N0 + 20).exterior.coords])
    geographic = projection.transform(parcel, "EPSG:4538", "EPSG:4490")
    lon, lat = geographic.exterior.coords[0]
    assert 87.0 < lon < 87.5 and 43.9 < lat < 44.1
    back = projection.transform(geographic, "4490", "epsg:4538")
    assert len(back.interiors) == 1
    diff = shapely.get_coordinates(back) - shapely.get_coordinates(parcel)
    assert abs(diff).max() < 0.001


def test_zone_prefix_and_central_meridian() -> None:
    pt = Point(87.3, 44.02)
    plain = projection.transform(pt, "EPSG:4490", "EPSG:4538")
    zoned = projection.transform(pt, "EPSG:4490", "EPSG:4517")
    assert zoned.x == pytest.approx(plain.x + 29_000_000, abs=1e-6)
    assert zoned.y == pytest.approx(plain.y, abs=1e-6)
    assert projection.transform(plain, "EPSG:4538", "EPSG:4517").x == pytest.approx(zoned.x, abs=1e-6)
    on_meridian = projection.transform(Point(87.0, 44.0), "EPSG:4490", "EPSG:4538")
    assert on_meridian.x == pytest.approx(500_000.0, abs=1e-6)


def test_transform_from_wgs84_and_out_of_range() -> None:
    p = projection.transform(Point(87.30, 44.00), "EPSG:4326", "EPSG:4538")
    assert 520_000 < p.x < 530_000 and 4_870_000 < p.y < 4_880_000
    with pytest.raises(ValidationError, match="转换"):
        projection.transform(Point(0, 200), "EPSG:4490", "EPSG:4538")


def test_normalize_crs() -> None:
    assert projection.normalize_crs("EPSG:4538") == "EPSG:4538"
    assert projection.normalize_crs("4538") == "EPSG:4538"
    assert projection.normalize_crs(" epsg:4517 ") == "EPSG:4517"
    assert projection.normalize_crs("EPSG：４５３８") == "EPSG:4538"  # full-width input method
    import pyproj

    assert projection.normalize_crs(pyproj.CRS.from_epsg(4517).to_wkt()) == "EPSG:4517"
    assert projection.normalize_crs(pyproj.CRS.from_epsg(4538).to_wkt("WKT1_ESRI")) == "EPSG:4538"
    proj = "+proj=tmerc +lat_0=0 +lon_0=87 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    assert projection.normalize_crs(proj) == "EPSG:4538"
    assert projection.normalize_crs(proj.replace("x_0=500000", "x_0=29500000")) == "EPSG:4517"
    for bad in ("", "abc", "EPSG:99999999", "+proj=tmerc +lon_0=87 +ellps=bessel"):
        with pytest.raises(ValidationError):
            projection.normalize_crs(bad)


# ---------------------------------------------------------------- overlaps


def _grid_squares(n: int, rng: random.Random) -> list[tuple[str, Polygon]]:
    """n squares, each inside its own 100 m cell with at least 10 m margin: none touch or overlap."""
    items = []
    for k in range(n):
        cx, cy = E0 + (k % 40) * 100, N0 + (k // 40) * 100
        side = rng.uniform(30, 70)
        ox, oy = rng.uniform(10, 90 - side), rng.uniform(10, 90 - side)
        items.append((f"P{k:04d}", box(cx + ox, cy + oy, cx + ox + side, cy + oy + side)))
    return items


def test_planted_overlaps_found_exactly() -> None:
    items = _grid_squares(1000, random.Random(7))
    shapes = dict(items)
    s1, s2, s3, s4 = (shapes[k].bounds for k in ("P0010", "P0500", "P0777", "P0123"))
    planted = [
        # 10 m × 10 m wholly inside P0010: 100 m² = 0.15 亩.
        ("Z-inside", box(s1[0] + 5, s1[1] + 5, s1[0] + 15, s1[1] + 15)),
        # Sticks 5 m out of P0500's east edge, overlapping 4 m × 10 m = 40 m² = 0.06 亩.
        ("A-partial", box(s2[2] - 4, s2[1], s2[2] + 5, s2[1] + 10)),
        # Shares P0777's east edge only: touching, not overlapping.
        ("M-touch", box(s3[2], s3[1], s3[2] + 8, s3[3])),
        # Shares only P0123's north-east corner.
        ("C-corner", box(s4[2], s4[3], s4[2] + 5, s4[3] + 5)),
    ]
    found = find_overlaps(items + planted)
    assert [(o.a, o.b) for o in found] == [("A-partial", "P0500"), ("P0010", "Z-inside")]
    areas = {(o.a, o.b): o.area_mu for o in found}
    assert areas[("A-partial", "P0500")] == pytest.approx(40 / (10000 / 15), rel=1e-9)
    assert areas[("P0010", "Z-inside")] == pytest.approx(0.15, rel=1e-9)
    # A higher threshold drops the smaller one.
    bigger = find_overlaps(items + planted, min_area_mu=0.1)
    assert [(o.a, o.b) for o in bigger] == [("P0010", "Z-inside")]


def test_find_overlaps_accepts_wkb_and_skips_empty() -> None:
    items = [("b", polygons.to_wkb(box(0, 0, 100, 100))), ("a", box(50, 0, 150, 100).wkt), ("c", None)]
    assert find_overlaps(items) == [Overlap("a", "b", pytest.approx(7.5))]


def test_overlaps_with_for_a_new_drawing() -> None:
    items = [("x", box(0, 0, 100, 100)), ("y", box(100, 0, 200, 100)), ("z", box(0, 200, 10, 210))]
    drawn = box(80, 0, 120, 50)  # 20×50 into x and 20×50 into y
    got = overlaps_with(drawn, items)
    assert [k for k, _ in got] == ["x", "y"]
    assert got[0][1] == pytest.approx(1.5)
    assert overlaps_with(drawn, items, exclude="x") == [("y", pytest.approx(1.5))]
    assert overlaps_with(box(200, 0, 210, 10), items) == []  # touches y only


# ---------------------------------------------------------------- 界址点


def test_parse_with_zone_prefix_and_closing_point() -> None:
    text = """
J1,1,4875100.00,29512000.00
J2,1,4875100.00,29512100.00
J3,1,4875000.00,29512100.00
J4,1,4875000.00,29512000.00
J1,1,4875100.00,29512000.00
"""
    poly = boundary_points.parse_boundary_points(text)
    assert poly.equals(box(512_000, 4_875_000, 512_100, 4_875_100))
    assert polygons.area_mu(poly) == pytest.approx(15.0)
    zoned = boundary_points.parse_boundary_points(text, crs="EPSG:4517")
    assert zoned.bounds[0] == pytest.approx(29_512_000.0)


def test_parse_without_prefix_mixed_separators_and_target_4517() -> None:
    text = "1 4875100.00 512000.00\n2\t4875100.00\t512100.00\n4875000.00，512100.00\n4875000.00,512000.00\n"
    poly = boundary_points.parse_boundary_points(text)
    assert poly.equals(box(512_000, 4_875_000, 512_100, 4_875_100))
    assert boundary_points.parse_boundary_points(text, "EPSG:4517").bounds[0] == pytest.approx(29_512_000.0)


def test_parse_with_hole_and_txt_header() -> None:
    text = """[属性描述]
坐标系=2000国家大地坐标系
带号=29
[地块坐标]
9,1.4,WQ-001,退减地块,面,,,0102,@
J1,1,4875100,29512000
J2,1,4875100,29512100
J3,1,4875000,29512100
J4,1,4875000,29512000
J1,1,4875100,29512000
J5,2,4875060,29512040
J6,2,4875060,29512060
J7,2,4875040,29512060
J8,2,4875040,29512040
J5,2,4875060,29512040
"""
    poly = boundary_points.parse_boundary_points(text)
    assert len(poly.interiors) == 1
    assert polygons.area_mu(poly) == pytest.approx((10000 - 400) / (10000 / 15))


def test_parse_bad_lines_name_the_line() -> None:
    with pytest.raises(ValidationError, match="第3行无法识别"):
        boundary_points.parse_boundary_points("4875100,512000\n4875100,512100\n4875000,abc\n4875000,512000\n")
    with pytest.raises(ValidationError, match="第2行X、Y可能写反了"):
        boundary_points.parse_boundary_points("4875100,512000\n512100,4875100\n4875000,512100\n")
    with pytest.raises(ValidationError, match="带号为30"):
        boundary_points.parse_boundary_points("4875100,30512000\n4875100,30512100\n4875000,30512100\n")
    with pytest.raises(ValidationError, match="边界点少于3个"):
        boundary_points.parse_boundary_points("4875100,512000\n4875100,512100\n4875100,512000\n")
    with pytest.raises(ValidationError, match="自相交"):
        boundary_points.parse_boundary_points("4875100,512000\n4875000,512100\n4875100,512100\n4875000,512000\n")


def test_format_boundary_points_round_trips() -> None:
    parcel = Polygon(box(512_000, 4_875_000, 512_100, 4_875_100).exterior.coords[::-1],
                     [box(512_040, 4_875_040, 512_060, 4_875_060).exterior.coords])
    rows = boundary_points.format_boundary_points(parcel, zone_prefix=True)
    # Starts at the north-west corner and runs clockwise (east next), closed by repeating J1.
    assert rows[0] == ("J1", 1, 4_875_100.0, 29_512_000.0)
    assert rows[1][2:] == (4_875_100.0, 29_512_100.0)
    assert rows[4] == rows[0]
    assert [r.point_name for r in rows if r.ring_no == 2] == ["J5", "J6", "J7", "J8", "J5"]
    text = "\n".join(f"{r.point_name},{r.ring_no},{r.x_northing:.2f},{r.y_easting:.2f}" for r in rows)
    assert boundary_points.parse_boundary_points(text).equals(parcel)
    plain = boundary_points.format_boundary_points(parcel, zone_prefix=False)
    assert plain[0].y_easting == 512_000.0
