"""Parcel geometry: validation, 亩 area, WKB, CRS transforms, overlaps and 界址点 (boundary points).

Coordinates inside the program are GIS order (x = easting, y = northing), stored in the project
CRS (EPSG:4538, CGCS2000 3-degree Gauss-Kruger CM 87E, no zone prefix). Chinese survey text uses
X = northing, Y = easting, so every message and every 界址点 row swaps the two on the way out.

Pure functions only (no I/O, no Qt). Every rejection is an errors.ValidationError with a Chinese
message meant to be shown to township staff as is.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from wq_desktop.errors import ValidationError
from wq_desktop.model import DEFAULT_CRS, SQM_PER_MU

__all__ = [
    "ZONE_29_OFFSET",
    "BoundaryPoint",
    "Overlap",
    "area_mu",
    "bbox",
    "check_polygon",
    "find_overlaps",
    "format_boundary_points",
    "from_wkb",
    "normalize_crs",
    "overlaps_with",
    "parse_boundary_points",
    "to_wkb",
    "transform",
]

# EPSG:4517 eastings carry the zone number 29 in front: 29 500000 instead of 500000.
ZONE_29_OFFSET = 29_000_000.0
_ZONE = 29
_PREFIXED_CRS = "EPSG:4517"
_PLAIN_CRS = "EPSG:4538"

# The field name the store uses for parcel geometry, so forms can highlight the right input.
_FIELD = "geometry"

# Points whose spread across their main line is below this fraction of the spread along it are
# collinear up to float noise (a 1 mm wide, 100 m long sliver is still 1e-5).
_ZERO_AREA_RATIO = 1e-9

_TYPE_NAMES = {
    "Point": "点",
    "MultiPoint": "多点",
    "LineString": "线",
    "LinearRing": "线",
    "MultiLineString": "线",
    "GeometryCollection": "几何集合",
}


def _fail(message: str) -> ValidationError:
    return ValidationError(message, _FIELD)


def _fmt_xy(x_east: float, y_north: float) -> str:
    # Survey convention: X is the northing, Y the easting.
    return f"X={y_north:.2f}, Y={x_east:.2f}"


# --------------------------------------------------------------------------------------------
# Input coercion and validation
# --------------------------------------------------------------------------------------------


def _coerce(geom: Any) -> BaseGeometry:
    """Shapely geometry from a geometry, WKT / hex-WKB text, WKB bytes or a GeoJSON-like dict."""
    if isinstance(geom, BaseGeometry):
        return geom
    try:
        if isinstance(geom, (bytes, bytearray, memoryview)):
            if not len(geom):
                raise _fail("几何为空")
            return shapely.from_wkb(bytes(geom))
        if isinstance(geom, str):
            text = geom.strip()
            if not text:
                raise _fail("几何为空")
            # SQLite/GIS tools sometimes hand over WKB as hex text.
            if re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", text) and text[:2] in ("00", "01"):
                return shapely.from_wkb(text)
            return shapely.from_wkt(text)
        if isinstance(geom, dict) or hasattr(geom, "__geo_interface__"):
            return shape(geom)
    except (GEOSException, ValueError, TypeError, AttributeError, KeyError):
        raise _fail("几何数据无法解析（格式错误或数据不完整）") from None
    if geom is None:
        raise _fail("几何为空")
    raise _fail(f"无法识别的几何数据类型：{type(geom).__name__}")


def _distinct_count(coords: np.ndarray) -> int:
    # A set of tuples: for the few dozen points of a parcel this is several times faster than
    # np.unique(axis=0), and it runs on every parcel written.
    return len(set(map(tuple, coords.tolist())))


def _check_ring(coords: np.ndarray, what: str, area_what: str) -> None:
    """Point-count and area checks GEOS validity does not phrase usefully (it says 'Self-intersection')."""
    if not np.isfinite(coords).all():
        raise _fail(f"{what}坐标含无效数值（空值或无穷大）")
    if _distinct_count(coords) < 3:
        raise _fail(f"{what}点少于3个")
    # "Zero area" means all points (nearly) on one line. The signed area would also be zero for a
    # symmetric bow-tie, which must be reported as a self-intersection instead, so test the shape:
    # the smaller singular value of the centred points measures the spread across the line.
    centred = coords - coords.mean(axis=0)
    spread = np.linalg.svd(centred, compute_uv=False)
    if spread[-1] <= _ZERO_AREA_RATIO * spread[0]:
        raise _fail(f"{area_what}面积为零（各点几乎在一条直线上）")


def _closed(coords: np.ndarray) -> np.ndarray:
    if len(coords) and not np.array_equal(coords[0], coords[-1]):
        coords = np.vstack([coords, coords[:1]])
    return coords


def _check_parts(geom: Polygon | MultiPolygon) -> None:
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    multi = len(parts) > 1
    for n, part in enumerate(parts, 1):
        prefix = f"第{n}部分的" if multi else ""
        if part.is_empty:
            raise _fail(f"{prefix}几何为空")
        _check_ring(_closed(shapely.get_coordinates(part.exterior)), f"{prefix}边界", prefix)
        for k, hole in enumerate(part.interiors, 1):
            what = f"{prefix}第{k}个内环（洞）"
            _check_ring(_closed(shapely.get_coordinates(hole)), f"{what}的", what)


# GEOS reason prefixes (IsValidOp) -> Chinese. Order matters: longer prefixes first.
_REASONS: tuple[tuple[str, str], ...] = (
    ("Ring Self-intersection", "边界自相交（边界在一点处与自身接触），交点约在 {at}"),
    ("Self-intersection", "边界自相交，交点约在 {at}"),
    ("Hole lies outside shell", "内环（洞）位于外边界之外，位置约在 {at}"),
    ("Holes are nested", "内环（洞）嵌套在另一个内环中，位置约在 {at}"),
    ("Interior is disconnected", "内环（洞）把地块分割成互不相连的几块，位置约在 {at}"),
    ("Nested shells", "多部件地块的一个部分位于另一部分之内，位置约在 {at}"),
    ("Duplicate Rings", "边界环重复，位置约在 {at}"),
    ("Too few", "边界点少于3个"),
    ("Invalid Coordinate", "坐标含无效数值（空值或无穷大）"),
    ("Ring is not closed", "边界未闭合，位置约在 {at}"),
    ("Repeated Point", "边界有重复点，位置约在 {at}"),
)


def _explain_invalid(geom: Polygon | MultiPolygon) -> str:
    reason = shapely.is_valid_reason(geom) or ""
    match = re.search(r"\[\s*(\S+)\s+(\S+?)\s*\]\s*$", reason)
    at = "未知位置"
    if match:
        try:
            x, y = float(match.group(1)), float(match.group(2))
            if math.isfinite(x) and math.isfinite(y):
                at = _fmt_xy(x, y)
        except ValueError:
            pass
    if reason.startswith("Self-intersection") and isinstance(geom, MultiPolygon):
        # Every part is valid on its own (checked by the caller), so the parts cross each other.
        if all(p.is_valid for p in geom.geoms):
            return f"多部件地块的各部分相互重叠或交叉，交点约在 {at}"
    for english, chinese in _REASONS:
        if reason.startswith(english):
            return chinese.format(at=at)
    return f"几何无效（位置约在 {at}），请在GIS软件中检查并修正"


def check_polygon(geom: Any) -> Polygon | MultiPolygon:
    """Return the geometry as a 2D valid (Multi)Polygon or raise ValidationError saying why not.

    Accepts a shapely geometry, WKT or hex-WKB text, WKB bytes or a GeoJSON-like dict. Nothing is
    repaired: an invalid boundary is a mistake the user must see and fix, not something to guess at.
    """
    g = _coerce(geom)
    if g is None or g.is_empty:
        raise _fail("几何为空")
    if not isinstance(g, (Polygon, MultiPolygon)):
        name = _TYPE_NAMES.get(g.geom_type, g.geom_type)
        raise _fail(f"几何类型应为面（多边形），实为{name}")
    if shapely.has_z(g):
        g = shapely.force_2d(g)  # heights are meaningless for a parcel and would not survive WKB 2D
    _check_parts(g)
    if not g.is_valid:
        raise _fail(_explain_invalid(g))
    return g


def area_mu(geom: Any) -> float:
    """Planar area in 亩 (CRS must be projected in metres). Full precision; round only for display."""
    return float(shapely.area(_coerce(geom))) / SQM_PER_MU


def bbox(geom: Any) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in GIS order, i.e. (min easting, min northing, max E, max N)."""
    g = _coerce(geom)
    if g.is_empty:
        raise _fail("几何为空")
    minx, miny, maxx, maxy = g.bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def to_wkb(geom: Any) -> bytes:
    """2D little-endian ISO WKB without SRID: the CRS is a property of the store, not of each row."""
    return shapely.to_wkb(_coerce(geom), output_dimension=2, byte_order=1, include_srid=False)


