"""碎片化: retired parcels too small to matter, or islands whose every neighbour is still irrigated.

The one rule behind both the data check (checks.py) and the targets sheet (targets.py).
"""

from __future__ import annotations

import shapely

from .findings import Finding, Severity
from .model import MeasureKind
from .store import Store

# The plan asks to avoid 碎片化; these are defaults until the city sets its own figures.
FRAGMENT_MIN_MU = 5.0
FRAGMENT_NEIGHBOUR_M = 30.0


def check_fragmentation(store: Store, year: int | None = None, *, min_area_mu: float = FRAGMENT_MIN_MU,
                        neighbour_m: float = FRAGMENT_NEIGHBOUR_M) -> list[Finding]:
    """碎片化: retired parcels that are tiny, or islands whose every neighbour is still irrigated."""
    if year is None:
        return []
    rows = store.conn.execute(
        "SELECT p.uuid, p.code, p.geometry, ("
        "  SELECT coalesce(sum(m.area_mu), 0) FROM measure m WHERE m.parcel=p.uuid AND m.year=?"
        "  AND m.deleted=0 AND m.kind<>?) AS retired"
        " FROM parcel p WHERE p.deleted=0 AND p.geometry IS NOT NULL", (year, MeasureKind.PLANTED)).fetchall()
    if not rows:
        return []
    shapes = shapely.from_wkb([r[2] for r in rows])
    is_retired = [r[3] > 0 for r in rows]
    tree = shapely.STRtree(shapes)
    findings = []
    candidates = [i for i, flag in enumerate(is_retired) if flag]
    if not candidates:
        return []
    pairs = tree.query(shapes[candidates], predicate="dwithin", distance=neighbour_m)
    neighbours: dict[int, list[int]] = {i: [] for i in candidates}
    for c_index, j in zip(pairs[0], pairs[1], strict=True):
        i = candidates[c_index]
        if i != j:
            neighbours[i].append(int(j))
    for i in candidates:
        uuid, code, _, retired = rows[i]
        if retired < min_area_mu:
            findings.append(Finding(Severity.WARNING, "碎片化",
                                    f"地块 {code} 退减面积仅 {retired:.2f} 亩，小于 {min_area_mu:g} 亩",
                                    "parcel", uuid))
        elif len(neighbours[i]) >= 2 and not any(is_retired[j] for j in neighbours[i]):
            findings.append(Finding(Severity.WARNING, "碎片化",
                                    f"地块 {code} 退减后四周 {len(neighbours[i])} 块地仍在灌溉种植，形成孤岛",
                                    "parcel", uuid))
    return findings
