"""The store's batch path writes exactly what one create per row writes: same records, same
hash-chained history (replayable, chain valid), same outbox; a refused row writes nothing."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from wq_desktop import checks, history
from wq_desktop import store as store_mod
from wq_desktop.errors import ValidationError, WqError
from wq_desktop.gis_import import apply_import, guess_mapping, preview_import, read_source
from wq_desktop.store import Store

CLOCK = "2026-03-01T08:00:00Z"


def _source(folder: Path, n: int = 40) -> Path:
    shapes = [shapely.Polygon([(500000 + i * 120 + j, 4870000 + j), (500100 + i * 120, 4870000),
                               (500100 + i * 120, 4870090 + j), (500000 + i * 120, 4870080)])
              for i, j in zip(range(n), itertools.cycle((0, 3, 7)))]
    fields = {"地块编号": [f"{i + 1:03d}" for i in range(n)],
              "土地属性": ["承包地", "机动地", "国有"] * (n // 3) + ["承包地"] * (n % 3),
              "户主姓名": ["张三"] * n, "小地名": ["东大渠"] * n}
    path = folder / "parcels.gpkg"
    pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object),
                      [np.array(v, dtype=object) for v in fields.values()], list(fields),
                      driver="GPKG", layer="地块", geometry_type="Polygon", crs="EPSG:4538")
    return path


def _township(path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The same store every time: UUIDs from a counter, a fixed clock and device."""
    records, changes = itertools.count(), itertools.count()
    monkeypatch.setattr(store_mod, "new_uuids", lambda n: [
        f"00000000-0000-4000-8000-{next(records):012d}" for _ in range(n)])
    monkeypatch.setattr(store_mod, "new_change_ids", lambda n: [
        f"c0000000-0000-4000-8000-{next(changes):012d}" for _ in range(n)])
    store = Store.open(path, "测试员", create=True)
    store.clock = lambda: CLOCK
    store.device = "device-1"
    _t, village = _village(store)
    store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                              "id_code": "11010519491231002X"})
    return store


def _plan(store: Store, source):
    return preview_import(store, source, guess_mapping(source), village_code="652301105901")


def _village(store: Store) -> tuple[str, str]:
    """(township, village) of a new store."""
    t = store.create("township", {"code": "652301105", "name": "六工镇"})
    return t, store.create("village", {"township": t, "code": "652301105901", "name": "甲村"})


