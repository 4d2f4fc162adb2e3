"""Overlaps between parcels: which pairs share area, and what a new outline overlaps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from wq_desktop.geo import tiles
from wq_desktop.geo.polygons import _coerce
from wq_desktop.model import SQM_PER_MU


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
    i, j = _touching(geoms)
    return sorted(_sharing_area(ids, geoms, i, j, min_area_mu), key=lambda o: (o.a, o.b))


def find_overlaps_tiled(ids: Sequence[str], wkbs: Sequence[bytes | None], min_area_mu: float = 0.01,
                        per_cell: int = tiles.PER_CELL) -> list[Overlap]:
    """find_overlaps over outlines given as WKB (None or empty ones skipped), one cell of the map
    at a time (geo.tiles): only one cell's outlines are decoded at once. Each pair is measured
    in the one cell holding the lower-left corner of where its boxes meet, a point inside both
    boxes, so both parcels are among that cell's and the pair is found exactly once."""
    if len(set(ids)) != len(ids):
        raise ValueError("find_overlaps: duplicate ids")
    bbox = tiles.boxes(wkbs)
    found: list[Overlap] = []
    for cell, rows in tiles.cells(bbox, np.flatnonzero(~np.isnan(bbox[:, 0])), per_cell):
        if len(rows) < 2:
            continue
        geoms = shapely.from_wkb(np.array([wkbs[r] for r in rows.tolist()], dtype=object))
        i, j = _touching(geoms)  # rows ascending: i < j in the cell is i < j in the whole set
        gi, gj = rows[i], rows[j]
        here = tiles.contains(cell, np.maximum(bbox[gi, 0], bbox[gj, 0]),
                              np.maximum(bbox[gi, 1], bbox[gj, 1]))
        found += _sharing_area([ids[r] for r in rows.tolist()], geoms, i[here], j[here], min_area_mu)
    return sorted(found, key=lambda o: (o.a, o.b))


def _touching(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs i < j of geometries that intersect (edges and corners included)."""
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    return i[keep], j[keep]


def _sharing_area(ids: Sequence[str], geoms: np.ndarray, i: np.ndarray, j: np.ndarray,
                  min_area_mu: float) -> list[Overlap]:
    """The pairs (i, j) whose shared area is above zero and at least min_area_mu 亩."""
    if not len(i):
        return []
    areas = _intersection_areas(geoms[i], geoms[j]) / SQM_PER_MU
    return [Overlap(min(ids[p], ids[q]), max(ids[p], ids[q]), float(mu))
            for p, q, mu in zip(i.tolist(), j.tolist(), areas.tolist(), strict=True)
            if mu > 0 and mu >= min_area_mu]


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
