"""A Chinese UI font: without one the offscreen platform (and bare Linux desktops) draw boxes."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

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


def apply_chinese_font(app: QApplication, point_size: int = 10) -> str | None:
    family = chinese_family()
    if family:
        app.setFont(QFont(family, point_size))
    return family
