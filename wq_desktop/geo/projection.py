"""Coordinate reference systems: naming them (EPSG codes from any spelling), reprojecting,
and the map's readouts (cursor position in survey order and in degrees, distances).
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from wq_desktop.errors import ValidationError
from wq_desktop.geo.polygons import _FIELD, _coerce, _fmt_xy

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
