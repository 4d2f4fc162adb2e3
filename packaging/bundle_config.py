"""What the PyInstaller bundle contains, in one place the spec file and the tests both read.

Kept free of PyInstaller imports so the tests can check it without PyInstaller installed.
"""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "wq-desktop"
ICON_ICO = ROOT / "resources" / "icons" / "wq-desktop.ico"
ICON_PNG = ROOT / "resources" / "icons" / "wq-desktop.png"

# Our own packages: every module is bundled, because the CLI finds its cli_* command modules
# with pkgutil at run time, which PyInstaller's import analysis cannot see.
OWN_PACKAGES = ("wq_desktop", "ui")

# Libraries whose data files must travel with the bundle (fonts metrics, proj.db, GDAL data…).
DATA_PACKAGES = ("reportlab", "pyproj", "pyogrio", "shapely")

# Compiled libraries whose extension modules import each other from C (pyogrio._io needs
# pyogrio._geometry…): the import analysis misses those, so all their submodules are bundled.
# sqlcipher3's SQLite (with SQLCipher, statically linked) is the extension sqlcipher3._sqlite3, which
# dbapi2 imports from C as well.
SUBMODULE_PACKAGES = ("pyogrio", "shapely", "pyproj", "sqlcipher3")

# Never needed by the desktop program; keeping them out makes the bundle smaller.
EXCLUDES = ("tkinter", "pytest", "_pytest", "hypothesis", "IPython", "matplotlib")


def version() -> str:
    """wq_desktop.__version__, read from the source so building does not import the app."""
    text = (ROOT / "wq_desktop" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.M)
    if not match:
        raise RuntimeError("wq_desktop/__init__.py 中没有 __version__")
    return match.group(1)


def own_modules() -> list[str]:
    """Every module and subpackage of our packages, found on disk (not by importing them)."""
    names: list[str] = []
    for package in OWN_PACKAGES:
        folder = ROOT / package
        if not (folder / "__init__.py").is_file():
            continue
        names.append(package)
        names.extend(m.name for m in pkgutil.walk_packages([str(folder)], prefix=f"{package}."))
    return sorted(names)


def cli_modules() -> list[str]:
    """The command modules the CLI discovers at run time (wq_desktop.cli_*)."""
    return [m for m in own_modules() if m.startswith("wq_desktop.cli_")]


def windows_version_tuple() -> tuple[int, int, int, int]:
    """The four numbers Windows shows in the file properties, e.g. 0.1.0 -> (0, 1, 0, 0)."""
    numbers = [int(n) for n in re.findall(r"\d+", version())[:4]]
    return tuple([*numbers, 0, 0, 0, 0][:4])  # type: ignore[return-value]
