"""The core rules the forms apply (#14), tested without a window: same sentence everywhere."""

from __future__ import annotations

from datetime import date

import pytest
from township import YEAR, Township

from wq_desktop import checks, pasted_rows, services
from wq_desktop.errors import ValidationError
from wq_desktop.queries.contacts import AssignRow
from wq_desktop.rules import patrols, quantities
from wq_desktop.store import Store


@pytest.fixture
def town(store: Store) -> Township:
    return Township(store)


def test_patrol_people_count_the_escort_once() -> None:
    assert patrols.patrol_people(["张三", " "], "李四") == ["张三", "李四"]
    assert patrols.patrol_people("张三、李四", "张三") == ["张三", "李四"]
    assert patrols.patrol_people_warning(["张三"], "李四") is None
    assert "只有 1 人（张三）" in patrols.patrol_people_warning(["张三"], None)


def test_a_patrol_with_its_escort_is_not_flagged_by_the_check(town: Township) -> None:
    patrol = town.store.create("patrol", {"parcel": town.parcels[1], "year": YEAR, "stage": "冬压",
                                          "visited_on": date(YEAR, 11, 20), "patrollers": ["王五"],
                                          "escort": "村干部赵六", "result": "合规"})
    assert patrol not in {f.record for f in checks.check_patrollers(town.store, YEAR)}


@pytest.mark.parametrize("typed", ["99999", 5000.01, "6000亩"])
def test_a_parcel_past_5000_mu_is_refused_with_the_reason(typed) -> None:
    with pytest.raises(ValidationError, match="超过 5,000 亩"):
        quantities.parcel_area(typed)
    assert quantities.parcel_area("5000") == 5000.0


def test_numbers_are_taken_as_typed_or_refused() -> None:
    assert quantities.non_negative_number("２０", "x", "面积") == 20.0  # full-width digits from an IME
    assert quantities.non_negative_number("400元/亩", "x", "补助标准") == 400.0
    assert quantities.non_negative_number(" ", "x", "面积") is None
    with pytest.raises(ValidationError, match="应为数字"):
        quantities.non_negative_number("4OO", "x", "补助标准")
    with pytest.raises(ValidationError, match="不小于0"):
        quantities.non_negative_number("-1", "x", "面积")


def test_publicized_outside_the_period_pulled_from_elsewhere_is_warned_and_checked(town: Township) -> None:
    agreement = town.store.get("agreement", town.agreement)
    warnings = town.store.apply_pulled("agreement", town.agreement, "update",
                                       {"publicized_on": f"{YEAR}-07-28"}, rev=agreement["rev"] + 1,
                                       user="他人", device="d2", at=f"{YEAR}-08-01T00:00:00Z")
    sentence = f"公示日期 {YEAR}-07-28 不在甲村本年度公示期（{YEAR}-07-21 至 {YEAR}-07-27）内，请核对。"
    assert len(warnings) == 1 and sentence in warnings[0]
    assert any(f.message == sentence and f.record == town.agreement for f in checks.check_rules(town.store))


def test_a_step_date_is_corrected_through_the_rules_with_history(town: Township) -> None:
    with pytest.raises(ValidationError, match="依次"):
        services.correct_agreement_date(town.store, town.agreement, "signed_on", date(YEAR, 6, 1))
    services.correct_agreement_date(town.store, town.agreement, "signed_on", "2025年7月19日")
    entry = town.store.history(town.agreement)[-1]
    assert entry.changes["signed_on"] == [f"{YEAR}-07-20", f"{YEAR}-07-19"]


def test_pasted_names_select_households_and_say_what_was_not_found() -> None:
    rows = [AssignRow("u1", "甲村", "一组", "张三", "", ""), AssignRow("u2", "乙村", "二组", "张三", "", ""),
            AssignRow("u3", "甲村", "一组", "李四", "", "")]
    match = pasted_rows.match_households(rows, "李四\n张三\t乙村\n王五\n张三\n")
    assert match.operators == ["u3", "u2"] and match.unmatched == ["王五"] and match.ambiguous == ["张三"]


def test_a_roster_pasted_from_excel_keeps_the_header_and_row_numbers() -> None:
    roster = pasted_rows.roster_from_tsv('花名册\n姓名\t身份证号\n张三\t"652399\n"\n\n李四\t6523\n')
    assert roster.columns == ["姓名", "身份证号"]
    assert [r["姓名"] for r in roster.rows] == ["张三", "李四"]
    with pytest.raises(ValidationError, match="只有表头"):
        pasted_rows.roster_from_tsv("姓名\t身份证号\n")
