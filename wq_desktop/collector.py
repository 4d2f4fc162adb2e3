"""Python's cyclic garbage collector paused while a bulk path makes many small objects.

A bulk write (an import, a pull) holds hundreds of thousands of records, rows and history entries
alive at once, and the collector walks all of them again each time the live objects grow by a
quarter: a quarter of a 100,000-parcel import's Python time. Records hold no reference cycles,
so nothing is missed; the collector runs as before once the last paused block ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # blocks running, in any thread
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def paused() -> Iterator[None]:
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
