"""One place that knows where bundled resources live, so nothing else hard-codes paths.

From a source checkout resources sit at ``<repo>/resources``; in a PyInstaller bundle
they are unpacked under ``sys._MEIPASS/resources`` (the spec file must add them with
that destination name).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    """The ``resources`` directory of the running program (checkout or frozen bundle)."""
    # PyInstaller sets _MEIPASS (onefile: the temp unpack dir; onedir: the _internal dir).
    bundle_dir = getattr(sys, "_MEIPASS", None)
    if bundle_dir:
        return Path(bundle_dir) / "resources"
    # wq_desktop/resources.py -> repo root is two levels up.
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a resource, e.g. ``resource_path("fonts", "README.md")``.

    The path is returned whether or not it exists; callers decide whether absence is an error.
    """
    return resource_root().joinpath(*parts)
