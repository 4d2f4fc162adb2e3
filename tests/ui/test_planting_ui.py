"""The plan's own numbers in the window: 庭院种植 on the household view, the targets editor, and
the dashboard's 目标与用水 page, driven through the real widgets on the demo store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ui.dashboard import Dashboard
from ui.dashboard.targets_editor import TargetsDialog
from wq_desktop import planting, targets
from wq_desktop.queries import navigation, village_table
from wq_desktop.store import Store
from wq_desktop.summary import fmt_rate
from wq_desktop.water_use import water_use


def _history_count(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM history").fetchone()[0]


def test_courtyard_planting_is_entered_on_the_household_and_counted(qtbot, window, demo_store: Store,
                                                                     answer_yes) -> None:
    year = window.year
    operator = next(r.operator for r in village_table.village_households(demo_store, window.village.village,
                                                                   year)
                    if not planting.courtyards(demo_store, r.operator, year))
    window.show_household(operator)
    view = window.household
    view.tabs.setCurrentWidget(view.courtyard)
    panel = view.courtyard
    assert panel.model.rowCount() == 0
    before = planting.planting_survey(demo_store, year)
    summary_text = view.summary.text()

    dialog = panel.open_entry(None)
    dialog.crop.setCurrentText("蔬菜")
    qtbot.keyClicks(dialog.area, "0.7x")
    history = _history_count(demo_store)
    dialog.accept()  # refused: not a number; the dialog stays, nothing is written
    assert "面积" in dialog.error.text() and dialog.isVisible()
    assert _history_count(demo_store) == history
    dialog.area.clear()
    qtbot.keyClicks(dialog.area, "0.75")
    dialog.accept()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1)
    row = panel.model.row_at(0)
    assert (row.crop, row.area_mu) == ("蔬菜", Decimal("0.75"))
    assert "0.75 亩" in panel.total.text()
    after = planting.planting_survey(demo_store, year)
    assert after.planted_mu == before.planted_mu + Decimal("0.75")
    assert after.retired_mu == before.retired_mu
    assert after.courtyard_mu == before.courtyard_mu + Decimal("0.75")
    assert view.summary.text() == summary_text  # the household's subsidy is untouched
    assert any(r.record == f"{year}年度庭院种植（蔬菜）" and r.field == "面积（亩）" and r.new == "0.75"
               for r in view.history.rows())

    panel.table.selectRow(0)
    panel.delete_entry()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0)
    assert answer_yes and "蔬菜" in answer_yes[-1]


@pytest.fixture
def dashboard(qtbot, demo_store: Store) -> Dashboard:
    widget = Dashboard(demo_store, navigation.latest_year(demo_store))
    qtbot.addWidget(widget)
    widget.resize(1300, 860)
    widget.show()
    widget.tabs.setCurrentWidget(widget.targets)
    qtbot.waitUntil(lambda: widget.targets.last_data is not None, timeout=60000)
    return widget


def test_dashboard_shows_progress_against_targets_as_the_core_computes_it(dashboard: Dashboard) -> None:
    store, year = dashboard.store, dashboard.year
    panel = dashboard.targets
    expected = targets.progress(store, year)
    table = panel.table
    assert table.rowCount() == len(expected) == 3
    for i, r in enumerate(expected):
        assert table.item(i, 0).text() == r.name
        assert table.item(i, 3).text() == f"{r.measured_mu}"
        assert table.item(i, 4).text() == fmt_rate(r.measured_share)
        assert table.item(i, 6).text() == fmt_rate(r.signed_share)
    use = water_use(store, year)
    assert f"{use.water_wan_m3:,.2f} 万立方米" in panel.water_label.text()
    assert f"控制目标 {use.target_wan_m3:,.2f}" in panel.water_label.text()
    # The series covers the plan's years and the selected one, with the water line drawn.
    points = panel.last_data.series
    assert [p.year for p in points][:5] == [2021, 2022, 2023, 2024, 2025]
    curves = panel.water_plot.getPlotItem().listDataItems()
    assert [c.name() for c in curves] == ["测算用水量", "用水总量控制目标"]
    assert list(curves[0].yData) == [float(p.water_wan_m3) for p in points if p.has_data]
    assert "12446" in panel.water_plot.getPlotItem().titleLabel.text


def test_fragmented_plan_opens_its_parcel(qtbot, dashboard: Dashboard) -> None:
    panel = dashboard.targets
    row = next(i for i, r in enumerate(panel.last_data.progress) if r.fragmented)
    with qtbot.waitSignal(dashboard.recordRequested) as signal:
        panel.table.cellDoubleClicked.emit(row, panel.table.columnCount() - 1)
    assert signal.args[0] == "parcel"
    assert signal.args[1] == panel.last_data.progress[row].fragmented[0][0]


def test_targets_editor_saves_typed_values_and_refuses_bad_ones(qtbot, dashboard: Dashboard) -> None:
    store, year = dashboard.store, dashboard.year
    dialog = dashboard.targets.edit_targets(year + 2)
    assert isinstance(dialog, TargetsDialog) and dialog.year.value() == year + 2
    assert dialog.total.text() == "" and dialog.table.rowCount() == 3
    qtbot.keyClicks(dialog.total, "350.5")
    qtbot.keyClicks(dialog.groundwater, "400")  # more groundwater than the total: refused
    dialog.table.item(0, 1).setText("150")
    dialog.table.item(0, 2).setText("40")
    history = _history_count(store)
    dialog.accept()
    assert "地下水" in dialog.error.text() and _history_count(store) == history
    dialog.groundwater.clear()
    qtbot.keyClicks(dialog.groundwater, "280")
    dialog.table.item(1, 1).setText("60")  # fallow left empty on a filled line: refused, nothing saved
    dialog.accept()
    assert "休耕轮作" in dialog.error.text() and _history_count(store) == history
    dialog.table.item(1, 2).setText("0")
    dialog.accept()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    sheet = targets.target_sheet(store, store.find_one("township", "1=1")["uuid"], year + 2)
    assert (sheet.total_wan_m3, sheet.groundwater_wan_m3) == (Decimal("350.50"), Decimal("280.00"))
    assert [(r.retired_mu, r.fallow_mu) for r in sheet.villages] == [
        (Decimal("150.00"), Decimal("40.00")), (Decimal("60.00"), Decimal("0.00")), (None, None)]


def test_changing_a_target_refreshes_the_progress(qtbot, dashboard: Dashboard) -> None:
    store, year = dashboard.store, dashboard.year
    panel = dashboard.targets
    first = panel.last_data.progress[0]
    dialog = panel.edit_targets(year)
    dialog.table.item(0, 1).setText(f"{first.measured_mu}")
    dialog.table.item(0, 2).setText("0")
    dialog.accept()
    qtbot.waitUntil(lambda: panel.table.item(0, 4).text() == "100.0%", timeout=60000)
    assert targets.progress(store, year)[0].measured_share == 1
    assert panel.table.item(0, 4).background().color().name() == "#d8f0d8"


def test_print_centre_previews_the_planting_survey(qtbot, demo_store: Store) -> None:
    import pypdfium2 as pdfium

    from ui.printing.print_center import READY, PrintCenter

    year = navigation.latest_year(demo_store)
    center = PrintCenter(demo_store, year, village=None, operator=None, patrol=None, parent=None)
    qtbot.addWidget(center)
    center.show()
    index = center.document_combo.findData("planting")
    assert center.document_combo.itemText(index) == "种植面积摸底核查汇总表及用水量测算"
    center.document_combo.setCurrentIndex(index)
    qtbot.waitUntil(lambda: center.state == READY and center.worker is None and center.generated
                    and center.generated.request.doc == "planting", timeout=120000)
    doc = pdfium.PdfDocument(str(center.generated.pdf))
    pages = [doc.get_page_size(i) for i in range(len(doc))]
    doc.close()
    assert len(pages) >= 3 and all(w > h for w, h in pages)  # landscape tables
    assert center.preview.pages == len(pages)
