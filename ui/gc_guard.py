"""Python's garbage collector runs in whichever thread happens to allocate. When it collects a
cycle holding Qt objects inside a worker thread, their C++ destructors run there while the GUI
thread may be deleting widgets: the two deadlock on Qt's and Python's locks (seen in a test run:
the GUI thread in QObject::~QObject waiting for a mutex, the worker waiting for the GIL).
So automatic collection is switched off and done on a timer in the GUI thread instead, with
pyqtgraph's GarbageCollector, which exists for exactly this reason."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None
_frozen = False


def collect_in_gui_thread(interval_s: float = 1.0) -> GarbageCollector:
    """Install once, after the QApplication exists; later calls return the same collector."""
    from pyqtgraph.util.garbage_collector import GarbageCollector  # numpy comes with it

    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector


def freeze_long_lived() -> None:
    """Once the first window has made its pages: what is alive then (modules, classes, the
    window's widgets, ~100,000 objects) lives as long as the program, so it is moved out of the
    collector's sight (gc.freeze) and the timer's full collections in the GUI thread walk only
    what was made since (a full pass over everything: 45-77 ms of GUI-thread CPU on the township
    store, a 230 ms stall under load). A reference cycle among them that becomes garbage later is
    kept until the program ends. Once per process, and only where collection runs on the timer."""
    global _frozen
    if _collector is not None and not _frozen:
        _frozen = True
        gc.freeze()
