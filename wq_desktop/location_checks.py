"""Where a parcel is: inside the township, or somewhere a wrong CRS or a missing zone prefix put it.

Nothing else says where imported data is: a file of China's provinces, a square at Beijing or a
zone-prefixed file read as CM 87°E all pass every geometry rule. So every imported or drawn parcel
must lie inside the store's township extent:
  1. the township boundary, when one is set (set_boundary), with BOUNDARY_MARGIN_M to spare;
  2. else the bounding box of the township's own parcels, PARCEL_MARGIN_M around it;
  3. and always Changji's CGCS2000 3-degree zone 29 (E 85.5°–88.5°, N 42.5°–46.5°) as the outer bound.
A parcel outside is refused with distance and direction ("该图斑在本乡镇范围以东约 1,020 公里，
可能坐标系不对"). When many are outside, suggest_crs tries the readings a surveyor would (zone prefix
or not, another 3-degree zone, 经纬度) and names the one that puts them inside.

Pure core: plain values in, plain values out; the only store access is the extent's inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pyproj
import shapely
import shapely.ops
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from .errors import ValidationError
from .geo import polygons
from .geo.overlaps import overlaps_with
from .geo.projection import transform

if TYPE_CHECKING:
    from .store import Store

# Changji City lies in zone 29 (central meridian 87°E, domain.md §6); its latitudes with room to spare.
ZONE = 29
ZONE_LON = (85.5, 88.5)
ZONE_LAT = (42.5, 46.5)
GEOGRAPHIC = "EPSG:4490"
PARCEL_MARGIN_M = 10_000.0  # neighbouring villages may not have parcels in the store yet
BOUNDARY_MARGIN_M = 500.0  # a boundary digitised at a coarser scale than the parcels
BOUNDARY_META = "township_boundary"  # WKB hex in the store CRS
_INSIDE_SHARE = 0.8  # a CRS reading is suggested when it puts this share of the parcels inside
_SAMPLE = 200  # parcels whose points are tried per candidate reading
_GEOD = pyproj.Geod(ellps="GRS80")
_DIRECTIONS = ("东", "东北", "北", "西北", "西", "西南", "南", "东南")
# 3-degree Gauss-Kruger zones of CGCS2000: with the zone prefix 4513 (zone 25) … 4533 (zone 45),
# without it 4534 (CM 75°E) … 4554 (CM 135°E).
_PREFIXED_FIRST, _PLAIN_FIRST, _FIRST_ZONE, _LAST_ZONE = 4513, 4534, 25, 45


def crs_label(crs: str) -> str:
    """A CRS as township staff read it: '2000国家大地坐标系 3度带第29带（东坐标带“29”带号）'."""
    code = int(crs.split(":")[1]) if crs.upper().startswith("EPSG:") else None
    if code == 4490:
        return "2000国家大地坐标系经纬度"
    if code == 4326:
        return "WGS84经纬度"
    if code is not None and _PREFIXED_FIRST <= code < _PREFIXED_FIRST + 21:
        zone = code - _PREFIXED_FIRST + _FIRST_ZONE
        return f"2000国家大地坐标系3度带第{zone}带（东坐标带“{zone}”带号）"
    if code is not None and _PLAIN_FIRST <= code < _PLAIN_FIRST + 21:
        zone = code - _PLAIN_FIRST + _FIRST_ZONE
        return f"2000国家大地坐标系3度带中央经线{zone * 3}°（不带带号）"
    return crs


def _prefixed(zone: int) -> str:
    return f"EPSG:{_PREFIXED_FIRST + zone - _FIRST_ZONE}"


def _plain(zone: int) -> str:
    return f"EPSG:{_PLAIN_FIRST + zone - _FIRST_ZONE}"


# ------------------------------------------------------------------------------------------ extent


@dataclass(frozen=True)
class Extent:
    """Where the store's parcels may lie (store CRS): `core` is what distances are measured from,
    `allowed` the core with its margin, cut to the zone."""

    core: BaseGeometry
    allowed: BaseGeometry
    label: str  # 本乡镇范围 / 昌吉市所在的第29带
    crs: str

    def __post_init__(self) -> None:
        shapely.prepare(self.allowed)

    def problem(self, shape: BaseGeometry) -> str | None:
        """None when `shape` lies inside, else the refusal with distance and direction."""
        if self.allowed.covers(shape):  # prepared: the import asks this for every row
            return None
        if shape.intersects(self.core):
            sticks_out = shape.difference(self.allowed)
            far = shapely.hausdorff_distance(sticks_out, self.allowed) if not sticks_out.is_empty else 0.0
            return f"该图斑有部分在{self.label}之外，最远超出约 {_length(far)}，可能坐标系不对"
        return f"该图斑在{self.label}{self.where(shape)}，可能坐标系不对"

    def where(self, shape: BaseGeometry) -> str:
        """'以东约 1,020 公里': from the nearest point of the core, on the ellipsoid where it can."""
        near_core, near_shape = shapely.ops.nearest_points(self.core, shape)
        metres = _geodesic(near_core, near_shape, self.crs)
        return f"以{_direction(near_core, near_shape, self.crs)}约 {_length(metres)}"


def _length(metres: float) -> str:
    if metres >= 10_000:
        return f"{metres / 1000:,.0f} 公里"
    if metres >= 1000:
        return f"{metres / 1000:,.1f} 公里"
    return f"{metres:,.0f} 米"


def _to_lonlat(points: list[tuple[float, float]], crs: str) -> list[tuple[float, float]] | None:
    xs, ys = zip(*points, strict=True)
    lon, lat = _transformer(crs, GEOGRAPHIC).transform(xs, ys)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return None
    return list(zip(lon, lat, strict=True))


def _geodesic(a: BaseGeometry, b: BaseGeometry, crs: str) -> float:
    """Metres on the ellipsoid (a plane 29° off the central meridian stretches distances)."""
    lonlat = _to_lonlat([(a.x, a.y), (b.x, b.y)], crs)
    if lonlat is None:  # beyond the projection's range: the plane is all there is
        return float(a.distance(b))
    (lon1, lat1), (lon2, lat2) = lonlat
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def _direction(a: BaseGeometry, b: BaseGeometry, crs: str) -> str:
    lonlat = _to_lonlat([(a.x, a.y), (b.x, b.y)], crs)
    if lonlat is not None:
        (lon1, lat1), (lon2, lat2) = lonlat
        azimuth = float(_GEOD.inv(lon1, lat1, lon2, lat2)[0])  # clockwise from north
        angle = 90.0 - azimuth
    else:
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
    return _DIRECTIONS[round((angle % 360) / 45) % 8]


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


@lru_cache(maxsize=4)
def zone_bound(crs: str) -> BaseGeometry:
    """Changji's zone 29 between N 42.5° and 46.5°, in `crs` (densified: its edges are curves there)."""
    lonlat = shapely.segmentize(box(ZONE_LON[0], ZONE_LAT[0], ZONE_LON[1], ZONE_LAT[1]), 0.05)
    return transform(lonlat, GEOGRAPHIC, crs)


