"""Tabs whose pages are made the first time they are needed, so the window paints its frame
(menus, navigation, the page in front) before the other views and their libraries exist.

A page is made by its one builder when its tab is shown, when the window asks for it
(`page(key)`, e.g. to show a village), or by `build_rest` after the first paint, whichever comes
first. Until then its tab holds an empty placeholder; the made view takes the placeholder's place
(same index, same title), so `currentWidget()` and `setCurrentWidget(view)` work as with any
QTabWidget once it exists.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QTabWidget, QWidget

Builder = Callable[[], QWidget]


class LazyTabs(QTabWidget):
    built = Signal(str)  # a page's key, right after its view took its tab

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._builders: dict[str, Builder] = {}
        self._views: dict[str, QWidget] = {}
        self._placeholders: dict[str, QWidget] = {}
        self._building: set[str] = set()
        self._background = True  # build_rest may go on (False once the window closes)
        self.currentChanged.connect(self._shown)

    def add_page(self, key: str, title: str, build: Builder) -> None:
        placeholder = QWidget()
        placeholder.setObjectName(f"{key}_placeholder")
        self._builders[key] = build
        self._placeholders[key] = placeholder
        self.addTab(placeholder, title)

    def is_built(self, key: str) -> bool:
        return key in self._views

    @property
    def all_built(self) -> bool:
        return len(self._views) == len(self._builders)

    def page(self, key: str) -> QWidget:
        """The view of `key`, made now if it was not yet."""
        view = self._views.get(key)
        if view is not None:
            return view
        if key in self._building:  # its builder asked for itself: a wiring mistake, say so
            raise RuntimeError(f"page {key!r} requested while it is being built")
        self._building.add(key)
        try:
            view = self._builders[key]()
        finally:
            self._building.discard(key)
        self._views[key] = view
        placeholder = self._placeholders.pop(key)
        index = self.indexOf(placeholder)
        title = self.tabText(index)
        current = self.currentIndex() == index
        # The view goes in before the placeholder and takes its place; no other page is shown
        # meanwhile (it would be made for nothing) and listeners hear of no tab change.
        blocked = self.blockSignals(True)
        try:
            self.insertTab(index, view, title)
            if current:
                self.setCurrentIndex(index)
            self.removeTab(index + 1)
        finally:
            self.blockSignals(blocked)
        placeholder.deleteLater()
        self.built.emit(key)
        return view

    def build_rest(self) -> None:
        """Make the pages not made yet, one per turn of the event loop (the window stays live)."""
        waiting = [k for k in self._builders if k not in self._views]
        if waiting and self._background:
            self.page(waiting[0])
            if len(waiting) > 1:
                QTimer.singleShot(0, self, self.build_rest)

    def showEvent(self, event: QShowEvent) -> None:
        self._shown(self.currentIndex())
        super().showEvent(event)

    def stop_building(self) -> None:
        """No more pages made in the background (the window closes; its store goes)."""
        self._background = False

    def _shown(self, index: int) -> None:
        """Make the page in front when the user can see it (not when tabs are added or the
        window picks a tab before it shows)."""
        if not self.isVisible():
            return
        widget = self.widget(index)
        for key, placeholder in list(self._placeholders.items()):
            if placeholder is widget:
                self.page(key)
                return
