"""Read an offline imagery package in the MBTiles format (one SQLite file of Web-Mercator tiles).

Offices often have no internet, and imagery must not come from online map services (domain.md §6),
so the map shows a tile package copied onto the computer. Tiles are stored in TMS row order
(row 0 at the south); this module speaks XYZ (row 0 at the north) like every web map.
No Qt here: the canvas turns the bytes into images.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyproj

from .errors import WqError

EARTH_HALF_CIRCUMFERENCE = 20037508.342789244  # metres, EPSG:3857
TILE_SIZE = 256


@dataclass(frozen=True)
class TileInfo:
    name: str
    image_format: str  # png / jpg / webp
    bounds: tuple[float, float, float, float]  # lon/lat: west, south, east, north
    min_zoom: int
    max_zoom: int


class MBTiles:
    """An open package, read-only. Not shared between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise WqError(f"影像文件不存在：{self.path}")
        try:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError:
            raise WqError(f"{self.path.name} 不是 MBTiles 影像文件（无法作为 SQLite 打开）。") from None
        if "tiles" not in tables:
            self.conn.close()
            raise WqError(f"{self.path.name} 不是 MBTiles 影像文件（没有 tiles 表）。")
        self.info = self._read_info(tables)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> MBTiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read_info(self, tables: set[str]) -> TileInfo:
        meta: dict[str, str] = {}
        if "metadata" in tables:
            meta = {str(k): str(v) for k, v in self.conn.execute("SELECT name, value FROM metadata")}
        zooms = self.conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        if zooms[0] is None:
            raise WqError(f"{self.path.name} 中没有影像瓦片。")
        bounds = (-180.0, -85.0511, 180.0, 85.0511)
        if meta.get("bounds"):
            try:
                west, south, east, north = (float(v) for v in meta["bounds"].split(","))
                bounds = (west, south, east, north)
            except ValueError:
                pass
        return TileInfo(name=meta.get("name", self.path.stem), image_format=meta.get("format", "png"),
                        bounds=bounds, min_zoom=int(meta.get("minzoom", zooms[0])),
                        max_zoom=int(meta.get("maxzoom", zooms[1])))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The image bytes of XYZ tile (z, x, y), or None where the package has none."""
        row = self.conn.execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, (1 << z) - 1 - y)).fetchone()
        return bytes(row[0]) if row else None

    def zoom_for(self, metres_per_pixel: float, latitude: float) -> int:
        """The package zoom whose tiles are closest to (not coarser than) the view's resolution."""
        ground = 2 * EARTH_HALF_CIRCUMFERENCE * math.cos(math.radians(latitude)) / TILE_SIZE
        z = math.ceil(math.log2(ground / max(metres_per_pixel, 1e-6)))
        return max(self.info.min_zoom, min(self.info.max_zoom, z))


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Fractional XYZ tile coordinates of a point."""
    n = 1 << z
    lat = max(-85.0511, min(85.0511, lat))
    x = (lon + 180.0) / 360.0 * n
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return x, y


def tile_to_lonlat(x: float, y: float, z: int) -> tuple[float, float]:
    n = 1 << z
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lon, lat


def tiles_covering(west: float, south: float, east: float, north: float, z: int,
                   limit: int = 400) -> list[tuple[int, int]]:
    """XYZ (x, y) of the tiles covering a lon/lat box; at most `limit` (the view never needs more)."""
    x0, y0 = lonlat_to_tile(west, north, z)
    x1, y1 = lonlat_to_tile(east, south, z)
    n = 1 << z
    xs = range(max(0, int(x0)), min(n - 1, int(x1)) + 1)
    ys = range(max(0, int(y0)), min(n - 1, int(y1)) + 1)
    tiles = [(x, y) for y in ys for x in xs]
    return tiles[:limit]


@lru_cache(maxsize=8)
def _to_lonlat(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


@lru_cache(maxsize=8)
def _from_lonlat(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def extent_to_lonlat(crs: str, minx: float, miny: float, maxx: float, maxy: float
                     ) -> tuple[float, float, float, float]:
    tr = _to_lonlat(crs)
    xs, ys = tr.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    return min(xs), min(ys), max(xs), max(ys)


def tile_corners(z: int, x: int, y: int, crs: str) -> list[tuple[float, float]]:
    """The tile's corners (NW, NE, SE, SW) in a projected CRS, to place its image on the map."""
    tr = _from_lonlat(crs)
    corners = [tile_to_lonlat(x, y, z), tile_to_lonlat(x + 1, y, z), tile_to_lonlat(x + 1, y + 1, z),
               tile_to_lonlat(x, y + 1, z)]
    xs, ys = tr.transform([c[0] for c in corners], [c[1] for c in corners])
    return list(zip(xs, ys, strict=True))
