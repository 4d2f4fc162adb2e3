"""一张图's data: every parcel of a year, coloured by its measure, cut into tiles per zoom level.

The parcels come from `gisfiles.parcel_layer` (what the desktop map draws, with the same
category rule `measure_category`), loaded once per year and scope and kept while the data does
not change. Tiles are square cells of the city's extent, in the store's projected metres (no
basemap is needed, so no projection to web mercator and nothing from the internet): a tile at
zoom z is extent / 2^z wide and drawn 256 px wide. Each parcel goes to the one tile holding the
centre of its bounding box (no feature twice), in the form its size on screen calls for: under
1.5 px a dot (one per tile pixel and colour, so the whole city is a few hundred kB), above that
its outline simplified to half a pixel and quantized to 4096 steps per tile side. A parcel
reaching over its tile's edge keeps its whole outline (coordinates are offset by one tile side,
so -1..2 tile sides fit); the browser draws each tile with half a tile of margin around it.

Binary, little-endian (read by static/map.js):
    tile  := u32 count, feature*
    feature := u8 category, u8 form (0 dot, 1 polygon), u16 village index, body
    dot   := u16 x, u16 y          (GRID + 0..4095 across the tile, y downwards)
    polygon := u16 rings, (u16 points, (u16 x, u16 y)*)*
"""

from __future__ import annotations

import math
import struct
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import shapely

from wq_desktop.gisfiles import CATEGORIES, parcel_layer
from wq_desktop.queries import navigation
from wq_desktop.store import Store

TILE_PX = 256
GRID = 4096  # quantization steps per tile side
DOT_PX = 1.5
MAX_ZOOM_PX_M = 1.0  # the deepest zoom draws 1 m per pixel (tiles 256 m: a field fits in one)
OFFSET = GRID  # added to every coordinate, so a parcel may reach a tile side past the edges
TILE_CACHE = 2_000  # encoded tiles kept per model


