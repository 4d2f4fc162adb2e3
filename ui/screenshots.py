"""Screenshots of the main views on a fresh demo township, for the README and for looking at the
window as a user would: `python -m ui.screenshots docs/screenshots` (offscreen, no display needed)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QWidget

from wq_desktop.demo import create_demo_store
from wq_desktop.queries import village_table
from wq_desktop.settings import Settings

from .fonts import apply_chinese_font


def _grab(widget: QWidget, path: Path) -> Path:
    widget.show()
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path


def take_screenshots(folder: Path) -> list[Path]:
    from .dialogs.first_start import FirstStartDialog
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_chinese_font(app)
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WQ_DATA_DIR"] = tmp  # settings written by the window stay in the temp folder
        store = create_demo_store(Path(tmp) / "demo.sqlite", "演示用户")
        try:
            window = MainWindow(store, Settings(user="演示用户"), Path(tmp) / "settings.json")
            window.resize(1400, 880)
            window.show()
            village = window.village.village
            assert village is not None
            # a household with an agreement, retired land and patrol photos shows the most
            year = window.year
            rows = village_table.village_households(store, village, year)
            with_photos = [r for r in rows if r.agreement_status and r.patrols and r.retired_mu]
            target = (with_photos or rows)[0]
            window.show_household(target.operator)
            window.household.tabs.setCurrentIndex(0)
            shots.append(_grab(window, folder / "household.png"))
            from wq_desktop.planting import courtyards

            grower = next(r.operator for r in rows if courtyards(store, r.operator, year))
            window.show_household(grower)
            window.household.tabs.setCurrentWidget(window.household.courtyard)
            shots.append(_grab(window, folder / "household_courtyard.png"))
            window.show_village(village)
            shots.append(_grab(window, folder / "village.png"))
            window.tabs.setCurrentWidget(window.contacts)
            shots.append(_grab(window, folder / "contacts.png"))
            photo = store.find_one("photo", "owner_kind='patrol'")
            assert photo is not None
            patrol = store.get("patrol", photo["owner"])
            operator = store.get("parcel", patrol["parcel"])["operator"]
            window.show_household(operator)
            dialog = window.household.open_patrol(patrol["uuid"])
            assert dialog is not None
            shots.append(_grab(dialog, folder / "patrol.png"))
            dialog.reject()
            window.tabs.setCurrentWidget(window.rectifications)
            shots.append(_grab(window, folder / "rectifications.png"))
            settings_dialog = window.edit_settings()
            shots.append(_grab(settings_dialog, folder / "settings.png"))
            settings_dialog.reject()
            dashboard = window.dashboard
            window.tabs.setCurrentWidget(dashboard)
            while dashboard.loading:  # the figures come from a worker
                QApplication.processEvents()
            shots.append(_grab(window, folder / "dashboard.png"))
            dashboard.tabs.setCurrentWidget(dashboard.charts)
            shots.append(_grab(window, folder / "dashboard_charts.png"))
            dashboard.tabs.setCurrentWidget(dashboard.water)
            shots.append(_grab(window, folder / "dashboard_water.png"))
            dashboard.tabs.setCurrentWidget(dashboard.targets)
            if dashboard.targets.worker is not None:
                dashboard.targets.worker.wait()
            for _ in range(50):
                QApplication.processEvents()
            shots.append(_grab(window, folder / "dashboard_targets.png"))
            editor = dashboard.targets.edit_targets()
            assert editor is not None
            shots.append(_grab(editor, folder / "targets_editor.png"))
            editor.reject()
            worker = dashboard.run_checks()
            worker.wait()
            for _ in range(50):  # let the finished job's signals reach the dashboard
                QApplication.processEvents()
            shots.append(_grab(window, folder / "dashboard_checks.png"))
            window.tabs.setCurrentWidget(window.map_tab)
            while window.map.loading:  # the year's parcels come from a worker
                QApplication.processEvents()
            shots.append(_grab(window, folder / "map_tab.png"))
            first = FirstStartDialog(Path(tmp) / "data", "")
            shots.append(_grab(first, folder / "first_start.png"))
            first.reject()
            window._closing_confirmed = True
            window.close()
        finally:
            store.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/screenshots")
    for path in take_screenshots(folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
