"""Work for a page nobody is looking at waits until someone looks: at real size a redraw is a
query and hundreds of rows, and a year change or a save used to redraw every hidden page."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class WhenShown(QObject):
    """`request()` runs the page's redraw method (named, looked up on the page when run) now if
    the page is on screen, else the next time it is shown (once, however many requests came
    meanwhile); `defer()` always waits for the showing. The redraw calls `done()`, so a redraw
    made for its own reasons clears the wait. Only Qt's parent link ties it to the page."""

    def __init__(self, page: QWidget, redraw: str, *, pending: bool = False) -> None:
        super().__init__(page)
        self._redraw = redraw
        self.pending = pending
        page.installEventFilter(self)

    def request(self) -> None:
        page = self.parent()
        if isinstance(page, QWidget) and page.isVisible():
            self._run()
        else:
            self.pending = True

    def defer(self) -> None:
        self.pending = True

    def done(self) -> None:
        self.pending = False

    def _run(self) -> None:
        self.pending = False
        getattr(self.parent(), self._redraw)()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.pending and event.type() == QEvent.Type.Show:
            self._run()
        return False
