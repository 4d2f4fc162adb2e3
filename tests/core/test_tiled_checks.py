"""The overlap and 碎片化 checks run one block of the map at a time (geo.tiles) and find exactly
what the whole-set checks find: the same pairs with the same areas, pairs across block borders
once, and the same islands and scraps."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from wq_desktop import checks
from wq_desktop.demo_scale import SIZES, village_fields
from wq_desktop.fragmentation import check_fragmentation
from wq_desktop.geo import overlaps, tiles
from wq_desktop.model import SQM_PER_MU, MeasureKind
from wq_desktop.store import Store


@pytest.fixture(scope="module")
def township_outlines() -> tuple[list[str], list[bytes | None]]:
    """A township's 13,300 三调-like fields in 14 villages, every 15th copied 3 m aside (an
    overlap with it and its neighbours), a few fields large enough to cross many blocks, one
    empty outline and one missing."""
    rng = np.random.default_rng(15)
    size = SIZES["township"]
    fields: list = []
    for v in range(size.villages):
        origin = (500_000.0 + (v % 5) * 4_000.0, 4_870_000.0 + (v // 5) * 4_000.0)
        fields += village_fields(rng, origin, size.parcels_per_village)[0]
    shapes = np.array(fields, dtype=object)
    moved = shapely.transform(shapes[::15], lambda xy: xy + 3.0)
    large = [box(501_000.0 + k * 3_000, 4_871_000.0, 503_500.0 + k * 3_000, 4_879_000.0) for k in range(4)]
    wkbs: list[bytes | None] = list(shapely.to_wkb(np.concatenate([shapes, moved, large])))
    wkbs += [shapely.to_wkb(shapely.Polygon()), None]
    return [f"p{i:06d}" for i in range(len(wkbs))], wkbs


def test_tiled_overlaps_find_the_pairs_the_whole_set_finds(township_outlines) -> None:
    ids, wkbs = township_outlines
    whole = overlaps.find_overlaps([(i, w) for i, w in zip(ids, wkbs, strict=True) if w is not None])
    assert len(whole) > 2_000  # every copy overlaps its original and neighbours, the large ones many
    bbox = tiles.boxes(wkbs)
    rows = np.flatnonzero(~np.isnan(bbox[:, 0]))
    for per_cell in (tiles.PER_CELL, 400):
        assert overlaps.find_overlaps_tiled(ids, wkbs, per_cell=per_cell) == whole
        # Many of the pairs have a parcel reaching into another block than their shared corner's:
        # found once, not twice, and not lost.
        cells = [cell for cell, _ in tiles.cells(bbox, rows, per_cell)]
        assert len(cells) >= 3
        row = {i: n for n, i in enumerate(ids)}
        crossing = sum(1 for o in whole if _cells_met(cells, bbox[[row[o.a], row[o.b]]]) > 1)
        assert crossing > (50 if per_cell == 400 else 5)


def _cells_met(cells: list[tiles.Cell], pair: np.ndarray) -> int:
    x0, y0 = pair[:, 0].min(), pair[:, 1].min()
    x1, y1 = pair[:, 2].max(), pair[:, 3].max()
    return sum(1 for cx0, cy0, cx1, cy1 in cells if x1 >= cx0 and x0 < cx1 and y1 >= cy0 and y0 < cy1)


def test_the_cells_cover_each_parcel_of_them_and_split_evenly(township_outlines) -> None:
    _, wkbs = township_outlines
    bbox = tiles.boxes(wkbs)
    rows = np.flatnonzero(~np.isnan(bbox[:, 0]))
    assert len(rows) == len(wkbs) - 2  # the empty and the missing outline have no box
    found = list(tiles.cells(bbox, rows, 1_000))
    assert max(len(members) for _, members in found) <= 1_000
    for cell, members in found:  # a cell's members are exactly the boxes that meet it
        assert np.array_equal(members, tiles.meeting(bbox, rows, cell))


def test_check_overlaps_names_both_parcels_with_their_codes(store: Store) -> None:
    t = store.create("township", {"code": "652301105", "name": "六工镇"})
    v = store.create("village", {"township": t, "code": "652301105901", "name": "甲村"})
    made = store.create_many("parcel", [  # 100 m squares 90 m apart: 10 m × 100 m shared, 1.50 亩
        {"village": v, "code": f"甲-{k}", "land_attribute": "集体机动地",
         "geometry": box(500_000 + k * 90, 4_870_000, 500_100 + k * 90, 4_870_100)} for k in range(3)])
    found = checks.check_overlaps(store)
    assert {frozenset((f.record, f.other)) for f in found} == {
        frozenset(made[:2]), frozenset(made[1:])}
    messages = sorted(f.message for f in found)
    assert messages == sorted(f"地块 {a} 与 {b} 重叠 1.50 亩（面积会被重复统计）" for a, b in (
        sorted(("甲-0", "甲-1"), key=lambda c: made[int(c[-1])]),
        sorted(("甲-1", "甲-2"), key=lambda c: made[int(c[-1])])))


def test_tiled_fragmentation_finds_what_the_whole_set_finds(store: Store) -> None:
    """Two villages of fields with random retired parcels: islands and scraps come out the same
    whether the neighbours are looked for in blocks of 150 parcels or in the whole set."""
    rng = np.random.default_rng(7)
    t = store.create("township", {"code": "652301105", "name": "六工镇"})
    parcels: list[str] = []
    areas: list[float] = []
    for n in range(2):
        v = store.create("village", {"township": t, "code": f"65230110590{n}", "name": f"村{n}"})
        fields, _ = village_fields(rng, (500_000.0 + n * 3_000, 4_870_000.0), 600)
        parcels += store.create_many("parcel", [
            {"village": v, "code": f"{n}-{k:04d}", "land_attribute": "集体机动地", "geometry": f}
            for k, f in enumerate(fields)])
        areas += [f.area / SQM_PER_MU for f in fields]
    chosen = rng.choice(len(parcels), size=len(parcels) // 6, replace=False)
    store.create_many("measure", [
        {"parcel": parcels[k], "year": 2025, "kind": MeasureKind.RETIRED, "subsidy_rate": 400,
         "area_mu": round(min(float(rng.choice([2.0, 8.0, 12.0])), areas[k] * 0.9), 2)}
        for k in chosen.tolist()])
    whole = check_fragmentation(store, 2025, per_cell=10**9)
    assert {"孤岛" in f.message for f in whole} == {True, False}
    assert check_fragmentation(store, 2025, per_cell=150) == whole
