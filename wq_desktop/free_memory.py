"""Giving memory that a finished job freed back to the system.

glibc keeps what a thread frees in that thread's malloc arena for its next allocations; a
worker thread that read a city's layer or ran a check leaves tens of MiB there that no other
thread reuses, and the window's resident size only grows from job to job. `malloc_trim(0)`
returns the free pages of every arena (it runs without the interpreter lock: ctypes releases
it). Elsewhere (macOS, Windows, musl) there is nothing to call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def give_back() -> bool:
    """Return freed heap pages to the system; whether there was a way to."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
