"""The plan's own numbers at township scale (20,000 parcels by default; WQ_BENCH_PLANTING_PARCELS).

Each line is a ratio to a bare baseline doing the same work in the same run:
  planting survey   planting.planting_survey (每条措施 and 庭院 as figures of record, three levels)
                    vs  one SQL GROUP BY summing the same measures and courtyards per village
  water use         water_use.water_use, survey included (per line area × quota, rounded, summed up)
                    vs  the survey's GROUP BY and SQL summing area × quota per village and crop
  five-year series  targets.five_year_series over 2021–2025  vs  the two GROUP BYs for each year
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import compare

YEAR = 2025
VILLAGES = 20
ATTRIBUTES = ("农民土地承包确权颁证耕地", "集体机动地", "确权以外国有耕地")
CROPS = {"棉花": 380, "玉米": 420, "小麦": 320, "番茄": 400, "葵花": 260, "打瓜": 220, "蔬菜": 350}


def build(path: Path, parcels: int):  # -> Store
    from wq_desktop import water
    from wq_desktop.model import MeasureKind
    from wq_desktop.rules import identity
    from wq_desktop.store import Store

    rng = random.Random(20210827)
    store = Store.open(path, "基准测试", create=True)
    per_village = -(-parcels // VILLAGES)
    with store.transaction():
        t = store.create("township", {"code": "652301105", "name": "六工镇"})
        for crop, quota in CROPS.items():
            water.set_quota(store, t, 2021, crop, quota)
        for v in range(VILLAGES):
            village = store.create("village", {"township": t, "code": f"652301105{201 + v}",
                                               "name": f"基准{v + 1}村"})
            operator = None
            for j in range(per_village):
                if j % 4 == 0:
                    first17 = f"652399{19500101 + j % 28:08d}{j % 1000:03d}"
                    operator = store.create("operator", {
                        "village": village, "name": f"户{j}", "kind": "农户",
                        "id_code": first17 + identity.id_check_char(first17)})
                    if j % 8 == 0:
                        store.create("courtyard", {"operator": operator, "year": YEAR, "crop": "蔬菜",
                                                   "area_mu": round(rng.uniform(0.2, 1.5), 2)})
                area = round(rng.uniform(5, 60), 4)
                parcel = store.create("parcel", {
                    "village": village, "operator": operator, "code": f"{j + 1:05d}",
                    "land_attribute": rng.choice(ATTRIBUTES), "area_mu": area,
                    "crop": rng.choice(list(CROPS))})
                kind = MeasureKind.RETIRED if rng.random() < 0.2 else MeasureKind.PLANTED
                store.create("measure", {"parcel": parcel, "year": YEAR, "kind": kind, "area_mu": area})
    store.conn.execute("ANALYZE")
    return store


def _bare_survey(conn, year: int) -> list:
    return [conn.execute(
        "SELECT p.village, p.land_attribute, p.crop, m.kind, sum(m.area_mu) FROM measure m"
        " JOIN parcel p ON p.uuid=m.parcel JOIN operator o ON o.uuid=p.operator"
        " LEFT JOIN agreement a ON a.operator=o.uuid AND a.year=m.year AND a.deleted=0"
        " WHERE m.deleted=0 AND p.deleted=0 AND o.deleted=0 AND m.year=?"
        " GROUP BY p.village, p.land_attribute, p.crop, m.kind", (year,)).fetchall(),
        conn.execute("SELECT o.village, c.crop, sum(c.area_mu) FROM courtyard c JOIN operator o"
                     " ON o.uuid=c.operator WHERE c.deleted=0 AND c.year=? GROUP BY o.village, c.crop",
                     (year,)).fetchall()]


def _bare_water(conn, year: int) -> list:
    return conn.execute(
        "SELECT p.village, p.crop, sum(m.area_mu * q.m3_per_mu) / 10000 FROM measure m"
        " JOIN parcel p ON p.uuid=m.parcel JOIN water_quota q ON q.crop=p.crop AND q.deleted=0"
        " WHERE m.deleted=0 AND p.deleted=0 AND m.year=? AND m.kind='实际种植'"
        " GROUP BY p.village, p.crop", (year,)).fetchall()


def main() -> None:
    from wq_desktop import targets
    from wq_desktop.planting import planting_survey
    from wq_desktop.water_use import water_use

    parcels = int(os.environ.get("WQ_BENCH_PLANTING_PARCELS", "20000"))
    with tempfile.TemporaryDirectory() as tmp:
        store = build(Path(tmp) / "planting.sqlite", parcels)
        try:
            conn = store.conn
            compare(f"planting survey, {parcels:,} parcels", lambda: planting_survey(store, YEAR),
                    lambda: _bare_survey(conn, YEAR))
            compare("water use", lambda: water_use(store, YEAR),
                    lambda: (_bare_survey(conn, YEAR), _bare_water(conn, YEAR)))
            compare("five-year series", lambda: targets.five_year_series(store),
                    lambda: [(_bare_survey(conn, y), _bare_water(conn, y)) for y in targets.PLAN_YEARS])
        finally:
            store.close()


if __name__ == "__main__":
    main()
