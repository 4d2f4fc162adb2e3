"""三级种植面积摸底核查汇总表, 用水量测算 and targets on the hand-computed township of planting_world."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from planting_world import CONTRACTED, RESERVE, STATE, YEAR, build

from wq_desktop import summary, targets, water
from wq_desktop.errors import ValidationError
from wq_desktop.planting import courtyards, planting_survey, set_courtyard
from wq_desktop.water_use import water_use

D = Decimal


def test_actual_planting_includes_courtyard_by_attribute_and_crop(store) -> None:
    build(store)
    city = planting_survey(store, YEAR)
    township = city.children[0]
    v1, v2 = township.children
    assert v1.planted_by_attribute == {CONTRACTED: D("120.00"), RESERVE: D(0), STATE: D("15.00")}
    assert v1.courtyard_mu == D("0.80") and v1.courtyard_households == 1
    assert v1.planted_mu == D("135.80")
    assert v2.planted_mu == D("86.35")  # 85.345 → 85.35 of record, + 1.00 庭院
    assert township.planted_mu == city.planted_mu == D("222.15")
    # 退减/休耕 by attribute; the terminated household's 5.00 亩 is not counted.
    assert v1.retired_by_attribute == {CONTRACTED: D(0), RESERVE: D("8.25"), STATE: D(0)}
    assert v1.fallow_by_attribute[STATE] == D("15.00") and township.retired_mu == D("8.25")


def test_crop_rows_sum_to_the_actual_planting_total_at_every_level(store) -> None:
    build(store)
    city = planting_survey(store, YEAR)
    for row in city.walk():
        assert sum((a for _, a in row.sorted_crops()), D(0)) == row.planted_mu
    v1 = city.children[0].children[0]
    assert dict(v1.sorted_crops()) == {"棉花": D("120.00"), "小麦": D("15.00"), "蔬菜": D("0.50"),
                                       "玉米": D("0.30")}


def test_courtyard_is_never_retired_or_paid(store) -> None:
    ids = build(store)
    before = summary.summarize(store, YEAR)
    saved_before = [(v.retired_mu, v.fallow_mu, v.saved_m3) for v in water.water_saved(store, YEAR)]
    set_courtyard(store, ids["h2"], YEAR, "蔬菜", 2.0)  # a 退减 household's courtyard
    after = summary.summarize(store, YEAR)
    assert after.subsidy == before.subsidy == D("3300.0") + D("4500.0")  # 8.25×400 + 15×300
    assert after.retired_mu == before.retired_mu and after.fallow_mu == before.fallow_mu
    assert after.verified_mu == before.verified_mu
    assert [(v.retired_mu, v.fallow_mu, v.saved_m3) for v in water.water_saved(store, YEAR)] \
        == saved_before
    assert store.count("measure", "year=?", (YEAR,)) == 6
    city = planting_survey(store, YEAR)
    assert city.planted_mu == D("224.15") and city.retired_mu == D("8.25")


def test_courtyard_entry_rules(store) -> None:
    ids = build(store)
    with pytest.raises(ValidationError, match="已登记庭院种植“蔬菜”"):
        set_courtyard(store, ids["h1"], YEAR, "蔬菜", 1)
    with pytest.raises(ValidationError, match="超过 20 亩"):
        set_courtyard(store, ids["h1"], YEAR, "花卉", 25)
    with pytest.raises(ValidationError, match="面积"):
        set_courtyard(store, ids["h1"], YEAR, "花卉", "半亩")
    assert [c.crop for c in courtyards(store, ids["h1"], YEAR)] == ["玉米", "蔬菜"]
    # Rounded to the figure of record where it is made, with history.
    set_courtyard(store, ids["h1"], YEAR, "蔬菜", 0.555, ids["c1"])
    assert store.get("courtyard", ids["c1"])["area_mu"] == 0.56
    assert [e.op for e in store.history(ids["c1"])] == ["create", "update"]


def test_water_use_is_area_times_quota_per_line_summed_up(store) -> None:
    ids = build(store)
    targets.set_water_target(store, ids["township"], YEAR, 9)
    city = water_use(store, YEAR)
    township = city.children[0]
    v1, v2 = township.children
    assert [(x.crop, x.area_mu, x.quota, x.water_wan_m3) for x in v1.lines] == [
        ("棉花", D("120.00"), D(380), D("4.56")), ("小麦", D("15.00"), D(320), D("0.48")),
        ("蔬菜", D("0.50"), D(350), D("0.02")), ("玉米", D("0.30"), D(420), D("0.01"))]
    assert v1.water_wan_m3 == D("5.07")
    # No quota for 葡萄: reported as 未定额, not counted as zero water.
    grape = next(x for x in v2.lines if x.crop == "葡萄")
    assert grape.water_wan_m3 is None and v2.unquoted_mu == D("1.00") and v2.unquoted_crops == ["葡萄"]
    assert v2.water_wan_m3 == D("3.41")
    assert township.water_wan_m3 == city.water_wan_m3 == D("8.48")
    assert township.target_wan_m3 == D("9.00") and township.margin_wan_m3 == D("0.52")
    assert township.unquoted_mu == D("1.00")


def test_progress_against_targets_matches_the_measures(store) -> None:
    ids = build(store)
    targets.set_village_target(store, ids["v1"], YEAR, 10, 15, 5.5)
    rows = {r.name: r for r in targets.progress(store, YEAR)}
    v1, v2 = rows["村一"], rows["村二"]
    assert (v1.target_retired_mu, v1.target_fallow_mu, v1.target_water_wan_m3) == (
        D("10.00"), D("15.00"), D("5.50"))
    plan = planting_survey(store, YEAR).children[0].children[0]
    assert (v1.retired_mu, v1.fallow_mu) == (plan.retired_mu, plan.fallow_mu) == (D("8.25"), D("15.00"))
    assert v1.measured_share == Fraction(2325, 2500)
    # Only 户二's agreement is signed; 户三 has none yet, 户四's is terminated.
    assert (v1.signed_retired_mu, v1.signed_fallow_mu) == (D("8.25"), D(0))
    assert v1.signed_share == Fraction(825, 2500)
    assert not v2.has_target and v2.measured_share is None
    # Changing a measure moves the progress with it.
    from wq_desktop import services
    from wq_desktop.model import MeasureKind

    services.set_measure(store, ids["P1"], YEAR, MeasureKind.PLANTED, 100.0)
    services.set_measure(store, ids["P1"], YEAR, MeasureKind.RETIRED, 20.0, 400)
    v1 = {r.name: r for r in targets.progress(store, YEAR)}["村一"]
    assert v1.retired_mu == D("28.25") and v1.signed_retired_mu == D("8.25")


def test_fragmented_planned_parcels_are_flagged_per_village(store) -> None:
    from shapely.geometry import box

    ids = build(store)
    from wq_desktop import services
    from wq_desktop.model import MeasureKind

    # A mapped 1-亩 square retired on its own: below the 碎片化 minimum.
    parcel = store.create("parcel", {"village": ids["v2"], "operator": ids["h5"], "code": "P9",
                                     "land_attribute": CONTRACTED,
                                     "geometry": box(500000, 4870000, 500025.82, 4870025.82)})
    services.set_measure(store, parcel, YEAR, MeasureKind.RETIRED, 1.0, 400)
    rows = {r.name: r for r in targets.progress(store, YEAR)}
    assert [p for p, _ in rows["村二"].fragmented] == [parcel]
    assert "碎片化" not in str(rows["村一"].fragmented)
    assert "小于" in rows["村二"].fragmented[0][1]


def test_targets_validation_and_upsert(store) -> None:
    ids = build(store)
    with pytest.raises(ValidationError, match="不能为负数"):
        targets.set_village_target(store, ids["v1"], YEAR + 1, -1, 0)
    with pytest.raises(ValidationError, match="大于用水总量控制目标"):
        targets.set_water_target(store, ids["township"], YEAR + 1, 10, 12)
    first = targets.set_water_target(store, ids["township"], YEAR + 1, 10, 8)
    assert targets.set_water_target(store, ids["township"], YEAR + 1, 9.5, 8) == first
    assert store.get("water_target", first)["total_wan_m3"] == 9.5
    assert store.count("water_target") == 1


def test_five_year_series_toward_the_cap(store) -> None:
    ids = build(store)
    targets.set_water_target(store, ids["township"], YEAR, 9, 7)
    points = targets.five_year_series(store)
    assert [p.year for p in points] == [2021, 2022, 2023, 2024, 2025]
    assert not points[0].has_data and points[0].planted_mu == 0
    last = points[-1]
    assert last.has_data and last.planted_mu == D("222.15") and last.water_wan_m3 == D("8.48")
    assert (last.retired_mu, last.fallow_mu) == (D("8.25"), D("15.00"))
    assert (last.target_wan_m3, last.groundwater_target_wan_m3) == (D("9.00"), D("7.00"))
    assert targets.CITY_GROUNDWATER_CAP_2025 == 12446
    assert targets.series_years(2027)[-1] == 2027


def test_deleting_a_household_takes_its_courtyard_and_restoring_brings_it_back(store) -> None:
    from wq_desktop import services

    ids = build(store)
    assert "庭院种植 2 条" in services.household_records(store, ids["h1"]).describe()
    services.delete_household(store, ids["h1"])
    assert planting_survey(store, YEAR).courtyard_mu == D("1.00")
    services.restore_household(store, ids["h1"])
    assert planting_survey(store, YEAR).courtyard_mu == D("1.80")


def test_a_version_four_file_gains_courtyard_and_targets_keeping_its_data(tmp_path) -> None:
    from wq_desktop import migrations
    from wq_desktop.schema import SCHEMA_VERSION
    from wq_desktop.store import Store

    path = tmp_path / "v4.sqlite"
    migrations.create_at_version(path, 4).close()
    with Store.open(path, "测试员") as old:
        assert old.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 7
        ids = build(old)
        assert planting_survey(old, YEAR).courtyard_mu == D("1.80")
        assert targets.set_village_target(old, ids["v1"], YEAR, 1, 2)
    assert list(tmp_path.glob("v4.v4-*.bak"))  # the older file was copied aside first
