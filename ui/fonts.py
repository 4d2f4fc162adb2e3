"""A Chinese UI font: without one the offscreen platform (and bare Linux desktops) draw boxes.

HanaMinB (the printing fallback, wq_desktop.font_files) is loaded into Qt as well and put
after the UI font, so a rare character such as 𠮷 shows while it is typed, as it will print."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from wq_desktop.font_files import FALLBACK_FAMILY, fallback_font_path

# Windows first (what township offices run), then the free fonts Linux packages install.
PREFERRED_FAMILIES = ("Microsoft YaHei", "微软雅黑", "SimSun", "宋体", "WenQuanYi Zen Hei",
                      "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "AR PL UMing CN")


def chinese_family() -> str | None:
    available = set(QFontDatabase.families())
    for family in PREFERRED_FAMILIES:
        if family in available:
            return family
    for family in sorted(available):
        if QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(family):
            return family
    return None


def fallback_family() -> str | None:
    """HanaMinB's family in Qt, loading the file (bundled or system) once if Qt lacks it."""
    if FALLBACK_FAMILY in QFontDatabase.families():
        return FALLBACK_FAMILY
    path = fallback_font_path()
    if path is None:
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    return families[0] if families else None


def apply_chinese_font(app: QApplication, point_size: int = 10) -> str | None:
    family = chinese_family()
    rare = fallback_family()
    if family:
        font = QFont(family, point_size)
        font.setFamilies([family, rare] if rare else [family])
        app.setFont(font)
    return family
