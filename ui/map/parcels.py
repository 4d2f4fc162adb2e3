"""The parcels the canvas draws: the core's ParcelLayer plus what drawing needs fast.

Scale: a township may hold 100,000 parcels. Only parcels whose bounding box meets the view are
looked at (a numpy test over the minx..maxy columns), and the level of detail follows their size
on screen: under 2 px a parcel is one pixel in a numpy raster, under 6 px its bounding rectangle,
above that its real outline from a bounded cache of QPainterPaths built on first use, many at a
time (`build_paths`: the outlines decoded together and streamed into Qt in one QDataStream, a
few µs per parcel instead of a Python loop over every vertex).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import shapely
from PySide6.QtCore import QByteArray, QDataStream, QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath

from wq_desktop.gisfiles import CATEGORIES, ParcelLayer

COLORS = {
    "退减灌溉": QColor(232, 118, 34),
    "休耕轮作": QColor(52, 132, 214),
    "实际种植": QColor(84, 168, 76),
    "未核实": QColor(150, 150, 150),
}
DOT_PX = 2.0  # below this a parcel is drawn as one pixel
RECT_PX = 6.0  # below this as its bounding rectangle
# Outlines built per frame or turn of the event loop (~6 ms on an idle core): a view that needs
# more shows the rest as rectangles until they are built, and the window never waits for them all.
BUILD_CHUNK = 600
PATH_CACHE = 30_000  # paths kept; a zoomed-in view needs a few thousand, the whole township ~12,000


class ParcelPaths:
    def __init__(self, layer: ParcelLayer, shown: ParcelPaths | None = None) -> None:
        """`shown`: the parcels drawn until now; when `layer` holds the very same outlines (its
        year's read shares them, gisfiles.parcel_layer's `like`), their built paths are kept:
        a year change draws the new colours at once, without building the outlines again."""
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
        code = {c: i for i, c in enumerate(CATEGORIES)}
        self.category = np.fromiter(map(code.__getitem__, layer.category), dtype=np.int8, count=self.n)
        # Built outlines by row, and when each was last drawn (the least recently drawn go first
        # when more than PATH_CACHE are built): a frame fetches its thousands in one pass.
        self._paths: list[QPainterPath | None] = [None] * self.n
        self._has_path = np.zeros(self.n, dtype=bool)
        self._used = np.zeros(self.n, dtype=np.int64)
        self._tick = 0
        self._coords: dict[int, np.ndarray] = {}
        self._rows: dict[str, int] | None = None  # see row_of
        if shown is not None and shown.layer.wkb is layer.wkb and shown.origin == self.origin:
            self._paths = list(shown._paths)
            self._has_path, self._used = shown._has_path.copy(), shown._used.copy()
            self._tick, self._coords = shown._tick, dict(shown._coords)
            if shown.layer.uuid is layer.uuid:
                self._rows = shown._rows

    # ------------------------------------------------------------------ lookup
    def extent(self, mask: np.ndarray | None = None) -> tuple[float, float, float, float] | None:
        keep = self.mapped if mask is None else self.mapped & mask
        if not keep.any():
            return None
        b = self.bbox[keep]
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())

    def in_village(self, village: str) -> np.ndarray:
        """Which rows are `village`'s parcels."""
        return np.fromiter(map(village.__eq__, self.layer.village), dtype=bool, count=self.n)

    def row_of(self, parcel_uuid: str) -> int | None:
        """The layer row of a parcel, None when it has none (a dict made on first use: a list
        search per saved parcel walks 100,000 uuids at city size)."""
        if self._rows is None:
            self._rows = {u: i for i, u in enumerate(self.layer.uuid)}
        return self._rows.get(parcel_uuid)

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
        return self.paths_of(np.array([i]))[0]

    def paths_of(self, idx: np.ndarray) -> list[QPainterPath]:
        """The outlines of rows `idx`, built first where they are not (cached)."""
        if len(idx) > PATH_CACHE:  # more than the cache keeps: built for this call only
            return outline_paths([self.layer.wkb[i] for i in idx.tolist()], self.origin)
        # Marked used before the missing ones are built: building evicts the least recently
        # used, and must never take an outline this call is about to return.
        self._tick += 1
        self._used[idx] = self._tick
        waiting = self.without_path(idx)
        if len(waiting):
            self.build_paths(waiting)
        paths = self._paths
        return [paths[i] for i in idx.tolist()]  # type: ignore[misc]

    def without_path(self, idx: np.ndarray) -> np.ndarray:
        """Those of `idx` whose outline is not built (or no longer cached)."""
        return idx[~self._has_path[idx]]

    def build_some(self, idx: np.ndarray, most: int) -> np.ndarray:
        """Build at most `most` of the outlines of `idx` not built yet, all of `idx` marked used
        first: building evicts the least recently used, never an outline of `idx` already built
        (a frame that did would build it again to draw it). Returns those of `idx` still waiting."""
        self._tick += 1
        self._used[idx] = self._tick
        waiting = self.without_path(idx)
        self.build_paths(waiting[:most])
        return waiting[most:]

    def build_paths(self, idx: Sequence[int] | np.ndarray) -> None:
        """Build and cache the outlines of `idx` (at most PATH_CACHE of them are kept)."""
        idx = [int(i) for i in idx][-PATH_CACHE:]
        if not idx:
            return
        for i, path in zip(idx, outline_paths([self.layer.wkb[i] for i in idx], self.origin), strict=True):
            self._paths[i] = path
        self._tick += 1
        self._has_path[idx] = True
        self._used[idx] = self._tick
        built = np.flatnonzero(self._has_path)
        if len(built) > PATH_CACHE:
            oldest = built[np.argsort(self._used[built], kind="stable")[:len(built) - PATH_CACHE]]
            for gone in oldest.tolist():
                self._paths[gone] = None
            self._has_path[oldest] = False

    def forget(self, i: int) -> None:
        self._paths[i] = None
        self._has_path[i] = False
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
        outline = size >= RECT_PX
        dots, rects, paths = idx[size < DOT_PX], idx[(size >= DOT_PX) & ~outline], idx[outline]
        if len(paths) > PATH_CACHE:  # more outlines than the cache keeps: the smallest as rectangles
            by_size = paths[np.argsort(size[outline], kind="stable")]
            rects = np.concatenate([rects, by_size[:-PATH_CACHE]])
            paths = np.sort(by_size[-PATH_CACHE:])
        return dots, rects, paths

    def draw_dots(self, p: QPainter, idx: np.ndarray, width: int, height: int,
                  to_screen: tuple[float, float, float, float], faded: np.ndarray | None = None) -> None:
        """One ARGB pixel per tiny parcel, painted in numpy and drawn from that buffer (not
        copied: a copy of the whole canvas cost 15 ms a frame): cheap even for 100,000 parcels."""
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
        p.drawImage(QPointF(0, 0), image)  # while `raster`, which holds the pixels, is alive


