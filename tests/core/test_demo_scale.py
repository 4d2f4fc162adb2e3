"""The township/city demo data sets: 三调-like outlines, five years of work, reproducible, clean.

Tests build a slice (two villages) with the same code the full sizes run; the full township
takes minutes on a loaded machine and is made by `python main.py demo --size township`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely

from wq_desktop import checks, history
from wq_desktop.demo_scale import SIZES, ScaleSize, build_scale_demo, create_scale_store, village_fields
from wq_desktop.errors import WqError
from wq_desktop.geo import overlaps, polygons
from wq_desktop.model import AgreementStatus
from wq_desktop.store import Store

SLICE = ScaleSize(villages=2, households=40)


@pytest.fixture(scope="module")
def slice_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "slice.sqlite"
    with Store.open(path, "演示用户", create=True) as store:
        build_scale_demo(store, SLICE)
    return path


def _records(path: Path, table: str, skip: tuple[str, ...] = ()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                if r[1] not in ("created_at", "updated_at", *skip)]
        quoted = ", ".join(f'"{c}"' for c in cols)
        return sorted(conn.execute(f'SELECT {quoted} FROM "{table}"').fetchall(), key=repr)
    finally:
        conn.close()


def test_sizes_promise_real_scale() -> None:
    township, city = SIZES["township"], SIZES["city"]
    assert township.townships == 1 and township.villages >= 12
    assert township.villages * township.households >= 3000
    assert township.villages * township.parcels_per_village >= 12000
    assert city.townships >= 3 and city.townships * city.villages * city.parcels_per_village >= 100_000


def test_a_township_village_gets_all_its_fields_as_shared_edge_strips_between_roads() -> None:
    count = SIZES["township"].parcels_per_village
    fields, _ = village_fields(np.random.default_rng(1), (500_000.0, 4_870_000.0), count)
    assert len(fields) == count
    shapes = np.array(fields)
    assert all(polygons.check_polygon(f) is not None for f in fields[:200])
    assert overlaps.find_overlaps([(str(i), f) for i, f in enumerate(fields)]) == []
    # Not a grid of rectangles: most fields fill clearly less than their tightest rectangle.
    fill = shapely.area(shapes) / shapely.area(shapely.oriented_envelope(shapes))
    assert np.mean(fill < 0.97) > 0.5
    # Neighbours share edges (a common boundary line metres long), not just corners.
    tree = shapely.STRtree(shapes)
    a, b = tree.query(shapes, predicate="intersects")
    pairs = a < b
    shared = shapely.length(shapely.intersection(shapes[a[pairs]], shapes[b[pairs]]))
    assert (shared > 20).sum() > count
    # Roads and canals: the fields form many separate blocks with metres of free land between.
    blocks = shapely.get_parts(shapely.union_all(shapely.buffer(shapes, 0.05)))
    assert len(blocks) > 20
    assert min(shapely.distance(blocks[0], blocks[1:])) >= 4.0


def test_slice_has_five_years_of_work_and_no_errors(slice_db: Path) -> None:
    with Store.open(slice_db, "测试员") as store:
        assert store.is_demo
        assert store.count("village") == 2 and store.count("operator") == 80
        assert store.count("parcel") == 2 * SLICE.parcels_per_village
        years = [y for (y,) in store.conn.execute("SELECT DISTINCT year FROM measure ORDER BY year")]
        assert len(years) == 5 and years == list(range(years[0], years[0] + 5))
        assert store.count("notice") == 10
        filed = store.count("agreement", "status=? AND year=?", (AgreementStatus.FILED, years[0]))
        assert filed > 10
        assert store.count("operator", "leader IS NOT NULL AND staff IS NOT NULL") == 80
        assert store.count("patrol") > 100 and store.count("photo") > 3
        photo = store.find("photo")[0]
        assert photo["size"] < 5000  # small photos: the data set stays light
        assert history.verify_chain(store.conn) == []
        findings = [f for label, check in checks.CHECKS.values() for f in check(store, years[-1])]
        assert [f.message for f in findings if f.severity == checks.Severity.ERROR] == []


def test_slice_has_courtyard_planting_and_targets_for_every_village(slice_db: Path) -> None:
    from wq_desktop import planting, targets

    with Store.open(slice_db, "测试员") as store:
        years = [y for (y,) in store.conn.execute("SELECT DISTINCT year FROM measure ORDER BY year")]
        survey = planting.planting_survey(store, years[-1])
        (township,) = survey.children
        assert len(township.children) == 2
        for village in township.children:  # 实际种植 (含庭院) has real courtyard content everywhere
            assert village.courtyard_households > 5 and village.courtyard_mu > 0
        assert {y for (y,) in store.conn.execute("SELECT DISTINCT year FROM courtyard")} == set(years)
        township_uuid = store.find_one("township", "code=?", ("652301105",))["uuid"]
        for year in (years[-1], years[-1] + 1):  # this year's and next year's targets
            assert targets.water_target(store, township_uuid, year)["total_wan_m3"] > 0
            planned = targets.village_targets(store, year)
            assert len(planned) == 2 and all(t["retired_mu"] > 0 for t in planned.values())
        progress = targets.progress(store, years[-1])
        assert len(progress) == 2


def test_same_seed_gives_the_same_records(slice_db: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.sqlite"
    with Store.open(again, "演示用户", create=True) as store:
        build_scale_demo(store, SLICE)
    for table in ("operator", "parcel", "measure", "agreement", "patrol", "courtyard"):
        assert _records(again, table) == _records(slice_db, table), table
    for table in ("village_target", "water_target"):  # made by targets.py, with new UUIDs
        assert _records(again, table, ("uuid",)) == _records(slice_db, table, ("uuid",)), table


def test_refuses_an_existing_file_and_an_unknown_size(tmp_path: Path) -> None:
    taken = tmp_path / "taken.sqlite"
    taken.write_bytes(b"")
    with pytest.raises(WqError, match="已存在"):
        create_scale_store(taken, "township")
    with pytest.raises(WqError, match="未知的演示规模"):
        create_scale_store(tmp_path / "new.sqlite", "province")
    assert taken.read_bytes() == b"" and not (tmp_path / "new.sqlite").exists()
