"""Query plans that decide whether the window keeps up at township size, pinned with EXPLAIN QUERY
PLAN on a store of realistic shape (a slice of the township demo: five years of measures).

The rule pinned: a subquery run once per outer row (SQLite says CORRELATED) looks its rows up by
the outer row's key (measure_parcel, patrol_parcel, agreement_operator, …), never by year (every
measure of the year, for every parcel: 108 s for one dashboard refresh at 10,000 parcels) and never
by a full scan. Without the statistics the store keeps (ANALYZE), SQLite picks the year index."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from wq_desktop import checks, plan_calendar, services
from wq_desktop.demo_scale import ScaleSize, build_scale_demo
from wq_desktop.gisfiles import parcel_layer
from wq_desktop.model import MeasureKind
from wq_desktop.store import Store
from wq_desktop.summary import load_households


@pytest.fixture(scope="module")
def township_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "slice.sqlite"
    with Store.open(path, "演示用户", create=True) as store:
        build_scale_demo(store, ScaleSize(villages=2, households=50))
    return path


def _statements(store: Store, work: Callable[[], object]) -> list[str]:
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        work()
    finally:
        store.conn.set_trace_callback(None)
    return [s for s in dict.fromkeys(seen) if s.lstrip().upper().startswith("SELECT")]


# Tables that grow with the township; a per-row scan of a 30-row quota table costs nothing.
GROWING = {"parcel", "measure", "operator", "agreement", "patrol", "photo", "history", "outbox"}


def _per_row_lookups_by_other_keys(conn: sqlite3.Connection, sql: str) -> list[str]:
    """Plan lines inside a correlated subquery that read a growing table by another key."""
    tables = {alias: table for table, alias in
              re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?\s+(?:AS\s+)?(\w+)', sql, flags=re.IGNORECASE)}
    rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
    detail = {node: text for node, _, _, text in rows}
    parent = {node: up for node, up, _, _ in rows}

    def correlated(node: int) -> bool:
        while node in parent:
            node = parent[node]
            if "CORRELATED" in detail.get(node, ""):
                return True
        return False

    def growing(text: str) -> bool:
        name = text.split()[1] if len(text.split()) > 1 else ""
        return tables.get(name, name) in GROWING

    return [text for node, _, _, text in rows
            if correlated(node) and growing(text)
            and (re.search(r"USING INDEX \w+_year\b", text) or text.startswith("SCAN"))]


def _bad_plans(store: Store, work: Callable[[], object]) -> dict[str, list[str]]:
    return {sql: bad for sql in _statements(store, work)
            if (bad := _per_row_lookups_by_other_keys(store.conn, sql))}


def _year(store: Store) -> int:
    return store.conn.execute("SELECT max(year) FROM measure").fetchone()[0]


def test_dashboard_progress_looks_up_measures_by_parcel(township_slice: Path) -> None:
    with Store.open(township_slice, "测试员") as store:
        year = _year(store)
        assert _bad_plans(store, lambda: plan_calendar.progress(store, year)) == {}


def test_checks_look_up_per_row_by_key(township_slice: Path) -> None:
    with Store.open(township_slice, "测试员") as store:
        year = _year(store)
        run_all = lambda: [check(store, year) for _, check in checks.CHECKS.values()]  # noqa: E731
        assert _bad_plans(store, run_all) == {}


def test_saving_a_measure_checks_the_parcel_by_its_own_index(township_slice: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(township_slice) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with Store.open(copy, "测试员") as store:
        parcel = store.find_one("parcel", "1=1")
        year = _year(store)
        sqls = _statements(store, lambda: services.set_measure(store, parcel["uuid"], year + 1,
                                                               MeasureKind.PLANTED, 1.0))
        measure_reads = [s for s in sqls if "FROM measure" in s and "parcel" in s]
        assert measure_reads
        for sql in measure_reads:
            plan = " ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "measure_parcel" in plan or "sqlite_autoindex_measure" in plan, plan


def test_without_statistics_sqlite_would_plan_by_year(township_slice: Path, tmp_path: Path) -> None:
    """The guard above can fail: drop the statistics and the year index comes back."""
    copy = tmp_path / "nostats.sqlite"
    with sqlite3.connect(township_slice) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE sqlite_stat1")
    conn = sqlite3.connect(copy)  # a new connection: the old one keeps the statistics it loaded
    year = conn.execute("SELECT max(year) FROM measure").fetchone()[0]
    store = Store.__new__(Store)  # a bare connection: Store.open would put the statistics back
    store.conn = conn
    assert _bad_plans(store, lambda: plan_calendar.progress(store, year))
    conn.close()


def _plan(store: Store, sql: str) -> str:
    return " | ".join(r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + sql))


def test_the_map_reads_a_saved_parcels_measures_by_parcel_and_sorts_no_outlines(township_slice: Path) -> None:
    """The map re-reads one saved parcel: its measures by measure_parcel, not the year's of the
    whole township; the whole layer is put in order in Python, not in a temp b-tree of rows with
    their outlines."""
    with Store.open(township_slice, "测试员") as store:
        year = _year(store)
        parcel = store.find_one("parcel", "1=1")["uuid"]
        [one] = [s for s in _statements(store, lambda: parcel_layer(store, year, parcel_uuids=[parcel]))
                 if "FROM parcel p" in s]
        assert "measure_parcel" in _plan(store, one) and "measure_year" not in _plan(store, one)
        [whole] = [s for s in _statements(store, lambda: parcel_layer(store, year)) if "FROM parcel p" in s]
        assert "ORDER BY" not in _plan(store, whole)
        layer = parcel_layer(store, year)
        keys = list(zip(layer.village_code, layer.code, strict=True))
        assert keys == sorted(keys) and len(set(layer.village)) > 1


def test_one_villages_households_read_only_that_villages_rows(township_slice: Path) -> None:
    """summarize and water_saved read the city one village at a time: each read looks up that
    village's measures and patrols by parcel, not every row of the year. (Agreements, one per
    household and year, go by agreement_operator at city size and by year on this slice.)"""
    with Store.open(township_slice, "测试员") as store:
        year = _year(store)
        village = store.find_one("village", "1=1")["uuid"]
        reads = _statements(store, lambda: load_households(store, year, villages=[village]))
        for table, index in (("measure", "measure_parcel"), ("patrol", "patrol_parcel")):
            [read] = [s for s in reads if f"FROM {table} " in s]
            assert index in _plan(store, read) and f"{table}_year" not in _plan(store, read)
