"""The window shows its frame before the heavy parts exist: when it is shown, the GIS, PDF,
spreadsheet and plotting libraries are not loaded and only the page in front is made; right
after the first paint the other pages are made (their libraries loaded in a worker), and a page
asked for before that is made on the spot, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from wq_desktop.settings import Settings
from wq_desktop.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("shapely", "pyproj", "pyogrio", "reportlab", "pyqtgraph", "openpyxl", "numpy", "pypdfium2",
         "cryptography", "argon2", "PIL")
PAGES = ("dashboard", "household", "village", "contacts", "rectifications", "map")

# A fresh interpreter: this test process has loaded every library already.
_START = r"""
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from ui.fonts import apply_chinese_font
from ui.main_window import MainWindow
from wq_desktop.settings import Settings
from wq_desktop.store import Store
apply_chinese_font(app)
window = MainWindow(Store.open(sys.argv[1], "测试员"), Settings(user="测试员"), Path(sys.argv[2]))
window.show()
shown = {"heavy": [m for m in sys.argv[3].split(",") if m in sys.modules],
         "built": [k for k in sys.argv[4].split(",") if window.tabs.is_built(k)],
         "front": window.tabs.currentWidget() is window.tabs.page("village")}
while not all(window.tabs.is_built(k) for k in sys.argv[4].split(",")):
    app.processEvents()  # the first paint, the worker importing, the pages made one by one
print(json.dumps({"shown": shown, "later": [m for m in sys.argv[3].split(",") if m in sys.modules]}))
"""


def test_the_frame_shows_before_the_heavy_libraries_and_the_other_pages(demo_store: Store,
                                                                         tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _START, str(demo_store.path), str(tmp_path / "settings.json"),
         ",".join(HEAVY), ",".join(PAGES)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["shown"] == {"heavy": [], "built": ["village"], "front": True}
    # Made after the first paint, with what they use (the map its GIS libraries, the dashboard
    # its checks, printing reportlab and PIL), and the print preview's PDF renderer: the first
    # Ctrl+P does not import it. GDAL (pyogrio, ~50 MiB) only once a GIS file is read or written,
    # the account and photo crypto only when used.
    assert {"shapely", "pyproj", "numpy", "reportlab", "pypdfium2"} <= set(result["later"])
    assert not {"pyogrio", "cryptography", "argon2"} & set(result["later"])


def test_a_page_asked_for_before_it_is_made_is_made_then_and_works(qtbot, demo_store: Store,
                                                                   settings_file: Path) -> None:
    from ui.main_window import MainWindow

    w = MainWindow(demo_store, Settings(user="测试员"), settings_file)
    qtbot.addWidget(w)
    assert not w.tabs.is_built("household") and not w.tabs.is_built("map")
    operator = demo_store.find_one("parcel", "operator IS NOT NULL AND deleted=0")["operator"]
    w.show_household(operator)  # a search hit, before the background made the page
    assert w.tabs.currentWidget() is w.household and w.household.operator == operator
    assert w.tabs.tabText(w.tabs.currentIndex()) == "农户"
    made = w.household
    w.show()
    qtbot.waitUntil(lambda: all(w.tabs.is_built(k) for k in PAGES), timeout=60000)
    assert w.household is made  # made once: the background did not make another
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == [
        "工作进度", "农户", "村", "包联", "巡查整改", "地图"]
    assert w.tabs.currentWidget() is w.household  # the pages made meanwhile did not take the front
    # The map made after the household page follows its parcel table.
    qtbot.waitUntil(lambda: not w.map.loading and w.map.canvas.parcels is not None, timeout=60000)
    table = w.household.parcel_table
    qtbot.waitUntil(lambda: table.model().rowCount() > 0, timeout=30000)
    table.selectRow(0)
    row = table.row_object(table.currentIndex())
    assert w.map.canvas.selected_uuid() == row.uuid


def test_once_its_pages_are_made_the_window_is_out_of_the_collectors_sight(
        qtbot, demo_store: Store, settings_file: Path, monkeypatch) -> None:
    """Each full collection on the GUI thread's timer walks only what was made after the window
    opened, not the program's modules and the window's widgets again."""
    import gc

    from ui import gc_guard
    from ui.main_window import MainWindow

    gc.unfreeze()
    monkeypatch.setattr(gc_guard, "_frozen", False)
    w = MainWindow(demo_store, Settings(user="测试员"), settings_file)
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.tabs.all_built, timeout=60000)
        assert gc.get_freeze_count() > 0
        alive = {id(o) for o in gc.get_objects()}
        assert id(w.map) not in alive and id(w.village.model) not in alive
    finally:
        gc.unfreeze()
        w._closing_confirmed = True
        w.close()
