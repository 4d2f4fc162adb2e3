"""The window as it opens on a township laptop (1366×768) at 100 % and at 150 % scaling: whole-screen
shots of the household page, the village page with its totals line, and the patrol dialog, to see
that nothing falls off the screen. Run under Xvfb, one process per scale:

    xvfb-run -a -s "-screen 0 1366x768x24" env QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=1.5 \
        python -m ui.screen_fit docs/screenshots 150
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from wq_desktop.demo import create_demo_store
from wq_desktop.queries import village_table
from wq_desktop.settings import Settings

from .fonts import apply_chinese_font


def _settle() -> None:
    for _ in range(20):
        QApplication.processEvents()


def _grab_screen(widget: QWidget, path: Path) -> Path:
    """The whole screen, so a window larger than it would show as cut off."""
    _settle()
    screen = widget.screen()
    screen.grabWindow(0).save(str(path))
    return path


def take(folder: Path, label: str) -> list[Path]:
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_chinese_font(app)
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WQ_DATA_DIR"] = tmp  # a first start: no remembered layout
        store = create_demo_store(Path(tmp) / "demo.sqlite", "演示用户")
        try:
            window = MainWindow(store, Settings(user="演示用户"), Path(tmp) / "settings.json")
            window.show()
            village = window.village.village
            assert village is not None
            rows = village_table.village_households(store, village, window.year)
            target = next((r for r in rows if r.agreement_status and r.patrols), rows[0])
            window.show_household(target.operator)
            shots.append(_grab_screen(window, folder / f"fit_{label}_household.png"))
            window.show_village(village)
            shots.append(_grab_screen(window, folder / f"fit_{label}_village.png"))
            window.show_household(target.operator)
            dialog = window.household.open_patrol(None)
            assert dialog is not None
            shots.append(_grab_screen(dialog, folder / f"fit_{label}_patrol.png"))
            dialog.reject()
            window._closing_confirmed = True
            window.close()
        finally:
            store.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/screenshots")
    label = args[1] if len(args) > 1 else "100"
    for path in take(folder, label):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