ZONE_LABEL = f"昌吉市所在的3度带第{ZONE}带（东经{ZONE_LON[0]}°–{ZONE_LON[1]}°）"


def township_extent(store: Store) -> Extent:
    """The store's extent: its boundary, else its parcels' bounding box, within zone 29."""
    zone = zone_bound(store.crs)
    boundary = store.meta(BOUNDARY_META)
    if boundary:
        core = polygons.from_wkb(bytes.fromhex(boundary))
        return Extent(core, core.buffer(BOUNDARY_MARGIN_M).intersection(zone), "本乡镇范围", store.crs)
    row = store.conn.execute("SELECT min(minx), min(miny), max(maxx), max(maxy) FROM parcel"
                             " WHERE deleted=0 AND geometry IS NOT NULL").fetchone()
    if row and row[0] is not None:
        core = box(*row)
        if zone.covers(core):  # parcels outside the zone predate this check: don't let them widen it
            return Extent(core, core.buffer(PARCEL_MARGIN_M, join_style="mitre").intersection(zone),
                          "本乡镇范围", store.crs)
    return Extent(zone, zone, ZONE_LABEL, store.crs)


def set_boundary(store: Store, shape: BaseGeometry | None) -> None:
    """Use `shape` (store CRS) as the township boundary; None goes back to the parcels' extent."""
    if shape is None:
        store.set_meta(BOUNDARY_META, None)
        return
    shape = polygons.check_polygon(shape)
    if not zone_bound(store.crs).covers(shape):
        extent = Extent(zone_bound(store.crs), zone_bound(store.crs), ZONE_LABEL, store.crs)
        raise ValidationError(f"乡镇边界不在{ZONE_LABEL}内，而在其{extent.where(shape)}，"
                              "可能坐标系不对。", "geometry")
    store.set_meta(BOUNDARY_META, polygons.to_wkb(shape).hex())


def unprojectable(src: str, extent: Extent) -> str:
    """The refusal for a shape the CRS cannot even place on the ellipsoid."""
    return f"按 {src}（{crs_label(src)}）读取时坐标超出该坐标系的范围，不在{extent.label}内，可能坐标系不对"


# ------------------------------------------------------------------------------------------ readings


@dataclass(frozen=True)
class CrsSuggestion:
    crs: str
    reason: str  # Chinese: why the file's CRS looks wrong and what the suggestion gives

    def line(self) -> str:
        return f"建议改用坐标系 {self.crs}（{crs_label(self.crs)}）：{self.reason}"


