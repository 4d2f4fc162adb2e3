"""Figures of record: decided where they are made, stored rounded, migrated forward with history."""

from __future__ import annotations

import math
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from legacy_outbox import write_outbox_before_schema_14
from shapely.geometry import box
from test_store import make_household, make_village

from wq_desktop import checks, figures, migrations, services, validation
from wq_desktop.errors import ValidationError
from wq_desktop.geo import polygons
from wq_desktop.migrations import MIGRATION_USER
from wq_desktop.rules import quantities
from wq_desktop.store import Store

# 100 m × 131.4893 m = 13,148.93 m² = 19.72340 亩: a drawn parcel is never a round number of 亩.
ODD_BOX = box(500000, 4870000, 500100, 4870131.4893)


def test_amount_multiplies_the_printed_area_and_rate() -> None:
    assert figures.amount("64.7351", 400) == Decimal("25896.00")  # 64.74 × 400, not 64.7351 × 400
    assert figures.amount("19.72", "333.33") == Decimal("6573.27")  # 6573.2676 half up
    assert figures.rate_of_record("312.505") == Decimal("312.51")
    assert figures.show(Decimal("2032.4")) == "2032.40" and figures.show(None) == ""
    assert figures.sum_of_records([12.35, None, "0.01"]) == Decimal("12.36")


def test_drawn_parcel_and_its_measure_are_stored_as_figures_of_record(store: Store) -> None:
    village = make_village(store)
    op = make_household(store, village)
    parcel = store.create("parcel", {"village": village, "operator": op, "code": "1",
                                     "land_attribute": "集体机动地", "geometry": ODD_BOX})
    rec = store.get("parcel", parcel)
    assert rec["area_mu"] == 19.72
    assert polygons.area_mu(rec["geometry"]) == pytest.approx(19.7234, abs=1e-4)  # 图形面积 stays exact
    measure = services.set_measure(store, parcel, 2026, "退减灌溉", rec["area_mu"], "400")
    m = store.get("measure", measure)
    assert (m["area_mu"], m["subsidy_rate"], m["subsidy_amount"]) == (19.72, 400.0, 7888.0)
    # A typed area with more decimals becomes its figure of record, and the rate too.
    services.set_measure(store, parcel, 2026, "退减灌溉", "12.345", "333.335")
    m = store.get("measure", measure)
    assert (m["area_mu"], m["subsidy_rate"], m["subsidy_amount"]) == (12.35, 333.34, 4116.75)
    # The whole parcel of record fits exactly; one 分 of 亩 more does not.
    services.set_measure(store, parcel, 2026, "退减灌溉", "19.72", 400)
    with pytest.raises(ValidationError, match="超出地块面积"):
        services.set_measure(store, parcel, 2026, "实际种植", "0.01")
    with pytest.raises(ValidationError, match=r"不足 0\.01 亩"):
        services.set_measure(store, parcel, 2025, "退减灌溉", "0.004")


def _legacy_writes(monkeypatch: pytest.MonkeyPatch, version: int = 4) -> None:
    """The rules before schema 6: areas kept as computed, amounts from the unrounded area; and the
    record kinds as a version-`version` program declared them (later kinds and fields absent);
    its outbox rows, each with its own copy of the fields."""
    from wq_desktop import schema

    for name, k in list(schema.KINDS.items()):
        if k.since > version:
            monkeypatch.delitem(schema.KINDS, name)
        else:
            monkeypatch.setitem(schema.KINDS, name, schema.Kind(
                k.name, k.label, tuple(f for f in k.fields if f.since <= version), k.since))
    monkeypatch.setattr(validation, "_area_of_record",
                        lambda value, field: quantities.positive_area(value, field))
    write_outbox_before_schema_14(monkeypatch)
    monkeypatch.setattr(figures, "rate_of_record", figures.to_decimal)
    monkeypatch.setattr(figures, "amount", lambda area, rate: figures.money_of_record(
        figures.to_decimal(area) * figures.to_decimal(rate)))


def test_schema_6_rounds_old_areas_and_amounts_through_the_write_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v4.sqlite"
    migrations.create_at_version(path, 4).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    with monkeypatch.context() as legacy:
        _legacy_writes(legacy)
        old = Store(conn, path, "旧版用户")
        village = make_village(old)
        op = make_household(old, village)
        parcel = old.create("parcel", {"village": village, "operator": op, "code": "1",
                                       "land_attribute": "集体机动地", "geometry": ODD_BOX})
        whole = old.get("parcel", parcel)["area_mu"]
        retired = services.set_measure(old, parcel, 2026, "退减灌溉", whole, 400)
        # Three thirds of a typed 10.005 亩 parcel: each rounds up, together one 分 too many.
        typed = old.create("parcel", {"village": village, "operator": op, "code": "2",
                                      "land_attribute": "集体机动地", "area_mu": 10.005})
        thirds = [services.set_measure(old, typed, 2026, kind, 3.335, 300)
                  for kind in ("退减灌溉", "休耕轮作", "实际种植")]
        assert old.get("measure", retired)["subsidy_amount"] == 7889.36  # 19.7234 × 400
        old.close()
    with Store.open(path, "测试员") as store:
        assert store.get("parcel", parcel)["area_mu"] == 19.72
        m = store.get("measure", retired)
        assert (m["area_mu"], m["subsidy_amount"]) == (19.72, 7888.0)
        assert store.get("parcel", typed)["area_mu"] == 10.01
        areas = [store.get("measure", u)["area_mu"] for u in thirds]
        assert sorted(areas) == [3.33, 3.34, 3.34] and round(sum(areas), 2) == 10.01
        # History says who changed what; the change goes to the server like any other.
        entry = store.history(retired)[-1]
        assert entry.user == MIGRATION_USER
        assert entry.changes["subsidy_amount"] == [7889.36, 7888.0]
        assert store.conn.execute("SELECT count(*) FROM outbox WHERE record=? AND state='pending'",
                                  (retired,)).fetchone()[0] == 2
        assert checks.check_history(store) == []


def test_a_float_becomes_the_decimal_it_prints_as_and_a_non_finite_one_is_refused() -> None:
    assert figures.to_decimal(12.35) == Decimal("12.35") and figures.to_decimal(0.1 + 0.2) == Decimal(
        "0.30000000000000004")
    assert figures.to_decimal(-0.0) == 0 and figures.to_decimal(7) == Decimal(7)
    for bad in (math.nan, math.inf, -math.inf, "nan"):
        with pytest.raises(ValueError, match="有限"):
            figures.to_decimal(bad)
