"""Parcel polygons: reading any geometry form, validation with Chinese reasons, 亩 area, WKB.

Every rejection is an errors.ValidationError with a Chinese message meant to be shown to
township staff as is.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from wq_desktop.errors import ValidationError
from wq_desktop.model import SQM_PER_MU

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


def _clearly_two_dimensional(points: list[list[float]]) -> bool:
    """A cheap gate before the SVD: the 2×2 scatter matrix's eigenvalue ratio, trusted only when it
    is far above both the zero-area threshold and float rounding noise (about 1e-16)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    syy = sum((p[1] - my) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    largest = (sxx + syy) / 2 + math.hypot((sxx - syy) / 2, sxy)
    return largest > 0 and (sxx * syy - sxy * sxy) / (largest * largest) > 1e-10


def _check_ring(coords: np.ndarray, what: str, area_what: str) -> None:
    """Point-count and area checks GEOS validity does not phrase usefully (it says 'Self-intersection')."""
    if not np.isfinite(coords).all():
        raise _fail(f"{what}坐标含无效数值（空值或无穷大）")
    points = coords.tolist()
    if len(set(map(tuple, points))) < 3:
        raise _fail(f"{what}点少于3个")
    if _clearly_two_dimensional(points):
        return  # the common case, without numpy's per-call overhead (this runs on every parcel)
    # "Zero area" means all points (nearly) on one line. The signed area would also be zero for a
    # symmetric bow-tie, which must be reported as a self-intersection instead, so test the shape:
    # the smaller singular value of the centred points measures the spread across the line.
    centred = coords - coords.mean(axis=0)
    spread = np.linalg.svd(centred, compute_uv=False)
    if spread[-1] <= _ZERO_AREA_RATIO * spread[0]:
        raise _fail(f"{area_what}面积为零（各点几乎在一条直线上）")


def _closed(coords: np.ndarray) -> np.ndarray:
    if len(coords) and (coords[0] != coords[-1]).any():
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


def clearly_valid(geoms: Any) -> np.ndarray:
    """For many geometries at once (numpy, in C): True where check_polygon is sure to accept the
    geometry unchanged, so the per-shape check can be skipped. False means "check it one by one"
    (to get the reason), not "invalid". Sound by construction: 2D non-empty (Multi)Polygons that
    GEOS finds valid, every ring with area / length² above 1e-6, which keeps its vertices' spread
    across its main line far above the zero-area threshold (1e-9) for up to 10⁵ vertices."""
    shapes = np.asarray(geoms, dtype=object)
    ok = np.zeros(len(shapes), dtype=bool)
    is_geom = np.array([isinstance(g, BaseGeometry) for g in shapes], dtype=bool)
    if not is_geom.any():
        return ok
    idx = np.flatnonzero(is_geom)
    g = shapes[idx].astype(object)
    types = shapely.get_type_id(g)
    candidate = ((types == 3) | (types == 6)) & ~shapely.is_empty(g) & ~shapely.has_z(g)
    candidate &= shapely.get_num_coordinates(g) < 100_000
    candidate[candidate] &= shapely.is_valid(g[candidate])
    rings, owner = shapely.get_rings(g[candidate], return_index=True)
    thin = np.zeros(int(candidate.sum()), dtype=bool)
    if len(rings):
        length = shapely.length(rings)
        area = shapely.area(shapely.polygons(rings))
        np.logical_or.at(thin, owner, ~(area > 1e-6 * length * length))
    candidate[candidate] = ~thin
    ok[idx] = candidate
    return ok


def check_polygons(geoms: Any) -> list[Polygon | MultiPolygon | ValidationError]:
    """check_polygon for many geometries: each result is the checked geometry or the refusal.
    The common case is decided in one vectorized pass (clearly_valid)."""
    items = list(geoms)
    fast = clearly_valid(items)
    out: list[Polygon | MultiPolygon | ValidationError] = []
    for g, sure in zip(items, fast, strict=True):
        if sure:
            out.append(g)
            continue
        try:
            out.append(check_polygon(g))
        except ValidationError as err:
            out.append(err)
    return out


def area_mu(geom: Any) -> float:
    """Planar area in 亩 (CRS must be projected in metres). Full precision; round only for display."""
    return float(shapely.area(_coerce(geom))) / SQM_PER_MU


def areas_mu(shapes: Any) -> np.ndarray:
    """area_mu of many shapes at once (in C)."""
    return shapely.area(np.asarray(shapes, dtype=object)) / SQM_PER_MU


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


GeometryFacts = tuple[bytes, float, tuple[float, float, float, float]]  # to_wkb, area_mu, bbox


def facts_many(shapes: Any) -> list[GeometryFacts]:
    """to_wkb, area_mu and bbox of many non-empty shapes at once (in C), equal to what the
    one-by-one functions return: what a batch write stores for each outline."""
    g = np.asarray(shapes, dtype=object)
    if not len(g):
        return []
    wkbs = shapely.to_wkb(g, output_dimension=2, byte_order=1, include_srid=False)
    areas = areas_mu(g)
    bounds = shapely.bounds(g).tolist()
    return [(w, float(a), tuple(b)) for w, a, b in zip(wkbs.tolist(), areas.tolist(), bounds, strict=True)]


def facts_of_wkbs(wkbs: list[bytes]) -> dict[int, GeometryFacts]:
    """(the WKB itself, area_mu, bbox) by id of each WKB, decoded at once (in C): what
    SqlQueries.outline_facts finds for it one by one. WKB that is damaged, empty or has Z values
    is left out, for the one-by-one path to decode (or refuse with the reason)."""
    g = shapely.from_wkb(np.array(wkbs, dtype=object), on_invalid="ignore")
    ok = ~shapely.is_missing(g)
    ok[ok] = ~shapely.is_empty(g[ok]) & ~shapely.has_z(g[ok])
    idx = np.flatnonzero(ok)
    areas = areas_mu(g[idx]).tolist()
    bounds = shapely.bounds(g[idx]).tolist()
    return {id(wkbs[i]): (wkbs[i], float(a), tuple(b))
            for i, a, b in zip(idx.tolist(), areas, bounds, strict=True)}


def from_wkb(b: bytes | bytearray | memoryview) -> BaseGeometry:
    """Geometry from WKB (as written by to_wkb); Z values, if any, are dropped."""
    if b is None or not len(b):
        raise _fail("几何为空")
    try:
        g = shapely.from_wkb(bytes(b))
    except GEOSException:
        raise _fail("几何数据无法解析（格式错误或数据不完整）") from None
    return shapely.force_2d(g) if shapely.has_z(g) else g
