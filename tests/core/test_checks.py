"""Each data check finds its planted defect and nothing in a clean township."""

from __future__ import annotations

from datetime import date

import pytest
from shapely.geometry import box
from township import YEAR, Township

from wq_desktop import checks, services
from wq_desktop.errors import ValidationError
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.queries import navigation
from wq_desktop.store import Store


@pytest.fixture
def town(store: Store) -> Township:
    return Township(store)


def found(store: Store, name: str) -> list[checks.Finding]:
    return checks.CHECKS[name][1](store, YEAR)


def test_clean_township_has_no_findings(town: Township) -> None:
    assert checks.run_all(town.store, YEAR) == []


def test_overlap_is_found_with_its_area(town: Township) -> None:
    town.store.create("parcel", {"village": town.v1, "code": "X", "land_attribute": "集体机动地",
                                 "geometry": box(500050, 4870000, 500150, 4870100)})
    messages = [f.message for f in found(town.store, "overlaps")]
    # Overlaps P0 by 50×100 m (7.5 亩) and reaches into P1 past the 4 m lane by 46×100 m (6.9 亩).
    assert any("7.50 亩" in m for m in messages) and any("6.90 亩" in m for m in messages)


SAME_ID_SENTENCE = "证件号 110105********002X 已登记为甲村的张三，同一乡镇不能重复登记。"


def test_same_id_in_the_township_is_one_rule_with_one_sentence(town: Township) -> None:
    """Refused when written here, warned when pulled, reported by 数据检查: the same words."""
    values = {"village": town.v2, "name": "张三", "kind": "农户", "id_code": "11010519491231002X"}
    with pytest.raises(ValidationError) as refused:
        town.store.create("operator", values)
    assert refused.value.message == SAME_ID_SENTENCE and refused.value.field == "id_code"
    # A pulled record (validated by the server against data this device may not hold) comes in,
    # with the rule's sentence as a warning, and the check then finds it in the same words.
    warnings = town.store.apply_pulled("operator", "pulled-1", "create", values, rev=1, user="他人",
                                       device="d2", at="2026-01-01T00:00:00Z")
    assert len(warnings) == 1 and SAME_ID_SENTENCE in warnings[0]
    rule_findings = [f for f in found(town.store, "rules") if f.kind == "operator"]
    assert {f.record for f in rule_findings} == {"pulled-1", town.farmer}
    assert all(SAME_ID_SENTENCE in f.message for f in rule_findings if f.record == "pulled-1")
    assert all("11010519491231002X" not in f.message for f in rule_findings)


def test_same_id_in_two_townships_is_found_masked(town: Township) -> None:
    other = town.store.create("township", {"code": "652301106", "name": "三工镇"})
    village = town.store.create("village", {"township": other, "code": "652301106201", "name": "丙村"})
    town.store.create("operator", {"village": village, "name": "张三", "kind": "农户",
                                   "id_code": "11010519491231002X"})
    [finding] = found(town.store, "duplicates")
    assert "2 个乡镇" in finding.message
    assert "六工镇甲村" in finding.message and "三工镇丙村" in finding.message
    assert "11010519491231002X" not in finding.message


def test_parcel_without_geometry_or_measure_is_found(town: Township) -> None:
    unmapped = town.store.create("parcel", {"village": town.v1, "code": "U", "area_mu": 8,
                                            "land_attribute": "集体机动地"})
    findings = found(town.store, "missing")
    assert {f.check for f in findings} == {"未落图", "未核实"}
    assert all(f.record == unmapped for f in findings)


def test_measure_above_parcel_area_is_found_by_the_rules_check(town: Township, tmp_path) -> None:
    town.store.conn.execute("UPDATE measure SET area_mu = 99 WHERE rowid = 1")
    messages = [f.message for f in found(town.store, "rules")]
    assert any("超出地块面积" in m for m in messages)


def test_the_rules_check_finds_every_bad_record_of_a_table(town: Township) -> None:
    # The records are read one by one while each one's rules ask the store about it.
    town.store.conn.execute("UPDATE measure SET area_mu = 99")
    measures = {u for (u,) in town.store.conn.execute("SELECT uuid FROM measure WHERE deleted=0")}
    assert len(measures) > 1
    flagged = {f.record for f in found(town.store, "rules") if "超出地块面积" in f.message}
    assert flagged == measures


