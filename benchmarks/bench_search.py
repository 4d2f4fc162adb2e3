"""The 查找农户 box at real size: queries.search.search_households against bare LIKE scans.

  product    search_households for typical queries: a surname, a whole name, two characters of a
             name, ID-number tails, parcel codes, a name nobody has
  baseline   the same matching done in Python on the rows already in memory (names, ID numbers,
             parcel codes read once before timing), 50 hits each at most: the floor of the work
  no index   the product on a copy without parcel_code_search (schema 13), against the same
             baseline: what the covering index saves

Stores: WQ_BENCH_STORES=township.sqlite[,city.sqlite]; without it a township store is generated.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_gui import _stores
from benchmarks.harness import compare

LIMIT = 50


def _queries(store) -> list[str]:
    names = [n for (n,) in store.conn.execute(
        "SELECT name FROM operator WHERE deleted=0 ORDER BY rowid LIMIT 3")]
    tails = [c[-6:] for (c,) in store.conn.execute(
        "SELECT id_code FROM operator WHERE deleted=0 ORDER BY rowid DESC LIMIT 2")]
    codes = [c for (c,) in store.conn.execute(
        "SELECT code FROM parcel WHERE deleted=0 ORDER BY rowid LIMIT 2")]
    return [names[0][:1], names[1], names[2][:2], *tails, codes[0], codes[1][-3:], "不存在的人"]


def _bare(rows: tuple[list[tuple[str, str, str]], list[tuple[str, str]]], queries: list[str]) -> None:
    operators, parcels = rows
    for q in queries:
        [u for u, name, _ in operators if q in name][:LIMIT]
        [u for u, _, id_code in operators if (id_code or "").endswith(q)][:LIMIT]
        [u for u, code in parcels if q in code.upper()][:LIMIT]


def main() -> None:
    from wq_desktop.queries.search import search_households
    from wq_desktop.store import Store

    for original in _stores():
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / original.name
            shutil.copy(original, db)
            with Store.open(db, "基准测试") as store:
                queries = _queries(store)
                rows = (store.conn.execute("SELECT uuid, name, id_code FROM operator WHERE deleted=0")
                        .fetchall(),
                        store.conn.execute("SELECT operator, code FROM parcel WHERE deleted=0").fetchall())

                def product(s=store, qs=queries) -> None:
                    for q in qs:
                        search_households(s, q)

                def baseline(r=rows, qs=queries) -> None:
                    _bare(r, qs)

                compare(f"search box, {db.stem} ({len(queries)} queries)", product, baseline, repeat=7)
                store.conn.execute("DROP INDEX parcel_code_search")
                compare(f"search box without parcel_code_search, {db.stem}", product, baseline, repeat=7)


if __name__ == "__main__":
    main()
