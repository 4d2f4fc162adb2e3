"""The main window: navigation on the left, the views in tabs, a year selector, the sync count."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import settings as settings_mod
from wq_desktop.errors import WqError
from wq_desktop.model import INTERNAL_ONLY
from wq_desktop.operations import Changes
from wq_desktop.queries.navigation import (
    known_years,
    latest_year,
    parcel_of,
    place_of,
    townships,
)
from wq_desktop.rules import phones
from wq_desktop.settings import Settings
from wq_desktop.store import Store
from wq_desktop.xlsx_exports import XLSX_TABLES

from . import window_state
from .actions import ActionDef, declare
from .actions import build as build_actions
from .backup_ui import BackupController
from .gc_guard import freeze_long_lived
from .lazy_tabs import LazyTabs
from .navigation import NavigationPanel
from .operations import change_bus
from .security_ui import SecurityController
from .sync import SyncController
from .widgets import ElidedLabel
from .workers import JobContext, Worker

if TYPE_CHECKING:
    from .dashboard import Dashboard
    from .dialogs.roster_import import RosterImportDialog
    from .dialogs.settings_dialog import SettingsDialog
    from .map_tab import MapTab
    from .printing import PrintCenter
    from .views.contacts import ContactsView
    from .views.household import HouseholdView
    from .views.rectifications import RectificationsView
    from .views.village import VillageView

APP_TITLE = "退地减水核查"
# Operator fields the navigation tree counts by (a household added, moved or deleted).
NAV_FIELDS = {"village", "group", "deleted"}
# Fields a search hit is found by or shows (see queries.search): a change to any other (a phone, a
# crop) leaves the hits as they are and the search is not run again (36 ms at city size).
SEARCH_FIELDS = {"operator": {"name", "id_code", "village", "deleted"},
                 "parcel": {"code", "operator", "village", "deleted"}, "village": {"name"}}
_orphans: set[Worker] = set()  # workers that outlived their window (see MainWindow.stop_workers)
# Modules the pages made after the first paint need, with shapely, pyproj and reportlab under
# them, and the print preview (reportlab's documents, pdfium): imported in a worker right after
# the first paint, so that making those pages and the first Ctrl+P do not pay for them in the GUI
# thread (~115 ms for the preview). pyogrio (GDAL) only when a GIS file is read or written.
# (They import what they use themselves.)
WARM_MODULES = ("wq_desktop.checks", "wq_desktop.gisfiles", "wq_desktop.gis_export",
                "wq_desktop.printing", "wq_desktop.printing.notice", "wq_desktop.summary", "ui.printing")


class MainWindow(QMainWindow):
    """Built around one open Store. `store_requested` asks the application to open another file."""

    store_requested = Signal(Path)

    def __init__(self, store: Store, settings: Settings, settings_file: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.settings_file = settings_file
        self._closing_confirmed = False
        self._closed = False
        title = f"{APP_TITLE} - {store.path.name}" + ("（演示数据）" if store.is_demo else "")
        self.setWindowTitle(title)

        self.year_selector = QComboBox()
        self.year_selector.setObjectName("year_selector")
        self.year_selector.setToolTip("工作年度：措施、协议、公示、巡查均按年度登记")
        self.nav = NavigationPanel(store)
        # The views are made when first needed (see LazyTabs): the frame paints first.
        self.tabs = LazyTabs()
        self.tabs.add_page("dashboard", "工作进度", self._make_dashboard)
        self.tabs.add_page("household", "农户", self._make_household)
        self.tabs.add_page("village", "村", self._make_village)
        self.tabs.add_page("contacts", "包联", self._make_contacts)
        self.tabs.add_page("rectifications", "巡查整改", self._make_rectifications)
        self.tabs.add_page("map", "地图", self._make_map)
        self._map: MapTab | None = None
        self._painted = False
        splitter = QSplitter()
        splitter.setObjectName("main_splitter")
        splitter.addWidget(self.nav)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 1060])
        self.setCentralWidget(splitter)

        self.pending_label = QLabel()
        self.pending_label.setObjectName("pending_label")
        self.statusBar().addPermanentWidget(ElidedLabel(f"用户：{store.user}"))
        self.statusBar().addPermanentWidget(self.pending_label)
        # The features behind menu entries of their own (ui/actions.py declares them all).
        self.sync_controller = SyncController(self)
        self.backup_controller = BackupController(self)
        self._build_menus()
        self.security_controller = SecurityController(self, settings)

        self.nav.village_selected.connect(self.show_village)
        self.nav.township_selected.connect(self._township_chosen)
        self.nav.household_selected.connect(self.show_household)
        self.year_selector.currentIndexChanged.connect(self._year_changed)
        # Every operation on this store is announced here once (the views listen themselves).
        self.change_bus = change_bus(store)
        self.change_bus.changed.connect(self.apply_changes)

        self._fill_years()
        self.nav.refresh()
        self.nav.select_first_village()
        self.sync_controller.install_status()
        window_state.restore(self)  # last size, position, splitters and column widths, on screen

    # ------------------------------------------------------------ the pages, made on first need
    @property
    def dashboard(self) -> Dashboard:
        return self.tabs.page("dashboard")  # type: ignore[return-value]

    @property
    def household(self) -> HouseholdView:
        return self.tabs.page("household")  # type: ignore[return-value]

    @property
    def village(self) -> VillageView:
        return self.tabs.page("village")  # type: ignore[return-value]

    @property
    def contacts(self) -> ContactsView:
        return self.tabs.page("contacts")  # type: ignore[return-value]

    @property
    def rectifications(self) -> RectificationsView:
        return self.tabs.page("rectifications")  # type: ignore[return-value]

    @property
    def map_tab(self) -> QWidget:
        """The 地图 page (holding `map`)."""
        return self.tabs.page("map")

    @property
    def map(self) -> MapTab:
        self.tabs.page("map")
        assert self._map is not None
        return self._map

    def _shows(self, key: str) -> bool:
        """Whether page `key` exists and is the one in front (asking never makes it)."""
        return self.tabs.is_built(key) and self.tabs.currentWidget() is self.tabs.page(key)

    def current_village(self) -> str | None:
        """The village the user works in: the 村 page's, else the open household's."""
        for key in ("village", "household"):
            if self.tabs.is_built(key):
                village = self.tabs.page(key).village  # type: ignore[attr-defined]
                if village:
                    return village
        return None

    def _make_dashboard(self) -> Dashboard:
        from .dashboard import Dashboard

        dashboard = Dashboard(self.store, self.year)
        dashboard.recordRequested.connect(self.open_record)
        return dashboard

    def _make_household(self) -> HouseholdView:
        from .views.household import HouseholdView

        household = HouseholdView(self.store)
        household.default_patroller = self.settings.user
        household.household_gone.connect(
            lambda: self.statusBar().showMessage("当前农户已在其他设备上被删除。", 8000))
        return household

    def _make_village(self) -> VillageView:
        from .views.village import VillageView

        village = VillageView(self.store)
        village.open_household.connect(self.show_household)
        village.new_household.connect(self.new_household)
        return village

    def _make_contacts(self) -> ContactsView:
        from .views.contacts import ContactsView

        return ContactsView(self.store)

    def _make_rectifications(self) -> RectificationsView:
        from .views.rectifications import RectificationsView

        rectifications = RectificationsView(self.store)
        rectifications.open_patrol.connect(self.open_patrol)
        return rectifications

    def _make_map(self) -> QWidget:
        from .map_tab import install_map_tab

        page = QWidget()
        page.setObjectName("map_tab")
        QVBoxLayout(page)
        self._map = install_map_tab(self, page)
        return page

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self._warm_up()

    def _warm_up(self) -> None:
        """After the first paint: import the later pages' libraries in a worker, then make the
        pages not made yet, one per turn of the event loop."""
        def job(_ctx: JobContext) -> None:
            import importlib

            for name in WARM_MODULES:
                importlib.import_module(name)

        self.tabs.built.connect(lambda _key: self.tabs.all_built and freeze_long_lived())
        worker = Worker(job, self)
        worker.done.connect(lambda _result: self.tabs.build_rest())
        worker.failed.connect(lambda _message: self.tabs.build_rest())  # made in the GUI thread then
        worker.finished.connect(worker.deleteLater)
        worker.start()

    # ------------------------------------------------------------ menus and shortcuts
    def _build_menus(self) -> None:
        """Menus and toolbar from the action registry (ui/actions.py), the year selector first."""
        toolbar = self.addToolBar("工具栏")
        toolbar.setObjectName("main_toolbar")
        toolbar.addWidget(QLabel(" 工作年度："))
        toolbar.addWidget(self.year_selector)
        self.actions = build_actions(self, self.menuBar(), toolbar)
        self.xlsx_actions: dict[tuple[str, bool], QAction] = {
            (t.key, full): self.actions[_xlsx_id(t.key, full)]
            for t in XLSX_TABLES for full in ((False, True) if t.can_be_full else (False,))}

    def action(self, action_id: str) -> QAction:
        return self.actions[action_id]

    # ------------------------------------------------------------ year
    @property
    def year(self) -> int:
        value = self.year_selector.currentData()
        return int(value) if value else date.today().year

    def _fill_years(self) -> None:
        years = set(known_years(self.store)) | {date.today().year}
        if self.settings.default_year:
            years.add(self.settings.default_year)
        chosen = self.year_default()
        self.year_selector.blockSignals(True)
        self.year_selector.clear()
        for y in sorted(years | {max(years) + 1}, reverse=True):
            self.year_selector.addItem(f"{y}年度", y)
        self.year_selector.setCurrentIndex(max(self.year_selector.findData(chosen), 0))
        self.year_selector.blockSignals(False)

    def set_year(self, year: int) -> None:
        index = self.year_selector.findData(year)
        if index < 0:
            # Keep the list newest first, like _fill_years builds it.
            index = next((i for i in range(self.year_selector.count())
                          if int(self.year_selector.itemData(i)) < year), self.year_selector.count())
            self.year_selector.insertItem(index, f"{year}年度", year)
        self.year_selector.setCurrentIndex(index)

    def year_default(self) -> int:
        return self.settings.year_or(latest_year(self.store))

    def _year_changed(self) -> None:
        """Pages not made yet take the year when they are (the map follows the selector itself)."""
        if self.tabs.is_built("dashboard"):
            self.dashboard.set_year(self.year)
        if self.tabs.is_built("household") and (self.household.operator or self.household.village):
            self.household.set_year(self.year)
        if self.tabs.is_built("village") and self.village.village:
            self.village.set_year(self.year)

    # ------------------------------------------------------------ navigation
    def _township_chosen(self, _township: str) -> None:
        self.tabs.setCurrentWidget(self.village if self.village.village else self.household)

    def show_village(self, village: str, group: str | None = None) -> None:
        self.village.show_village(village, self.year, group)
        if not self._shows("household") or not self.household.form.dirty:
            self.tabs.setCurrentWidget(self.village)

    def show_household(self, operator: str) -> None:
        if not self._leave_household_edit():
            return
        self.household.show_household(operator, self.year)
        self.tabs.setCurrentWidget(self.household)

    def new_household(self, village: str | None) -> None:
        village = village or self.current_village()
        if village is None:
            QMessageBox.information(self, "请先选择村", "请先在左侧选择要新增经营者的村。")
            return
        if not self._leave_household_edit():
            return
        self.household.new_household(village, self.year)
        self.tabs.setCurrentWidget(self.household)

    def open_record(self, kind: str, uuid: str) -> None:
        """Open the view that shows a record (a check's finding, a search hit) and select the
        record's own row there: a parcel or measure in 地块, a patrol in 巡查记录."""
        place = place_of(self.store, kind, uuid)
        if place.operator:
            self.show_household(place.operator)
            if self.household.operator != place.operator:
                return  # the user kept an unsaved edit open
            if kind in ("parcel", "measure"):
                self._select_household_row(0, parcel_of(self.store, kind, uuid))
            elif place.patrol:
                self._select_household_row(1, place.patrol)
        elif place.village:
            self.show_village(place.village)
            self.tabs.setCurrentWidget(self.village)
        else:
            self.statusBar().showMessage("该记录已被删除或不在任何农户、村之下。", 5000)

    def _select_household_row(self, tab: int, uuid: str | None) -> bool:
        """Show the household's parcel (tab 0) or patrol (tab 1) table with `uuid`'s row selected."""
        h = self.household
        table = h.parcel_table if tab == 0 else h.patrol_table
        h.tabs.setCurrentIndex(tab)
        if table.select_object(lambda row: row.uuid == uuid):
            table.setFocus()
            return True
        self.statusBar().showMessage("该记录不在本年度的列表中（可能已删除或属于其他年度）。", 5000)
        return False

    def open_patrol(self, patrol: str, operator: str) -> None:
        self.show_household(operator)
        if self.household.operator == operator:
            self.household.open_patrol(patrol)

    def _leave_household_edit(self) -> bool:
        """An unsaved household edit is saved, discarded or kept on the user's word, never dropped."""
        if not self.tabs.is_built("household") or not self.household.form.dirty:
            return True
        answer = QMessageBox.question(
            self, "尚未保存", "当前经营者信息已修改但尚未保存。是否保存？",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Save:
            return self.household.save()
        return answer == QMessageBox.StandardButton.Discard

    # ------------------------------------------------------------ redrawing after a change
    def apply_changes(self, changes: Changes) -> None:
        """The window's own parts, after any operation (a form, the map, an import, a sync): only
        what the description touches. The household, village, 包联 and 巡查整改 pages, the
        dashboard and the map listen to the bus themselves; an edit the user has open is never overwritten."""
        if self._closed:
            return
        if changes.touches("township", "village", "village_group") or \
                changes.changed_fields("operator") & NAV_FIELDS:
            self.nav.refresh()  # household counts per village and group
        # Search hits say what is true now, not what was true before this change.
        if self.nav.search.text().strip() and any(
                changes.changed_fields(kind) & names for kind, names in SEARCH_FIELDS.items()):
            self.nav.run_search()
        self.sync_controller.refresh_status()  # the waiting changes too

    # ------------------------------------------------------------ commands
    def save_current(self) -> bool:
        """Ctrl+S: save what the current view edits."""
        if self._shows("household"):
            ok = self.household.save()
        elif self._shows("village"):
            ok = self.village.save_notice()
        else:
            self.statusBar().showMessage("当前页面没有需要保存的内容。", 4000)
            return False
        self.statusBar().showMessage("已保存。" if ok else "未保存：请按红色提示修改后再保存。", 5000)
        return ok

    def print_current(self) -> PrintCenter:
        """Ctrl+P: the print center for what is on screen (patrol, household, village, township)."""
        from .printing import open_print_center  # reportlab: when printing, not at start

        operator = patrol = None
        village = self.village.village
        if self._shows("household") and self.household.operator:
            operator, village = self.household.operator, self.household.village
            patrol = self.household.print_context()
        elif not self._shows("village"):
            village = None
        return open_print_center(self, self.store, self.year, village=village, operator=operator,
                                 patrol=patrol)

    def export_xlsx(self, key: str, *, full: bool = False) -> Path | None:
        """文件 → 导出Excel: the table for the village selected (the whole township without one,
        except the notice, which needs a village)."""
        from .printing.xlsx_export import export_xlsx

        village = self.current_village()
        return export_xlsx(self, self.store, self.year, key, village, full=full)

    def import_roster(self) -> RosterImportDialog | None:
        """导入花名册: operators from an Excel roster into the selected village, after a preview."""
        village = self.current_village()
        if village is None:
            QMessageBox.information(self, "请先选择村", "请先在左侧选择要导入花名册的村。")
            return None
        from .dialogs.roster_import import RosterImportDialog  # openpyxl: not on the way to first paint

        dialog = RosterImportDialog(self.store, village, self)
        dialog.open()
        return dialog

    def choose_store(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "打开数据库", str(self.settings.data_path),
                                              "数据库 (*.sqlite *.db);;所有文件 (*)")
        if name and self._leave_household_edit():
            self.store_requested.emit(Path(name))

    def edit_settings(self) -> SettingsDialog:
        from wq_desktop.printing import notice

        from .dialogs.settings_dialog import SettingsDialog

        names = [name for _, name in townships(self.store)]
        dialog = SettingsDialog(
            self.settings, names, self.settings_file, self,
            supervision_phone=phones.format_phone(notice.supervision_phone(self.store)) or "",
            save_supervision=lambda text: notice.set_supervision_phone(self.store, text))
        dialog.accepted.connect(lambda: self._settings_saved(dialog))
        dialog.open()
        return dialog

    def _settings_saved(self, dialog: SettingsDialog) -> None:
        if dialog.result_settings is None:
            return
        self.settings = dialog.result_settings
        if self.tabs.is_built("household"):
            self.household.default_patroller = self.settings.user
        self.sync_controller.apply_settings()  # the background sync follows the consent at once
        if self.settings.user != self.store.user:
            QMessageBox.information(self, "设置已保存", "新的用户名将在下次打开数据库时生效。")

    def run_checks(self) -> Worker:
        """Every data check, in the background; the findings open their records from the dashboard."""
        self.tabs.setCurrentWidget(self.dashboard)
        return self.dashboard.run_checks()

    def _job_failed(self, message: str) -> None:
        QMessageBox.warning(self, "未能完成", message)

    def _about(self) -> None:
        QMessageBox.about(self, "关于", f"{APP_TITLE}\n昌吉市退地减水：核实面积、协议、公示、包联、巡查。")

    def remember_store(self) -> None:
        """Store this file as the one to open next time."""
        remembered = replace(self.settings, last_store=str(self.store.path),
                             user=self.settings.user or self.store.user)
        try:
            self.settings = settings_mod.save(remembered, self.settings_file)
        except (OSError, WqError):
            pass  # settings are a convenience; failing to save them must not stop the work

    # ------------------------------------------------------------ closing
    def stop_workers(self, timeout_ms: int = 30_000) -> None:
        """Cancel every background job still running (checks, summary, printing) and wait for it:
        a QThread destroyed with the window while running aborts the program."""
        running = [w for w in self.findChildren(Worker) if w.isRunning()]
        for worker in running:
            worker.cancel()
        for worker in running:
            if not worker.wait(timeout_ms):
                # A job that ignores 取消 for this long: keep it alive until it ends, never kill it
                # mid-write; without a parent it is not destroyed with the window.
                worker.setParent(None)
                _orphans.add(worker)
                worker.finished.connect(lambda w=worker: _orphans.discard(w))

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing_confirmed and not self._leave_household_edit():
            event.ignore()
            return
        window_state.save(self)
        self._closed = True  # the store may be closed right after: no more redraws from it
        self.tabs.stop_building()
        self.stop_workers()
        if self._map is not None:
            self._map.canvas.set_store(None, self.year)  # drops its pending reloads with the store
        event.accept()


# ---------------------------------------------------------------- the window's own menu entries
def _open_deleted_households(window: MainWindow) -> object:
    from .dialogs.deleted_households import open_deleted_households

    return open_deleted_households(window)


def _xlsx_id(key: str, full: bool) -> str:
    return f"file.xlsx.{key}" + (".full" if full else "")


_Std = QKeySequence.StandardKey
declare(
    ActionDef("file.open", "打开数据库…", "文件", lambda w: w.choose_store, _Std.Open, order=10),
    ActionDef("file.save", "保存", "文件", lambda w: w.save_current, _Std.Save, order=20, toolbar=10),
    ActionDef("file.print", "打印当前文档…", "文件", lambda w: w.print_current, _Std.Print, order=30,
              toolbar=40),
    ActionDef("file.settings", "设置…", "文件", lambda w: w.edit_settings, order=40, toolbar=60),
    ActionDef("file.quit", "退出", "文件", lambda w: w.close, _Std.Quit, group=90),
    ActionDef("edit.find", "查找农户", "编辑", lambda w: w.nav.focus_search, _Std.Find, order=10,
              toolbar=20),
    ActionDef("edit.new_household", "新增经营者", "编辑", lambda w: lambda: w.new_household(None),
              order=20, toolbar=30),
    ActionDef("edit.roster", "从Excel花名册导入经营者…", "编辑", lambda w: w.import_roster, order=30),
    ActionDef("edit.trash", "已删除的农户…", "编辑", lambda w: lambda: _open_deleted_households(w),
              order=40),
    ActionDef("tools.check", "数据检查…", "工具", lambda w: w.run_checks, order=10, toolbar=50),
    ActionDef("help.about", "关于", "帮助", lambda w: w._about),
)
# Every xlsx the CLI makes, with a save dialog; the village is the one selected.
declare(*(
    ActionDef(_xlsx_id(t.key, full),
              f"{t.name}（完整版，{INTERNAL_ONLY}）…" if full else f"{t.name}…", "文件/导出Excel",
              lambda w, k=t.key, f=full: lambda: w.export_xlsx(k, full=f), order=50 + i)
    for i, (t, full) in enumerate((t, full) for t in XLSX_TABLES
                                  for full in ((False, True) if t.can_be_full else (False,)))))
