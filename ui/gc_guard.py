"""Python's garbage collector runs in whichever thread happens to allocate. When it collects a
cycle holding Qt objects inside a worker thread, their C++ destructors run there while the GUI
thread may be deleting widgets: the two deadlock on Qt's and Python's locks (seen in a test run:
the GUI thread in QObject::~QObject waiting for a mutex, the worker waiting for the GIL).
So automatic collection is switched off and done on a timer in the GUI thread instead, with
pyqtgraph's GarbageCollector, which exists for exactly this reason."""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_in_gui_thread(interval_s: float = 1.0) -> GarbageCollector:
    """Install once, after the QApplication exists; later calls return the same collector."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector
