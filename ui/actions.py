"""Every menu entry and toolbar button of the main window, declared once where its feature lives
(as MusicBrainz Picard's ui/mainwindow/actions.py registers them): an id, the Chinese text, the
shortcut, the menu, and a handler factory that finds the slot on the window. The window builds its
menus and toolbar from this registry; no feature reaches into another's menu by its title.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar

if TYPE_CHECKING:
    from .main_window import MainWindow

Shortcut = QKeySequence.StandardKey | str
# The menu bar, left to right: key → (title, object name).
MENUS = {"文件": ("文件(&F)", "file_menu"), "编辑": ("编辑(&E)", "edit_menu"),
         "工具": ("工具(&T)", "tools_menu"), "同步": ("同步(&S)", "sync_menu"),
         "帮助": ("帮助(&H)", "help_menu")}


@dataclass(frozen=True)
class ActionDef:
    """`menu`: a key of MENUS, or "文件/导出Excel" for a submenu. Entries of a menu sort by
    (group, order), a separator between groups. `toolbar`: the button's place in the main
    toolbar (None: not there; a gap of 100 or more from the previous one puts a separator).
    `handler(window)` gives the slot; it is looked up when the entry is chosen, so a feature's
    controller may be made after the menus."""

    id: str
    text: str
    menu: str
    handler: Callable[[MainWindow], Callable[[], object]]
    shortcut: Shortcut | None = None
    group: int = 0
    order: int = 0
    toolbar: int | None = None
    tooltip: str = ""


_registry: dict[str, ActionDef] = {}


def declare(*defs: ActionDef) -> None:
    """Add a feature's entries (declaring an id again replaces it: a module imported twice)."""
    for d in defs:
        if d.menu.split("/")[0] not in MENUS:
            raise ValueError(f"unknown menu {d.menu!r} for {d.id}")
        _registry[d.id] = d


def declared() -> list[ActionDef]:
    return sorted(_registry.values(), key=lambda d: (list(MENUS).index(d.menu.split("/")[0]),
                                                     d.group, d.order, d.id))


def _qaction(window: MainWindow, d: ActionDef) -> QAction:
    action = QAction(d.text, window)
    action.setObjectName(d.id)
    if d.shortcut is not None:
        action.setShortcut(QKeySequence(d.shortcut))
    if d.tooltip:
        action.setToolTip(d.tooltip)
    action.triggered.connect(lambda _checked=False, d=d: d.handler(window)())
    window.addAction(action)  # the shortcut works wherever the focus is in the window
    return action


def build(window: MainWindow, bar: QMenuBar, toolbar: QToolBar) -> dict[str, QAction]:
    """Make every declared action, the menus in MENUS order and the toolbar's buttons."""
    actions = {d.id: _qaction(window, d) for d in declared()}
    for key, defs in groupby(declared(), key=lambda d: d.menu.split("/")[0]):
        title, name = MENUS[key]
        menu = bar.addMenu(title)
        menu.setObjectName(name)
        submenus: dict[str, QMenu] = {}
        last_group: int | None = None
        for d in defs:
            if last_group is not None and d.group != last_group:
                menu.addSeparator()
            last_group = d.group
            target = menu
            if "/" in d.menu:
                sub = d.menu.split("/", 1)[1]
                if sub not in submenus:
                    submenus[sub] = menu.addMenu(sub)
                target = submenus[sub]
            target.addAction(actions[d.id])
    previous: int | None = None
    for d in sorted((d for d in declared() if d.toolbar is not None), key=lambda d: d.toolbar or 0):
        assert d.toolbar is not None
        if previous is None or d.toolbar - previous >= 100:
            toolbar.addSeparator()
        previous = d.toolbar
        toolbar.addAction(actions[d.id])
    return actions
