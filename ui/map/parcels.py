"""The parcels the canvas draws: the core's ParcelLayer plus what drawing needs fast.

Scale: a township may hold 100,000 parcels. Only parcels whose bounding box meets the view are
looked at (a numpy test over the minx..maxy columns), and the level of detail follows their size
on screen: under 2 px a parcel is one pixel in a numpy raster, under 6 px its bounding rectangle,
above that its real outline from a cache of QPainterPaths built on first use.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainterPath, QPolygonF

from wq_desktop.gisfiles import CATEGORIES, ParcelLayer

COLORS = {
    "退减灌溉": QColor(232, 118, 34),
    "休耕轮作": QColor(52, 132, 214),
    "实际种植": QColor(84, 168, 76),
    "未核实": QColor(150, 150, 150),
}
DOT_PX = 2.0  # below this a parcel is drawn as one pixel
RECT_PX = 6.0  # below this as its bounding rectangle
PATH_CACHE = 30_000  # paths kept; a zoomed-in view needs a few thousand


class ParcelPaths:
    def __init__(self, layer: ParcelLayer) -> None:
        self.layer = layer
        self.n = len(layer)
        mapped = ~np.isnan(layer.bbox).any(axis=1) if self.n else np.zeros(0, bool)
        self.mapped = mapped
        bbox = layer.bbox.copy()
        bbox[~mapped] = 0.0
        self.bbox = bbox
        # Paths are built relative to this origin: small numbers keep float precision on screen.
        self.origin = (0.0, 0.0)
        if mapped.any():
            self.origin = (float(bbox[mapped, 0].min()), float(bbox[mapped, 1].min()))
        self.category = np.array([CATEGORIES.index(c) for c in layer.category], dtype=np.int8)
        self._paths: OrderedDict[int, QPainterPath] = OrderedDict()
        self._coords: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ lookup
    def extent(self, mask: np.ndarray | None = None) -> tuple[float, float, float, float] | None:
        keep = self.mapped if mask is None else self.mapped & mask
        if not keep.any():
            return None
        b = self.bbox[keep]
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    def in_box(self, minx: float, miny: float, maxx: float, maxy: float) -> np.ndarray:
        b = self.bbox
        hit = self.mapped & (b[:, 2] >= minx) & (b[:, 0] <= maxx) & (b[:, 3] >= miny) & (b[:, 1] <= maxy)
        return np.flatnonzero(hit)

    def shape(self, i: int):
        wkb = self.layer.wkb[i]
        return shapely.from_wkb(wkb) if wkb is not None else None

    def vertices(self, i: int) -> np.ndarray:
        """All vertices of parcel i (world coordinates), for snapping."""
        found = self._coords.get(i)
        if found is None:
            shape = self.shape(i)
            found = shapely.get_coordinates(shape) if shape is not None else np.empty((0, 2))
            if len(self._coords) > PATH_CACHE:
                self._coords.clear()
            self._coords[i] = found
        return found

    def path(self, i: int) -> QPainterPath:
        """Outline of parcel i in origin-relative world coordinates (cached)."""
        cached = self._paths.get(i)
        if cached is not None:
            self._paths.move_to_end(i)
            return cached
        path = shape_path(self.shape(i), self.origin)
        self._paths[i] = path
        if len(self._paths) > PATH_CACHE:
            self._paths.popitem(last=False)
        return path

    def forget(self, i: int) -> None:
        self._paths.pop(i, None)
        self._coords.pop(i, None)

    def hit(self, x: float, y: float) -> int | None:
        """The parcel containing world point (x, y); the smallest one when several do."""
        candidates = self.in_box(x, y, x, y)
        point = QPointF(x - self.origin[0], y - self.origin[1])
        inside = [int(i) for i in candidates if self.path(int(i)).contains(point)]
        if not inside:
            return None
        b = self.bbox
        return min(inside, key=lambda i: (b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1]))

    # ------------------------------------------------------------------ level of detail
    def split_by_size(self, idx: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dots, rects, paths) among visible indices, by their size on screen at `scale` px/m."""
        b = self.bbox[idx]
        size = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * scale
        return idx[size < DOT_PX], idx[(size >= DOT_PX) & (size < RECT_PX)], idx[size >= RECT_PX]

    def dot_image(self, idx: np.ndarray, width: int, height: int,
                  to_screen: tuple[float, float, float, float], faded: np.ndarray | None = None) -> QImage:
        """One ARGB pixel per tiny parcel, painted in numpy: cheap even for 100,000 parcels."""
        s, dx, sy, dy = to_screen
        b = self.bbox[idx]
        px = ((b[:, 0] + b[:, 2]) / 2 * s + dx).astype(np.int64)
        py = ((b[:, 1] + b[:, 3]) / 2 * sy + dy).astype(np.int64)
        ok = (px >= 0) & (px < width) & (py >= 0) & (py < height)
        palette = np.array([_argb(COLORS[c]) for c in CATEGORIES], dtype=np.uint32)
        colours = palette[self.category[idx]]
        if faded is not None:
            colours = np.where(faded, (colours & 0x00FFFFFF) | 0x60000000, colours)
        raster = np.zeros((height, width), dtype=np.uint32)
        raster[py[ok], px[ok]] = colours[ok]
        image = QImage(raster.data, width, height, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        return image.copy()  # own the pixels: the numpy buffer goes away


def _argb(c: QColor) -> int:
    return (255 << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


def shape_path(shape, origin: tuple[float, float]) -> QPainterPath:
    path = QPainterPath()
    path.setFillRule(path.fillRule().OddEvenFill)
    if shape is None:
        return path
    ox, oy = origin
    parts = shape.geoms if shape.geom_type == "MultiPolygon" else [shape]
    for part in parts:
        for ring in (part.exterior, *part.interiors):
            coords = shapely.get_coordinates(ring)
            path.addPolygon(QPolygonF([QPointF(x - ox, y - oy) for x, y in coords.tolist()]))
            path.closeSubpath()
    return path


def rect_of(bbox: np.ndarray, origin: tuple[float, float]) -> QRectF:
    return QRectF(bbox[0] - origin[0], bbox[1] - origin[1], bbox[2] - bbox[0], bbox[3] - bbox[1])