def from_wkb(b: bytes | bytearray | memoryview) -> BaseGeometry:
    """Geometry from WKB (as written by to_wkb); Z values, if any, are dropped."""
    if b is None or not len(b):
        raise _fail("几何为空")
    try:
        g = shapely.from_wkb(bytes(b))
    except GEOSException:
        raise _fail("几何数据无法解析（格式错误或数据不完整）") from None
    return shapely.force_2d(g) if shapely.has_z(g) else g


# --------------------------------------------------------------------------------------------
# Coordinate reference systems
# --------------------------------------------------------------------------------------------

# CGCS2000 geographic plus all 3-degree Gauss-Kruger zones (4513-4533 with prefix, 4534-4554 CM):
# the candidates for PROJ strings that name only the GRS80 ellipsoid, not the CGCS2000 datum.
_LOCAL_CANDIDATES = (4490, *range(4513, 4555))


def _proj_key(crs: pyproj.CRS) -> tuple[Any, ...] | None:
    """Comparable projection parameters, ignoring datum names (PROJ strings rarely carry them)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "may lose information": we only read params
            params = crs.to_dict()
        ellps = crs.ellipsoid
    except (CRSError, AttributeError):
        return None
    if ellps is None:
        return None
    proj = params.get("proj")
    if proj in ("longlat", "latlong", "lonlat", "latlon"):
        fields: tuple[Any, ...] = ("longlat",)
    elif proj == "tmerc":
        fields = (
            "tmerc",
            round(float(params.get("lat_0", 0)), 9),
            round(float(params.get("lon_0", 0)), 9),
            round(float(params.get("k", params.get("k_0", 1))), 12),
            round(float(params.get("x_0", 0)), 3),
            round(float(params.get("y_0", 0)), 3),
            params.get("units", "m"),
        )
    else:
        return None
    return (*fields, round(ellps.semi_major_metre, 3), round(ellps.inverse_flattening, 6))


@lru_cache(maxsize=1)
def _local_keys() -> dict[tuple[Any, ...], int]:
    keys: dict[tuple[Any, ...], int] = {}
    for code in _LOCAL_CANDIDATES:
        key = _proj_key(pyproj.CRS.from_epsg(code))
        if key is not None:
            keys.setdefault(key, code)
    return keys


@lru_cache(maxsize=64)
def normalize_crs(text: str) -> str:
    """'EPSG:4538', '4538', 'epsg:4517', WKT (incl. ESRI .prj) or a PROJ string -> 'EPSG:N'."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("坐标系为空", "crs")
    # Full-width digits and colons (EPSG：４５３８) come from Chinese input methods.
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = re.fullmatch(r"(?:epsg\s*:\s*)?(\d+)", cleaned, flags=re.IGNORECASE)
    try:
        if match:
            code = int(match.group(1))
            pyproj.CRS.from_epsg(code)  # raises for codes PROJ does not know
            return f"EPSG:{code}"
        crs = pyproj.CRS.from_user_input(cleaned)
    except CRSError:
        raise ValidationError(f"无法识别的坐标系：{text.strip()[:80]}", "crs") from None
    code = crs.to_epsg()
    if code is None:
        key = _proj_key(crs)
        code = _local_keys().get(key) if key is not None else None
    if code is None:
        raise ValidationError(f"无法确定坐标系的EPSG编号：{crs.name}", "crs")
    return f"EPSG:{code}"


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    # Building a transformer costs milliseconds (database look-ups); the call itself is cheap.
    # pyproj >= 3.1 Transformers are thread-safe, so one cached instance serves every thread.
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def transform(geom: Any, src: str, dst: str) -> BaseGeometry:
    """Reproject any geometry (structure kept: holes, parts). Coordinates are (x=lon/east, y=lat/north)."""
    g = _coerce(geom)
    src_code, dst_code = normalize_crs(src), normalize_crs(dst)
    if src_code == dst_code or g.is_empty:
        return g
    tr = _transformer(src_code, dst_code)

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(shapely.force_2d(g), _apply)
    if not np.isfinite(shapely.get_coordinates(out)).all():
        raise ValidationError(
            f"坐标无法从 {src_code} 转换到 {dst_code}：有坐标超出该坐标系的适用范围（是否选错了坐标系？）",
            _FIELD)
    return out