def _argb(c: QColor) -> int:
    return (255 << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


# QPainterPath's QDataStream form: element count, then (type, x, y) per element (0 moveTo,
# 1 lineTo), then the current subpath's start and the fill rule (0: odd-even, for holes).
_ELEMENT = np.dtype([("type", ">i4"), ("x", ">f8"), ("y", ">f8")])
_COUNT = struct.Struct(">i")
_TAIL = struct.pack(">ii", 0, 0)


def outline_paths(wkbs: Sequence[bytes | None], origin: tuple[float, float]) -> list[QPainterPath]:
    """The outlines of many polygons (WKB, None for none) as QPainterPaths relative to `origin`,
    every ring a closed subpath, odd-even filled."""
    geoms = shapely.from_wkb(np.array(wkbs, dtype=object))
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    counts = shapely.get_num_coordinates(rings)
    xy = shapely.get_coordinates(rings)
    elements = np.empty(len(xy), _ELEMENT)
    elements["type"] = 1
    elements["type"][np.cumsum(counts) - counts] = 0  # each ring starts with a moveTo
    elements["x"] = xy[:, 0] - origin[0]
    elements["y"] = xy[:, 1] - origin[1]
    per_shape = np.bincount(part_of[ring_of], weights=counts, minlength=len(wkbs)).astype(np.int64)
    ends = np.cumsum(per_shape)
    raw = elements.tobytes()
    size = _ELEMENT.itemsize
    blob = b"".join(_COUNT.pack(e - b) + raw[b * size:e * size] + _TAIL if e > b else _COUNT.pack(0)
                    for b, e in zip((ends - per_shape).tolist(), ends.tolist(), strict=True))
    stream = QDataStream(QByteArray(blob))
    paths = []
    for _ in range(len(wkbs)):
        path = QPainterPath()
        stream >> path  # an empty one keeps QPainterPath's default, odd-even, too
        paths.append(path)
    return paths


def rects_of(bbox: np.ndarray, origin: tuple[float, float]) -> list[QRectF]:
    """Bounding rectangles (rows minx, miny, maxx, maxy) relative to `origin`; computed in numpy,
    since QRectF from numpy scalars costs ten times one from floats."""
    xywh = np.column_stack([bbox[:, 0] - origin[0], bbox[:, 1] - origin[1],
                            bbox[:, 2] - bbox[:, 0], bbox[:, 3] - bbox[:, 1]])
    return [QRectF(x, y, w, h) for x, y, w, h in xywh.tolist()]