def test_signed_but_not_publicized_is_found(town: Township) -> None:
    other = town.store.create("operator", {"village": town.v2, "name": "李四", "kind": "农户",
                                           "id_code": "110105194912310038"})
    agreement = services.start_agreement(town.store, other, YEAR, date(YEAR, 7, 1))
    services.advance_agreement(town.store, agreement, AgreementStatus.SIGNED, date(YEAR, 7, 5))
    [finding] = found(town.store, "agreements")
    assert finding.record == agreement and "已签订但未公示" in finding.message


def test_short_notice_period_is_an_error(town: Township) -> None:
    notice = town.store.find_one("notice", "village=?", (town.v2,))
    town.store.update("notice", notice["uuid"], {"end_on": date(YEAR, 7, 25)})
    [finding] = found(town.store, "agreements")
    assert finding.severity == checks.Severity.ERROR and "5 天" in finding.message


def test_irrigated_retired_parcel_without_closed_rectification_is_found(town: Township) -> None:
    patrol = town.store.create("patrol", {
        "parcel": town.parcels[1], "year": YEAR, "stage": "冬压", "visited_on": date(YEAR, 11, 5),
        "patrollers": ["甲"], "result": "违规-灌溉", "rect_deadline": date(YEAR, 11, 12)})
    [finding] = found(town.store, "violations")
    assert finding.record == patrol and "超过整改期限" in finding.message
    town.store.update("patrol", patrol, {"recheck_on": date(YEAR, 11, 10), "recheck_result": "已停灌",
                                         "closed_on": date(YEAR, 11, 10)})
    assert found(town.store, "violations") == []


def test_tiny_and_isolated_retired_parcels_are_fragmentation(town: Township) -> None:
    # P7 (far corner; its neighbours P2, P3, P6 all planted) put into fallow: an island.
    services.set_measure(town.store, town.parcels[7], YEAR, MeasureKind.PLANTED, None)
    services.set_measure(town.store, town.parcels[7], YEAR, MeasureKind.FALLOW, 15, 300)
    # P4, next to the retired pair, keeps 13 亩 planted and retires 2 亩: a scrap, costly to patrol.
    services.set_measure(town.store, town.parcels[4], YEAR, MeasureKind.PLANTED, 13)
    services.set_measure(town.store, town.parcels[4], YEAR, MeasureKind.RETIRED, 2, 400)
    findings = {f.record: f.message for f in found(town.store, "fragmentation")}
    assert "孤岛" in findings[town.parcels[7]]
    assert "仅 2.00 亩" in findings[town.parcels[4]]
    assert set(findings) == {town.parcels[4], town.parcels[7]}


def test_demo_store_has_no_errors(demo_store: Store) -> None:
    findings = checks.run_all(demo_store, navigation.latest_year(demo_store))
    assert [f for f in findings if f.severity == checks.Severity.ERROR] == []


def test_history_check_still_catches_direct_edit(town: Township) -> None:
    town.store.conn.execute("UPDATE parcel SET code='改' WHERE rowid=1")
    assert any("不一致" in f.message for f in found(town.store, "history"))


def test_check_functions_raise_nothing_on_empty_store(store: Store) -> None:
    assert checks.run_all(store, YEAR) == []


def test_terminated_agreement_with_retired_measures_is_a_warning(town: Township) -> None:
    assert found(town.store, "terminated") == []
    services.advance_agreement(town.store, town.agreement, AgreementStatus.TERMINATED,
                               date(YEAR, 8, 1), "经营者放弃")
    [finding] = found(town.store, "terminated")
    assert finding.severity == checks.Severity.WARNING and finding.check == "协议终止仍有退减"
    assert "协议已终止，但仍登记 30.00 亩退减/休耕措施，请核实后修改措施" in finding.message
    assert finding.record == town.agreement


def test_patrol_by_one_person_is_a_warning(town: Township) -> None:
    assert found(town.store, "patrollers") == []
    alone = town.store.create("patrol", {"parcel": town.parcels[1], "year": YEAR, "stage": "冬压",
                                         "visited_on": date(YEAR, 11, 20), "patrollers": ["王五", " "],
                                         "result": "合规"})
    [finding] = found(town.store, "patrollers")
    assert finding.severity == checks.Severity.WARNING and finding.check == "巡查人少于2人"
    assert finding.record == alone and "王五" in finding.message
