"""A household's 本年度合计 comes from one core function: the household view shows its figures,
and the agreement and 包联 list (printing's household) add up to the same ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

import ui.views.household as household_module
from ui.views.household import HouseholdView
from wq_desktop.household_totals import HouseholdTotals
from wq_desktop.queries.household import parcel_rows
from wq_desktop.rules import amount_words
from wq_desktop.store import Store
from wq_desktop.summary import load_households


def _year(store: Store) -> int:
    return max(m["year"] for m in store.find("measure"))


def test_the_view_and_printing_add_up_the_same_household_totals(demo_store: Store) -> None:
    year = _year(demo_store)
    households = [h for h in load_households(demo_store, year) if h.parcels]
    assert any(h.totals().retired_mu > 0 and h.totals().fallow_mu > 0 for h in households)
    for h in households:
        assert household_module.household_totals(parcel_rows(demo_store, h.uuid, year)) \
            == h.totals(), h.name


def test_the_household_view_shows_the_cores_totals(qtbot, demo_store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    year = _year(demo_store)
    h = next(h for h in load_households(demo_store, year) if h.totals().subsidy > 0)
    view = HouseholdView(demo_store)
    qtbot.addWidget(view)
    view.show_household(h.uuid, year)
    t = h.totals()
    line = view.summary.text()
    assert (f"地块 {t.parcels} 块，核实面积 {t.area_mu:,.2f} 亩；退减灌溉 {t.retired_mu:,.2f} 亩，"
            f"休耕轮作 {t.fallow_mu:,.2f} 亩；补助金额 {t.subsidy:,.2f} 元"
            f"（{amount_words.amount_in_words(t.subsidy)}）") == line

    # Whatever the core says is what the view shows: it adds nothing up itself.
    told = HouseholdTotals(7, Decimal("70.07"), Decimal("60.06"), Decimal("12.34"),
                           Decimal("5.67"), Decimal("1234.56"))
    monkeypatch.setattr(household_module, "household_totals", lambda parcels: told)
    view.show_household(h.uuid, year)
    assert view.summary.text() == ("地块 7 块，核实面积 70.07 亩；退减灌溉 12.34 亩，休耕轮作 5.67 亩；"
                                   "补助金额 1,234.56 元（壹仟贰佰叁拾肆元伍角陆分）")
