"""The main window on a fresh demo township, grabbed to PNG files as a user sees it."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QWidget

from wq_desktop.demo import create_demo_store
from wq_desktop.settings import Settings
from wq_desktop.store import Store

from ..fonts import apply_chinese_font

if TYPE_CHECKING:
    from ..main_window import MainWindow

USER = "演示用户"


def settle(rounds: int = 5) -> None:
    """Let queued paints and signals run before a grab."""
    for _ in range(rounds):
        QApplication.processEvents()


def grab(widget: QWidget, path: Path) -> Path:
    """The widget alone, as drawn."""
    widget.show()
    settle()
    widget.grab().save(str(path))
    return path


def grab_screen(widget: QWidget, path: Path) -> Path:
    """The whole screen the widget is on, so a window larger than it would show as cut off."""
    settle(20)
    widget.screen().grabWindow(0).save(str(path))
    return path


@contextmanager
def demo_window(size: tuple[int, int] | None = None) -> Iterator[tuple[MainWindow, Store, Path]]:
    """(window, store, temporary folder) on a new demo township. Settings the window writes stay
    in the temporary folder (a first start: no remembered layout); all is closed afterwards."""
    from ..main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    apply_chinese_font(app)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WQ_DATA_DIR"] = tmp
        store = create_demo_store(Path(tmp) / "demo.sqlite", USER)
        try:
            window = MainWindow(store, Settings(user=USER), Path(tmp) / "settings.json")
            if size:
                window.resize(*size)
            window.show()
            yield window, store, Path(tmp)
            window._closing_confirmed = True
            window.close()
        finally:
            store.close()


def run(take: Callable[..., list[Path]], argv: list[str] | None) -> int:
    """`python -m … [FOLDER [more arguments]]`: take the shots into FOLDER (docs/screenshots)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for path in take(folder, *args[1:]):
        print(path)
    return 0
