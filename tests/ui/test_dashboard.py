"""The dashboard as a township user meets it: progress per village, checks that open records,
charts from the core's summary, and the water quota editor."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from ui.dashboard import Dashboard
from wq_desktop import summary, water
from wq_desktop.queries import navigation
from wq_desktop.store import Store


@pytest.fixture
def dashboard(qtbot, demo_store: Store) -> Dashboard:
    year = navigation.latest_year(demo_store)
    widget = Dashboard(demo_store, year)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    settle(qtbot, widget)
    return widget


def settle(qtbot, widget: Dashboard) -> None:
    """Wait for the figures: they are computed in a worker."""
    qtbot.waitUntil(lambda: not widget.loading, timeout=60000)


def test_progress_table_has_a_row_per_village_and_a_column_per_deadline(dashboard: Dashboard) -> None:
    table = dashboard.progress
    assert table.rowCount() == 3 and table.columnCount() == 8
    assert "8月10日前" in table.horizontalHeaderItem(4).text()
    # Every demo parcel has a measure, so verification is complete everywhere.
    assert all(table.item(r, 0).text().endswith("（100%）") for r in range(3))


def run_checks_and_wait(qtbot, dashboard: Dashboard) -> None:
    qtbot.mouseClick(dashboard.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "项发现" in dashboard.check_summary.text(), timeout=30000)


def test_clicking_a_finding_asks_for_its_record(qtbot, dashboard: Dashboard) -> None:
    run_checks_and_wait(qtbot, dashboard)
    tree = dashboard.findings
    model = tree.model()
    assert model.rowCount() > 0 and "0 个错误" in dashboard.check_summary.text()
    group = next(model.index(i, 0) for i in range(model.rowCount())
                 if model.index(i, 0).data().startswith("签订未公示"))
    with qtbot.waitSignal(dashboard.recordRequested) as signal:
        tree.activated.emit(model.index(0, 0, group))
    kind, uuid = signal.args
    assert kind == "agreement"
    assert dashboard.store.get("agreement", uuid)["status"] == "已签订"


def test_finding_opens_its_household_in_the_main_window(qtbot, demo_store: Store) -> None:
    from ui.main_window import MainWindow
    from wq_desktop.settings import Settings

    window = MainWindow(demo_store, Settings(user="测试员"))
    qtbot.addWidget(window)
    window.show()
    window.action("tools.check").trigger()
    qtbot.waitUntil(lambda: "项发现" in window.dashboard.check_summary.text(), timeout=30000)
    finding = next(f for f in window.dashboard.last_findings if f.kind == "agreement")
    owner = demo_store.get("agreement", finding.record)["operator"]
    tree = window.dashboard.findings
    model = tree.model()
    item = next(model.index(j, 0, model.index(i, 0)) for i in range(model.rowCount())
                for j in range(model.rowCount(model.index(i, 0)))
                if model.index(j, 0, model.index(i, 0)).data() == finding.message)
    tree.activated.emit(item)
    assert window.tabs.currentWidget() is window.household
    assert window.household.operator == owner


def test_charts_show_the_summary_figures(dashboard: Dashboard) -> None:
    city = summary.summarize(dashboard.store, dashboard.year)
    villages = [v for t in city.children for v in t.children]
    this_year = dict(dashboard.charts.last_data["compare"])[f"{dashboard.year}年"]
    assert this_year == pytest.approx([float(v.retired_mu + v.fallow_mu) for v in villages])
    # Independently of the summary: the retired + fallow 亩 of households whose agreement stands.
    direct = dashboard.store.conn.execute(
        "SELECT coalesce(sum(m.area_mu), 0) FROM measure m JOIN parcel p ON p.uuid=m.parcel"
        " JOIN operator o ON o.uuid=p.operator WHERE m.deleted=0 AND m.year=? AND m.kind<>'实际种植'"
        " AND NOT EXISTS(SELECT 1 FROM agreement a WHERE a.operator=o.uuid AND a.year=m.year"
        " AND a.status='终止' AND a.deleted=0)", (dashboard.year,)).fetchone()[0]
    assert sum(this_year) == pytest.approx(direct)


def test_water_quota_edit_is_saved_and_bad_input_is_refused(qtbot, dashboard: Dashboard,
                                                            monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox, QTableWidgetItem

    panel = dashboard.water
    township = dashboard._township()
    before = water.quotas(dashboard.store, township, dashboard.year)
    row = next(i for i in range(panel.quotas.rowCount()) if panel.quotas.item(i, 0).text() == "棉花")
    panel.quotas.setItem(row, 1, QTableWidgetItem("abc"))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert warnings and "应为数字" in warnings[0]
    assert water.quotas(dashboard.store, township, dashboard.year) == before
    panel.quotas.setItem(row, 1, QTableWidgetItem("350"))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert water.quotas(dashboard.store, township, dashboard.year)["棉花"] == 350
    settle(qtbot, dashboard)
    total = panel.saved.item(panel.saved.rowCount() - 1, 4).text()
    expected = sum(v.saved_wan_m3 for v in water.water_saved(dashboard.store, dashboard.year))
    assert total == f"{expected:,.4f}"


def test_overdue_cells_are_marked(qtbot, demo_store: Store) -> None:
    from wq_desktop import plan_calendar

    year = navigation.latest_year(demo_store)
    rows = plan_calendar.progress(demo_store, year, date(year + 1, 6, 1))
    spring = [p for p in rows if p.milestone.key == "patrol_spring"]
    assert spring and all(p.overdue for p in spring)  # the demo has no 春播 patrols


def test_a_year_without_data_shows_grey_no_data_not_green(qtbot, demo_store: Store) -> None:
    year = navigation.latest_year(demo_store) + 3  # no measure at all
    widget = Dashboard(demo_store, year)
    qtbot.addWidget(widget)
    widget.show()
    settle(qtbot, widget)
    table = widget.progress
    agreements = table.item(0, 4)
    assert agreements.text() == "尚无数据"
    assert agreements.background().color().name() == "#e4e4e4"
    assert "尚未登记任何措施" in agreements.toolTip()


def test_totals_row_is_not_numbered_like_a_village(dashboard: Dashboard) -> None:
    assert dashboard.water.saved.verticalHeader().isHidden()


def test_deleting_a_crop_quota_after_confirmation(qtbot, dashboard: Dashboard, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox, QTableWidgetItem

    panel = dashboard.water
    township = dashboard._township()
    store = dashboard.store
    water.set_quota(store, township, dashboard.year, "籽瓜", 260)
    dashboard.refresh()
    settle(qtbot, dashboard)
    row = next(i for i in range(panel.quotas.rowCount()) if panel.quotas.item(i, 0).text() == "籽瓜")
    # emptying the row and saving is refused with a pointer to 删除作物, nothing changes
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    panel.quotas.item(row, 0).setText("")
    panel.quotas.setItem(row, 1, QTableWidgetItem(""))
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert warnings and "删除作物" in warnings[0]
    assert water.quotas(store, township, dashboard.year)["籽瓜"] == 260
    dashboard.refresh()
    settle(qtbot, dashboard)
    row = next(i for i in range(panel.quotas.rowCount()) if panel.quotas.item(i, 0).text() == "籽瓜")
    panel.quotas.setCurrentCell(row, 0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert "籽瓜" in water.quotas(store, township, dashboard.year)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert "籽瓜" not in water.quotas(store, township, dashboard.year)
    settle(qtbot, dashboard)
    assert all(panel.quotas.item(i, 0).text() != "籽瓜" for i in range(panel.quotas.rowCount()))


def test_chart_legends_never_cover_the_bars(qtbot, dashboard: Dashboard) -> None:
    dashboard.tabs.setCurrentWidget(dashboard.charts)
    qtbot.wait(50)
    for plot in (dashboard.charts.area, dashboard.charts.signing, dashboard.charts.compare):
        item = plot.getPlotItem()
        legend_box, data_box = item.legend.sceneBoundingRect(), item.vb.sceneBoundingRect()
        assert legend_box.height() > 0 and not legend_box.intersects(data_box)
        assert len(item.legend.items) == len(dashboard.charts.last_data[
            {dashboard.charts.area: "area", dashboard.charts.signing: "signing",
             dashboard.charts.compare: "compare"}[plot]])


def test_figures_are_computed_in_a_worker_that_can_be_cancelled_or_superseded(
        qtbot, dashboard: Dashboard, monkeypatch) -> None:
    import threading

    from ui.dashboard import dashboard as dashboard_module

    year = dashboard.year
    gates = {year: threading.Event(), year - 1: threading.Event()}
    real = dashboard_module.compute_dashboard

    def gated(store, for_year, ctx=None):  # holds each job until the test lets it go
        gates[for_year].wait(60)
        return real(store, for_year, ctx)

    monkeypatch.setattr(dashboard_module, "compute_dashboard", gated)
    worker = dashboard.refresh()
    assert dashboard.loading  # the GUI thread returned at once; the job waits in its thread
    assert dashboard.cancel_button.isVisibleTo(dashboard) and dashboard.loading_bar.isVisibleTo(dashboard)
    with qtbot.waitSignal(worker.cancelled, timeout=60000):
        qtbot.mouseClick(dashboard.cancel_button, Qt.MouseButton.LeftButton)
        gates[year].set()
    assert "已取消统计" in dashboard.title.text() and not dashboard.cancel_button.isVisibleTo(dashboard)
    # The year changes while last year's figures are still being computed: those arrive late
    # and are dropped; the figures shown are this year's.
    dashboard.set_year(year - 1)
    late = dashboard._job
    dashboard.set_year(year)
    settle(qtbot, dashboard)
    assert dashboard.charts.last_data["compare"][1][0] == f"{year}年"
    with qtbot.waitSignal(late.finished, timeout=60000):
        gates[year - 1].set()
    assert dashboard.charts.last_data["compare"][1][0] == f"{year}年"
    assert f"{year} 年度" in dashboard.title.text() and not dashboard.loading


def test_a_check_with_thousands_of_findings_shows_them_all_and_starts_closed(qtbot) -> None:
    from ui.dashboard.dashboard import FindingsTree
    from wq_desktop.checks import Finding, Severity

    tree = FindingsTree()
    qtbot.addWidget(tree)
    tree.show()
    many = [Finding(Severity.WARNING, "地块无图形", f"地块 {i:05d} 没有图形", "parcel", f"p{i}")
            for i in range(5000)]
    few = [Finding(Severity.ERROR, "签订未公示", "甲户的协议已签订未公示", "agreement", "a1")]
    tree.show_findings(many + few)
    model = tree.model()
    big, small = model.index(0, 0), model.index(1, 0)
    assert big.data() == "地块无图形（5000）" and small.data() == "签订未公示（1）"
    assert tree.isExpanded(small) and model.index(0, 0, small).data() == "甲户的协议已签订未公示"
    assert model.index(0, 1, small).data() == str(Severity.ERROR)
    assert not tree.isExpanded(big)  # thousands of rows are laid out when the user opens them
    tree.expand(big)
    assert model.rowCount(big) == 5000 and model.index(4999, 0, big).data() == "地块 04999 没有图形"
    assert [model.index(i, 0, big).data() for i in range(5000)] == [f.message for f in many]
    tree.scrollTo(model.index(4999, 0, big))
    assert tree.visualRect(model.index(4999, 0, big)).isValid()  # the last one is reachable
    with qtbot.waitSignal(tree.recordRequested) as opened:
        tree.activated.emit(model.index(7, 0, big))
    assert opened.args == ["parcel", "p7"]
    with qtbot.assertNotEmitted(tree.recordRequested):
        tree.activated.emit(big)  # a check's own row opens nothing
    tree.clear()
    assert model.rowCount() == 0


def test_cancel_stops_a_check_in_the_middle_of_its_query(qtbot, dashboard: Dashboard,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """At city size one check reads for minutes: 取消 must end it inside its query, not after."""
    import threading

    from ui.workers import ProgressDialog
    from wq_desktop import checks

    started, release = threading.Event(), threading.Event()

    def endless(store: Store, year: int | None = None) -> list:
        # A read that ends only when interrupted (or when the test gives up, so an unfixed
        # window fails here instead of leaving a thread running).
        store.conn.create_function("released", 0, release.is_set)
        started.set()
        store.conn.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                           " WHERE NOT released()) SELECT count(*) FROM c").fetchall()
        return []

    monkeypatch.setattr(checks, "CHECKS", {"endless": ("无尽的检查", endless)})
    try:
        dashboard.run_checks()
        qtbot.waitUntil(started.is_set, timeout=30000)
        [dialog] = dashboard.findChildren(ProgressDialog)
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dashboard.check_summary.text() == "已取消检查。", timeout=30000)
    finally:
        release.set()
