"""One path for a change, counted: a save in the window runs one operation, its description is
broadcast once, and each view redraws only what it names (one load of the household, one history
rebuild; the map patches only the parcels that changed, and none for a phone number)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import ui.map.canvas as canvas_module
import ui.views.household as household_module
from ui.operations import change_bus
from ui.views.household import HouseholdView
from wq_desktop import figures
from wq_desktop.gisfiles import parcel_layer
from wq_desktop.model import MeasureKind
from wq_desktop.store import Store


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch):
    """Calls of the household page's detail query, its history rebuild and the map's layer read."""
    calls: dict[str, list] = {"detail": [], "history": [], "layer": []}
    real_detail = household_module.household_detail
    real_layer = canvas_module.parcel_layer

    def detail(*args, **kw):
        calls["detail"].append(args[1])
        return real_detail(*args, **kw)

    def layer(*args, **kw):
        calls["layer"].append(kw.get("parcel_uuids"))
        return real_layer(*args, **kw)

    monkeypatch.setattr(household_module, "household_detail", detail)
    monkeypatch.setattr(canvas_module, "parcel_layer", layer)
    return calls


def _open(qtbot, window, counted) -> str:
    qtbot.waitUntil(lambda: window.map.canvas.parcels is not None, timeout=60000)
    operator = next(r.operator for r in window.village.visible_rows() if r.parcels > 0)
    window.show_household(operator)
    history = window.household.history
    real = history.load_household
    history.load_household = lambda uuid: (counted["history"].append(uuid), real(uuid))
    for calls in counted.values():
        calls.clear()
    return operator


def test_one_save_loads_the_household_once_and_leaves_the_map_alone(qtbot, window, counted) -> None:
    operator = _open(qtbot, window, counted)
    view, canvas = window.household, window.map.canvas
    broadcasts: list = []
    change_bus(window.store).changed.connect(broadcasts.append)
    view.form.edits["phone"].setText("13800001111")
    assert view.save()
    assert [c.operation for c in broadcasts] == ["save_operator"]  # one operation, told once
    assert counted["detail"] == [operator] and counted["history"] == [operator]
    assert any(r.field == "联系电话" and r.new.endswith("1111") for r in view.history.rows())
    # A phone number is not on the map: nothing queued, nothing read.
    assert not canvas._reload_timer.isActive() and counted["layer"] == []


def test_a_households_new_name_redraws_only_its_own_parcels(qtbot, window, counted) -> None:
    operator = _open(qtbot, window, counted)
    canvas = window.map.canvas
    own = {u for u, o in zip(canvas.parcels.layer.uuid, canvas.parcels.layer.operator, strict=True)
           if o == operator}
    assert 0 < len(own) < canvas.parcels.n
    window.household.form.edits["name"].setText("新户主")
    assert window.household.save()
    qtbot.waitUntil(lambda: counted["layer"] != [])
    assert [sorted(u) for u in counted["layer"]] == [sorted(own)]  # those parcels, not the township
    i = canvas.parcels.layer.index_of(next(iter(own)))
    assert canvas.parcels.layer.household[i] == "新户主"


def test_a_measure_set_on_one_parcel_reloads_only_that_parcel(qtbot, window, counted) -> None:
    _open(qtbot, window, counted)
    view, canvas = window.household, window.map.canvas
    view.parcel_table.selectRow(0)
    parcel = view.parcel_table.row_object()
    dialog = view.set_measure()
    area = figures.area_of_record(Decimal(str(parcel.area_mu)) / 2)
    for kind, edit in dialog.areas.items():
        edit.setText(f"{area}" if kind == MeasureKind.RETIRED else "")
    dialog.save()
    qtbot.waitUntil(lambda: counted["layer"] != [])
    assert counted["layer"] == [[parcel.uuid]] and counted["detail"] == [view.operator]
    i = canvas.parcels.layer.index_of(parcel.uuid)
    assert canvas.parcels.layer.retired_mu[i] == pytest.approx(float(area))


def test_the_household_summary_says_its_retired_area(qtbot, demo_store: Store) -> None:
    year = max(m["year"] for m in demo_store.find("measure"))
    layer = parcel_layer(demo_store, year)
    operator = next(o for o, r in zip(layer.operator, layer.retired_mu, strict=True) if r > 0)
    retired = figures.sum_of_records(
        m["area_mu"] for p in demo_store.find("parcel", "operator=?", (operator,))
        for m in demo_store.find("measure", "parcel=? AND year=? AND kind=?",
                                 (p["uuid"], year, MeasureKind.RETIRED)))
    view = HouseholdView(demo_store)
    qtbot.addWidget(view)
    view.show_household(operator, year)
    assert retired > 0 and f"退减灌溉 {retired:,.2f} 亩" in view.summary.text()
