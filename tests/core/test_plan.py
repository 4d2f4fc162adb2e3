"""The plan calendar's progress per village and the water saved by retirement."""

from __future__ import annotations

from datetime import date

import pytest
from township import YEAR, Township

from wq_desktop import plan_calendar, services, water
from wq_desktop.model import MeasureKind
from wq_desktop.store import Store


@pytest.fixture
def town(store: Store) -> Township:
    return Township(store)


def progress_of(store: Store, key: str, today: date) -> dict[str, plan_calendar.Progress]:
    return {p.village_name: p for p in plan_calendar.progress(store, YEAR, today) if p.milestone.key == key}


def test_verification_progress_counts_parcels_with_a_measure_and_marks_overdue(town: Township) -> None:
    town.store.create("parcel", {"village": town.v1, "code": "U", "area_mu": 8,
                                 "land_attribute": "集体机动地"})
    before = progress_of(town.store, "verify", date(YEAR, 6, 1))["甲村"]
    assert (before.done, before.total, before.overdue) == (8, 9, False)
    after = progress_of(town.store, "verify", date(YEAR, 6, 21))["甲村"]
    assert after.overdue and after.ratio == pytest.approx(8 / 9)
    assert not progress_of(town.store, "verify", date(YEAR, 6, 21))["乙村"].overdue  # nothing to verify


def test_agreement_and_patrol_progress(town: Township) -> None:
    today = date(YEAR, 12, 1)
    agreements = progress_of(town.store, "agreements", today)["甲村"]
    assert (agreements.done, agreements.total) == (1, 1)
    autumn = progress_of(town.store, "patrol_autumn", today)["甲村"]
    assert (autumn.done, autumn.total, autumn.overdue) == (1, 2, True)  # P1 never patrolled
    decide = progress_of(town.store, "decide", today)["甲村"]
    assert (decide.done, decide.total) == (0, 1)  # no 包联 leader and staff yet


def test_water_saved_uses_crop_quotas_and_reports_unquoted_area(town: Township) -> None:
    township = town.store.find_one("township", "code=?", ("652301105",))["uuid"]
    for parcel in town.parcels[:2]:
        town.store.update("parcel", parcel, {"crop": "棉花"})
    [v1, v2] = water.water_saved(town.store, YEAR)
    assert v1.retired_mu == pytest.approx(30) and v1.unquoted_mu == pytest.approx(30)
    assert v1.unquoted_crops == {"棉花"} and v1.saved_m3 == 0
    water.set_quota(town.store, township, YEAR - 1, "棉花", 380)  # an earlier year's quota applies
    [v1, v2] = water.water_saved(town.store, YEAR)
    assert v1.saved_m3 == pytest.approx(30 * 380) and v1.saved_wan_m3 == pytest.approx(1.14)
    assert v1.unquoted_mu == 0 and v2.saved_m3 == 0
    water.set_quota(town.store, township, YEAR, "棉花", 400)
    services.set_measure(town.store, town.parcels[0], YEAR - 1, MeasureKind.RETIRED, 15, 400)
    last, this = water.compare_years(town.store, YEAR)[town.v1]
    assert last == pytest.approx(15 * 380 / 10000) and this == pytest.approx(30 * 400 / 10000)


def test_quota_must_be_plausible(town: Township) -> None:
    from wq_desktop.errors import ValidationError

    township = town.store.find_one("township", "code=?", ("652301105",))["uuid"]
    with pytest.raises(ValidationError, match="不合理"):
        water.set_quota(town.store, township, YEAR, "棉花", 0)


def test_a_year_without_measures_has_no_data_rather_than_nothing_to_do(town: Township) -> None:
    empty_year = [p for p in plan_calendar.progress(town.store, YEAR + 5, date(YEAR + 5, 9, 1))
                  if p.village_name == "甲村"]
    by_key = {p.milestone.key: p for p in empty_year}
    for key in ("water", "decide", "agreements", "patrol_autumn"):
        assert by_key[key].total == 0 and by_key[key].no_data, key
    assert not by_key["verify"].no_data  # parcels exist: 0/9 verified is a real, overdue count
    assert by_key["verify"].overdue
    this_year = progress_of(town.store, "agreements", date(YEAR, 9, 1))
    assert not any(p.no_data for p in this_year.values() if p.village_name == "甲村")