def _candidates(xs: np.ndarray, ys: np.ndarray) -> list[str]:
    """Readings a surveyor would try for these raw coordinates, most likely first."""
    x, y = float(np.median(xs)), float(np.median(ys))
    found: list[str] = []
    if _FIRST_ZONE * 1e6 <= x < (_LAST_ZONE + 1) * 1e6:
        found.append(_prefixed(int(x // 1_000_000)))
    if 0 <= x < 1_000_000:
        found.append(_plain(ZONE))
    if -180 <= x <= 180 and -90 <= y <= 90:
        found.append(GEOGRAPHIC)
    return found


def suggest_crs(raw_points: np.ndarray, declared: str, extent: Extent) -> CrsSuggestion | None:
    """The CRS that puts these raw (file) coordinates inside the extent, when the declared one does not.

    raw_points: (n, 2) array of one point per parcel in the file's own coordinates.
    """
    if not len(raw_points):
        return None
    pts = raw_points[:: max(1, len(raw_points) // _SAMPLE)]
    xs, ys = pts[:, 0], pts[:, 1]
    x_med = float(np.median(xs))
    for candidate in _candidates(xs, ys):
        if candidate == declared:
            continue
        share = _share_inside(xs, ys, candidate, extent)
        if share < _INSIDE_SHARE:
            continue
        declared_label = f"{declared}（{crs_label(declared)}）"
        if candidate.startswith("EPSG:45") and int(candidate[5:]) < _PLAIN_FIRST:
            zone = int(x_med // 1_000_000)
            reason = (f"东坐标带有“{zone}”带号（如 {x_med:,.2f}），而文件的坐标系为 {declared_label}；"
                      f"按 {candidate} 读取时 {share:.0%} 的图斑位于{extent.label}内。")
        elif candidate == GEOGRAPHIC:
            reason = (f"坐标数值像经纬度（如 {x_med:.4f}），而文件的坐标系为 {declared_label}；"
                      f"按经纬度读取时 {share:.0%} 的图斑位于{extent.label}内。")
        else:
            reason = (f"按 {declared_label} 读取时图斑不在{extent.label}内；按 {candidate} 读取时"
                      f" {share:.0%} 的图斑位于其中，可能选错了分带。")
        return CrsSuggestion(candidate, reason)
    return None


def _share_inside(xs: np.ndarray, ys: np.ndarray, crs: str, extent: Extent) -> float:
    try:
        x, y = _transformer(crs, extent.crs).transform(xs, ys)
    except pyproj.exceptions.ProjError:
        return 0.0
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return 0.0
    inside = shapely.covers(extent.allowed, shapely.points(np.column_stack([x[ok], y[ok]])))
    return float(inside.sum()) / len(xs)


def representative_points(shapes: Sequence[BaseGeometry]) -> np.ndarray:
    """One (x, y) per shape, its bounding-box centre: enough to tell which CRS reading fits."""
    if not shapes:
        return np.empty((0, 2))
    bounds = shapely.bounds(np.array(list(shapes), dtype=object))
    return np.column_stack([(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2])




@dataclass(frozen=True)
class ShapeReview:
    """What the map says about a drawn or typed-in parcel before saving it."""

    refusal: str | None  # outside the township, or 0.00 亩: not saved
    to_confirm: str | None  # too small, thin or large: saved only if the user confirms


def review_shape(store: Store, shape: BaseGeometry) -> ShapeReview:
    """The import's location and size rules for one parcel drawn on the map or typed as 界址点."""
    from . import shape_checks

    refusal = township_extent(store).problem(shape) or shape_checks.unrecordable(shape.area)
    size = (shape_checks.size_problem(shape.area, shape.length, shape_checks.load(store))
            if refusal is None else None)
    return ShapeReview(refusal, size)


def foreign_overlaps(store: Store, shape: BaseGeometry, village: str,
                     exclude: str | None = None) -> str | None:
    """The refusal when `shape` overlaps a parcel of another village (never allowed), else None."""
    minx, miny, maxx, maxy = shape.bounds
    rows = store.conn.execute(
        "SELECT p.uuid, p.code, p.geometry, v.name FROM parcel p JOIN village v ON v.uuid = p.village"
        " WHERE p.deleted=0 AND p.geometry IS NOT NULL AND p.village <> ?"
        " AND p.maxx >= ? AND p.minx <= ? AND p.maxy >= ? AND p.miny <= ?",
        (village, minx, maxx, miny, maxy)).fetchall()
    found = overlaps_with(shape, [(r[0], r[2]) for r in rows], exclude=exclude)
    if not found:
        return None
    names = {r[0]: f"{r[3]}的地块 {r[1]}" for r in rows}
    text = "、".join(f"{names[u]}（{mu:.2f} 亩）" for u, mu in found[:5])
    return f"与其他村的地块重叠：{text}。不同村的地块不能重叠，请修改图形"