def _counts(store: Store, *tables: str) -> dict[str, int]:
    return {t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def _rows(db: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("unique_keys_from", [10**9, 1], ids=["unique-by-query", "unique-keys-read-once"])
def test_batch_import_writes_exactly_what_one_create_per_row_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unique_keys_from: int) -> None:
    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", unique_keys_from)
    source = read_source(_source(tmp_path))
    row_db, batch_db = tmp_path / "row.sqlite", tmp_path / "batch.sqlite"

    with _township(row_db, monkeypatch) as row_store:
        preview = _plan(row_store, source)
        assert len(preview.ready) == 40 and all(p.household_matched for p in preview.ready)
        with row_store.transaction():  # the row path the import took before the batch path
            for planned in preview.ready:
                row_store.create("parcel", planned.values)
    with _township(batch_db, monkeypatch) as batch_store:
        with batch_store.recording() as written:
            created = apply_import(batch_store, _plan(batch_store, source))
        # The window hears of each one (the operation's Changes are made from this).
        assert len(created) == 40 and [w[0] for w in written] == ["parcel"] * 40
        assert history.verify_chain(batch_store.conn) == []
        assert checks.check_history(batch_store) == []  # history replays to the stored records

    for table in ("parcel", "history", "outbox"):
        row, batch = _rows(row_db, table), _rows(batch_db, table)
        assert len(batch) == len(row) > 40 if table != "parcel" else len(batch) == 40
        for a, b in zip(batch, row, strict=True):
            assert a == b, (table, [(x, y) for x, y in zip(a, b, strict=True) if x != y])


@pytest.mark.parametrize("unique_keys_from", [10**9, 1], ids=["unique-by-query", "unique-keys-read-once"])
def test_a_refused_row_rolls_back_the_whole_batch_and_names_its_position(
        store: Store, monkeypatch: pytest.MonkeyPatch, unique_keys_from: int) -> None:
    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", unique_keys_from)
    _t, village = _village(store)
    before = _counts(store, "parcel", "history", "outbox")
    rows = [{"village": village, "code": code, "land_attribute": "集体机动地",
             "geometry": shapely.box(500000 + i * 200, 4870000, 500100 + i * 200, 4870100)}
            for i, code in enumerate(("1", "2", "1", "3"))]
    with pytest.raises(ValidationError) as refused:
        store.create_many("parcel", rows)
    assert refused.value.batch_index == 2 and "本村已有地块编号 1" in str(refused.value)
    assert _counts(store, *before) == before


def test_a_batch_row_taking_a_stored_parcels_code_is_refused_with_the_stored_parcel(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", 1)
    t, village = _village(store)
    other = store.create("village", {"township": t, "code": "652301105902", "name": "乙村"})
    box = shapely.box(500000, 4870000, 500100, 4870100)
    stored = store.create("parcel", {"village": village, "code": "7", "land_attribute": "集体机动地",
                                     "geometry": box})
    gone = store.create("parcel", {"village": village, "code": "8", "land_attribute": "集体机动地",
                                   "geometry": shapely.box(501000, 4870000, 501100, 4870100)})
    store.delete("parcel", gone)
    rows = [{"village": v, "code": code, "land_attribute": "集体机动地",
             "geometry": shapely.box(502000 + i * 200, 4870000, 502100 + i * 200, 4870100)}
            for i, (v, code) in enumerate(((other, "7"), (village, "8"), (village, "7")))]
    with pytest.raises(ValidationError) as refused:
        store.create_many("parcel", rows)  # another village's 7 and a deleted 8 are no clash
    assert refused.value.batch_index == 2 and "本村已有地块编号 7" in str(refused.value)
    assert store.count("parcel") == 1 and store.get("parcel", stored)["code"] == "7"


def test_the_chain_hash_is_the_sha256_of_the_canonical_entry() -> None:
    import hashlib
    import json

    changes = json.dumps({"name": [None, '王"五\\\n\x01'], "geometry": [None, "01ab"]})
    for user in ("测试员", 'a"b\\c\u2028', "\x7f\ud7ff"):
        parts = ["ab" * 32, 12, "2026-03-01T08:00:00Z", user, "device-1", "parcel", "u-1", "create", 3,
                 changes]
        expected = hashlib.sha256(history._canonical(parts).encode("utf-8")).hexdigest()
        assert history.entry_hash(*parts) == expected


def test_import_with_a_bad_row_says_which_feature_and_imports_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = read_source(_source(tmp_path, n=6))
    with _township(tmp_path / "s.sqlite", monkeypatch) as store:
        preview = _plan(store, source)
        preview.ready[4].values["land_attribute"] = "自留地"  # not a value the store accepts
        with pytest.raises(WqError, match="第5个图斑（编号 005）无法写入"):
            apply_import(store, preview)
        assert store.count("parcel") == 0


def test_the_vectorized_outline_check_agrees_with_the_one_by_one_check() -> None:
    from wq_desktop.geo import polygons

    shapes = [
        shapely.box(0, 0, 100, 80),
        shapely.Polygon([(0, 0), (100, 0), (100, 1e-9), (0, 0)]),  # a sliver: zero area
        shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]),  # a bow-tie
        shapely.Polygon([(0, 0, 5), (10, 0, 5), (10, 10, 5)]),  # with heights
        shapely.Polygon(shapely.box(0, 0, 10, 10).exterior, [shapely.box(2, 2, 4, 4).exterior]),
        shapely.Polygon(shapely.box(0, 0, 10, 10).exterior,
                        [[(2, 2), (4, 2), (4, 2 + 1e-12)]]),  # a collapsed hole
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.MultiPolygon([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)]),  # parts cross
        shapely.Point(1, 1), shapely.Polygon(), "POLYGON((0 0,1 0,1 1,0 0))", None,
    ]
    fast = polygons.clearly_valid(shapes)
    assert fast.tolist()[:2] == [True, False] and fast.sum() == 3
    for shape, sure, batch in zip(shapes, fast, polygons.check_polygons(shapes), strict=True):
        try:
            one = polygons.check_polygon(shape)
        except ValidationError as err:
            assert not sure and isinstance(batch, ValidationError) and str(batch) == str(err)
        else:
            assert not isinstance(batch, ValidationError) and batch.equals(one)


