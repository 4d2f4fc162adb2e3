"""Parcel GIS at township scale (100,000 parcels by default; WQ_BENCH_PARCELS to change).

Each line is a ratio to a bare baseline doing the same work in the same run:
  import            read_source + preview + apply_import  vs  pyogrio read + one sqlite insert transaction
  import floor      the same import  vs  the same work done bare: pyogrio read, vectorized validity,
                    area and bounds, then per parcel the record, the hash-chained history entry and
                    the outbox row naming it, as the product writes them, into the product's own tables
  render, township  MapCanvas.render_map (level of detail)  vs  QPainter drawing every parcel's path
  render, zoomed    MapCanvas.render_map of a zoomed view   vs  QPainter drawing the visible paths
                    as the product does: fills, then outlines antialiased (in views of fewer than
                    3,000 paths)
  overlaps, all     find_overlaps (pairs + shared 亩)   vs  a bare shapely STRtree bulk query
  overlap, one      the canvas's check for an edited parcel vs  one query on a prebuilt STRtree
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.harness import compare

VILLAGES = 20
SIZE = (1200, 800)


def make_parcels(n: int) -> tuple[list[shapely.Polygon], list[str], list[str]]:
    """A township of n jittered quadrilaterals in rows, 20 villages side by side (EPSG:4538)."""
    rng = np.random.default_rng(20210827)
    per_village = -(-n // VILLAGES)
    cols = 50
    shapes, codes, villages = [], [], []
    for k in range(n):
        v, j = divmod(k, per_village)
        row, col = divmod(j, cols)
        x = 480_000 + (v % 5) * 9_000 + col * 160
        y = 4_860_000 + (v // 5) * 18_000 + row * 130
        jit = rng.uniform(0, 8, 8)
        shapes.append(shapely.Polygon([(x + jit[0], y + jit[1]), (x + 150 - jit[2], y + jit[3]),
                                       (x + 150 - jit[4], y + 120 - jit[5]), (x + jit[6], y + 120 - jit[7])]))
        codes.append(f"{j + 1:05d}")
        villages.append(f"652301105{201 + v}")
    return shapes, codes, villages


def write_source(folder: Path, n: int) -> Path:
    shapes, codes, villages = make_parcels(n)
    path = folder / "parcels.gpkg"
    fields = {"地块编号": codes, "村代码": villages, "土地属性": ["农民土地承包确权颁证耕地"] * n}
    pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object),
                      [np.array(v, dtype=object) for v in fields.values()], list(fields),
                      driver="GPKG", layer="地块", geometry_type="Polygon", crs="EPSG:4538")
    return path


def new_store(path: Path):
    from wq_desktop.store import Store

    store = Store.open(path, "基准测试", create=True)
    township = store.create("township", {"code": "652301105", "name": "六工镇"})
    for v in range(VILLAGES):
        store.create("village", {"township": township, "code": f"652301105{201 + v}",
                                 "name": f"基准村{v + 1}"})
    return store


def bench_import(folder: Path, source: Path) -> Path:
    from wq_desktop.gis_import import apply_import, guess_mapping, preview_import, read_source

    runs = iter(range(100))
    kept: list[Path] = []

    def product() -> None:
        path = folder / f"product{next(runs)}.sqlite"
        with new_store(path) as store:
            data = read_source(source)
            preview = preview_import(store, data, guess_mapping(data))
            assert not preview.blocking and len(preview.ready) == len(data)
            apply_import(store, preview)
        kept.append(path)

    def baseline() -> None:
        _, _, wkb, (codes, villages, attrs) = pyogrio.raw.read(source)
        db = folder / f"bare{next(runs)}.sqlite"
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("CREATE TABLE parcel (uuid TEXT PRIMARY KEY, village TEXT, code TEXT, attr TEXT,"
                     " geom BLOB)")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO parcel VALUES (?,?,?,?,?)",
                         ((str(i), v, c, a, g) for i, (v, c, a, g) in
                          enumerate(zip(villages, codes, attrs, wkb, strict=True))))
        conn.execute("COMMIT")
        conn.close()

    def floor() -> None:
        """What the import must do at least, done bare: the file's validity, areas and bounds at
        once, then per parcel the same record, hash-chained history entry and outbox row (the
        same texts; the row names its entry, as the store's does) as the product writes, into
        the product's own tables and indexes, in one transaction."""
        from wq_desktop import history
        from wq_desktop.store import new_uuids

        _, _, wkb, (codes, villages, attrs) = pyogrio.raw.read(source)
        shapes = shapely.from_wkb(wkb)
        assert shapely.is_valid(shapes).all()
        areas = [round(a, 2) for a in (shapely.area(shapes) / (10000 / 15)).tolist()]
        bounds = shapely.bounds(shapes).tolist()
        wkbs = shapely.to_wkb(shapes, output_dimension=2, byte_order=1, include_srid=False).tolist()
        with new_store(folder / f"floor{next(runs)}.sqlite") as store:
            conn, user, device, now = store.conn, store.user, store.device, store.clock()
            village_of = dict(conn.execute("SELECT code, uuid FROM village"))
            chain = history.Appender(conn)  # the product's own chain: canonical JSON, SHA-256
            # Drawn as the product draws them (one read of the random source, not uuid4 per id:
            # counted at 20,000 parcels, uuid4 cost the floor 26,000 instructions a parcel, 8 % of it).
            ids, change_ids = sorted(new_uuids(len(wkbs))), sorted(new_uuids(len(wkbs)))
            records, outbox = [], []
            for i, record in enumerate(ids):
                village, area, (minx, miny, maxx, maxy) = village_of[villages[i]], areas[i], bounds[i]
                records.append((record, 1, now, user, now, user, 0, village, codes[i], attrs[i], wkbs[i],
                                area, minx, miny, maxx, maxy))
                fields = {"village": village, "code": codes[i], "land_attribute": attrs[i],
                          "geometry": wkbs[i].hex(), "area_mu": area, "minx": minx, "miny": miny,
                          "maxx": maxx, "maxy": maxy, "deleted": 0}
                entry = chain.add(at=now, user=user, device=device, kind="parcel", record=record,
                                  op="create", rev=1,
                                  changes={name: [None, value] for name, value in fields.items()})
                outbox.append((change_ids[i], "parcel", record, "create", 0, 1, entry, now, user))
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO parcel (uuid, rev, created_at, created_by, updated_at, updated_by,"
                             " deleted, village, code, land_attribute, geometry, area_mu, minx, miny, maxx,"
                             " maxy) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", records)
            chain.flush()
            conn.executemany("INSERT INTO outbox (change_id, kind, record, op, base_rev, rev, entry, at,"
                             " user) VALUES (?,?,?,?,?,?,?,?,?)", outbox)
            conn.execute("COMMIT")

    bare = compare("import", product, baseline, repeat=1)
    least = compare("import vs its same-work floor", product, floor, repeat=1)
    if bare.baseline_cpu_s and least.baseline_cpu_s is not None:  # what the floor itself costs
        print(f"the floor against the bare read + insert: {least.baseline_s / bare.baseline_s:.2f}×"
              f" (CPU {least.baseline_cpu_s / bare.baseline_cpu_s:.2f}×)", flush=True)
    return kept[0]


def bench_render(db: Path, label: str = "") -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen
    from PySide6.QtWidgets import QApplication

    from ui.map import MapCanvas
    from ui.map.parcels import outline_paths
    from wq_desktop.store import Store

    app = QApplication.instance() or QApplication([])
    store = Store.open(db, "基准测试")
    canvas = MapCanvas()
    canvas.resize(*SIZE)
    canvas.set_store(store, 2025)
    canvas.show_village(None)
    image = QImage(*SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    layer = canvas.parcels
    assert layer is not None
    paths = outline_paths(layer.layer.wkb, layer.origin)  # the baseline's, prebuilt

    def product() -> None:
        p = QPainter(image)
        canvas.render_map(p)
        p.end()

    def bare(indices) -> None:
        from PySide6.QtGui import QTransform

        p = QPainter(image)
        p.fillRect(QRectF(0, 0, *SIZE), QColor(246, 244, 238))
        shift = QTransform()
        shift.translate(*layer.origin)
        p.setTransform(shift * canvas.world_to_screen())
        pen = QPen(QColor(60, 60, 60), 0)
        pen.setCosmetic(True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(84, 168, 76))
        for i in indices:
            p.drawPath(paths[i])
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, len(indices) < 3000)  # as the product does
        for i in indices:
            p.drawPath(paths[i])
        p.end()

    everything = range(layer.n)
    compare(f"render{label}, whole store ({layer.n} parcels)", product, lambda: bare(everything))
    # A village-scale view: about 40 × 25 parcels of 150 m, each some 30 px wide.
    middle = layer.bbox[layer.n // 2]
    canvas.center = ((middle[0] + middle[2]) / 2, (middle[1] + middle[3]) / 2)
    canvas.scale = SIZE[0] / 6400
    visible = [int(i) for i in layer.in_box(*canvas.view_extent())]
    print(f"   zoomed view shows {len(visible)} parcels", flush=True)
    compare(f"render{label}, zoomed", product, lambda: bare(visible))
    canvas.deleteLater()
    app.processEvents()
    store.close()


def bench_overlaps(db: Path) -> None:
    from ui.map import MapCanvas
    from wq_desktop.geo.overlaps import find_overlaps
    from wq_desktop.store import Store

    store = Store.open(db, "基准测试")
    canvas = MapCanvas()
    canvas.resize(*SIZE)
    canvas.set_store(store, 2025)
    layer = canvas.parcels
    assert layer is not None
    items = [(layer.layer.uuid[i], layer.layer.wkb[i]) for i in range(layer.n)]
    geoms = shapely.from_wkb([w for _, w in items])

    def bare_bulk() -> None:
        tree = shapely.STRtree(geoms)
        tree.query(geoms, predicate="intersects")

    compare("overlaps, whole township", lambda: find_overlaps(items), bare_bulk)
    edited = shapely.affinity.translate(geoms[layer.n // 2], 30, 0)
    tree = shapely.STRtree(geoms)
    canvas.confirm = lambda text: True
    compare("overlap, one edited parcel", lambda: canvas._overlap_ok(edited, exclude=None),
            lambda: tree.query(edited, predicate="intersects"), repeat=5)
    store.close()


def main() -> None:
    n = int(os.environ.get("WQ_BENCH_PARCELS", "100000"))
    print(f"   {n} parcels, {VILLAGES} villages", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = write_source(folder, n)
        db = bench_import(folder, source)
        bench_render(db)
        bench_overlaps(db)
    # The demo data sets of real size (python main.py demo --size township|city): 三调-like
    # outlines with shared edges, five years of measures.
    for store in filter(None, os.environ.get("WQ_BENCH_STORES", "").split(",")):
        bench_render(Path(store), f" ({Path(store).stem} store)")


if __name__ == "__main__":
    main()
