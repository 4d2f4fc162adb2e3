"""The window as it opens on a township laptop (1366×768) at 100 % and at 150 % scaling: whole-screen
shots of the household page, the village page with its totals line, and the patrol dialog, to see
that nothing falls off the screen. Run under Xvfb, one process per scale:

    xvfb-run -a -s "-screen 0 1366x768x24" env QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=1.5 \
        python -m ui.screenshots.screen_fit docs/screenshots 150
"""

from __future__ import annotations

import sys
from pathlib import Path

from wq_desktop.queries import village_table

from .window import demo_window, grab_screen, run


def take(folder: Path, label: str = "100") -> list[Path]:
    shots: list[Path] = []
    with demo_window() as (window, store, _tmp):
        village = window.village.village
        assert village is not None
        rows = village_table.village_households(store, village, window.year)
        target = next((r for r in rows if r.agreement_status and r.patrols), rows[0])
        window.show_household(target.operator)
        shots.append(grab_screen(window, folder / f"fit_{label}_household.png"))
        window.show_village(village)
        shots.append(grab_screen(window, folder / f"fit_{label}_village.png"))
        window.show_household(target.operator)
        dialog = window.household.open_patrol(None)
        assert dialog is not None
        shots.append(grab_screen(dialog, folder / f"fit_{label}_patrol.png"))
        dialog.reject()
    return shots


def main(argv: list[str] | None = None) -> int:
    return run(take, argv)


if __name__ == "__main__":
    sys.exit(main())
