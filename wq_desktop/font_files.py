"""Where the font files are, without loading them: the window's font set-up needs this before
its first paint, printing (reportlab, wq_desktop.printing.fonts) only when a document is made."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from wq_desktop.resources import resource_path

FALLBACK_FILE = "HanaMinB.ttf"  # Hanazono Mincho B: CJK Extension B–F (licence in resources/fonts)
FALLBACK_FAMILY = "HanaMinB"  # its family name, for Qt
# Debian/Ubuntu's fonts-hanazono; the installer copies the file into resources/fonts.
_FALLBACK_DIRS = ("/usr/share/fonts/truetype/hanazono", "/usr/share/fonts/hanazono")


def windows_font_dirs() -> list[Path]:
    if sys.platform != "win32":
        return []
    dirs = [Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"]
    local = os.environ.get("LOCALAPPDATA")
    if local:  # per-user installs (Windows 10 1809+) land here, not in C:\Windows\Fonts
        dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


def fallback_font_path() -> Path | None:
    """Where HanaMinB is: bundled in resources/fonts first, then the system's font folders."""
    for folder in (resource_path("fonts"), *map(Path, _FALLBACK_DIRS), *windows_font_dirs()):
        path = folder / FALLBACK_FILE
        if path.is_file():
            return path
    return None
