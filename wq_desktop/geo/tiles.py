"""Whole-store geometry checks one block of the map at a time, so a city's outlines are never all
decoded (with their STRtree) at once: the outlines stay WKB bytes, their boxes a numpy array.

`cells` cuts the plane into half-open rectangles [x0, x1) × [y0, y1) that together cover it,
halving the busiest one at the median of its parcels' centres until each meets at most
`per_cell` boxes. A pair or a parcel is then handled in the one cell that holds a point chosen
from its boxes (see overlaps.find_overlaps_tiled and fragmentation), so nothing is found twice
and nothing is missed however the cells fall.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import shapely

PER_CELL = 5_000  # boxes a cell may meet: ~10 MiB of decoded outlines and tree at 三调 detail
DECODE_CHUNK = 5_000  # outlines decoded at once to take their boxes

Cell = tuple[float, float, float, float]  # x0, y0, x1, y1; x0 <= x < x1, y0 <= y < y1
WHOLE_PLANE: Cell = (-np.inf, -np.inf, np.inf, np.inf)


def boxes(wkbs: Sequence[bytes | None]) -> np.ndarray:
    """(n, 4) minx, miny, maxx, maxy of each outline as GEOS computes them; NaN for None or
    empty. Decoded DECODE_CHUNK at a time and dropped again."""
    out = np.full((len(wkbs), 4), np.nan)
    for start in range(0, len(wkbs), DECODE_CHUNK):
        chunk = np.empty(min(DECODE_CHUNK, len(wkbs) - start), dtype=object)
        chunk[:] = wkbs[start:start + DECODE_CHUNK]
        out[start:start + len(chunk)] = shapely.bounds(shapely.from_wkb(chunk))
    return out


def contains(cell: Cell, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which points (x, y) lie in the half-open cell."""
    x0, y0, x1, y1 = cell
    return (x0 <= x) & (x < x1) & (y0 <= y) & (y < y1)


def meeting(bbox: np.ndarray, rows: np.ndarray, box: Cell) -> np.ndarray:
    """Those of `rows` whose box meets the closed rectangle `box`."""
    b = bbox[rows]
    x0, y0, x1, y1 = box
    return rows[(b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1)]


def cells(bbox: np.ndarray, rows: np.ndarray, per_cell: int = PER_CELL) -> Iterator[tuple[Cell, np.ndarray]]:
    """(cell, rows meeting it, ascending) for cells that cover the plane; `rows` index `bbox`
    (rows without a box left out). A cell whose parcels cannot be split further (one box over
    all the others) is yielded as it is, whatever its size."""
    stack: list[tuple[Cell, np.ndarray]] = [(WHOLE_PLANE, np.sort(rows))]
    while stack:
        cell, members = stack.pop()
        if len(members) <= per_cell:
            yield cell, members
            continue
        b = bbox[members]
        cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        for axis in sorted((0, 1), key=lambda a: -np.ptp(cx if a == 0 else cy)):  # the longer first
            split = float(np.median(cx if axis == 0 else cy))
            low = members[b[:, axis] <= split]  # meet [.., split): they start at or before it
            high = members[b[:, axis + 2] >= split]  # meet [split, ..)
            if len(low) < len(members) and len(high) < len(members):
                x0, y0, x1, y1 = cell
                below: Cell = (x0, y0, split, y1) if axis == 0 else (x0, y0, x1, split)
                above: Cell = (split, y0, x1, y1) if axis == 0 else (x0, split, x1, y1)
                stack += [(above, high), (below, low)]
                break
        else:
            yield cell, members
