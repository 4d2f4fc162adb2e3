"""The same village and year give the same numbers on every screen and table, a deleted household
takes its own records with it (and comes back whole), and the dates of 公示 hang together."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from wq_desktop import excel, services, water
from wq_desktop.demo import demo_year
from wq_desktop.errors import ValidationError
from wq_desktop.household_scope import BELONGS, OPERATOR, household_record_list, household_records
from wq_desktop.model import AgreementStatus
from wq_desktop.photos import attach_photo
from wq_desktop.printing.notice import notice_data
from wq_desktop.queries import change_log, village_table
from wq_desktop.store import Store
from wq_desktop.summary import summarize


def two(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_every_screen_and_table_gives_the_same_village_totals(demo_store: Store, tmp_path) -> None:
    year = demo_year()
    city = summarize(demo_store, year)
    saved = {v.village: v for v in water.water_saved(demo_store, year)}
    terminated_somewhere = False
    for village in demo_store.find("village", order_by="code"):
        tab = village_table.totals(village_table.village_households(demo_store, village["uuid"], year))
        terminated_somewhere |= tab.excluded_households > 0
        notice = notice_data(demo_store, year, village["code"])
        row = city.find(village["code"])
        path = excel.export_contacts(demo_store, year, tmp_path / f"{village['code']}.xlsx", village["code"])
        ws = load_workbook(path).active
        total_row = next(r for r in range(3, ws.max_row + 1)
                         if str(ws.cell(r, 2).value or "").startswith("合计"))
        retired = {
            "村页合计": two(tab.retired_mu),
            "节水面板": two(saved[village["uuid"]].retired_mu),
            "公示合计": two(notice.total("retired_mu")),
            "汇总表": two(row.retired_mu),
            "包联清单xlsx": two(ws.cell(total_row, 10).value),
        }
        assert len(set(retired.values())) == 1, (village["name"], retired)
        fallow = {two(tab.fallow_mu), two(saved[village["uuid"]].fallow_mu), two(notice.total("fallow_mu")),
                  two(row.fallow_mu), two(ws.cell(total_row, 11).value)}
        assert len(fallow) == 1, (village["name"], fallow)
        assert two(tab.subsidy) == two(notice.total("subsidy")) == two(row.subsidy)
    # the demo has terminated households with 退减 area, so the rule was really exercised
    assert terminated_somewhere


def test_terminated_household_is_listed_but_left_out_of_the_contacts_total(demo_store: Store,
                                                                         tmp_path) -> None:
    year = demo_year()
    path = excel.export_contacts(demo_store, year, tmp_path / "all.xlsx")
    ws = load_workbook(path).active
    notes = [ws.cell(r, 17).value or "" for r in range(3, ws.max_row + 1)]
    assert any("协议已终止" in n for n in notes)
    assert any("不计入退减灌溉、休耕轮作面积合计" in str(ws.cell(r, 1).value or "")
               for r in range(3, ws.max_row + 1))


# ---------------------------------------------------------------- deleting a household


def _household_with_everything(demo_store: Store) -> str:
    """A demo household with parcels, measures, an agreement and a patrol with a photo."""
    row = demo_store.conn.execute(
        "SELECT p.operator FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
        " JOIN photo f ON f.owner=t.uuid AND f.deleted=0"
        " JOIN agreement a ON a.operator=p.operator AND a.deleted=0"
        " WHERE t.deleted=0 LIMIT 1").fetchone()
    return row[0]


def test_deleting_a_household_takes_its_parcels_measures_patrols_and_photos(demo_store: Store) -> None:
    operator = _household_with_everything(demo_store)
    taken = services.household_records(demo_store, operator)
    assert taken.parcels and taken.measures and taken.patrols and taken.photos and taken.agreements
    text = taken.describe()
    assert f"地块 {len(taken.parcels)} 块" in text and f"照片 {len(taken.photos)} 张" in text
    # an unrelated record deleted just before must not come back with the household
    other = demo_store.find_one("patrol", "parcel NOT IN (SELECT uuid FROM parcel WHERE operator=?)",
                                (operator,))
    demo_store.delete("patrol", other["uuid"], cascade=True)
    # and a record of the household deleted on its own earlier stays deleted on restore
    own_measure = taken.measures[0]
    demo_store.delete("measure", own_measure)
    taken = services.household_records(demo_store, operator)

    deleted = services.delete_household(demo_store, operator)
    expected = ({("operator", operator)} | {("parcel", u) for u in taken.parcels}
                | {("measure", u) for u in taken.measures} | {("patrol", u) for u in taken.patrols}
                | {("photo", u) for u in taken.photos} | {("agreement", u) for u in taken.agreements})
    assert set(deleted) == expected
    for kind_name, uuid in expected:
        assert demo_store.get(kind_name, uuid, include_deleted=True)["deleted"] is True
    # nothing of the household is left live: no orphan parcel still counted anywhere
    assert demo_store.count("parcel", "operator=?", (operator,)) == 0
    assert demo_store.count("parcel", "operator IS NULL") == 0

    restored = services.restore_household(demo_store, operator)
    assert set(restored) == expected
    for kind_name, uuid in expected:
        assert demo_store.get(kind_name, uuid)["deleted"] is False
        assert demo_store.history(uuid)[-1].op == "restore"
    assert demo_store.get("measure", own_measure, include_deleted=True)["deleted"] is True
    assert demo_store.get("patrol", other["uuid"], include_deleted=True)["deleted"] is True
    with pytest.raises(ValidationError, match="没有被删除"):
        services.restore_household(demo_store, operator)


def test_household_deleted_elsewhere_is_restored_from_its_history(demo_store: Store) -> None:
    """A delete that came by sync leaves no local note: the history's run of deletes is used."""
    operator = _household_with_everything(demo_store)
    deleted = services.delete_household(demo_store, operator)
    demo_store.set_meta(f"household_delete:{operator}", None)
    assert set(services.restore_household(demo_store, operator)) == set(deleted)
    assert demo_store.count("parcel", "operator=?", (operator,)) == len(
        [k for k, _ in deleted if k == "parcel"])


