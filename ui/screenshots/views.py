"""Screenshots of the main views: `python -m ui.screenshots docs/screenshots`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from wq_desktop.queries import village_table

from .window import demo_window, grab, run


def take_screenshots(folder: Path) -> list[Path]:
    from ..dialogs.first_start import FirstStartDialog

    shots: list[Path] = []
    with demo_window((1400, 880)) as (window, store, tmp):
        village = window.village.village
        assert village is not None
        # a household with an agreement, retired land and patrol photos shows the most
        year = window.year
        rows = village_table.village_households(store, village, year)
        with_photos = [r for r in rows if r.agreement_status and r.patrols and r.retired_mu]
        target = (with_photos or rows)[0]
        window.show_household(target.operator)
        window.household.tabs.setCurrentIndex(0)
        shots.append(grab(window, folder / "household.png"))
        from wq_desktop.planting import courtyards

        grower = next(r.operator for r in rows if courtyards(store, r.operator, year))
        window.show_household(grower)
        window.household.tabs.setCurrentWidget(window.household.courtyard)
        shots.append(grab(window, folder / "household_courtyard.png"))
        window.show_village(village)
        shots.append(grab(window, folder / "village.png"))
        window.tabs.setCurrentWidget(window.contacts)
        shots.append(grab(window, folder / "contacts.png"))
        photo = next(p for p in store.find("photo") if p["owner_kind"] == "patrol")
        patrol = store.get("patrol", photo["owner"])
        operator = store.get("parcel", patrol["parcel"])["operator"]
        window.show_household(operator)
        dialog = window.household.open_patrol(patrol["uuid"])
        assert dialog is not None
        shots.append(grab(dialog, folder / "patrol.png"))
        dialog.reject()
        window.tabs.setCurrentWidget(window.rectifications)
        shots.append(grab(window, folder / "rectifications.png"))
        settings_dialog = window.edit_settings()
        shots.append(grab(settings_dialog, folder / "settings.png"))
        settings_dialog.reject()
        dashboard = window.dashboard
        window.tabs.setCurrentWidget(dashboard)
        while dashboard.loading:  # the figures come from a worker
            QApplication.processEvents()
        shots.append(grab(window, folder / "dashboard.png"))
        dashboard.tabs.setCurrentWidget(dashboard.charts)
        shots.append(grab(window, folder / "dashboard_charts.png"))
        dashboard.tabs.setCurrentWidget(dashboard.water)
        shots.append(grab(window, folder / "dashboard_water.png"))
        dashboard.tabs.setCurrentWidget(dashboard.targets)
        if dashboard.targets.worker is not None:
            dashboard.targets.worker.wait()
        for _ in range(50):
            QApplication.processEvents()
        shots.append(grab(window, folder / "dashboard_targets.png"))
        editor = dashboard.targets.edit_targets()
        assert editor is not None
        shots.append(grab(editor, folder / "targets_editor.png"))
        editor.reject()
        worker = dashboard.run_checks()
        worker.wait()
        for _ in range(50):  # let the finished job's signals reach the dashboard
            QApplication.processEvents()
        shots.append(grab(window, folder / "dashboard_checks.png"))
        window.tabs.setCurrentWidget(window.map_tab)
        while window.map.loading:  # the year's parcels come from a worker
            QApplication.processEvents()
        shots.append(grab(window, folder / "map_tab.png"))
        first = FirstStartDialog(tmp / "data", "")
        shots.append(grab(first, folder / "first_start.png"))
        first.reject()
    return shots


def main(argv: list[str] | None = None) -> int:
    return run(take_screenshots, argv)


if __name__ == "__main__":
    sys.exit(main())