# --------------------------------------------------------------------------------------------
# Overlaps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """Two parcels that share area; a < b so each pair is reported once."""

    a: str
    b: str
    area_mu: float


def _split_items(items: Iterable[tuple[str, Any]], exclude: set[str] | None = None
                 ) -> tuple[list[str], np.ndarray]:
    ids: list[str] = []
    geoms: list[BaseGeometry] = []
    for key, geom in items:
        if geom is None or (exclude and key in exclude):
            continue
        g = _coerce(geom)
        if g.is_empty:
            continue
        ids.append(key)
        geoms.append(g)
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return ids, arr


def _intersection_areas(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Areas of pairwise intersections. An invalid imported shape must not sink the whole check."""
    try:
        return shapely.area(shapely.intersection(left, right))
    except GEOSException:
        areas = np.empty(len(left))
        for n, (g1, g2) in enumerate(zip(left, right, strict=True)):
            try:
                areas[n] = g1.intersection(g2).area
            except GEOSException:
                # Only for measuring; the stored shapes are untouched.
                areas[n] = shapely.make_valid(g1).intersection(shapely.make_valid(g2)).area
        return areas


def find_overlaps(items: Iterable[tuple[str, Any]], min_area_mu: float = 0.01) -> list[Overlap]:
    """All pairs whose shared area is at least min_area_mu 亩 (sorted by a, b).

    STRtree finds candidate pairs in one bulk query, so the cost grows with the number of
    neighbours, not with n². Touching edges or corners share zero area and are never reported.
    """
    ids, geoms = _split_items(items)
    if len(set(ids)) != len(ids):
        raise ValueError("find_overlaps: duplicate ids")
    if len(geoms) < 2:
        return []
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if not len(i):
        return []
    areas = _intersection_areas(geoms[i], geoms[j]) / SQM_PER_MU
    found = [
        Overlap(min(ids[p], ids[q]), max(ids[p], ids[q]), float(mu))
        for p, q, mu in zip(i.tolist(), j.tolist(), areas.tolist(), strict=True)
        if mu > 0 and mu >= min_area_mu
    ]
    return sorted(found, key=lambda o: (o.a, o.b))


def overlaps_with(geom: Any, items: Iterable[tuple[str, Any]], exclude: str | Iterable[str] | None = None,
                  min_area_mu: float = 0.01) -> list[tuple[str, float]]:
    """(id, shared 亩) of items overlapping one new/edited shape, largest first.

    exclude: the edited parcel's own id (or several ids), so it is not reported against itself.
    """
    g = _coerce(geom)
    if g.is_empty:
        return []
    excluded = {exclude} if isinstance(exclude, str) else set(exclude or ())
    ids, geoms = _split_items(items, excluded)
    if not len(geoms):
        return []
    hits = shapely.STRtree(geoms).query(g, predicate="intersects")
    if not len(hits):
        return []
    left = np.empty(len(hits), dtype=object)
    left[:] = [g] * len(hits)
    areas = _intersection_areas(left, geoms[hits]) / SQM_PER_MU
    found = [(ids[h], float(mu)) for h, mu in zip(hits.tolist(), areas.tolist(), strict=True)
             if mu > 0 and mu >= min_area_mu]
    return sorted(found, key=lambda r: (-r[1], r[0]))


# --------------------------------------------------------------------------------------------
# 界址点 (boundary points) text
# --------------------------------------------------------------------------------------------


class BoundaryPoint(NamedTuple):
    """One 坐标TXT row: X is the northing, Y the easting (survey order)."""

    point_name: str
    ring_no: int
    x_northing: float
    y_easting: float


_SPLIT = re.compile(r"[,\s;]+")


def _number(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _zone_easting(x_north: float, y_east: float, crs: str, line_no: int, raw: str) -> float:
    """Easting in the target CRS: strip or add the '29' zone prefix; catch swapped X/Y."""
    looks_easting = 0 <= x_north < 1_000_000 or ZONE_29_OFFSET <= x_north < ZONE_29_OFFSET + 1_000_000
    if 1_000_000 <= y_east < 10_000_000 and looks_easting:
        raise ValidationError(
            f"第{line_no}行X、Y可能写反了：“{raw}”。X应为纵坐标（北向，如4875123.45），"
            f"Y为横坐标（东向，如512345.67或29512345.67）", _FIELD)
    if ZONE_29_OFFSET <= y_east < ZONE_29_OFFSET + 1_000_000:
        plain = y_east - ZONE_29_OFFSET
    elif 0 <= y_east < 1_000_000:
        plain = y_east
    elif y_east >= 10_000_000 and 13 <= int(y_east // 1_000_000) <= 45:
        raise ValidationError(
            f"第{line_no}行Y坐标的带号为{int(y_east // 1_000_000)}，本地应为{_ZONE}带：“{raw}”", _FIELD)
    else:
        raise ValidationError(f"第{line_no}行Y坐标不在{_ZONE}带范围内：“{raw}”", _FIELD)
    return plain + ZONE_29_OFFSET if crs == _PREFIXED_CRS else plain


def _is_header(tokens: list[str]) -> bool:
    return not any(_number(t) is not None for t in tokens)


def parse_boundary_points(text: str, crs: str = DEFAULT_CRS) -> Polygon:
    """Polygon from 界址点 lines (X = northing first). Ring 1 is the boundary, rings > 1 are holes.

    Accepted rows (comma, tab, space or semicolon separated):
      X,Y            name,X,Y            name,ring,X,Y      e.g. "J1,1,4875123.45,29512345.67"
    The closing point may be repeated or left out. For EPSG:4538 the "29" zone prefix on Y is
    stripped, for EPSG:4517 it is added when missing. 坐标TXT header lines ([属性描述], key=value,
    the "...,@" parcel line) and one column-title row are skipped, so a whole file can be pasted.
    """
    target = normalize_crs(crs)
    zoned = target in (_PLAIN_CRS, _PREFIXED_CRS)
    # NFKC turns full-width digits and "，" from Chinese input methods into ASCII.
    lines = unicodedata.normalize("NFKC", text or "").splitlines()
    rings: dict[int, list[tuple[float, float]]] = {}
    parcels = 0
    seen_content = False
    for line_no, line in enumerate(lines, 1):
        raw = line.strip()
        if not raw or raw.startswith("#") or raw.startswith("["):
            continue
        if "=" in raw:
            continue
        if raw.endswith("@"):
            parcels += 1
            if parcels > 1:
                raise ValidationError(f"第{line_no}行开始了第二个地块；请一次只导入一个地块的界址点", _FIELD)
            continue
        tokens = [t for t in _SPLIT.split(raw) if t]
        first_content = not seen_content
        seen_content = True
        if first_content and not rings and _is_header(tokens):
            continue  # column titles such as "点号,圈号,X,Y"
        ring = 1
        if len(tokens) == 2:
            xs, ys = tokens
        elif len(tokens) == 3:
            _, xs, ys = tokens
        elif len(tokens) == 4:
            _, ring_s, xs, ys = tokens
            ring_f = _number(ring_s)
            if ring_f is None or ring_f != int(ring_f) or ring_f < 1:
                raise ValidationError(f"第{line_no}行无法识别：“{raw}”（圈号应为正整数）", _FIELD)
            ring = int(ring_f)
        else:
            raise ValidationError(
                f"第{line_no}行无法识别：“{raw}”（应为 X,Y、点号,X,Y 或 点号,圈号,X,Y）", _FIELD)
        x_north, y_east = _number(xs), _number(ys)
        if x_north is None or y_east is None:
            raise ValidationError(f"第{line_no}行无法识别：“{raw}”（坐标应为数字）", _FIELD)
        if zoned:
            y_east = _zone_easting(x_north, y_east, target, line_no, raw)
        rings.setdefault(ring, []).append((y_east, x_north))  # GIS order inside the program
    if not rings:
        raise ValidationError("没有找到界址点坐标", _FIELD)
    if 1 not in rings:
        raise ValidationError("缺少圈号为1的外边界", _FIELD)
    shell, *holes = (rings[n] for n in sorted(rings))
    for n, pts in enumerate([shell, *holes]):
        what = "边界" if n == 0 else f"第{n}个内环（洞）的"
        if len(set(pts)) < 3:
            raise ValidationError(f"{what}点少于3个", _FIELD)
    return check_polygon(Polygon(shell, holes))


def _survey_ring(coords: np.ndarray) -> np.ndarray:
    """Open ring rotated to start at the north-west-most vertex, as 界址点 numbering does."""
    if len(coords) > 1 and np.array_equal(coords[0], coords[-1]):
        coords = coords[:-1]
    start = int(np.argmax(coords[:, 1] - coords[:, 0]))
    return np.roll(coords, -start, axis=0)


def format_boundary_points(geom: Any, zone_prefix: bool) -> list[BoundaryPoint]:
    """界址点 rows for the 坐标TXT export: J1.. numbered clockwise from the north-west corner.

    Ring 1 is the boundary, 2.. the holes (counter-clockwise). Numbering runs on across rings so
    every point name is unique in the parcel; each ring is closed by repeating its first point.
    zone_prefix=True writes EPSG:4517 eastings (29xxxxxx.xx); input may be in 4538 or 4517.
    Values are not rounded; the writer formats them to 0.01 m.
    """
    g = check_polygon(geom)
    if isinstance(g, MultiPolygon):
        if len(g.geoms) != 1:
            raise _fail("多部件地块无法写成一个地块的界址点，请拆分成单独的地块后再导出")
        g = g.geoms[0]
    g = orient(g, sign=-1.0)  # exterior clockwise, holes counter-clockwise
    rows: list[BoundaryPoint] = []
    number = 0
    for ring_no, ring in enumerate([g.exterior, *g.interiors], 1):
        coords = _survey_ring(shapely.get_coordinates(ring))
        first = len(rows)
        for x_east, y_north in coords.tolist():
            number += 1
            plain = x_east - ZONE_29_OFFSET if x_east >= ZONE_29_OFFSET else x_east
            easting = plain + ZONE_29_OFFSET if zone_prefix else plain
            rows.append(BoundaryPoint(f"J{number}", ring_no, y_north, easting))
        rows.append(rows[first])  # the ring is closed by repeating its first point, name included
    return rows


# --------------------------------------------------------------------------------------------
# Readouts (the map's cursor position and measurements)
# --------------------------------------------------------------------------------------------

_GEOGRAPHIC = "EPSG:4490"


def to_lonlat(x: float, y: float, crs: str) -> tuple[float, float] | None:
    """(longitude, latitude) of a point in `crs` on CGCS2000, or None outside the CRS's range."""
    lon, lat = _transformer(normalize_crs(crs), _GEOGRAPHIC).transform(x, y)
    return (float(lon), float(lat)) if math.isfinite(lon) and math.isfinite(lat) else None


def _dms(value: float) -> str:
    total = round(abs(value) * 3600, 2)
    degrees, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(degrees)}°{int(minutes):02d}′{seconds:05.2f}″"


def format_position(x: float, y: float, crs: str) -> str:
    """'X=4876088.38 Y=524053.78（EPSG:4538） 东经87°18′00.00″ 北纬44°01′…': survey order, X north."""
    text = f"{_fmt_xy(x, y)}（{normalize_crs(crs)}）"
    lonlat = to_lonlat(x, y, crs)
    if lonlat is None:
        return text
    lon, lat = lonlat
    return (f"{text}  {'东经' if lon >= 0 else '西经'}{_dms(lon)} {'北纬' if lat >= 0 else '南纬'}{_dms(lat)}"
            f"（{lon:.6f}°, {lat:.6f}°）")


def format_distance(metres: float) -> str:
    return f"{metres / 1000:,.3f} 千米" if metres >= 1000 else f"{metres:,.2f} 米"