# ---------------------------------------------------------------- 公示 dates


def _signed(demo_store: Store) -> tuple[dict, dict]:
    agreement = demo_store.find_one("agreement", "status=?", (AgreementStatus.SIGNED,))
    village = demo_store.get("village", demo_store.get("operator", agreement["operator"])["village"])
    return agreement, village


def test_publicized_date_lies_in_the_village_notice_period(demo_store: Store) -> None:
    agreement, village = _signed(demo_store)
    notice = village_table.village_notice(demo_store, village["uuid"], agreement["year"])
    start, end = date.fromisoformat(notice["start_on"]), date.fromisoformat(notice["end_on"])
    for outside in (start - timedelta(days=1), end + timedelta(days=1)):
        with pytest.raises(ValidationError, match=r"不在.*本年度公示期（.* 至 .*）内"):
            services.advance_agreement(demo_store, agreement["uuid"], AgreementStatus.PUBLICIZED,
                                       outside)
    assert demo_store.get("agreement", agreement["uuid"])["status"] == AgreementStatus.SIGNED
    services.advance_agreement(demo_store, agreement["uuid"], AgreementStatus.PUBLICIZED, notice["end_on"])
    assert demo_store.get("agreement", agreement["uuid"])["publicized_on"] == notice["end_on"]


def test_publicized_needs_a_notice_for_the_year(demo_store: Store) -> None:
    agreement, village = _signed(demo_store)
    notice = village_table.village_notice(demo_store, village["uuid"], agreement["year"])
    demo_store.delete("notice", notice["uuid"], cascade=True)
    with pytest.raises(ValidationError, match="请先在“村”页登记本年度公示期"):
        services.advance_agreement(demo_store, agreement["uuid"], AgreementStatus.PUBLICIZED,
                                   notice["end_on"])
    assert demo_store.get("agreement", agreement["uuid"])["status"] == AgreementStatus.SIGNED


def test_notice_start_must_lie_in_its_year(demo_store: Store) -> None:
    village = demo_store.find("village", order_by="code")[0]
    year = demo_year() + 1
    with pytest.raises(ValidationError, match=f"公示开始日期应在 {year} 年度内"):
        demo_store.create("notice", {"village": village["uuid"], "year": year,
                                     "start_on": date(year - 1, 8, 1), "end_on": date(year - 1, 8, 7)})
    assert village_table.village_notice(demo_store, village["uuid"], year) is None


# ---------------------------------------------------------------- change history


def test_photo_history_names_its_patrol_and_hides_file_fingerprints(demo_store: Store, tmp_path) -> None:
    from PIL import Image

    patrol = demo_store.find("patrol")[0]
    image = tmp_path / "p.jpg"
    Image.new("RGB", (20, 20), (1, 2, 3)).save(image)
    photo = attach_photo(demo_store, "patrol", patrol["uuid"], image)
    demo_store.update("photo", photo, {"lat": 44.0254321, "lon": 87.3001234})
    rows = change_log.change_rows(demo_store, [("photo", photo)])
    by_field = {r.field: r for r in rows}
    assert by_field["所属记录类型"].new == "巡查记录"
    assert by_field["所属记录"].new == f"巡查 {patrol['visited_on']} {patrol['stage']}"
    assert patrol["uuid"] not in {r.new for r in rows}
    assert by_field["纬度"].new == "44.025432" and by_field["经度"].new == "87.300123"
    assert "文件摘要" not in by_field and "大小（字节）" not in by_field


def test_delete_restore_count_and_history_use_the_same_records(demo_store: Store) -> None:
    operator = _household_with_everything(demo_store)
    live = household_record_list(demo_store, operator)
    kinds = {kind_name for kind_name, _ in live}
    assert {"operator", "parcel", "measure", "patrol", "photo", "agreement"} <= kinds

    counted = services.household_records(demo_store, operator)
    assert (len(counted.parcels) + len(counted.measures) + len(counted.patrols) + len(counted.photos)
            + len(counted.agreements) + len(counted.courtyards)) == len(live) - 1

    deleted = services.delete_household(demo_store, operator)
    assert sorted(deleted) == sorted(live)
    assert household_records(demo_store, operator) == {OPERATOR: [operator], **{k: [] for k in BELONGS}}
    assert sorted(household_record_list(demo_store, operator, include_deleted=True)) == sorted(live)

    shown = {row.record for row in change_log.household_history(demo_store, operator)}
    titles = {change_log._record_title(demo_store, kind_name, uuid) for kind_name, uuid in live}
    assert titles <= shown, "every record of the household appears in its history"

    assert sorted(services.restore_household(demo_store, operator)) == sorted(live)
    assert sorted(household_record_list(demo_store, operator)) == sorted(live)