@pytest.mark.parametrize("chunk", [2, 5000], ids=["held-back-rows-in-chunks", "one-statement"])
def test_a_batch_row_with_a_taken_uuid_is_named_by_its_position_and_nothing_is_written(
        store: Store, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(store_mod, "INSERT_CHUNK", chunk)
    t, taken = _village(store)
    before = _counts(store, "village", "history", "outbox")
    rows = [{"township": t, "code": f"65230110590{i}", "name": f"村{i}"} for i in range(2, 7)]
    uuids = store_mod.new_uuids(5)
    uuids[3] = taken
    with pytest.raises(ValidationError) as refused:
        store.create_many("village", rows, record_uuids=uuids)
    assert refused.value.batch_index == 3 and taken in str(refused.value)
    assert _counts(store, *before) == before


def test_a_batch_checks_each_row_against_the_rows_before_it_in_the_same_batch(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Measures of one parcel and year, created at once: the third overfills the parcel. The
    check reads the earlier ones with SQL while the batch holds its rows back."""
    monkeypatch.setattr(store_mod, "INSERT_CHUNK", 5000)
    _t, village = _village(store)
    parcel = store.create("parcel", {"village": village, "code": "1", "land_attribute": "集体机动地",
                                     "geometry": shapely.box(500000, 4870000, 500100, 4870100)})
    area = store.get("parcel", parcel)["area_mu"]  # 15.00 亩
    rows = [{"parcel": parcel, "year": 2025, "kind": kind, "area_mu": area / 2}
            for kind in ("退减灌溉", "休耕轮作", "实际种植")]
    with pytest.raises(ValidationError) as refused:
        store.create_many("measure", rows)
    assert refused.value.batch_index == 2 and "超出地块面积" in str(refused.value)
    assert store.count("measure") == 0


def test_bulk_uuids_are_random_version_4_uuids() -> None:
    import uuid

    drawn = store_mod.new_uuids(2000)
    assert len(set(drawn)) == 2000
    for text in drawn:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_the_stored_json_text_is_json_dumps_text() -> None:
    import json

    from wq_desktop import json_text

    values = [{"b": [None, 1.5], "a": [None, '中文"\\\n\x01\u2028'], "c": [True, {"z": [1, 2], "y": None}],
               "d": [1e300, -0.0], "e": [3, "x"]}, {}, {"geometry": [None, "01ab" * 40]}]
    for value in values:
        assert json_text.canonical(value) == json.dumps(value, ensure_ascii=False, sort_keys=True,
                                                        separators=(",", ":"))
        assert json_text.plain(value) == json.dumps(value, ensure_ascii=False)
    with pytest.raises(TypeError):
        json_text.canonical({"a": object()})


def test_the_collector_paused_for_a_batch_runs_again_after_it_even_when_refused(
        store: Store) -> None:
    import gc

    _t, village = _village(store)
    seen: list[bool] = []
    store.clock = lambda: seen.append(gc.isenabled()) or CLOCK  # read once, inside the batch
    rows = [{"village": village, "code": code, "land_attribute": "集体机动地",
             "geometry": shapely.box(500000 + i * 200, 4870000, 500100 + i * 200, 4870100)}
            for i, code in enumerate(("1", "1"))]
    with pytest.raises(ValidationError):
        store.create_many("parcel", rows)
    assert seen == [False] and gc.isenabled()
    store.create_many("parcel", rows[:1])
    assert seen == [False, False] and gc.isenabled()


class _RolledBack(Exception):
    pass


BROKEN_ROWS = {  # a parcel row breaking one rule each: what the batch path must refuse as create does
    "no village": {"village": None},
    "no such village": {"village": "00000000-0000-4000-8000-00000000dead"},
    "no such operator": {"operator": "00000000-0000-4000-8000-00000000beef"},
    "blank code": {"code": "  "},
    "land attribute not a choice": {"land_attribute": "自留地"},
    "unknown field": {"colour": "红"},
    "derived field given": {"minx": 1.0},
    "system column given": {"rev": 3},
    "area not finite": {"geometry": None, "area_mu": float("nan")},
    "area a blank text": {"geometry": None, "area_mu": "   "},
    "text too long": {"place_name": "长" * 201},
    "self-intersecting outline": {"geometry": shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])},
    "outline not a polygon": {"geometry": shapely.Point(500000, 4870000)},
    "outline over 5,000 亩": {"geometry": shapely.box(500000, 4880000, 502000, 4882000)},
    "no outline and no area": {"geometry": None},
    "area not a number": {"geometry": None, "area_mu": "十亩"},
    "area rounding to nothing": {"geometry": None, "area_mu": 0.001},
    "code twice in the batch": {"code": "r0"},
    "code of a stored parcel": {"code": "stored"},
}


@pytest.mark.parametrize("unique_keys_from", [10**9, 1], ids=["unique-by-query", "unique-keys-read-once"])
@pytest.mark.parametrize("broken", list(BROKEN_ROWS))
def test_a_row_breaking_any_rule_mid_batch_is_refused_with_the_reason_create_gives(
        store: Store, monkeypatch: pytest.MonkeyPatch, broken: str, unique_keys_from: int) -> None:
    monkeypatch.setattr(store_mod, "UNIQUE_KEYS_FROM", unique_keys_from)
    _t, village = _village(store)
    store.create("parcel", {"village": village, "code": "stored", "land_attribute": "集体机动地",
                            "geometry": shapely.box(499000, 4870000, 499100, 4870100)})
    rows = [{"village": village, "code": f"r{i}", "land_attribute": "集体机动地",
             "geometry": shapely.box(500000 + i * 200, 4870000, 500100 + i * 200, 4870100)}
            for i in range(5)]
    rows[2].update(BROKEN_ROWS[broken])
    before = _counts(store, "parcel", "history", "outbox")
    with pytest.raises(_RolledBack), store.transaction():  # the row path, then undone
        for row in rows[:2]:
            store.create("parcel", dict(row))
        with pytest.raises(ValidationError) as by_row:
            store.create("parcel", dict(rows[2]))
        raise _RolledBack
    with pytest.raises(ValidationError) as by_batch:
        store.create_many("parcel", rows)
    assert by_batch.value.batch_index == 2
    assert str(by_batch.value) == str(by_row.value) and by_batch.value.field == by_row.value.field
    assert _counts(store, *before) == before


def test_a_batch_stores_typed_values_as_create_stores_them(store: Store) -> None:
    """Text trimmed, blank text as nothing, numbers given as text or numpy scalars as numbers, the
    same on both paths (the batch's type checks are worked out once per kind)."""
    _t, village = _village(store)
    given = [{"village": village, "code": f"  t{i} ", "land_attribute": np.str_("集体机动地"),
              "place_name": "", "geometry": None, "area_mu": area, "east": np.str_(" 东 ")}
             for i, area in enumerate(("12.5", np.float64(3.25), 7))]
    by_row = [store.get("parcel", store.create("parcel", dict(row))) for row in given]
    for row in given:
        row["code"] = row["code"].strip() + "b"
    by_batch = [store.get("parcel", u) for u in store.create_many("parcel", given)]
    seen = {"uuid", "code", "created_at", "updated_at"}
    for one, many in zip(by_row, by_batch, strict=True):
        assert {k: v for k, v in one.items() if k not in seen} == {
            k: v for k, v in many.items() if k not in seen}
        assert many["code"] == one["code"] + "b"
    assert [r["area_mu"] for r in by_batch] == [12.5, 3.25, 7.0]
    assert by_batch[0]["place_name"] is None and by_batch[0]["east"] == "东"
