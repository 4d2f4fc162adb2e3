"""Every record kind a person changes, walked through its named operation: each says exactly which
records it wrote (and the parcels whose map feature moves), and each write has its history entry
and its queued sync change, as the store's one write path promises."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from shapely.geometry import box

from wq_desktop.errors import ValidationError
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.operations import (
    Changes,
    agreements,
    contacts,
    households,
    measures,
    parcels,
    patrols,
    places,
)
from wq_desktop.store import Store

YEAR = 2025
ID = "11010519491231002X"


def _counts(store: Store) -> tuple[int, int]:
    q = store.conn.execute
    return (q("SELECT count(*) FROM history").fetchone()[0],
            q("SELECT count(*) FROM outbox").fetchone()[0])


def _photo(path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (120, 140, 90))
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "2025:10:12 15:04:05"}
    image.save(path, "JPEG", exif=exif)
    return path


def _wrote(store: Store, changes: Changes, before: tuple[int, int],
           expect: dict[str, int]) -> None:
    """The description names exactly `expect` (kind: how many records), and every one of them
    has one new history entry and one queued sync change."""
    assert {k: len(v) for k, v in changes.records.items()} == expect, changes.operation
    written = sum(expect.values())
    assert _counts(store) == (before[0] + written, before[1] + written), changes.operation


def test_every_kind_walks_through_its_operation(store: Store, tmp_path: Path) -> None:
    township = places.create_township(store, "652301105", "六工镇").result
    village = store.create("village", {"township": township, "code": "652301105901", "name": "甲村"})

    before = _counts(store)
    leader = contacts.save_contact(store, None, {"township": township, "role": "包联负责人",
                                                 "name": "王书记", "level": "乡", "phone": "13900001111"})
    _wrote(store, leader, before, {"contact": 1})
    assert leader.operation == "save_contact" and leader.touches("contact")

    before = _counts(store)
    farmer = households.save_operator(store, None, {"name": "张三", "kind": "农户", "id_code": ID},
                                      village=village)
    _wrote(store, farmer, before, {"operator": 1})
    operator = farmer.result
    assert farmer.ids("operator") == {operator} and not farmer.parcels()

    before = _counts(store)
    phone = households.save_operator(store, operator, {"phone": "13912345678"}, base_rev=1)
    _wrote(store, phone, before, {"operator": 1})
    assert phone.changed_fields("operator") == {"phone"}  # the map shows no phone: no redraw

    before = _counts(store)
    assigned = households.assign_contacts(store, [operator], leader=leader.result)
    _wrote(store, assigned, before, {"operator": 1})
    assert assigned.result == 1

    before = _counts(store)
    field = parcels.save_parcel(store, None, {
        "village": village, "operator": operator, "code": "P1", "land_attribute": "集体机动地",
        "geometry": box(500000, 4870000, 500100, 4870100)})
    _wrote(store, field, before, {"parcel": 1})
    parcel = field.result
    assert field.parcels() == {parcel}

    before = _counts(store)
    outline = parcels.edit_outline(store, parcel, box(500000, 4870000, 500100, 4870090), base_rev=1)
    _wrote(store, outline, before, {"parcel": 1})
    assert "geometry" in outline.changed_fields("parcel")

    before = _counts(store)
    split = measures.set_measures(store, parcel, YEAR, {MeasureKind.RETIRED: 10, MeasureKind.PLANTED: 3},
                                  {MeasureKind.RETIRED: 400}, [MeasureKind.RETIRED, MeasureKind.PLANTED])
    _wrote(store, split, before, {"measure": 2})
    assert split.parcels() == {parcel}  # a measure redraws its parcel on the map

    before = _counts(store)
    drafted = agreements.start_agreement(store, operator, YEAR, date(YEAR, 7, 1))
    _wrote(store, drafted, before, {"agreement": 1})
    before = _counts(store)
    signed = agreements.sign_agreement(store, drafted.result, date(YEAR, 7, 10))
    _wrote(store, signed, before, {"agreement": 1})
    before = _counts(store)
    notice = agreements.save_notice(store, None, {"village": village, "year": YEAR,
                                                  "start_on": date(YEAR, 7, 12),
                                                  "end_on": date(YEAR, 7, 18)})
    _wrote(store, notice, before, {"notice": 1})
    before = _counts(store)
    shown = agreements.advance_agreement(store, drafted.result, AgreementStatus.PUBLICIZED,
                                         date(YEAR, 7, 18))
    _wrote(store, shown, before, {"agreement": 1})
    before = _counts(store)
    corrected = agreements.correct_agreement_date(store, drafted.result, "signed_on", date(YEAR, 7, 11))
    _wrote(store, corrected, before, {"agreement": 1})

    before = _counts(store)
    visit = patrols.record_patrol(store, None, {
        "parcel": parcel, "year": YEAR, "stage": "秋翻", "visited_on": date(YEAR, 10, 12),
        "patrollers": ["甲", "乙"], "result": "合规"}, add_photos=[_photo(tmp_path / "a.jpg")])
    _wrote(store, visit, before, {"patrol": 1, "photo": 1})  # the visit and its photo, together
    assert visit.parcels() == {parcel}

    before = _counts(store)
    yard = households.save_courtyard(store, operator, YEAR, "蔬菜", "0.75")
    _wrote(store, yard, before, {"courtyard": 1})

    before = _counts(store)
    quotas = measures.set_quotas(store, township, YEAR, [("小麦", 380.0), ("玉米", 420.0)])
    _wrote(store, quotas, before, {"water_quota": 2})

    before = _counts(store)
    gone = households.delete_household(store, operator)
    _wrote(store, gone, before, {"operator": 1, "parcel": 1, "measure": 2, "agreement": 1,
                                 "patrol": 1, "photo": 1, "courtyard": 1})
    assert gone.parcels() == {parcel} and gone.changed_fields("parcel") == {"deleted"}

    before = _counts(store)
    back = households.restore_household(store, operator)
    _wrote(store, back, before, {k: len(v) for k, v in gone.records.items()})
    assert store.get("parcel", parcel)["code"] == "P1"

    before = _counts(store)
    dropped = contacts.delete_contact(store, leader.result)
    _wrote(store, dropped, before, {"contact": 1, "operator": 1})  # the 包联 link is cleared


def test_a_refused_operation_writes_nothing_and_describes_nothing(store: Store) -> None:
    township = places.create_township(store, "652301105", "六工镇").result
    village = store.create("village", {"township": township, "code": "652301105901", "name": "甲村"})
    operator = households.save_operator(store, None, {"name": "张三", "kind": "农户", "id_code": ID},
                                        village=village).result
    before = _counts(store)
    with pytest.raises(ValidationError):  # a measure of no parcel: refused before any write
        measures.set_measures(store, "missing-parcel", YEAR, {MeasureKind.RETIRED: 1}, {},
                              [MeasureKind.RETIRED])
    with pytest.raises(ValidationError):
        households.save_operator(store, operator, {"id_code": "110105194912310021"}, base_rev=1)
    assert _counts(store) == before
