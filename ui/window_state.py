"""Where the window was: size, position, splitter positions and table column widths, kept in
window.ini in the data folder (not in settings.json: it is layout, not a choice the user makes)
and brought back on the next start, always within the screen the window opens on."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView

from wq_desktop import paths

from .widgets import fit_to_screen

# The window's size on a screen that has room; smaller screens get their free area.
PREFERRED_SIZE = (1360, 860)


def _settings() -> QSettings:
    return QSettings(str(paths.data_dir() / "window.ini"), QSettings.Format.IniFormat)


def restore(window: QMainWindow) -> None:
    """Last session's layout, or the preferred size fitted to the screen on a first start."""
    state = _settings()
    geometry = state.value("main/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        fit_to_screen(window, *PREFERRED_SIZE)
    else:
        _keep_on_screen(window)
    for splitter in window.findChildren(QSplitter):
        saved = state.value(f"splitters/{splitter.objectName()}") if splitter.objectName() else None
        if saved is not None:
            splitter.restoreState(saved)
        elif splitter.objectName() == "main_splitter":
            # The navigation gets a fifth of the window, at most 300 px: on a scaled laptop screen
            # the household form needs the room.
            nav = min(300, window.width() // 5)
            splitter.setSizes([nav, max(window.width() - nav, 1)])
    for table in window.findChildren(QTableView):
        saved = state.value(f"columns/{table.objectName()}") if table.objectName() else None
        if saved is not None and table.horizontalHeader().restoreState(saved):
            table.setProperty("user_widths", True)


def save(window: QMainWindow) -> None:
    state = _settings()
    state.setValue("main/geometry", window.saveGeometry())
    for splitter in window.findChildren(QSplitter):
        if splitter.objectName():
            state.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
    for table in window.findChildren(QTableView):
        if table.objectName() and table.property("user_widths"):
            state.setValue(f"columns/{table.objectName()}", table.horizontalHeader().saveState())
    state.sync()


def _keep_on_screen(window: QMainWindow) -> None:
    """A layout saved on a bigger monitor (or before a scaling change) is fitted to this one."""
    screen = window.screen()
    if screen is None:
        return
    free = screen.availableGeometry()
    frame = window.frameGeometry()
    if frame.width() > free.width() or frame.height() > free.height() or not free.intersects(frame):
        fit_to_screen(window, min(window.width(), free.width()), min(window.height(), free.height()))
