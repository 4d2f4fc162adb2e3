"""界址点 (boundary points) text: parsing a 坐标TXT outline and writing one, zone 29 prefix
handled both ways, X (northing) and Y (easting) in survey order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from wq_desktop.errors import ValidationError
from wq_desktop.geo.polygons import _FIELD, _fail, check_polygon
from wq_desktop.geo.projection import normalize_crs
from wq_desktop.model import DEFAULT_CRS

# EPSG:4517 eastings carry the zone number 29 in front: 29 500000 instead of 500000.
ZONE_29_OFFSET = 29_000_000.0
_ZONE = 29
_PREFIXED_CRS = "EPSG:4517"
_PLAIN_CRS = "EPSG:4538"


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