@dataclass
class MapModel:
    year: int
    township: str | None
    extent: tuple[float, float, float, float]  # square: minx, miny, maxx, maxy
    bounds: tuple[float, float, float, float]  # the mapped parcels' own
    max_zoom: int
    villages: list[dict]  # index → {uuid, code, name, township}
    townships: list[dict]  # {uuid, code, name}
    layer_uuid: list[str]
    village_index: np.ndarray  # per parcel
    category: np.ndarray  # per parcel, index into CATEGORIES
    bbox: np.ndarray  # (n, 4) of mapped parcels
    shapes: np.ndarray  # shapely geometries of mapped parcels
    counts: dict[str, int]  # parcels per category (mapped or not)
    unmapped: int
    _tiles: OrderedDict = field(default_factory=OrderedDict)
    _tree: shapely.STRtree | None = None
    _outlines: dict | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tile(self, z: int, x: int, y: int) -> bytes:
        key = (z, x, y)
        with self._lock:
            hit = self._tiles.get(key)
            if hit is not None:
                self._tiles.move_to_end(key)
                return hit
        data = _encode_tile(self, z, x, y)
        with self._lock:
            self._tiles[key] = data
            while len(self._tiles) > TILE_CACHE:
                self._tiles.popitem(last=False)
        return data

    def parcel_at(self, x: float, y: float) -> str | None:
        """The UUID of the parcel under a point (the smallest, if several overlap)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.shapes)
        hits = self._tree.query(shapely.points(x, y), predicate="intersects")
        if len(hits) == 0:
            return None
        best = min(hits, key=lambda i: shapely.area(self.shapes[i]))
        return self.layer_uuid[self.mapped_index[best]]

    @property
    def mapped_index(self) -> np.ndarray:
        return self._mapped

    def outlines(self) -> dict:
        """Village and township outlines, drawn from their parcels (a concave hull of the
        parcels' corners: the store holds no official boundary), simplified to ~5 m."""
        if self._outlines is None:
            self._outlines = _outlines(self)
        return self._outlines


def build_model(store: Store, year: int, township: str | None) -> MapModel:
    layer = parcel_layer(store, year)
    tree = [t for t in navigation.navigation_tree(store) if township is None or t.uuid == township]
    villages = [{"uuid": v.uuid, "code": v.code, "name": v.name, "township": i}
                for i, t in enumerate(tree) for v in t.villages]
    index_of = {v["uuid"]: i for i, v in enumerate(villages)}
    keep = np.array([v in index_of for v in layer.village], dtype=bool)
    village_index = np.array([index_of.get(v, 0) for v in layer.village], dtype=np.int32)
    category = np.array([CATEGORIES.index(c) for c in layer.category], dtype=np.int8)
    mapped = keep & ~np.isnan(layer.bbox).any(axis=1) if len(layer) else np.zeros(0, bool)
    idx = np.flatnonzero(mapped)
    shapes = shapely.from_wkb(np.array([layer.wkb[i] for i in idx], dtype=object)) if len(idx) \
        else np.empty(0, dtype=object)
    bbox = layer.bbox[idx] if len(idx) else np.empty((0, 4))
    bounds = (0.0, 0.0, 1000.0, 1000.0)
    if len(idx):
        bounds = (float(bbox[:, 0].min()), float(bbox[:, 1].min()), float(bbox[:, 2].max()),
                  float(bbox[:, 3].max()))
        minx, miny = bbox[:, 0].min(), bbox[:, 1].min()
        span = max(bbox[:, 2].max() - minx, bbox[:, 3].max() - miny) * 1.02 + 1.0
        minx, miny = minx - span * 0.01, miny - span * 0.01
    else:
        minx, miny, span = 0.0, 0.0, 1000.0
    max_zoom = max(0, math.ceil(math.log2(span / (TILE_PX * MAX_ZOOM_PX_M))))
    counts = {c: int(((category == i) & keep).sum()) for i, c in enumerate(CATEGORIES)}
    model = MapModel(year, township, (minx, miny, minx + span, miny + span), bounds, max_zoom, villages,
                     [{"uuid": t.uuid, "code": t.code, "name": t.name} for t in tree],
                     layer.uuid, village_index[idx], category[idx], bbox, shapes, counts,
                     int((keep & ~mapped).sum()))
    model._mapped = idx
    return model


def _tile_box(m: MapModel, z: int, x: int, y: int) -> tuple[float, float, float]:
    """Tile (x, y) at zoom z: its west edge, north edge and side in metres (y counts downwards)."""
    side = (m.extent[2] - m.extent[0]) / (1 << z)
    return m.extent[0] + x * side, m.extent[3] - y * side, side


def _encode_tile(m: MapModel, z: int, x: int, y: int) -> bytes:
    west, north, side = _tile_box(m, z, x, y)
    cx = (m.bbox[:, 0] + m.bbox[:, 2]) / 2
    cy = (m.bbox[:, 1] + m.bbox[:, 3]) / 2
    inside = np.flatnonzero((cx >= west) & (cx < west + side) & (cy <= north) & (cy > north - side))
    px = side / TILE_PX  # metres per pixel
    size = np.maximum(m.bbox[inside, 2] - m.bbox[inside, 0], m.bbox[inside, 3] - m.bbox[inside, 1])
    small = inside[size < DOT_PX * px]
    large = inside[size >= DOT_PX * px]
    out = bytearray()
    count = 0
    # Dots: one per tile pixel and category (and village, so filters still work).
    if len(small):
        qx = np.clip(((cx[small] - west) / side * TILE_PX).astype(int), 0, TILE_PX - 1)
        qy = np.clip(((north - cy[small]) / side * TILE_PX).astype(int), 0, TILE_PX - 1)
        keys = np.unique(np.column_stack([m.category[small], m.village_index[small], qx, qy]), axis=0)
        step = GRID // TILE_PX
        for cat, village, px_x, px_y in keys[::-1]:  # 退减灌溉 last: on top where dots share a pixel
            out += struct.pack("<BBHHH", cat, 0, village, OFFSET + px_x * step + step // 2,
                               OFFSET + px_y * step + step // 2)
        count += len(keys)
    if len(large):
        simple = shapely.simplify(m.shapes[large], px / 2, preserve_topology=False)
        scale = GRID / side
        for i, geom in zip(large, simple, strict=True):
            rings = _rings(geom)
            if not rings:
                continue
            out += struct.pack("<BBHH", m.category[i], 1, m.village_index[i], len(rings))
            for ring in rings:
                q = np.empty_like(ring)
                q[:, 0] = (ring[:, 0] - west) * scale + OFFSET
                q[:, 1] = (north - ring[:, 1]) * scale + OFFSET
                q = np.clip(np.rint(q), 0, 65535).astype("<u2")
                out += struct.pack("<H", len(q)) + q.tobytes()
            count += 1
    return struct.pack("<I", count) + bytes(out)


def _rings(geom) -> list[np.ndarray]:
    if geom is None or geom.is_empty:
        return []
    polys = geom.geoms if hasattr(geom, "geoms") else [geom]
    rings = []
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings.append(np.asarray(poly.exterior.coords)[:, :2])
        rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
    return [r for r in rings if len(r) >= 3 and len(r) < 65535]


def _outlines(m: MapModel) -> dict:
    villages = []
    for i in range(len(m.villages)):
        boxes = m.bbox[m.village_index == i]
        if not len(boxes):
            villages.append(None)
            continue
        corners = np.concatenate([boxes[:, [0, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]], boxes[:, [2, 1]]])
        hull = shapely.concave_hull(shapely.multipoints(corners), ratio=0.3)
        villages.append(shapely.simplify(hull.buffer(15, quad_segs=2), 5))
    townships = []
    for t_index in range(len(m.townships)):
        parts = [g for g, v in zip(villages, m.villages, strict=True) if g is not None
                 and v["township"] == t_index]
        townships.append(shapely.simplify(shapely.union_all(parts), 10) if parts else None)

    def rings(geom) -> list[list[float]]:
        return [np.round(r, 1).ravel().tolist() for r in _rings(geom)]

    return {"villages": [rings(g) for g in villages], "townships": [rings(g) for g in townships]}
